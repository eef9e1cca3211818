// The embedded SurrealDB 3.0.2 engine from @surrealdb/node, driven through its native
// binding: `execute(cbor request) -> cbor result` and a notification receiver.

import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import { decode, encode, encodeRawMap, rawMapEntries, uuidTag } from "./cbor_raw.mjs";
import { INVALID_REQUEST } from "./errors.mjs";

const BINDING_SUFFIX = { linux: "-gnu", win32: "-msvc", darwin: "" };

function loadBinding() {
	const require = createRequire(import.meta.url);
	const suffix = BINDING_SUFFIX[process.platform] ?? "";
	const name = `surrealdb-node.${process.platform}-${process.arch}${suffix}.node`;
	try {
		return require(`./node_modules/@surrealdb/node/dist/${name}`);
	} catch (error) {
		throw new Error(`cannot load ${name} (run npm ci in tests/surreal_server): ${error.message}`);
	}
}

/** A random session UUID as lower-case hex (no dashes). */
export function newSessionHex() {
	return randomUUID().replaceAll("-", "");
}

/**
 * The engine's reply to one request: `ok` with the raw result bytes, or not `ok` with
 * the raw bytes of the error object `{code, message, kind, details?, cause}`.
 */
function classifyReply(raw) {
	const entries = rawMapEntries(raw);
	if (entries?.size === 1 && entries.has("error")) {
		const error = decode(entries.get("error"));
		if (error && typeof error === "object" && "code" in error && "message" in error) {
			return { ok: false, raw: entries.get("error") };
		}
	}
	return { ok: true, raw };
}

export class Engine {
	#native;
	#log;
	#requestCounter = 0;
	#notificationHandler = () => {};

	constructor(native, log) {
		this.#native = native;
		this.#log = log;
	}

	/** Open `mem://` or `surrealkv://path` and start pumping live notifications. */
	static async open(storageUrl, log) {
		const { SurrealNodeEngine } = loadBinding();
		const engine = new Engine(await SurrealNodeEngine.connect(storageUrl, {}), log);
		await engine.#startNotifications();
		return engine;
	}

	/** Receive every notification as raw CBOR bytes of `{id, action, record, result, session}`. */
	onNotification(handler) {
		this.#notificationHandler = handler;
	}

	async #startNotifications() {
		const receiver = await this.#native.notifications();
		(async () => {
			for (;;) {
				const notification = await receiver.recv();
				if (notification === null) return;
				this.#notificationHandler(Buffer.from(notification));
			}
		})().catch((error) => this.#log(`live notifications stopped: ${error.stack}`));
	}

	/**
	 * Run one request given as raw entries (key -> encoded value). The `id` is replaced by
	 * an internal one; `session` is set to `sessionHex` when one is given.
	 */
	async executeRaw(entries, sessionHex) {
		const request = new Map(entries);
		request.set("id", encode((this.#requestCounter += 1)));
		if (sessionHex !== undefined) request.set("session", encode(uuidTag(sessionHex)));
		return this.executeBytes(encodeRawMap(request));
	}

	/** Run an encoded request as is. The binding throws on malformed requests. */
	async executeBytes(requestBytes) {
		let raw;
		try {
			raw = await this.#native.execute(requestBytes);
		} catch (error) {
			this.#log(`the engine refused a request: ${error.message}`);
			return { ok: false, raw: encode(INVALID_REQUEST) };
		}
		return classifyReply(Buffer.from(raw));
	}

	/** Run `method` with decoded `params` in the session `sessionHex` (or the engine's own). */
	async call(method, params, sessionHex) {
		const entries = new Map([
			["method", encode(method)],
			["params", encode(params)],
		]);
		return this.executeRaw(entries, sessionHex);
	}

	close() {
		this.#native.free();
	}
}
