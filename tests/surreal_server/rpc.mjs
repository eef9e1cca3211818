// The RPC layer shared by WebSocket and HTTP: one request in (CBOR bytes), one reply out,
// with the connection's session injected and the reply envelope built as SurrealDB 3.x
// builds it. Engine values are spliced through as raw bytes, never re-encoded.

import {
	decode,
	encode,
	encodeRawMap,
	firstArrayItem,
	isWellFormed,
	rawMapEntries,
	Tagged,
	uuidHex,
	uuidTag,
} from "./cbor_raw.mjs";
import { ANONYMOUS_ERROR, INVALID_REQUEST, PARSE_ERROR, methodNotAllowed } from "./errors.mjs";
import { Session } from "./session.mjs";
import { newSessionHex } from "./engine.mjs";

/** Never attached: requests naming a session this connection does not own go here, so the
 * engine answers exactly as it does for any unknown session. */
const UNKNOWN_SESSION_HEX = newSessionHex();

const SESSION_METHODS = new Set(["attach", "detach", "sessions"]);
const METHODS_READING_FIRST_PARAM = new Set(["kill", "query", "commit", "cancel"]);
const WEBSOCKET_ONLY_METHODS = new Set(["live", "kill", "begin", "commit", "cancel", ...SESSION_METHODS]);

/** NULL or NONE: a `session` field holding either means the default session. */
function isNullish(value) {
	return value === null || value === undefined || (value instanceof Tagged && value.tag === 6);
}

export class RpcConnection {
	/**
	 * @param {object} options
	 * @param {import("./engine.mjs").Engine} options.engine
	 * @param {import("./session.mjs").Registry} options.registry
	 * @param {Session} options.session the connection's default session
	 * @param {boolean} options.websocket false for stateless HTTP requests
	 */
	constructor({ engine, registry, session, websocket }) {
		this.engine = engine;
		this.registry = registry;
		this.defaultSession = session;
		this.websocket = websocket;
		this.namedSessions = new Map();
	}

	/** Handle one encoded request; returns the encoded reply envelope. */
	async handle(requestBytes) {
		if (!isWellFormed(requestBytes)) return this.#envelope(null, this.#fail(PARSE_ERROR), null);
		const entries = rawMapEntries(requestBytes);
		if (entries === null) return this.#envelope(null, this.#fail(INVALID_REQUEST), null);
		const idRaw = entries.get("id") ?? null;
		if (entries.has("session") && isNullish(decode(entries.get("session")))) entries.delete("session");
		const sessionRaw = entries.get("session") ?? null;
		const method = entries.has("method") ? decode(entries.get("method")) : undefined;
		const reply = await this.#dispatch(entries, method, sessionRaw);
		return this.#envelope(idRaw, reply, sessionRaw);
	}

	async #dispatch(entries, method, sessionRaw) {
		if (!this.websocket && WEBSOCKET_ONLY_METHODS.has(method)) return this.#fail(methodNotAllowed(method));
		if (method === "sessions") {
			return { ok: true, raw: encode([...this.namedSessions.keys()].map(uuidTag)) };
		}
		if (sessionRaw === null && SESSION_METHODS.has(method)) return this.engine.executeRaw(entries);
		if (sessionRaw !== null && method === "attach") return this.#attach(entries, uuidHex(decode(sessionRaw)));

		const session =
			sessionRaw === null ? this.defaultSession : this.namedSessions.get(uuidHex(decode(sessionRaw)));
		if (session === undefined) return this.engine.executeRaw(entries, UNKNOWN_SESSION_HEX);
		if (method === "detach") {
			this.namedSessions.delete(session.hex);
			await session.close();
			return { ok: true, raw: encode(new Tagged(6, null)) };
		}
		if (!session.mayCall(method)) return this.#fail(ANONYMOUS_ERROR);
		if (method === "reset") await session.killLives();

		const reply = await this.engine.executeRaw(entries, session.hex);
		if (reply.ok) {
			const params = entries.get("params") ?? new Uint8Array();
			const firstRaw = METHODS_READING_FIRST_PARAM.has(method) ? firstArrayItem(params) : null;
			session.afterSuccess(method, firstRaw === null ? undefined : decode(firstRaw), reply.raw);
		}
		return reply;
	}

	async #attach(entries, hex) {
		const reply = await this.engine.executeRaw(entries);
		if (reply.ok && hex !== null) {
			const { deliver } = this.defaultSession;
			this.namedSessions.set(hex, new Session(this.engine, hex, this.registry, { named: true, deliver }));
		}
		return reply;
	}

	#fail(error) {
		return { ok: false, raw: encode(error) };
	}

	#envelope(idRaw, reply, sessionRaw) {
		const envelope = new Map();
		if (this.websocket && idRaw !== null) envelope.set("id", idRaw);
		envelope.set(reply.ok ? "result" : "error", reply.raw);
		if (this.websocket && sessionRaw !== null) envelope.set("session", sessionRaw);
		return encodeRawMap(envelope);
	}

	/** Release every session of this connection: kill their live queries and detach. */
	async close() {
		const sessions = [this.defaultSession, ...this.namedSessions.values()];
		this.namedSessions.clear();
		for (const session of sessions) await session.close();
	}
}
