"""CBOR encoding and decoding with SurrealDB's tags (surrealdb-notes §3.8), on cbor2's C codec.

Decoding uses cbor2 `semantic_decoders` (one callback per tag, no dispatch) and an
`object_hook` that drops NONE-valued map keys. The hook only scans a map when a NONE was
decoded and not yet consumed, so records without NONE pay one cheap call per map. Record
ids are built without `RecordID.__init__`'s checks, and the cyclic garbage collector is
paused while a message is decoded (runtime/gcpause.py says why).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import cbor2

from surreal_gen.runtime.gcpause import gc_paused
from surreal_gen.runtime.types import (
    NONE,
    Bound,
    Duration,
    GeometryCollection,
    GeometryLine,
    GeometryMultiLine,
    GeometryMultiPoint,
    GeometryMultiPolygon,
    GeometryPoint,
    GeometryPolygon,
    NanoDatetime,
    NoneType,
    Range,
    RecordID,
    Table,
    engine_record_id,
)

__all__ = ["CborError", "decode", "encode", "message_id"]

CborError = cbor2.CBORError

TAG_DATETIME_TEXT = 0
TAG_NONE = 6
TAG_TABLE = 7
TAG_RECORD_ID = 8
TAG_UUID_TEXT = 9
TAG_DECIMAL = 10
TAG_DATETIME = 12
TAG_DURATION_TEXT = 13
TAG_DURATION = 14
TAG_UUID = 37
TAG_RANGE = 49
TAG_BOUND_INCLUDED = 50
TAG_BOUND_EXCLUDED = 51
TAG_SET = 56
TAG_POINT = 88
TAG_LINE = 89
TAG_POLYGON = 90
TAG_MULTIPOINT = 91
TAG_MULTILINE = 92
TAG_MULTIPOLYGON = 93
TAG_COLLECTION = 94

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------
# Encoding

_Encoder = Any  # cbor2.CBOREncoder; its hooks are untyped callables


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _encode_int(encoder: _Encoder, value: int) -> None:
    """SurrealDB integers are 64-bit: the engines wrap 2**63 round to -2**63 without a word."""
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"{value} is outside SurrealDB's 64-bit integer range")
    encoder.encode_int(value)


def _encode_none(encoder: _Encoder, value: NoneType) -> None:
    encoder.encode_semantic(TAG_NONE, None)


def _encode_table(encoder: _Encoder, value: Table) -> None:
    encoder.encode_semantic(TAG_TABLE, str(value))


def _encode_record_id(encoder: _Encoder, value: RecordID[Any]) -> None:
    encoder.encode_semantic(TAG_RECORD_ID, [value.table, value.id])


_DECIMAL_MAX = Decimal(2**96 - 1)
"""The largest magnitude a SurrealDB decimal holds (a 96-bit integer and a scale)."""


def _encode_decimal(encoder: _Encoder, value: Decimal) -> None:
    if not value.is_finite():
        raise ValueError(f"{value!r} cannot be sent: SurrealDB decimals are finite")
    # Beyond it the engines refuse the whole request without naming the value.
    if value.copy_abs() > _DECIMAL_MAX:  # copy_abs: abs() rounds to 28 digits
        raise ValueError(f"{value} is outside SurrealDB's decimal range (±{_DECIMAL_MAX})")
    # Positional notation: str() gives "1E-7", which 2.x and the 3.0 server refuse.
    encoder.encode_semantic(TAG_DECIMAL, format(value, "f"))


def _encode_datetime(encoder: _Encoder, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no timezone; use an aware one")
    delta = value - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    below = value.nanosecond if isinstance(value, NanoDatetime) else 0
    encoder.encode_semantic(TAG_DATETIME, [seconds, delta.microseconds * 1_000 + below])


def _encode_date(encoder: _Encoder, value: date) -> None:
    _encode_datetime(encoder, datetime(value.year, value.month, value.day, tzinfo=UTC))


def _encode_duration(encoder: _Encoder, value: Duration) -> None:
    encoder.encode_semantic(TAG_DURATION, [value.seconds, value.nanoseconds])


def _encode_timedelta(encoder: _Encoder, value: timedelta) -> None:
    _encode_duration(encoder, Duration.from_timedelta(value))


def _encode_uuid(encoder: _Encoder, value: uuid.UUID) -> None:
    encoder.encode_semantic(TAG_UUID, value.bytes)


def _encode_point(encoder: _Encoder, value: GeometryPoint) -> None:
    encoder.encode_semantic(TAG_POINT, [value.x, value.y])


def _encode_line(encoder: _Encoder, value: GeometryLine) -> None:
    encoder.encode_semantic(TAG_LINE, list(value.points))


def _encode_polygon(encoder: _Encoder, value: GeometryPolygon) -> None:
    encoder.encode_semantic(TAG_POLYGON, list(value.rings))


def _encode_multipoint(encoder: _Encoder, value: GeometryMultiPoint) -> None:
    encoder.encode_semantic(TAG_MULTIPOINT, list(value.points))


def _encode_multiline(encoder: _Encoder, value: GeometryMultiLine) -> None:
    encoder.encode_semantic(TAG_MULTILINE, list(value.lines))


def _encode_multipolygon(encoder: _Encoder, value: GeometryMultiPolygon) -> None:
    encoder.encode_semantic(TAG_MULTIPOLYGON, list(value.polygons))


def _encode_collection(encoder: _Encoder, value: GeometryCollection) -> None:
    encoder.encode_semantic(TAG_COLLECTION, list(value.geometries))


def _bound(bound: Bound | None) -> cbor2.CBORTag | None:
    if bound is None:
        return None
    return cbor2.CBORTag(TAG_BOUND_INCLUDED if bound.inclusive else TAG_BOUND_EXCLUDED, bound.value)


def _encode_range(encoder: _Encoder, value: Range) -> None:
    encoder.encode_semantic(TAG_RANGE, [_bound(value.begin), _bound(value.end)])


def _encode_set_as_tag(encoder: _Encoder, value: set[Any] | frozenset[Any]) -> None:
    encoder.encode_semantic(TAG_SET, list(value))


def _encode_set_as_array(encoder: _Encoder, value: set[Any] | frozenset[Any]) -> None:
    encoder.encode_array(list(value))


_COMMON_ENCODERS: dict[type, Callable[[_Encoder, Any], None]] = {
    int: _encode_int,
    NoneType: _encode_none,
    Table: _encode_table,
    RecordID: _encode_record_id,
    Decimal: _encode_decimal,
    datetime: _encode_datetime,
    date: _encode_date,
    Duration: _encode_duration,
    timedelta: _encode_timedelta,
    uuid.UUID: _encode_uuid,
    GeometryPoint: _encode_point,
    GeometryLine: _encode_line,
    GeometryPolygon: _encode_polygon,
    GeometryMultiPoint: _encode_multipoint,
    GeometryMultiLine: _encode_multiline,
    GeometryMultiPolygon: _encode_multipolygon,
    GeometryCollection: _encode_collection,
    Range: _encode_range,
}
_ENCODERS_BY_MAJOR: dict[int, dict[type, Callable[[_Encoder, Any], None]]] = {
    2: {**_COMMON_ENCODERS, set: _encode_set_as_array, frozenset: _encode_set_as_array},
    3: {**_COMMON_ENCODERS, set: _encode_set_as_tag, frozenset: _encode_set_as_tag},
}


def _encode_subclass(encoder: _Encoder, value: Any) -> None:
    """cbor2 looks encoders up by exact type; this catches subclasses (e.g. enums, str types)."""
    for cls, hook in _COMMON_ENCODERS.items():
        if isinstance(value, cls):
            hook(encoder, value)
            return
    raise TypeError(f"cannot send a {type(value).__name__} to SurrealDB: {value!r}")


def encode(value: Any, engine_major: int = 3) -> bytes:
    """Encode a value (usually a request envelope) for an engine of the given major version.

    The version matters for sets only: tag 56 on 3.x, a plain array on 2.x (which rejects 56).
    """
    return cbor2.dumps(
        value, encoders=_ENCODERS_BY_MAJOR[3 if engine_major >= 3 else 2], default=_encode_subclass
    )


# ---------------------------------------------------------------------------------------------
# Decoding


def _decode_table(value: Any, immutable: bool) -> Table:
    return Table(value)


def _decode_record_id(value: Any, immutable: bool) -> RecordID[Any]:
    if isinstance(value, str):
        return RecordID.parse(value)
    return engine_record_id(value[0], value[1])


def _decode_uuid_bytes(value: Any, immutable: bool) -> uuid.UUID:
    return uuid.UUID(bytes=value)


def _decode_uuid_text(value: Any, immutable: bool) -> uuid.UUID:
    return uuid.UUID(value)


def _decode_decimal(value: Any, immutable: bool) -> Decimal:
    return Decimal(value)


def _decode_datetime(value: Any, immutable: bool) -> datetime:
    seconds, nanos = (value[0], value[1]) if len(value) == 2 else (value[0] if value else 0, 0)
    microseconds, below = divmod(nanos, 1_000)
    return _with_nanoseconds(_EPOCH + timedelta(seconds=seconds, microseconds=microseconds), below)


def _decode_datetime_text(value: Any, immutable: bool) -> datetime:
    parsed = NanoDatetime.fromisoformat(value)  # all nine fraction digits
    utc = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return _with_nanoseconds(datetime.combine(utc.date(), utc.timetz()), utc.nanosecond)


def _with_nanoseconds(value: datetime, below: int) -> datetime:
    """``value``, as a ``NanoDatetime`` when it has nanoseconds below its microseconds."""
    return NanoDatetime.from_datetime(value, below) if below else value


def _decode_duration(value: Any, immutable: bool) -> Duration:
    if len(value) == 2:
        return Duration(value[0], value[1])
    return Duration(value[0] if value else 0)


def _decode_duration_text(value: Any, immutable: bool) -> Duration:
    return Duration.parse(value)


def _decode_bound_included(value: Any, immutable: bool) -> Bound:
    return Bound(value, inclusive=True)


def _decode_bound_excluded(value: Any, immutable: bool) -> Bound:
    return Bound(value, inclusive=False)


def _decode_range(value: Any, immutable: bool) -> Range:
    return Range(value[0], value[1])


def _decode_set(value: Any, immutable: bool) -> list[Any]:
    """3.x sets arrive sorted and de-duplicated; a list validates into list or set fields."""
    return list(value)


def _decode_point(value: Any, immutable: bool) -> GeometryPoint:
    return GeometryPoint(float(value[0]), float(value[1]))


def _decode_line(value: Any, immutable: bool) -> GeometryLine:
    return GeometryLine(tuple(value))


def _decode_polygon(value: Any, immutable: bool) -> GeometryPolygon:
    return GeometryPolygon(tuple(value))


def _decode_multipoint(value: Any, immutable: bool) -> GeometryMultiPoint:
    return GeometryMultiPoint(tuple(value))


def _decode_multiline(value: Any, immutable: bool) -> GeometryMultiLine:
    return GeometryMultiLine(tuple(value))


def _decode_multipolygon(value: Any, immutable: bool) -> GeometryMultiPolygon:
    return GeometryMultiPolygon(tuple(value))


def _decode_collection(value: Any, immutable: bool) -> GeometryCollection:
    return GeometryCollection(tuple(value))


_DECODERS: dict[int, Callable[[Any, bool], Any]] = {
    TAG_DATETIME_TEXT: _decode_datetime_text,
    TAG_TABLE: _decode_table,
    TAG_RECORD_ID: _decode_record_id,
    TAG_UUID_TEXT: _decode_uuid_text,
    TAG_DECIMAL: _decode_decimal,
    TAG_DATETIME: _decode_datetime,
    TAG_DURATION_TEXT: _decode_duration_text,
    TAG_DURATION: _decode_duration,
    TAG_UUID: _decode_uuid_bytes,
    TAG_RANGE: _decode_range,
    TAG_BOUND_INCLUDED: _decode_bound_included,
    TAG_BOUND_EXCLUDED: _decode_bound_excluded,
    TAG_SET: _decode_set,
    TAG_POINT: _decode_point,
    TAG_LINE: _decode_line,
    TAG_POLYGON: _decode_polygon,
    TAG_MULTIPOINT: _decode_multipoint,
    TAG_MULTILINE: _decode_multiline,
    TAG_MULTIPOLYGON: _decode_multipolygon,
    TAG_COLLECTION: _decode_collection,
}


class _NoneTracker:
    """Per-decode state: NONE values decoded so far that no map has dropped yet."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending = 0

    def none(self, value: Any, immutable: bool) -> NoneType:
        self.pending += 1
        return NONE

    def object_hook(self, mapping: Any, immutable: bool) -> Any:
        if not self.pending:
            return mapping
        kept = {key: value for key, value in mapping.items() if value is not NONE}
        self.pending -= len(mapping) - len(kept)
        return kept


def decode(data: bytes) -> Any:
    """Decode a SurrealDB CBOR message.

    NONE map values are dropped (the key is absent); NONE elsewhere (top level, inside an
    array) becomes `None`.
    """
    tracker = _NoneTracker()
    with gc_paused():
        value = cbor2.loads(
            data,
            semantic_decoders={**_DECODERS, TAG_NONE: tracker.none},
            object_hook=tracker.object_hook,
        )
    if tracker.pending:
        return _replace_none(value)
    return value


def message_id(data: bytes) -> Any:
    """The `id` of a message that `decode` refused, read with SurrealDB's tags left undecoded.

    Raises `CborError` when the bytes are not CBOR at all.
    """
    message = cbor2.loads(data)
    return message.get("id") if isinstance(message, Mapping) else None


def _replace_none(value: Any) -> Any:
    if value is NONE:
        return None
    if isinstance(value, list):
        return [_replace_none(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _replace_none(item) for key, item in value.items()}
    return value
