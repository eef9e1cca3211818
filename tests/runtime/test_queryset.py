"""QuerySet against real engines: every lookup, chaining, ordering, slicing, bulk writes.

Tests that take `orm` run on the embedded 2.x and 3.x engines and over WebSocket and HTTP
against the loopback test server. The rest check query building, which needs no database.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from surreal_gen.runtime.changes import ChangeFeedStream
from surreal_gen.runtime.errors import DoesNotExist, InvalidQueryError, MultipleObjectsReturned
from surreal_gen.runtime.live import LiveModelStream
from surreal_gen.runtime.model import BaseSurrealModel, Computed, ReadOnly, SurrealConfigDict
from surreal_gen.runtime.queryset import QuerySet
from surreal_gen.runtime.types import RecordID
from tests.runtime.orm_connections import OrmTarget


class Address(BaseModel):
    city: str
    zip: str | None = None


class Item(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="item")

    id: RecordID[Literal["item"]] | None = None
    name: str
    qty: int = 0
    price: float | None = None
    tags: list[str] = Field(default_factory=list)
    address: Address | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None
    owner: RecordID[Literal["person"]] | None = None
    select_: str | None = Field(default=None, alias="select")
    grade: Literal[1, 2, 3] = 1
    lines: list[dict[str, Any]] = Field(default_factory=list)


SEED: dict[str, dict[str, Any]] = {
    "a": {
        "name": "apple",
        "qty": 5,
        "price": 1.5,
        "tags": ["fruit", "red"],
        "address": {"city": "Montréal"},
        "meta": {"color": "red", "n": 1},
        "owner": RecordID("person", 1),
        "select": "picked",
        "grade": 2,
        "lines": [{"sku": "A1", "n": 2}],
    },
    "b": {
        "name": "banana",
        "qty": 12,
        "tags": ["fruit", "yellow"],
        "address": {"city": "Toronto", "zip": "M5"},
        "meta": {"color": "yellow", "n": 2},
        "lines": [{"sku": "B1"}, {"sku": "B2", "n": 1}],
    },
    "c": {"name": "Carrot", "qty": 0, "tags": ["vegetable"], "note": "crunchy"},
    "d": {"name": "date", "qty": 7, "price": 3.0, "tags": []},
}


async def seed(orm: OrmTarget) -> None:
    rows = [{"id": RecordID("item", key), **values} for key, values in SEED.items()]
    await orm.connection.query("INSERT INTO item $rows", {"rows": rows})


async def keys(query: QuerySet[Item]) -> list[str]:
    """The record keys a query returns, sorted (the order is checked separately)."""
    found = await query.all()
    return sorted(str(item.id.id) for item in found if item.id is not None)


# -- lookups -------------------------------------------------------------------------------------

LOOKUP_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"name": "apple"}, ["a"]),
    ({"name__exact": "banana"}, ["b"]),
    ({"qty__gt": 5}, ["b", "d"]),
    ({"qty__gte": 5}, ["a", "b", "d"]),
    ({"qty__lt": 5}, ["c"]),
    ({"qty__lte": 5}, ["a", "c"]),
    ({"price__lt": 2}, ["a"]),  # a missing price is not less than 2
    ({"address__zip__lte": "Z"}, ["b"]),
    ({"qty__in": [0, 7, 99]}, ["c", "d"]),
    ({"qty__not_in": [0, 7]}, ["a", "b"]),
    ({"tags__contains": "fruit"}, ["a", "b"]),
    ({"name__contains": "an"}, ["b"]),
    ({"tags__containsany": ["red", "vegetable"]}, ["a", "c"]),
    ({"tags__containsall": ["fruit", "yellow"]}, ["b"]),
    ({"name__startswith": "ba"}, ["b"]),
    ({"name__endswith": "e"}, ["a", "d"]),
    ({"note__startswith": "cr"}, ["c"]),  # records without a note do not break the query
    ({"name__icontains": "CAR"}, ["c"]),
    ({"price__isnull": True}, ["b", "c"]),
    ({"price__isnull": False}, ["a", "d"]),
    ({"price": None}, ["b", "c"]),
    ({"address__city": "Toronto"}, ["b"]),
    ({"address__city__startswith": "Mon"}, ["a"]),
    ({"address__zip": "M5"}, ["b"]),
    ({"address__isnull": True}, ["c", "d"]),
    ({"meta__color": "red"}, ["a"]),
    ({"meta__n__gte": 2}, ["b"]),
    ({"owner": "person:1"}, ["a"]),
    ({"owner": RecordID("person", 1)}, ["a"]),
    ({"id": "item:b"}, ["b"]),
    ({"id": "c"}, ["c"]),
    ({"id__in": ["item:a", RecordID("item", "d")]}, ["a", "d"]),
    ({"select_": "picked"}, ["a"]),
    ({"grade": 2}, ["a"]),
    ({"grade__in": [2, 3]}, ["a"]),
    ({"lines__sku__contains": "B2"}, ["b"]),  # through a list: some line's sku
    ({"lines__sku": "B1"}, ["b"]),
    ({"lines__n__in": [2, 9]}, ["a"]),
    ({"select": "picked"}, ["a"]),
    ({"qty__gte": 5, "tags__contains": "fruit"}, ["a", "b"]),
]


@pytest.mark.parametrize(
    ("lookups", "expected"),
    LOOKUP_CASES,
    ids=["-".join(f"{key}={value}" for key, value in case[0].items()) for case in LOOKUP_CASES],
)
async def test_lookup(orm: OrmTarget, lookups: dict[str, Any], expected: list[str]) -> None:
    await seed(orm)
    assert await keys(Item.objects().filter(**lookups)) == expected


async def test_exclude_negates_the_whole_group(orm: OrmTarget) -> None:
    await seed(orm)
    assert await keys(Item.objects().exclude(tags__contains="fruit")) == ["c", "d"]
    assert await keys(Item.objects().exclude(name="apple", qty=99)) == ["a", "b", "c", "d"]
    assert await keys(Item.objects().filter(qty__gt=0).exclude(name="date")) == ["a", "b"]


# -- ordering, slicing and the read methods ------------------------------------------------------


async def test_order_by_several_fields_and_nested_paths(orm: OrmTarget) -> None:
    await seed(orm)
    await orm.connection.query("UPDATE item:d SET qty = 5")
    by_qty = await Item.objects().order_by("-qty", "name").all()
    assert [item.name for item in by_qty] == ["banana", "apple", "date", "Carrot"]
    by_city = await Item.objects().filter(address__isnull=False).order_by("address__city").all()
    assert [item.name for item in by_city] == ["apple", "banana"]
    replaced = Item.objects().order_by("name").order_by("-name")
    assert (await replaced.all())[0].name == "date"


async def test_limit_offset_first_count_exists(orm: OrmTarget) -> None:
    await seed(orm)
    ordered = Item.objects().order_by("qty")
    assert [item.qty for item in await ordered.limit(2).all()] == [0, 5]
    assert [item.qty for item in await ordered.offset(1).limit(2).all()] == [5, 7]
    assert [item.qty for item in await ordered.offset(3).all()] == [12]

    first = await ordered.first()
    assert first is not None and first.name == "Carrot"
    assert await Item.objects().filter(name="nothing").first() is None

    assert await Item.objects().count() == 4
    assert await Item.objects().filter(tags__contains="fruit").count() == 2
    assert await ordered.offset(1).limit(2).count() == 2
    assert await ordered.offset(3).limit(5).count() == 1
    assert await Item.objects().filter(qty__gt=100).count() == 0

    assert await Item.objects().filter(name="apple").exists() is True
    assert await Item.objects().filter(name="nothing").exists() is False
    assert await Item.objects().limit(0).exists() is False


async def test_get_tells_none_from_several(orm: OrmTarget) -> None:
    await seed(orm)
    apple = await Item.objects().get(name="apple")
    assert apple.owner == RecordID("person", 1)
    assert apple.address == Address(city="Montréal")
    assert (await Item.objects().filter(qty__gt=10).get()).name == "banana"
    with pytest.raises(DoesNotExist, match="no Item matches"):
        await Item.objects().get(name="nothing")
    with pytest.raises(MultipleObjectsReturned, match="more than one Item"):
        await Item.objects().get(tags__contains="fruit")


async def test_reading_a_table_nobody_wrote_is_empty(orm: OrmTarget) -> None:
    assert await Item.objects().all() == []
    assert await Item.objects().count() == 0
    assert await Item.objects().exists() is False
    with pytest.raises(DoesNotExist):
        await Item.get("item:none")


# -- bulk writes --------------------------------------------------------------------------------


async def test_update_sets_fields_and_none_removes_them(orm: OrmTarget) -> None:
    await seed(orm)
    updated = (
        await Item.objects()
        .filter(tags__contains="fruit")
        .update(note="ripe", address=Address(city="Québec"))
    )
    assert updated == 2
    apple = await Item.objects().get(name="apple")
    assert apple.note == "ripe" and apple.address == Address(city="Québec")
    assert apple.qty == 5  # MERGE leaves other fields alone

    assert await Item.objects().filter(name="apple").update(price=None) == 1
    raw = (await orm.connection.query("SELECT * FROM item:a"))[0][0]
    assert "price" not in raw
    assert await Item.objects().filter(name="nothing").update(qty=1) == 0


async def test_update_checks_fields_and_values(orm: OrmTarget) -> None:
    with pytest.raises(InvalidQueryError, match="'colour' is not a field of Item"):
        await Item.objects().update(colour="red")
    with pytest.raises(InvalidQueryError, match="update\\(qty=...\\).*valid integer"):
        await Item.objects().update(qty="many")
    with pytest.raises(InvalidQueryError, match="cannot be combined with order_by"):
        await Item.objects().order_by("name").update(qty=1)
    with pytest.raises(InvalidQueryError, match="at least one"):
        await Item.objects().update()


async def test_delete_counts_and_delete_table_keeps_the_schema(orm: OrmTarget) -> None:
    await orm.connection.query(
        "DEFINE TABLE item SCHEMALESS; DEFINE FIELD qty ON item TYPE int DEFAULT 0;"
    )
    await seed(orm)
    assert await Item.objects().filter(qty__lt=6).delete() == 2
    assert await keys(Item.objects()) == ["b", "d"]

    with pytest.raises(InvalidQueryError, match="takes no filters"):
        await Item.objects().filter(name="banana").delete_table()
    await Item.objects().delete_table()
    assert await Item.objects().count() == 0
    info = (await orm.connection.query("INFO FOR TABLE item"))[0]
    assert "qty" in info["fields"]
    created = await Item(name="after").save()
    assert created.qty == 0


# -- hostile values and identifiers --------------------------------------------------------------

HOSTILE = [
    "'; DELETE item; --",
    '"; REMOVE TABLE item; --',
    "$p0",
    "$p1 OR true",
    "⟨angle⟩ ⟩",
    "`back`ticks`",
    "SELECT * FROM item",
    "NONE",
    "NULL",
    "a\\b\\'c",
    "line\nbreak\ttab",
    "emoji 🦀 and ünïcode",
    "",
]


async def test_hostile_values_round_trip_verbatim(orm: OrmTarget) -> None:
    saved = [await Item(name=value, note=value, tags=[value]).save() for value in HOSTILE]
    assert await Item.objects().count() == len(HOSTILE)
    for value, item in zip(HOSTILE, saved, strict=True):
        found = await Item.objects().filter(name=value).all()
        assert [(f.id, f.name) for f in found] == [(item.id, value)]
        assert await Item.objects().filter(tags__contains=value).count() == 1
        assert await Item.objects().filter(note__in=[value]).count() == 1
    assert await Item.objects().filter(name__startswith="'; DELETE").count() == 1
    assert await Item.objects().filter(name__endswith="--").count() == 2
    assert await Item.objects().filter(name__icontains="⟨ANGLE⟩").count() == 1


HOSTILE_KEYS = ["a'b;--", "⟨x⟩", "`y`", "with space", "1", "select"]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
async def test_hostile_record_keys_round_trip(orm: OrmTarget, key: str) -> None:
    item = await Item(id=RecordID("item", key), name=key).save()
    assert item.id == RecordID("item", key)
    assert (await Item.get(item.id)).name == key
    assert (await Item.objects().get(id=item.id)).name == key
    await item.delete()
    assert await Item.objects().count() == 0


@pytest.mark.parametrize(
    "key",
    [5, -1, uuid.UUID("0190f3c4-8a7e-7c3e-9a5b-2f1d3c4b5a69"), ["a", 1], {"k": 1, "z": "y"}],
    ids=["int", "negative", "uuid", "array", "object"],
)
async def test_non_string_record_keys_round_trip(orm: OrmTarget, key: Any) -> None:
    item = await Item(id=RecordID("item", key), name="keyed").save()
    assert item.id == RecordID("item", key)
    assert (await Item.get(key)).name == "keyed"  # a bare key means this model's table
    assert (await Item.objects().filter(id=item.id).get()).id == item.id
    assert await Item.objects().filter(id__in=[key]).count() == 1


class Keyworded(BaseSurrealModel):
    """A table and fields named like SurrealQL keywords and with odd characters."""

    model_config = SurrealConfigDict(table_name="select")

    id: RecordID[Literal["select"]] | None = None
    where: str
    from_: int = Field(alias="from")
    odd: str | None = Field(default=None, alias="we`ird ⟩name")


async def test_keyword_table_and_field_names_are_escaped(orm: OrmTarget) -> None:
    await Keyworded.model_validate({"where": "here", "from": 1, "we`ird ⟩name": "x"}).save()
    await Keyworded.model_validate({"where": "there", "from": 2}).save()
    query = Keyworded.objects().filter(where="here", from___gte=1, odd="x")
    assert [row.where for row in await query.all()] == ["here"]
    ordered = await Keyworded.objects().order_by("-from_").all()
    assert [row.from_ for row in ordered] == [2, 1]
    assert await Keyworded.objects().filter(odd__isnull=True).update(odd="y") == 1
    assert await Keyworded.objects().filter(odd="y").count() == 1


# -- query building (no database) ----------------------------------------------------------------


def test_where_clause_binds_every_value() -> None:
    query = Item.objects().filter(name="x", qty__gt=1).exclude(tags__contains="t")
    clause, variables = query._where_clause()
    assert clause == "(name = $p0 AND qty > $p1) AND !(tags CONTAINS $p2)"
    assert variables == {"p0": "x", "p1": 1, "p2": "t"}
    assert Item.objects()._where_clause() == ("", {})


def test_identifiers_are_escaped_in_the_clause() -> None:
    clause, variables = Keyworded.objects().filter(where="w", odd__startswith="o")._where_clause()
    assert clause == (
        "(`where` = $p0 AND string::starts_with(<string>(`we\\`ird ⟩name` ?? ''), $p1))"
    )
    assert variables == {"p0": "w", "p1": "o"}


def test_values_are_checked_and_converted_to_the_field_type() -> None:
    _, variables = Item.objects().filter(owner="person:7", id="item:x", qty="3")._where_clause()
    assert variables == {"p0": RecordID("person", 7), "p1": RecordID("item", "x"), "p2": 3}


def test_chaining_never_changes_the_original() -> None:
    base = Item.objects()
    fruit = base.filter(tags__contains="fruit")
    cheap = base.filter(price__lt=2)
    ordered = fruit.order_by("name").limit(3).offset(1)
    assert base._where_clause() == ("", {})
    assert fruit._where_clause()[0] == "(tags CONTAINS $p0)"
    assert cheap._where_clause()[0] == "((price != NONE AND price != NULL AND price < $p0))"
    assert fruit._order == () and fruit._limit is None and fruit._offset == 0
    assert ordered._order == ("name ASC",) and ordered._limit == 3 and ordered._offset == 1
    assert type(ordered) is QuerySet


BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"colour": "red"}, "Item has no field 'colour'"),
    ({"qty__gtt": 1}, "'qty' has no sub-field 'gtt' and 'gtt' is not a lookup"),
    ({"qty": "many"}, "filter\\(qty=...\\): Input should be a valid integer"),
    ({"name__contains": 3}, "valid string"),
    ({"qty__contains": 3}, "contains needs a text or list field"),
    ({"address__town": "x"}, "'address' \\(Address\\) has no field 'town'"),
    ({"address__city__zip": "x"}, "'address__city' has no sub-field 'zip'"),
    ({"qty__in": 5}, "valid list"),
    ({"owner": "user:1"}, "must point to table person"),
    ({"id": "person:1"}, "not in table 'item'"),
    ({"price__isnull": "yes"}, "valid boolean"),
    ({"name__": "x"}, "empty path segment"),
    ({"grade": 4}, "Input should be 1, 2 or 3"),
    ({"grade__contains": 1}, "contains needs a text or list field"),
]


@pytest.mark.parametrize(("lookups", "message"), BAD_FILTERS)
def test_bad_filters_are_refused_before_anything_runs(
    lookups: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidQueryError, match=message) as caught:
        Item.objects().filter(**lookups)
    assert "\n" not in str(caught.value)


def test_bad_ordering_and_slicing_are_refused() -> None:
    with pytest.raises(InvalidQueryError, match="has no field 'colour'"):
        Item.objects().order_by("-colour")
    with pytest.raises(InvalidQueryError, match="non-negative integer"):
        Item.objects().limit(-1)
    with pytest.raises(InvalidQueryError, match="non-negative integer"):
        Item.objects().offset(True)


class Open(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="open", extra="allow")

    id: RecordID[Literal["open"]] | None = None
    name: str


async def test_models_allowing_extra_keys_filter_and_update_any_field(orm: OrmTarget) -> None:
    await Open.model_validate({"name": "a", "size": 3, "gone": "soon"}).save()
    await Open(name="b").save()
    query = Open.objects().filter(size__gt=1)
    assert query._where_clause()[0] == "(size > $p0)"
    assert await query.update(size=4, gone=None, name="A") == 1
    (updated,) = await query.all()
    assert updated.name == "A" and updated.model_extra == {"size": 4}


def test_live_refuses_ordering_and_slicing() -> None:
    with pytest.raises(InvalidQueryError, match="cannot use order_by, limit or offset"):
        Item.objects().order_by("name").live()
    with pytest.raises(InvalidQueryError, match="cannot use order_by, limit or offset"):
        Item.objects().limit(3).live()


def test_live_and_changes_take_filters_and_return_typed_streams() -> None:
    live = Item.objects().live(name="apple", diff=True)
    assert isinstance(live, LiveModelStream) and live.model is Item
    feed = Item.objects().filter(qty__gt=1).changes(since=5, name="apple")
    assert isinstance(feed, ChangeFeedStream) and feed.model is Item
    with pytest.raises(InvalidQueryError, match="Item has no field 'colour'"):
        Item.objects().live(colour="red")
    with pytest.raises(InvalidQueryError, match="Item has no field 'colour'"):
        Item.objects().changes(colour="red")


def test_update_refuses_computed_and_read_only_fields() -> None:
    class Audited(BaseSurrealModel):
        model_config = SurrealConfigDict(table_name="audited")
        label: str
        serial: Annotated[str, ReadOnly] = "s"
        at: Annotated[datetime, Computed] = datetime.min

    for field in ("serial", "at"):
        with pytest.raises(InvalidQueryError, match="computed or read-only"):
            Audited.objects()._update_data({field: "x"})
