// Routing of live notifications from the engine to the session that owns the live query:
// by the notification's session, or by its live query id for KILLED ones, which carry
// no session.

import { decode, rawMapEntries, uuidHex } from "./cbor_raw.mjs";

/** @param {import("./session.mjs").Registry} registry */
export function routeNotification(registry, raw) {
	const entries = rawMapEntries(raw);
	if (entries === null) return;
	const liveHex = uuidHex(decode(entries.get("id")));
	const session = registry.sessions.get(uuidHex(decode(entries.get("session")))) ?? registry.lives.get(liveHex);
	if (session === undefined) return;
	if (decode(entries.get("action")) === "KILLED") session.forgetLive(liveHex);
	session.deliver(session, entries);
}
