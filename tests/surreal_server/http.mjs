// The HTTP endpoints of SurrealDB 3.x that the tests use: POST /rpc, /sql, /signin,
// /signup, GET /health, /status, /version. Each request gets a fresh engine session
// built from its headers (Authorization, surreal-ns, surreal-db, surreal-auth-ns/-db),
// which is closed when the request ends.

import { decode, encode, Tagged } from "./cbor_raw.mjs";
import { ANONYMOUS_ERROR } from "./errors.mjs";
import { cborToJsonText, jsonRequestToCbor } from "./json_format.mjs";
import { RpcConnection } from "./rpc.mjs";
import { Session } from "./session.mjs";

const CBOR = "application/cbor";
const JSON_TYPE = "application/json";

/** Error bodies of the real server's HTTP layer. */
const HTTP_ERRORS = {
	400: {
		details: "Request problems detected",
		description: "There is a problem with your request. Refer to the documentation for further information.",
	},
	401: {
		details: "Authentication failed",
		description: "Your authentication details are invalid. Reauthenticate using valid authentication parameters.",
	},
	403: { details: "Forbidden", description: "Not allowed to do this." },
	415: {
		details: "Unsupported media type",
		description:
			"The request needs to adhere to certain constraints. Refer to the documentation for supported content types.",
	},
};

class HttpFailure extends Error {
	constructor(status, information) {
		super(information ?? HTTP_ERRORS[status].details);
		this.status = status;
		this.information = information;
	}
}

function mediaType(header) {
	return (header ?? "").split(";")[0].trim().toLowerCase();
}

async function readBody(request) {
	const chunks = [];
	for await (const chunk of request) chunks.push(chunk);
	return Buffer.concat(chunks);
}

function parseBasic(header) {
	const decoded = Buffer.from(header.slice("basic ".length).trim(), "base64").toString("utf8");
	const colon = decoded.indexOf(":");
	if (colon < 0) throw new HttpFailure(401, "There was a problem with authentication");
	return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

export class HttpApi {
	/** Basic credentials (as JSON) -> the token their signin gave. */
	#basicTokens = new Map();

	/**
	 * @param {object} options
	 * @param {import("./engine.mjs").Engine} options.engine
	 * @param {import("./session.mjs").Registry} options.registry
	 * @param {string} options.version e.g. `surrealdb-3.0.2`
	 * @param {() => number} options.dropSockets fault injection: cut every WebSocket
	 * @param {(message: string) => void} options.log
	 */
	constructor({ engine, registry, version, dropSockets, log }) {
		this.engine = engine;
		this.registry = registry;
		this.version = version;
		this.dropSockets = dropSockets;
		this.log = log;
	}

	async handle(request, response) {
		response.setHeader("surreal-version", this.version);
		response.setHeader("server", "SurrealDB");
		const path = new URL(request.url, "http://localhost").pathname;
		const route = `${request.method} ${path}`;
		try {
			switch (route) {
				case "GET /health":
				case "GET /status":
					return this.#send(response, 200);
				case "GET /version":
					return this.#send(response, 200, "text/plain; charset=utf-8", this.version);
				case "POST /rpc":
					return await this.#rpc(request, response);
				case "POST /sql":
					return await this.#sql(request, response);
				case "POST /signin":
					return await this.#signinEndpoint(request, response, "signin");
				case "POST /signup":
					return await this.#signinEndpoint(request, response, "signup");
				case "POST /_test/drop":
					return this.#send(response, 200, JSON_TYPE, JSON.stringify({ dropped: this.dropSockets() }));
				default:
					return this.#send(response, 404);
			}
		} catch (error) {
			if (!(error instanceof HttpFailure)) {
				this.log(`${route} failed: ${error.stack}`);
				error = new HttpFailure(400, error.message);
			}
			const body = { code: error.status, ...HTTP_ERRORS[error.status] };
			if (error.information !== undefined) body.information = error.information;
			return this.#send(response, error.status, JSON_TYPE, JSON.stringify(body));
		}
	}

	#send(response, status, contentType, body) {
		if (contentType) response.setHeader("content-type", contentType);
		response.writeHead(status);
		response.end(body);
	}

	/** Run `work(session)` in a session built from the request headers, then close it. */
	async #withSession(request, work) {
		const session = await Session.open(this.engine, this.registry, () => {});
		try {
			await this.#authenticate(session, request.headers);
			const ns = request.headers["surreal-ns"];
			const db = request.headers["surreal-db"];
			if (ns !== undefined || db !== undefined) {
				const none = new Tagged(6, null);
				const reply = await this.engine.call("use", [ns ?? none, db ?? none], session.hex);
				if (!reply.ok) throw new HttpFailure(400, decode(reply.raw).message);
			}
			return await work(session);
		} finally {
			await session.close();
		}
	}

	/**
	 * Sign the session in from the Authorization header. A password check costs about
	 * 100 ms (argon2): the real server pays it on every Basic request, this one once per
	 * credentials, then authenticates with the token that signin gave (same rights).
	 */
	async #authenticate(session, headers) {
		const authorization = headers.authorization;
		if (authorization === undefined) return;
		if (/^bearer /i.test(authorization)) {
			return this.#signIn(session, "authenticate", [authorization.slice("bearer ".length).trim()]);
		}
		if (!/^basic /i.test(authorization)) throw new HttpFailure(401, "There was a problem with authentication");
		const credentials = parseBasic(authorization);
		if (headers["surreal-auth-ns"] !== undefined) credentials.ns = headers["surreal-auth-ns"];
		if (headers["surreal-auth-db"] !== undefined) credentials.db = headers["surreal-auth-db"];
		const cacheKey = JSON.stringify(credentials);
		const token = this.#basicTokens.get(cacheKey);
		if (token !== undefined && (await this.#signIn(session, "authenticate", [token], false))) return;
		this.#basicTokens.delete(cacheKey);
		const result = await this.#signIn(session, "signin", [credentials]);
		if (typeof result === "string") this.#basicTokens.set(cacheKey, result);
	}

	/** Run signin/authenticate; returns the decoded result, or false (or throws 401) on failure. */
	async #signIn(session, method, params, required = true) {
		const reply = await this.engine.call(method, params, session.hex);
		if (!reply.ok) {
			if (required) throw new HttpFailure(401, decode(reply.raw).message);
			return false;
		}
		session.afterSuccess(method, undefined, reply.raw);
		return decode(reply.raw);
	}

	async #rpc(request, response) {
		const format = mediaType(request.headers["content-type"]);
		const accept = mediaType(request.headers.accept);
		if (![CBOR, JSON_TYPE].includes(format) || (accept && accept !== "*/*" && accept !== format)) {
			throw new HttpFailure(415);
		}
		const body = await readBody(request);
		const requestBytes = format === CBOR ? body : jsonRequestToCbor(body.toString("utf8"));
		if (requestBytes === null) throw new HttpFailure(400, "Parse error");
		const reply = await this.#withSession(request, (session) =>
			new RpcConnection({ engine: this.engine, registry: this.registry, session, websocket: false }).handle(
				requestBytes,
			),
		);
		if (format === CBOR) return this.#send(response, 200, CBOR, reply);
		return this.#send(response, 200, JSON_TYPE, cborToJsonText(reply));
	}

	async #sql(request, response) {
		const accept = mediaType(request.headers.accept);
		const output = accept === CBOR ? CBOR : JSON_TYPE;
		if (accept && ![CBOR, JSON_TYPE, "*/*"].includes(accept)) throw new HttpFailure(415);
		const sql = (await readBody(request)).toString("utf8");
		const vars = Object.fromEntries(new URL(request.url, "http://localhost").searchParams);
		const reply = await this.#withSession(request, async (session) => {
			if (!session.mayCall("query")) throw new HttpFailure(403, ANONYMOUS_ERROR.message);
			const result = await this.engine.call("query", [sql, vars], session.hex);
			if (result.ok) session.afterSuccess("query", sql, result.raw);
			return result;
		});
		if (!reply.ok) throw new HttpFailure(400, decode(reply.raw).message);
		if (output === CBOR) return this.#send(response, 200, CBOR, reply.raw);
		return this.#send(response, 200, JSON_TYPE, cborToJsonText(reply.raw));
	}

	/** POST /signin and /signup: `method` with the JSON body as its only parameter. */
	async #signinEndpoint(request, response, method) {
		let credentials;
		try {
			credentials = JSON.parse((await readBody(request)).toString("utf8"));
		} catch {
			throw new HttpFailure(400, "The request body contains invalid data");
		}
		const reply = await this.#withSession(request, (session) =>
			this.engine.call(method, [credentials], session.hex),
		);
		if (!reply.ok) throw new HttpFailure(401, decode(reply.raw).message);
		const token = decode(reply.raw);
		const accept = mediaType(request.headers.accept);
		if (accept === "text/plain") return this.#send(response, 200, "text/plain; charset=utf-8", String(token));
		if (accept === JSON_TYPE) {
			const body = { code: 200, details: "Authentication succeeded", token };
			return this.#send(response, 200, JSON_TYPE, JSON.stringify(body));
		}
		if (accept === CBOR) {
			return this.#send(response, 200, CBOR, encode({ code: 200, details: "Authentication succeeded", token }));
		}
		return this.#send(response, 200);
	}
}
