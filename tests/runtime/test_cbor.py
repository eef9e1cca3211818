"""runtime.cbor against the real engines: every tag both ways, NONE, sets per engine version."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surreal_gen.runtime import cbor
from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.errors import InvalidQueryError
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
    Range,
    RecordID,
    Table,
)

SQUARE = GeometryPolygon(
    (
        GeometryLine(
            (GeometryPoint(0, 0), GeometryPoint(1, 0), GeometryPoint(1, 1), GeometryPoint(0, 0))
        ),
    )
)

ROUND_TRIP: list[Any] = [
    RecordID("person", "tobie"),
    RecordID("person", 7),
    RecordID("person", [1, "x"]),
    RecordID("person", {"a": 1}),
    RecordID("person", uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a")),
    RecordID("person", Range(Bound(1), Bound(5, inclusive=False))),
    Table("person"),
    uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"),
    2**63 - 1,
    -(2**63),
    Decimal("1.5"),
    Decimal("1E-7"),  # str() gives exponent form, which 2.x and 3.0 refuse
    Decimal("1E+2"),
    datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(1960, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
    Duration(5400, 5),
    Duration(0),
    GeometryPoint(1.5, 2.0),
    SQUARE.rings[0],
    SQUARE,
    GeometryMultiPoint((GeometryPoint(0.0, 0.0), GeometryPoint(1.0, 1.0))),
    GeometryMultiLine((SQUARE.rings[0],)),
    GeometryMultiPolygon((SQUARE,)),
    GeometryCollection((GeometryPoint(1.0, 2.0), SQUARE)),
    Range(Bound(1, inclusive=False), Bound(5)),
    Range(None, Bound("m", inclusive=False)),
    {"nested": [1, 2.5, "x", None, True, b"\x00\x01"]},
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=repr)
async def test_values_round_trip_through_the_engine(engine: Connection, value: Any) -> None:
    [echoed] = await engine.query("RETURN $v", {"v": value})
    assert echoed == value
    assert type(echoed) is type(value)


@pytest.mark.parametrize(
    ("surql", "expected"),
    [
        ("person:tobie", RecordID("person", "tobie")),
        ("type::table('person')", Table("person")),
        ("1.50dec", Decimal("1.50")),
        (
            "d'2024-01-01T00:00:00.123456789Z'",
            NanoDatetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC, nanosecond=789),
        ),
        ("1w", Duration(604_800)),
        ("0s", Duration(0)),
        ("1y2w3d4h5m6s7ms8us9ns", Duration.parse("1y2w3d4h5m6s7ms8µs9ns")),
        (
            "u'0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a'",
            uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"),
        ),
        ("(1.5, 2)", GeometryPoint(1.5, 2.0)),
        ("1>..=5", Range(Bound(1, inclusive=False), Bound(5))),
        ("..5", Range(None, Bound(5, inclusive=False))),
        ("{a: NONE, b: 1, c: {d: NONE}}", {"b": 1, "c": {}}),
        ("[NONE, 1]", [None, 1]),
        ("NONE", None),
        ("NULL", None),
    ],
)
async def test_engine_values_decode(engine: Connection, surql: str, expected: Any) -> None:
    [value] = await engine.query(f"RETURN {surql}")
    if engine.engine_major == 2 and isinstance(expected, Decimal):
        assert str(value) == "1.50"  # 2.x keeps the trailing zero; 3.x normalises it
    assert value == expected


RECORD_KEYS: list[Any] = [
    "tobie",
    "a b",
    7,
    [1, "x"],
    {"a": 1},
    uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"),
]


@pytest.mark.parametrize("key", RECORD_KEYS, ids=repr)
async def test_decoded_record_ids_behave_like_built_ones(engine: Connection, key: Any) -> None:
    """Decoding builds record ids without `RecordID.__init__`: they must be the same values."""
    built = RecordID("person", key)
    [decoded] = await engine.query("RETURN $v", {"v": built})
    assert type(decoded) is RecordID
    assert (decoded.table, decoded.id) == ("person", key)
    assert decoded == built and built == decoded
    assert hash(decoded) == hash(built)
    assert {built: "found"}[decoded] == "found"
    assert (str(decoded), repr(decoded)) == (str(built), repr(built))
    assert pickle.loads(pickle.dumps(decoded)) == built
    with pytest.raises(AttributeError, match="immutable"):
        decoded.table = "other"
    [again] = await engine.query("RETURN $v", {"v": decoded})
    assert again == built


async def test_sets_follow_the_engine_version(engine: Connection) -> None:
    [echoed] = await engine.query("RETURN $s", {"s": {3, 1, 2}})
    assert sorted(echoed) == [1, 2, 3]
    if engine.engine_major == 3:
        [is_set] = await engine.query("RETURN $s.is_set()", {"s": frozenset({1})})
        [from_engine] = await engine.query("RETURN <set> [3, 1, 1]")
        assert is_set is True
        assert from_engine == [1, 3]
    else:
        [kind] = await engine.query("RETURN type::is::array($s)", {"s": {1}})
        assert kind is True


def test_sets_encode_per_version() -> None:
    assert cbor2.loads(cbor.encode({1}, engine_major=2)) == [1]
    assert cbor2.loads(cbor.encode({1}, engine_major=3)) == cbor2.CBORTag(56, (1,))


async def test_none_sentinel_unsets_a_field(engine: Connection) -> None:
    await engine.query("CREATE person:one SET name = 'x', age = 3")
    [after] = await engine.query(
        "UPDATE person:one MERGE $data RETURN AFTER", {"data": {"age": NONE, "name": None}}
    )
    assert after == [{"id": RecordID("person", "one"), "name": None}]


async def test_naive_datetime_is_refused(engine: Connection) -> None:
    with pytest.raises(InvalidQueryError, match="cannot send the query parameters: naive datetime"):
        await engine.query("RETURN $d", {"d": datetime(2024, 1, 1)})


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("-Infinity")], ids=str)
async def test_a_decimal_that_is_not_finite_is_refused(engine: Connection, value: Decimal) -> None:
    with pytest.raises(InvalidQueryError, match="cannot send the query parameters: .*finite"):
        await engine.query("RETURN $d", {"d": value})


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, RecordID("t", 2**64 - 1)], ids=repr)
async def test_integers_beyond_64_bits_are_refused(engine: Connection, value: Any) -> None:
    """The engines read 2**63 as -2**63 (and -2**63 - 1 as 2**63 - 1): never send them."""
    with pytest.raises(InvalidQueryError, match="outside SurrealDB's 64-bit integer range"):
        await engine.query("RETURN $v", {"v": value})


async def test_dates_timedeltas_and_other_zones_are_sent_as_surreal_values(
    engine: Connection,
) -> None:
    berlin = timezone(timedelta(hours=1))
    [as_datetime, as_duration, shifted] = await engine.query(
        "RETURN $d; RETURN $t; RETURN $z",
        {
            "d": date(2024, 2, 3),
            "t": timedelta(minutes=90),
            "z": datetime(2024, 1, 1, 1, tzinfo=berlin),
        },
    )
    assert as_datetime == datetime(2024, 2, 3, tzinfo=UTC)
    assert as_duration == Duration(5400)
    assert shifted == datetime(2024, 1, 1, tzinfo=UTC)


@settings(max_examples=40, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1800, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_datetimes_round_trip_through_the_codec(value: datetime) -> None:
    assert cbor.decode(cbor.encode(value)) == value


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**40), st.integers(0, 999_999_999))
def test_durations_round_trip_through_the_codec(seconds: int, nanos: int) -> None:
    assert cbor.decode(cbor.encode(Duration(seconds, nanos))) == Duration(seconds, nanos)


def test_server_only_forms_decode() -> None:
    """Tags the server accepts as input (0, 9, 13, text record ids) also decode."""
    encoded = cbor2.dumps(
        [
            cbor2.CBORTag(0, "2024-01-01T00:00:00Z"),
            cbor2.CBORTag(9, "0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"),
            cbor2.CBORTag(13, "1h30m"),
            cbor2.CBORTag(8, "person:tobie"),
            cbor2.CBORTag(14, [60]),
            cbor2.CBORTag(12, [0]),
        ]
    )
    assert cbor.decode(encoded) == [
        datetime(2024, 1, 1, tzinfo=UTC),
        uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"),
        Duration(5400),
        RecordID("person", "tobie"),
        Duration(60),
        datetime(1970, 1, 1, tzinfo=UTC),
    ]


def test_unknown_types_are_a_clear_error() -> None:
    with pytest.raises(TypeError, match="cannot send a object to SurrealDB"):
        cbor.encode({"x": object()})
