"""How runtime value types behave for a Python user: hashing, ordering, dump round trips."""

from __future__ import annotations

import operator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from surreal_gen.runtime.types import (
    Bound,
    Duration,
    Geometry,
    GeometryCollection,
    GeometryLine,
    GeometryPoint,
    GeometryPolygon,
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
