"""How runtime value types behave for a Python user: hashing, ordering, dump round trips."""

from __future__ import annotations

import operator
import uuid
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.types import (
    Bound,
    Duration,
    Geometry,
    GeometryCollection,
    GeometryLine,
    GeometryPoint,
    GeometryPolygon,
    NanoDatetime,
    Range,
    RecordID,
)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"x": 1, "y": 2}, {"y": 2, "x": 1}),
        ([1, {"a": 1, "b": 2}], [1, {"b": 2, "a": 1}]),
        ([1], [1.0]),
    ],
    ids=repr,
)
def test_equal_record_ids_hash_alike(left: Any, right: Any) -> None:
    """Equal ids must be the same dict key / set member (object keys compare in any order)."""
    assert RecordID("t", left) == RecordID("t", right)
    assert hash(RecordID("t", left)) == hash(RecordID("t", right))
    assert {RecordID("t", left): "found"}[RecordID("t", right)] == "found"


def test_duration_orders_with_durations_only() -> None:
    """Comparing with another type is a TypeError (as for timedelta), not an AttributeError."""
    assert Duration(1) < Duration(2) <= Duration(2) and Duration(3) > Duration(2) >= Duration(2)
    for other in (timedelta(seconds=1), 1, None):
        for compare in (operator.lt, operator.le, operator.gt, operator.ge):
            with pytest.raises(TypeError):
                compare(Duration(1), other)
    with pytest.raises(TypeError):
        sorted([Duration(1), None])


class Shapes(BaseModel):
    at: GeometryPoint
    area: Geometry
    shapes: list[Geometry]


def test_geometry_model_dump_validates_back() -> None:
    """`model_validate(m.model_dump())` gives `m` back, as for every other field type."""
    square = GeometryPolygon(
        (GeometryLine((GeometryPoint(0, 0), GeometryPoint(1, 0), GeometryPoint(0, 0))),)
    )
    shapes = Shapes(
        at=GeometryPoint(1, 2),
        area=square,
        shapes=[GeometryCollection((GeometryPoint(3, 4), square))],
    )
    dumped = shapes.model_dump()
    assert dumped["at"] == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert Shapes.model_validate(dumped) == shapes
    assert Shapes.model_validate_json(shapes.model_dump_json()) == shapes


def test_record_id_with_an_array_range_key_hashes() -> None:
    """A range of array keys (`t:[1]..[5]`) holds lists: its id still hashes, as it did."""
    ids = [RecordID("t", Range(Bound([1, {"a": 1}]), Bound([5], inclusive=False)))] * 2
    assert len(set(ids)) == 1
    assert hash(ids[0]) == hash(RecordID("t", Range(Bound([1, {"a": 1}]), Bound([5], False))))


class Linked(BaseModel):
    to: RecordID
    span: Range | None = None


ARRAY_AND_OBJECT_KEYS: list[Any] = [
    [1, "x", {"b": 2}],
    {"x": 1, "y z": 2},
    ["London", 1.5, -2, True, None, "a'b\\c", "é", []],
    [uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"), Decimal("1.25")],
    [RecordID("person", "a b"), RecordID("select", [1])],
]


@pytest.mark.parametrize("key", ARRAY_AND_OBJECT_KEYS, ids=repr)
async def test_array_and_object_record_ids_read_back_from_text(
    engine: Connection, key: Any
) -> None:
    """An id the engine returns, dumped to JSON (a web response), validates back; so does the
    engine's own text for it (was: 'escape the key with backticks')."""
    make = "type::record" if engine.engine_major == 3 else "type::thing"
    [rid, printed] = await engine.query(
        f"RETURN {make}('t', $key); RETURN <string> {make}('t', $key)", {"key": key}
    )
    assert rid == RecordID("t", key)
    assert RecordID.parse(printed) == rid
    assert RecordID.parse(str(rid)) == rid
    linked = Linked(to=rid)
    assert Linked.model_validate_json(linked.model_dump_json()) == linked


RANGES = [
    Range(Bound(1), Bound(5, inclusive=False)),
    Range(Bound(1, inclusive=False), Bound(5)),
    Range(None, Bound([5, "a"], inclusive=False)),
    Range(Bound("a"), None),
]


@pytest.mark.parametrize("value", RANGES, ids=str)
async def test_range_fields_dump_and_validate_back(engine: Connection, value: Range) -> None:
    """A Range field survives model_dump / model_dump_json (was: dumped, then refused)."""
    [echoed] = await engine.query("RETURN $r", {"r": value})
    linked = Linked(to=RecordID("t", 1), span=echoed)
    assert Linked.model_validate(linked.model_dump()) == linked
    assert Linked.model_validate_json(linked.model_dump_json()) == linked
    assert Range.parse(str(value)) == value
    assert RecordID.parse(str(RecordID("t", value))) == RecordID("t", value)


def test_range_and_key_text_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="invalid range '1..5x'"):
        Range.parse("1..5x")
    with pytest.raises(ValueError, match=r"escape the key with backticks, e.g. t:`a\.\.b`"):
        RecordID.parse("t:a..b")
    with pytest.raises(ValueError, match="invalid record id"):
        RecordID.parse("t:[1, 2")


@pytest.mark.parametrize("nanosecond", [0, 7, 120])
def test_nano_datetime_reads_back_its_isoformat(nanosecond: int) -> None:
    """`NanoDatetime.fromisoformat(n.isoformat()) == n` (the inherited one dropped the ns)."""
    value = NanoDatetime(2025, 1, 2, 3, 4, 5, 6, UTC, nanosecond=nanosecond)
    assert NanoDatetime.fromisoformat(value.isoformat()) == value
    assert NanoDatetime.fromisoformat(value.isoformat()).nanosecond == nanosecond
    assert NanoDatetime.fromisoformat(str(value)) == value
    assert NanoDatetime.fromisoformat("2025-01-02T03:04:05.0000061Z").nanosecond == 100


def test_duration_refuses_fractional_seconds() -> None:
    """Duration(1.5) printed '1.0s500.0ms' (no SurrealQL duration); it is refused instead."""
    with pytest.raises(TypeError, match="whole seconds"):
        Duration(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="whole seconds"):
        Duration(0, 1e9)  # type: ignore[arg-type]
    assert str(Duration(1, 500_000_000)) == "1s500ms"
