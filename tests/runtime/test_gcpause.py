"""runtime.gcpause: the collector is paused inside the block and left as it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Literal

import pytest

from surreal_gen.runtime import cbor
from surreal_gen.runtime.errors import ValidationFailed
from surreal_gen.runtime.gcpause import gc_paused
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import RecordID


class Point(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="point")

    id: RecordID[Literal["point"]] | None = None
    x: int


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_enabled_again_after() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_program_stays_off() -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_enabled_again_when_the_block_raises() -> None:
    gc.enable()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("x")
    assert gc.isenabled()


@pytest.mark.parametrize("promote", [False, True])
def test_promoted_allocations_are_left_to_full_collections(promote: bool) -> None:
    gc.enable()
    gc.collect()
    with gc_paused(promote=promote):
        made = [[n] for n in range(50_000)]
    young = gc.get_count()[0]
    in_oldest = {id(item) for item in gc.get_objects(generation=2)}
    if promote:
        assert young < 100
        assert all(id(item) in in_oldest for item in made[::1000])
    else:
        assert young >= len(made)
        assert not any(id(item) in in_oldest for item in made[::1000])
    assert gc.get_freeze_count() == 0


def test_decoding_and_validating_leave_the_collector_running() -> None:
    gc.enable()
    data = cbor.encode([{"id": RecordID("point", 1), "x": 1}])
    rows = cbor.decode(data)
    assert gc.isenabled()
    assert Point.from_db_many(rows)[0].x == 1
    assert gc.isenabled()
    with pytest.raises(ValidationFailed):
        Point.from_db_many([{"id": RecordID("point", 2), "x": "not a number"}])
    assert gc.isenabled()
