"""Lookups on set fields (`set<T>`, `frozenset[T]` in Python) on every transport.

A set is equal to another with the same elements in any order. The engines disagree on how
to get there: 2.x keeps a set's elements in insertion order and compares them in order, and
3.x turns a set bound as a WHERE parameter into an array literal, which never equals a set.
So every order is stored here (one record per permutation of a, b, c) and every filter value
is given in another order: a filter that depends on some order finds one record (2.x) or none
(3.x) instead of six, whatever PYTHONHASHSEED makes of a frozenset's iteration order.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any, Literal

from pydantic import BaseModel, Field

from surreal_gen.runtime.changes import passing_filter
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import RecordID
from tests.runtime.orm_connections import OrmTarget


class Box(BaseModel):
    labels: frozenset[str] = frozenset()


class Entry(BaseModel):
    tags: frozenset[str] = frozenset()


class Tagged(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="tagged")

    id: RecordID[Literal["tagged"]] | None = None
    labels: frozenset[str] = frozenset()
    maybe: frozenset[str] | None = None
    box: Box | None = None
    entries: list[Entry] = Field(default_factory=list)


SCHEMA = """
DEFINE TABLE tagged SCHEMAFULL;
DEFINE FIELD labels ON tagged TYPE set<string>;
DEFINE FIELD maybe ON tagged TYPE option<set<string>>;
DEFINE FIELD box ON tagged TYPE option<object>;
DEFINE FIELD box.labels ON tagged TYPE set<string>;
DEFINE FIELD entries ON tagged TYPE array<object>;
DEFINE FIELD entries.*.tags ON tagged TYPE set<string>;
"""

ORDERS = [list(order) for order in permutations("abc")]
EVERY_ORDER = [f"p{index}" for index in range(len(ORDERS))]
"""The records holding {a, b, c}, each written in a different order."""


async def seed(orm: OrmTarget) -> None:
    """Write the records; `<set>` keeps the given order on 2.x (and is required on 3.x)."""
    await orm.connection.query(SCHEMA)
    write = (
        "CREATE $id SET labels = <set>$labels, box = {labels: <set>$labels},"
        " entries = [{tags: <set>['x']}, {tags: <set>$labels}]"
    )
    for key, order in zip(EVERY_ORDER, ORDERS, strict=True):
        await orm.connection.query(write, {"id": RecordID("tagged", key), "labels": order})
    await orm.connection.query(
        "CREATE tagged:two SET labels = <set>['b', 'a'], entries = [];"
        " CREATE tagged:empty SET labels = <set>[], entries = [];"
        " CREATE tagged:one SET labels = <set>['c'], maybe = <set>['b', 'a'], entries = [];"
    )
    if orm.transport == "embedded-2":  # the premise: 2.x keeps each record's own order
        (rows,) = await orm.connection.query("SELECT VALUE labels FROM tagged")
        assert len({tuple(labels) for labels in rows}) == len(rows)


async def keys(**lookups: Any) -> list[str]:
    found = await Tagged.objects().filter(**lookups).all()
    return sorted(str(item.id.id) for item in found if item.id is not None)


ALL = sorted([*EVERY_ORDER, "two", "empty", "one"])

FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"labels": ["c", "a", "b"]}, EVERY_ORDER),
    ({"labels": ["b", "c", "a"]}, EVERY_ORDER),
    ({"labels__exact": ("a", "c", "b")}, EVERY_ORDER),
    ({"labels": {"c", "b", "a"}}, EVERY_ORDER),
    ({"labels": frozenset("bac")}, EVERY_ORDER),
    ({"labels": dict.fromkeys("cba").keys()}, EVERY_ORDER),
    ({"labels": ["a", "b"]}, ["two"]),
    ({"labels": ["b", "a", "a"]}, ["two"]),  # a set has no duplicates: {a, b}
    ({"labels": []}, ["empty"]),
    ({"labels": ["a", "b", "c", "d"]}, []),
    ({"labels": ["a", "c"]}, []),
    ({"maybe": ["a", "b"]}, ["one"]),
    ({"maybe": None}, sorted(set(ALL) - {"one"})),
    ({"maybe__isnull": False}, ["one"]),
    ({"labels__isnull": True}, []),
    ({"labels__contains": "c"}, sorted([*EVERY_ORDER, "one"])),
    ({"labels__containsany": ["z", "c"]}, sorted([*EVERY_ORDER, "one"])),
    ({"labels__containsall": ["c", "a"]}, EVERY_ORDER),
    ({"box__labels": ["c", "b", "a"]}, EVERY_ORDER),
    ({"box__labels": ["b", "a"]}, []),
    ({"box__isnull": True}, ["empty", "one", "two"]),
    ({"entries__tags": ["b", "c", "a"]}, EVERY_ORDER),
    ({"entries__tags": ["x"]}, EVERY_ORDER),
    ({"entries__tags__contains": "b"}, EVERY_ORDER),
    ({"labels": ["b", "c", "a"], "box__labels": ["c", "a", "b"]}, EVERY_ORDER),
]


async def test_set_lookups_ignore_order(orm: OrmTarget) -> None:
    await seed(orm)
    found = {repr(lookups): await keys(**lookups) for lookups, _ in FILTER_CASES}
    assert found == {repr(lookups): expected for lookups, expected in FILTER_CASES}
    query = Tagged.objects().filter(labels=["c", "b", "a"])
    assert await query.count() == len(EVERY_ORDER)
    assert await query.exists() is True
    assert (await query.first()) is not None


async def test_exclude_drops_exactly_what_filter_keeps(orm: OrmTarget) -> None:
    await seed(orm)
    excluded = await Tagged.objects().exclude(labels=["b", "c", "a"]).all()
    assert sorted(str(item.id.id) for item in excluded if item.id) == ["empty", "one", "two"]
    kept_by_both = Tagged.objects().filter(labels=frozenset("abc")).exclude(labels=["a", "b"])
    assert await kept_by_both.count() == len(EVERY_ORDER)
    assert await Tagged.objects().exclude(entries__tags=["c", "a", "b"]).count() == 3


async def test_update_then_filter_by_the_set_in_another_order(orm: OrmTarget) -> None:
    await seed(orm)
    updated = await Tagged.objects().filter(labels=["b", "a"]).update(labels=["c", "b", "a"])
    assert updated == 1
    assert await keys(labels=["a", "c", "b"]) == sorted([*EVERY_ORDER, "two"])
    assert await Tagged.objects().filter(labels=["c", "a"]).update(box=Box(labels={"q"})) == 0
    await Tagged.objects().filter(labels=["a", "c", "b"]).update(box=Box(labels={"r", "q"}))
    assert await keys(box__labels=["q", "r"]) == sorted([*EVERY_ORDER, "two"])


async def test_change_feed_documents_are_judged_regardless_of_order(orm: OrmTarget) -> None:
    """The change feed hands back documents as they were (lists in stored order on 2.x)."""
    query = Tagged.objects().filter(labels=["c", "a", "b"])
    where, variables = query._where_clause()
    documents = [{"labels": order} for order in ORDERS] + [{"labels": ["a", "b"]}]
    passing = await passing_filter(orm.connection, where, variables, documents)
    assert passing == [True] * len(ORDERS) + [False]


def test_the_set_value_is_bound_as_a_list_parameter() -> None:
    """A list: 3.x would turn a bound set into an array literal (see the module docstring)."""
    where, variables = Tagged.objects().filter(labels={"a'); DELETE tagged; --"})._where_clause()
    assert "DELETE" not in where
    assert list(variables.values()) == [["a'); DELETE tagged; --"]]
