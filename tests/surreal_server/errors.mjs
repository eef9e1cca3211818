// Errors the server builds itself, shaped like the engine's own
// (`{code, kind, message, details?, cause}`, notes §3.6).

import { Tagged } from "./cbor_raw.mjs";

function rpcError(code, kind, message, details) {
	const error = { cause: new Tagged(6, null), code, kind, message };
	if (details !== undefined) error.details = details;
	return error;
}

export const PARSE_ERROR = rpcError(-32700, "Validation", "Parse error", { kind: "Parse" });

export const INVALID_REQUEST = rpcError(-32600, "Validation", "Invalid request", { kind: "InvalidRequest" });

export function methodNotAllowed(name) {
	return rpcError(-32602, "NotAllowed", "Method not allowed", { kind: "Method", details: { name } });
}

/** What the real server answers an anonymous session when guest access is off. */
export const ANONYMOUS_ERROR = rpcError(
	-32002,
	"NotAllowed",
	"Anonymous access not allowed: Not enough permissions to perform this action",
	{
		kind: "Auth",
		details: { kind: "NotAllowed", details: { action: "process", actor: "anonymous", resource: "query" } },
	},
);
