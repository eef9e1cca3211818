// Byte-level CBOR helpers. The server splices the engine's bytes into its replies
// instead of decoding and re-encoding them, so every value reaches the client exactly as
// the engine wrote it (half floats stay floats, unknown tags stay tags).

import { decode, encode, Encoded, Tagged } from "@surrealdb/cbor";

export { decode, encode, Tagged };

/** The CBOR encoding of NONE (tag 6 wrapping null). */
export const NONE_BYTES = Uint8Array.of(0xc6, 0xf6);

function readLength(bytes, pos, info) {
	if (info < 24) return [info, pos];
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (info === 24) return [bytes[pos], pos + 1];
	if (info === 25) return [view.getUint16(pos), pos + 2];
	if (info === 26) return [view.getUint32(pos), pos + 4];
	if (info === 27) return [Number(view.getBigUint64(pos)), pos + 8];
	throw new Error(`invalid CBOR length encoding at byte ${pos - 1}`);
}

/** Offset just past the CBOR item that starts at `pos`. */
function itemEnd(bytes, pos) {
	if (pos >= bytes.length) throw new Error("truncated CBOR item");
	const major = bytes[pos] >> 5;
	const info = bytes[pos] & 31;
	pos += 1;
	if (info === 31) {
		if (major < 2 || major > 5) throw new Error("invalid indefinite-length CBOR item");
		while (bytes[pos] !== 0xff) {
			pos = itemEnd(bytes, pos);
			if (major === 5) pos = itemEnd(bytes, pos);
		}
		return pos + 1;
	}
	if (major === 7) return pos + ({ 24: 1, 25: 2, 26: 4, 27: 8 }[info] ?? 0);
	const [length, next] = readLength(bytes, pos, info);
	if (major === 0 || major === 1) return next;
	if (major === 2 || major === 3) {
		if (next + length > bytes.length) throw new Error("truncated CBOR string");
		return next + length;
	}
	if (major === 6) return itemEnd(bytes, next);
	let end = next;
	const items = major === 5 ? length * 2 : length;
	for (let i = 0; i < items; i += 1) end = itemEnd(bytes, end);
	return end;
}

/** Whether `bytes` holds exactly one well-formed CBOR item. */
export function isWellFormed(bytes) {
	try {
		return bytes.length > 0 && itemEnd(bytes, 0) === bytes.length;
	} catch {
		return false;
	}
}

/** The raw bytes of the first element of an encoded array, or null. */
export function firstArrayItem(bytes) {
	if (bytes.length === 0 || bytes[0] >> 5 !== 4 || bytes[0] === 0x80 || bytes[0] === 0x9f && bytes[1] === 0xff) {
		return null;
	}
	const info = bytes[0] & 31;
	const start = info < 24 || info === 31 ? 1 : 1 + 2 ** (info - 24);
	return bytes.subarray(start, itemEnd(bytes, start));
}

/**
 * The entries of a top-level CBOR map with text keys, as key -> raw value bytes,
 * or null when `bytes` is not such a map.
 */
export function rawMapEntries(bytes) {
	if (bytes.length === 0 || bytes[0] >> 5 !== 5) return null;
	const entries = new Map();
	const indefinite = (bytes[0] & 31) === 31;
	let [count, pos] = indefinite ? [Infinity, 1] : readLength(bytes, 1, bytes[0] & 31);
	while (count > 0 && !(indefinite && bytes[pos] === 0xff)) {
		const keyEnd = itemEnd(bytes, pos);
		const key = decode(bytes.subarray(pos, keyEnd));
		const valueEnd = itemEnd(bytes, keyEnd);
		if (typeof key !== "string") return null;
		entries.set(key, bytes.subarray(keyEnd, valueEnd));
		pos = valueEnd;
		count -= 1;
	}
	return entries;
}

/** Encode a map whose values are already-encoded CBOR bytes. */
export function encodeRawMap(entries) {
	const wrapped = new Map();
	for (const [key, raw] of entries) wrapped.set(key, new Encoded(raw));
	return encode(wrapped);
}

/** A UUID as CBOR tag 37 bytes. */
export function uuidTag(hex) {
	return new Tagged(37, Buffer.from(hex, "hex"));
}

/** Lower-case hex of a UUID given as tag 37/9 or a string, or null if it is not one. */
export function uuidHex(value) {
	if (value instanceof Tagged && (value.tag === 37 || value.tag === 9)) value = value.value;
	if (value instanceof ArrayBuffer && value.byteLength === 16) {
		return Buffer.from(value).toString("hex");
	}
	if (typeof value === "string" && /^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$/i.test(value)) {
		return value.replaceAll("-", "").toLowerCase();
	}
	return null;
}
