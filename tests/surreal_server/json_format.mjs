// The `json` format: requests are parsed as JSON and passed on as CBOR; replies are
// rendered the way SurrealDB 3.x renders values as JSON (record ids as "tb:key",
// datetimes as RFC 3339, durations as "1h30m", NONE as null, geometries as GeoJSON).
// Unlike the real server, JSON strings that look like ids, UUIDs or datetimes stay strings.

import { decode, encode, Tagged } from "./cbor_raw.mjs";

/** Parse a JSON request into CBOR bytes, or null when the text is not JSON. */
export function jsonRequestToCbor(text) {
	try {
		return encode(JSON.parse(text));
	} catch {
		return null;
	}
}

/** Render an encoded reply as JSON text. */
export function cborToJsonText(bytes) {
	return JSON.stringify(toJson(decode(bytes, { map: "map" })));
}

const GEOMETRY_TYPES = {
	88: "Point",
	89: "LineString",
	90: "Polygon",
	91: "MultiPoint",
	92: "MultiLineString",
	93: "MultiPolygon",
};

const DURATION_UNITS = [
	["y", 365 * 86400],
	["w", 7 * 86400],
	["d", 86400],
	["h", 3600],
	["m", 60],
	["s", 1],
];

const SUB_SECOND_UNITS = [
	["ms", 1_000_000],
	["µs", 1_000],
	["ns", 1],
];

function formatDuration([seconds = 0, nanoseconds = 0]) {
	let rest = BigInt(seconds);
	let nanos = Number(nanoseconds);
	let text = "";
	for (const [unit, size] of DURATION_UNITS) {
		const count = rest / BigInt(size);
		rest -= count * BigInt(size);
		if (count > 0n) text += `${count}${unit}`;
	}
	for (const [unit, size] of SUB_SECOND_UNITS) {
		const count = Math.floor(nanos / size);
		nanos -= count * size;
		if (count > 0) text += `${count}${unit}`;
	}
	return text || "0ns";
}

/** RFC 3339 with 0, 3, 6 or 9 fraction digits, as chrono's `SecondsFormat::AutoSi`. */
function formatDatetime([seconds = 0, nanoseconds = 0]) {
	const date = new Date(Number(seconds) * 1000);
	const nanos = String(nanoseconds).padStart(9, "0");
	const digits = Number(nanoseconds) === 0 ? 0 : nanos.endsWith("000000") ? 3 : nanos.endsWith("000") ? 6 : 9;
	const fraction = digits === 0 ? "" : `.${nanos.slice(0, digits)}`;
	return date.toISOString().replace(/\.\d{3}Z$/, `${fraction}Z`);
}

function formatUuid(buffer) {
	const hex = Buffer.from(buffer).toString("hex");
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A table name or string key in a record id as 3.x prints it: raw when it is ASCII word
 * characters and not all digits, else in backticks. */
function recordPart(text) {
	if (/^\w+$/.test(text) && !/^\d+$/.test(text)) return text;
	return `\`${text.replaceAll("\\", "\\\\").replaceAll("`", "\\`")}\``;
}

/** An object key as 3.x prints it: raw when it is an identifier, else double-quoted. */
function objectKey(text) {
	return /^[A-Za-z_]\w*$/.test(text) ? text : JSON.stringify(text);
}

/** A string literal as 3.x prints it: single quotes, or double quotes when it holds a `'`. */
function quoteString(text) {
	const quote = text.includes("'") ? '"' : "'";
	return `${quote}${text.replaceAll("\\", "\\\\").replaceAll(quote, `\\${quote}`)}${quote}`;
}

/** SurrealQL text of a value, for record keys and ranges. */
function toSurql(value) {
	if (typeof value === "string") return quoteString(value);
	if (Array.isArray(value)) return `[${value.map(toSurql).join(", ")}]`;
	if (value instanceof Map) {
		return `{ ${[...value].map(([k, v]) => `${objectKey(String(k))}: ${toSurql(v)}`).join(", ")} }`;
	}
	if (value instanceof Tagged) {
		if (value.tag === 37) return `u'${formatUuid(value.value)}'`;
		if (value.tag === 12) return `d'${formatDatetime(value.value)}'`;
		if (value.tag === 10) return `${value.value}dec`;
		if (value.tag === 49) {
			const [begin, end] = value.value;
			const from = begin === null ? "" : `${toSurql(begin.value)}${begin.tag === 51 ? ">" : ""}`;
			const to = end === null ? "" : `${end.tag === 50 ? "=" : ""}${toSurql(end.value)}`;
			return `${from}..${to}`;
		}
		if (value.tag === 8) return formatRecordId(value.value);
		return JSON.stringify(toJson(value));
	}
	return String(value);
}

function formatRecordId(value) {
	const [table, key] = typeof value === "string" ? value.split(/:(.*)/s) : value;
	return `${recordPart(String(table))}:${typeof key === "string" ? recordPart(key) : toSurql(key)}`;
}

function taggedToJson({ tag, value }) {
	switch (tag) {
		case 6:
			return null;
		case 0:
		case 7:
		case 9:
		case 10:
		case 13:
			return value;
		case 8:
			return formatRecordId(value);
		case 12:
			return formatDatetime(value);
		case 14:
			return formatDuration(value);
		case 37:
			return formatUuid(value);
		case 56:
			return value.map(toJson);
		case 94:
			return { type: "GeometryCollection", geometries: value.map(toJson) };
		default:
			if (tag in GEOMETRY_TYPES) return { type: GEOMETRY_TYPES[tag], coordinates: geometryCoordinates(value) };
			return toSurql(new Tagged(tag, value));
	}
}

function geometryCoordinates(value) {
	if (value instanceof Tagged) return geometryCoordinates(value.value);
	if (Array.isArray(value)) return value.map(geometryCoordinates);
	return value;
}

function toJson(value) {
	if (value instanceof Tagged) return taggedToJson(value);
	if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
	if (typeof value === "bigint") return Number(value);
	if (typeof value === "number" && !Number.isFinite(value)) return null;
	if (value === undefined) return null;
	if (Array.isArray(value)) return value.map(toJson);
	if (value instanceof Map) {
		return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v)]));
	}
	return value;
}
