// `GET /rpc` as a WebSocket: one engine session per socket, requests handled
// concurrently, live notifications delivered only to the socket that owns the query,
// server pings every 5 s, and the socket's live queries killed when it closes.

import { encode, encodeRawMap, NONE_BYTES, uuidTag } from "./cbor_raw.mjs";
import { PARSE_ERROR } from "./errors.mjs";
import { cborToJsonText, jsonRequestToCbor } from "./json_format.mjs";
import { RpcConnection } from "./rpc.mjs";
import { Session } from "./session.mjs";

const PING_INTERVAL_MS = 5000;

/** Subprotocols the server speaks; without one it falls back to JSON like the real server. */
const SUBPROTOCOLS = ["cbor", "json"];

/** Pick the first subprotocol offered by the client that the server speaks. */
export function chooseSubprotocol(offered) {
	for (const protocol of offered) if (SUBPROTOCOLS.includes(protocol)) return protocol;
	return false;
}

/**
 * The live notification envelope: `{result: {id, action, record, result, session}}`, with
 * the inner session NONE for the socket's default session and an outer `session` for a
 * named one, as 3.x sends it.
 */
function notificationEnvelope(session, entries) {
	const notification = new Map(entries);
	if (!session.named) notification.set("session", NONE_BYTES);
	const envelope = new Map([["result", encodeRawMap(notification)]]);
	if (session.named) envelope.set("session", encode(uuidTag(session.hex)));
	return encodeRawMap(envelope);
}

export function serveWebSocket(socket, { engine, registry, log }) {
	const json = socket.protocol !== "cbor";
	const send = (bytes) => {
		if (socket.readyState === socket.OPEN) socket.send(json ? cborToJsonText(bytes) : bytes, { binary: !json });
	};
	const deliver = (session, entries) => send(notificationEnvelope(session, entries));

	const ready = Session.open(engine, registry, deliver).then(
		(session) => new RpcConnection({ engine, registry, session, websocket: true }),
	);
	ready.catch((error) => {
		log(`cannot open a session for a socket: ${error.message}`);
		socket.terminate();
	});
	const pinger = setInterval(() => {
		if (socket.readyState === socket.OPEN) socket.ping();
	}, PING_INTERVAL_MS);

	const handleMessage = async (data) => {
		const connection = await ready;
		const bytes = json ? jsonRequestToCbor(data.toString("utf8")) : Buffer.from(data);
		send(bytes === null ? encodeRawMap(new Map([["error", encode(PARSE_ERROR)]])) : await connection.handle(bytes));
	};
	socket.on("message", (data) => handleMessage(data).catch((error) => log(`request failed: ${error.stack}`)));
	socket.on("error", (error) => log(`socket error: ${error.message}`));
	socket.on("close", () => {
		clearInterval(pinger);
		ready
			.then((connection) => connection.close())
			.catch((error) => log(`cannot release a closed socket's sessions: ${error.message}`));
	});
}
