// One engine session as a client sees it: its auth state (the embedded engine runs with
// auth disabled, so the server enforces it the way `surreal start --user --pass` does),
// the live queries it started (the engine does not kill them on detach) and its open
// transactions (cancelled when the client goes away).

import { decode, uuidHex, uuidTag } from "./cbor_raw.mjs";
import { newSessionHex } from "./engine.mjs";

/** Methods a session may call before it signs in; every other one runs a query. */
const ANONYMOUS_METHODS = new Set([
	"ping",
	"version",
	"use",
	"signin",
	"signup",
	"authenticate",
	"invalidate",
	"reset",
	"let",
	"set",
	"unset",
	"attach",
	"detach",
	"sessions",
]);

/**
 * Where the server finds sessions by engine session id and live query id, to route
 * notifications (KILLED ones carry no session, only the live query id).
 */
export class Registry {
	sessions = new Map();
	lives = new Map();
}

export class Session {
	/**
	 * @param {import("./engine.mjs").Engine} engine
	 * @param {string} hex engine session UUID
	 * @param {Registry} registry
	 * @param {object} options
	 * @param {boolean} options.named chosen by the client with `attach` (vs the connection's default)
	 * @param {(session: Session, entries: Map) => void} options.deliver sends a notification to the client
	 */
	constructor(engine, hex, registry, { named, deliver }) {
		this.engine = engine;
		this.hex = hex;
		this.registry = registry;
		this.named = named;
		this.deliver = deliver;
		this.authenticated = false;
		this.liveIds = new Set();
		this.transactionIds = new Set();
		registry.sessions.set(hex, this);
	}

	/** Attach a connection's default session (server-chosen UUID). */
	static async open(engine, registry, deliver) {
		const session = new Session(engine, newSessionHex(), registry, { named: false, deliver });
		const reply = await engine.call("attach", [], session.hex);
		if (!reply.ok) throw new Error(`cannot attach an engine session: ${JSON.stringify(decode(reply.raw))}`);
		return session;
	}

	mayCall(method) {
		return this.authenticated || ANONYMOUS_METHODS.has(method);
	}

	/**
	 * Update auth, live-query and transaction bookkeeping after a successful `method` call,
	 * given its first parameter (decoded for `kill`, `query`, `commit` and `cancel` only)
	 * and the raw result, which is decoded only when it can hold a live query or txn id.
	 */
	afterSuccess(method, firstParam, resultRaw) {
		if (method === "signin" || method === "signup" || method === "authenticate") {
			this.authenticated = true;
		} else if (method === "invalidate" || method === "reset") {
			this.authenticated = false;
		} else if (method === "live") {
			this.#trackLive(decode(resultRaw));
		} else if (method === "kill") {
			this.forgetLive(uuidHex(firstParam));
		} else if (method === "begin") {
			this.transactionIds.add(uuidHex(decode(resultRaw)));
		} else if (method === "commit" || method === "cancel") {
			this.transactionIds.delete(uuidHex(firstParam));
		} else if (method === "query" && /\blive\b/i.test(String(firstParam))) {
			const statements = decode(resultRaw);
			for (const statement of Array.isArray(statements) ? statements : []) {
				if (statement?.type === "live" && statement.status === "OK") this.#trackLive(statement.result);
			}
		}
	}

	#trackLive(value) {
		const liveHex = uuidHex(value);
		if (liveHex === null) return;
		this.liveIds.add(liveHex);
		this.registry.lives.set(liveHex, this);
	}

	forgetLive(liveHex) {
		if (!this.liveIds.delete(liveHex)) return;
		this.registry.lives.delete(liveHex);
	}

	/** Kill this session's live queries (the real server does so on disconnect and `reset`). */
	async killLives() {
		for (const liveHex of [...this.liveIds]) {
			this.forgetLive(liveHex);
			await this.engine.call("kill", [uuidTag(liveHex)], this.hex);
		}
	}

	/** Kill the live queries, cancel open transactions, then detach the engine session. */
	async close() {
		await this.killLives();
		for (const transactionHex of this.transactionIds) {
			await this.engine.call("cancel", [uuidTag(transactionHex)], this.hex);
		}
		this.transactionIds.clear();
		this.registry.sessions.delete(this.hex);
		await this.engine.call("detach", [], this.hex);
	}
}
