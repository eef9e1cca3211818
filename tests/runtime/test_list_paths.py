"""Lookups on paths through lists of objects: "some element matches", on every transport.

`filter(lines__quantity__gt=2)` keeps the records where some line has a quantity above 2;
lookups of one call through the same list must hold for one and the same element, and
`exclude` keeps exactly the records `filter` drops. The expected records are computed here
from the data written, by the same rule in Python. List fields themselves (`tags`) take only
whole-list lookups. The generated `Purchase` model (reference schema) runs the same way.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from generated import Purchase
from surreal_gen.codegen.introspect import apply_files
from surreal_gen.runtime.changes import passing_filter
from surreal_gen.runtime.connection import SurrealDBConnectionManager
from surreal_gen.runtime.errors import InvalidQueryError, SurrealGenError
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.queryset import QuerySet
from surreal_gen.runtime.types import Duration, GeometryPoint, RecordID
from tests.codegen.reference import GENERATED_DIR, reference_files
from tests.fixtures.server import SurrealDatabase
from tests.runtime.orm_connections import OrmTarget

ProductId = RecordID[Literal["product"]]
PEN: ProductId = RecordID("product", "pen")
BOOK: ProductId = RecordID("product", "book")
LAMP: ProductId = RecordID("product", "lamp")


class Part(BaseModel):
    code: str
    weight: float | None = None


class Line(BaseModel):
    product: ProductId
    quantity: int
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    parts: list[Part] = Field(default_factory=list)


class Order(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="shop_order")

    id: RecordID[Literal["shop_order"]] | None = None
    lines: list[Line] = Field(default_factory=list)
    extras: list[Line] | None = None
    tags: list[str] = Field(default_factory=list)
    pair: tuple[int, str] | None = None
    """A fixed-shape array: one value, so it keeps the value lookups (`in`)."""


ORDERS: dict[str, dict[str, Any]] = {
    "o1": {
        "lines": [
            {
                "product": PEN,
                "quantity": 1,
                "note": "gift wrap",
                "tags": ["fragile"],
                "parts": [{"code": "A", "weight": 0.5}],
            },
            {"product": BOOK, "quantity": 3},
        ],
        "tags": ["rush", "paid"],
        "pair": [1, "a"],
    },
    "o2": {
        "lines": [
            {"product": PEN, "quantity": 5},
            {
                "product": LAMP,
                "quantity": 1,
                "note": "call first",
                "parts": [{"code": "B", "weight": 2.0}, {"code": "A"}],
            },
        ],
        "extras": [{"product": BOOK, "quantity": 2}],
        "tags": ["paid"],
        "pair": [3, "c"],
    },
    "o3": {"lines": [{"product": BOOK, "quantity": 1, "note": "gift"}], "tags": []},
    "o4": {"lines": [], "extras": [], "tags": ["rush"]},
    "o5": {
        "lines": [{"product": LAMP, "quantity": 2, "note": None, "tags": ["fragile", "heavy"]}],
        "extras": None,
        "tags": ["paid", "gift"],
        "pair": [2, "b"],
    },
    "o6": {
        "lines": [{"product": PEN, "quantity": 1}, {"product": BOOK, "quantity": 4}],
        "extras": [{"product": PEN, "quantity": 0, "note": "spare"}],
        "tags": ["rush"],
    },
}
"""Raw documents: a NULL note (o5) and missing notes (NONE), an empty, a missing and a NULL
`extras`, lists inside elements (`tags`, `parts`)."""


def some(field: str, test: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    """The Python rule for a lookup through the list `field`: some element passes `test`."""
    return lambda order: any(test(element) for element in order.get(field) or [])


def note(line: dict[str, Any]) -> str | None:
    value: str | None = line.get("note")
    return value


CASES: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ({"lines__quantity__gt": 2}, some("lines", lambda line: line["quantity"] > 2)),
    ({"lines__quantity": 1}, some("lines", lambda line: line["quantity"] == 1)),
    ({"lines__quantity__lte": 1}, some("lines", lambda line: line["quantity"] <= 1)),
    ({"lines__quantity__in": [2, 5]}, some("lines", lambda line: line["quantity"] in (2, 5))),
    ({"lines__quantity__not_in": [1]}, some("lines", lambda line: line["quantity"] != 1)),
    ({"lines__product": "product:pen"}, some("lines", lambda line: line["product"] == PEN)),
    (
        {"lines__product__in": [LAMP, "product:book"]},
        some("lines", lambda line: line["product"] in (LAMP, BOOK)),
    ),
    (
        {"lines__note__startswith": "gift"},
        some("lines", lambda line: (note(line) or "").startswith("gift")),
    ),
    (
        {"lines__note__icontains": "FIRST"},
        some("lines", lambda line: "first" in (note(line) or "").lower()),
    ),
    ({"lines__note__isnull": True}, some("lines", lambda line: note(line) is None)),
    ({"lines__note": None}, some("lines", lambda line: note(line) is None)),
    ({"lines__note__isnull": False}, some("lines", lambda line: note(line) is not None)),
    (
        {"lines__tags__contains": "fragile"},
        some("lines", lambda line: "fragile" in line.get("tags", [])),
    ),
    (
        {"lines__tags__containsall": ["fragile", "heavy"]},
        some("lines", lambda line: {"fragile", "heavy"} <= set(line.get("tags", []))),
    ),
    (
        {"lines__parts__code": "A"},
        some("lines", some("parts", lambda part: part["code"] == "A")),
    ),
    (
        {"lines__parts__weight__gt": 1.0},
        some("lines", some("parts", lambda part: (part.get("weight") or 0) > 1.0)),
    ),
    (
        {"lines__parts__weight__lt": 1.0},
        some(
            "lines",
            some("parts", lambda part: part.get("weight") is not None and part["weight"] < 1.0),
        ),
    ),
    (
        {"lines__parts__code": "A", "lines__parts__weight__isnull": True},
        some("lines", some("parts", lambda part: part["code"] == "A" and "weight" not in part)),
    ),
    (
        {"lines__product": PEN, "lines__quantity__gt": 2},
        some("lines", lambda line: line["product"] == PEN and line["quantity"] > 2),
    ),
    (
        {"lines__product": PEN, "extras__product": PEN},
        lambda order: (
            some("lines", lambda line: line["product"] == PEN)(order)
            and some("extras", lambda line: line["product"] == PEN)(order)
        ),
    ),
    ({"extras__quantity__gte": 1}, some("extras", lambda line: line["quantity"] >= 1)),
    (
        {"lines__quantity__gte": 3, "tags__contains": "paid"},
        lambda order: (
            some("lines", lambda line: line["quantity"] >= 3)(order) and "paid" in order["tags"]
        ),
    ),
    ({"tags__contains": "rush"}, lambda order: "rush" in order["tags"]),
    (
        {"tags__containsany": ["gift", "paid"]},
        lambda order: bool({"gift", "paid"} & set(order["tags"])),
    ),
    ({"tags__containsall": ["rush", "paid"]}, lambda order: {"rush", "paid"} <= set(order["tags"])),
    ({"tags": ["paid"]}, lambda order: order["tags"] == ["paid"]),
    ({"pair": (3, "c")}, lambda order: order.get("pair") == [3, "c"]),
    ({"pair__in": [(1, "a"), (2, "b")]}, lambda order: order.get("pair") in ([1, "a"], [2, "b"])),
]


def expected_keys(rule: Callable[[dict[str, Any]], bool], negated: bool = False) -> list[str]:
    return sorted(key for key, order in ORDERS.items() if rule(order) != negated)


ROWS = [{"id": RecordID("shop_order", key), **order} for key, order in ORDERS.items()]
GUARD_S = 60.0
"""An upper bound so a broken live stream fails the test instead of hanging it."""


async def seed(orm: OrmTarget) -> None:
    await orm.connection.query("INSERT INTO shop_order $rows", {"rows": ROWS})


async def keys(query: QuerySet[Any]) -> list[str]:
    return sorted(str(found.id.id) for found in await query.all())


@pytest.mark.parametrize(
    ("lookups", "rule"),
    CASES,
    ids=["-".join(f"{key}={value}" for key, value in case[0].items()) for case in CASES],
)
async def test_filter_keeps_and_exclude_drops_records_where_some_element_matches(
    orm: OrmTarget, lookups: dict[str, Any], rule: Callable[[dict[str, Any]], bool]
) -> None:
    matching = expected_keys(rule)
    assert 0 < len(matching) < len(ORDERS), "a case must tell records apart"
    await seed(orm)
    assert await keys(Order.objects().filter(**lookups)) == matching
    assert await keys(Order.objects().exclude(**lookups)) == expected_keys(rule, negated=True)
    assert await Order.objects().filter(**lookups).count() == len(matching)


async def test_chained_filters_may_match_different_elements(orm: OrmTarget) -> None:
    await seed(orm)
    pen = some("lines", lambda line: line["product"] == PEN)
    big = some("lines", lambda line: line["quantity"] > 2)
    same_line = some("lines", lambda line: line["product"] == PEN and line["quantity"] > 2)
    chained = Order.objects().filter(lines__product=PEN).filter(lines__quantity__gt=2)
    assert await keys(chained) == expected_keys(lambda order: pen(order) and big(order))
    assert expected_keys(same_line) != expected_keys(lambda order: pen(order) and big(order))
    assert await Order.objects().filter(lines__quantity__gt=4).exists() is True
    assert await Order.objects().filter(lines__quantity__gt=99).exists() is False


async def test_change_feed_documents_are_judged_by_the_same_rule(orm: OrmTarget) -> None:
    query = Order.objects().filter(lines__product=PEN, lines__quantity__gt=2)
    where, variables = query._where_clause()
    rule = some("lines", lambda line: line["product"] == PEN and line["quantity"] > 2)
    passing = await passing_filter(orm.connection, where, variables, ROWS)
    assert passing == [rule(order) for order in ORDERS.values()]


async def test_a_live_query_filters_through_lists(surreal_database: SurrealDatabase) -> None:
    server = surreal_database.server
    namespace, database = surreal_database.namespace, surreal_database.database
    connection = SurrealDBConnectionManager.set_connection(
        server.ws_url, server.user, server.password, namespace, database, name="live"
    )
    rule = some("lines", lambda line: line["quantity"] > 2)
    later = next(key for key, order in ORDERS.items() if not rule(order) and order["lines"])
    try:
        await connection.query("DEFINE TABLE shop_order SCHEMALESS")  # 3.x: LIVE needs a table
        async with Order.objects().using("live").live(lines__quantity__gt=2) as stream:
            await connection.query("INSERT INTO shop_order $rows", {"rows": ROWS})
            first = [await asyncio.wait_for(anext(stream), GUARD_S) for _ in expected_keys(rule)]
            await connection.query(
                "UPDATE $id SET lines[0].quantity = 9", {"id": RecordID("shop_order", later)}
            )
            then = await asyncio.wait_for(anext(stream), GUARD_S)
    finally:
        await SurrealDBConnectionManager.close_connection("live")
    assert sorted(str(event.record_id.id) for event in first) == expected_keys(rule)
    assert str(then.record_id.id) == later  # no notification for a record that does not match


async def test_generated_purchase_filters_through_its_items(orm: OrmTarget) -> None:
    await apply_files(orm.connection, reference_files())
    buyer = RecordID("person", "ann")
    carts: dict[str, list[tuple[ProductId, int, str | None]]] = {
        "p1": [(PEN, 1, "gift"), (BOOK, 3, None)],
        "p2": [(LAMP, 2, None)],
        "p3": [(PEN, 4, None), (LAMP, 1, "fragile")],
    }
    for key, items in carts.items():
        await Purchase.model_validate(
            {
                "id": RecordID("purchase", key),
                "buyer": buyer,
                "items": [
                    {
                        "product": product,
                        "quantity": quantity,
                        "unit_price": Decimal(1),
                        "note": text,
                    }
                    for product, quantity, text in items
                ],
            }
        ).save()

    def matching(test: Callable[[ProductId, int, str | None], bool]) -> list[str]:
        return sorted(key for key, items in carts.items() if any(test(*item) for item in items))

    purchases = Purchase.objects()
    assert await keys(purchases.filter(items__quantity__gt=1)) == matching(lambda p, q, n: q > 1)
    assert await keys(purchases.filter(items__product=PEN, items__quantity__gte=2)) == matching(
        lambda p, q, n: p == PEN and q >= 2
    )
    assert await keys(purchases.filter(items__note__isnull=False)) == matching(
        lambda p, q, n: n is not None
    )
    assert await keys(purchases.exclude(items__product__in=[LAMP])) == sorted(
        set(carts) - set(matching(lambda p, q, n: p == LAMP))
    )


def test_the_clause_tests_one_element_per_list_and_binds_values() -> None:
    query = Order.objects().filter(
        lines__product=PEN, tags__contains="paid", lines__parts__code="A", lines__quantity__gt=2
    )
    clause, variables = query._where_clause()
    assert clause == (
        "(array::len((lines ?? [])[WHERE product = $p0"
        " AND array::len((parts ?? [])[WHERE code = $p1]) > 0 AND quantity > $p2]) > 0"
        " AND tags CONTAINS $p3)"
    )
    assert variables == {"p0": PEN, "p1": "A", "p2": 2, "p3": "paid"}


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"tags__gt": ["a"]}, "gt does not apply to a list"),
    ({"tags__startswith": "a"}, "startswith does not apply to a list"),
    ({"tags__in": [["a"]]}, "in does not apply to a list"),
    ({"lines__tags__icontains": "a"}, "icontains does not apply to a list"),
    ({"lines__quantity__contains": 1}, "contains needs a text or list field"),
    ({"lines__quantity__gt": "many"}, "valid integer"),
    ({"lines__product": "person:1"}, "must point to table product"),
    ({"lines__colour": "red"}, "'lines' \\(Line\\) has no field 'colour'"),
]


@pytest.mark.parametrize(("lookups", "message"), REFUSED)
def test_lookups_that_do_not_fit_a_list_are_refused(lookups: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidQueryError, match=message):
        Order.objects().filter(**lookups)


def test_ordering_by_a_path_through_a_list_is_refused() -> None:
    with pytest.raises(InvalidQueryError, match="cannot order by a path through a list"):
        Order.objects().order_by("-lines__quantity")


def test_the_generated_stubs_and_the_runtime_agree_on_list_paths() -> None:
    """What mypy refuses in tests/codegen/test_generated_typing.py, the runtime refuses too."""
    with pytest.raises(InvalidQueryError, match="contains needs a text or list field"):
        Purchase.objects().filter(items__quantity__contains=1)  # type: ignore[call-arg]
    with pytest.raises(InvalidQueryError, match="gt does not apply to a list"):
        Purchase.objects().filter(scores__gt=[[1]])  # type: ignore[call-arg]
    accepted = Purchase.objects().filter(items__quantity__gt=1, items__note__startswith="g")
    assert accepted._where_clause()[0].startswith("(array::len((items ?? [])[WHERE quantity")


# -- every key the generated TypedDicts offer runs --------------------------------------------------

SAMPLES: dict[str, Any] = {
    "str": "x",
    "int": 1,
    "float": 1.5,
    "bool": True,
    "bytes": b"x",
    "Decimal": Decimal("1.5"),
    "AwareDatetime": datetime(2026, 1, 1, tzinfo=UTC),
    "Duration": Duration.parse("1h"),
    "UUID": uuid.UUID(int=1),
    "GeometryPoint": GeometryPoint(1.0, 2.0),
}


def sample(annotation: ast.expr) -> Any:
    """A value of the type `annotation` spells (a union: its first member)."""
    if isinstance(annotation, ast.Name):
        return SAMPLES[annotation.id]
    if isinstance(annotation, ast.BinOp):
        return sample(annotation.left)
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        inner = annotation.slice
        first = inner.elts[0] if isinstance(inner, ast.Tuple) else inner
        origin = annotation.value.id
        if origin in ("Sequence", "list"):
            return [sample(first)]
        if origin == "Literal":
            return ast.literal_eval(first)
        if origin == "RecordID":
            return RecordID(sample(first), "k")
        if origin == "dict":
            return {"k": 1}
    raise AssertionError(f"no sample value for {ast.unparse(annotation)}")


def generated_filters() -> list[tuple[type[BaseSurrealModel], str, ast.expr]]:
    """Every key of every `<Model>Filters` TypedDict in generated/, with its value type."""
    package = importlib.import_module("generated")
    found: list[tuple[type[BaseSurrealModel], str, ast.expr]] = []
    for path in sorted(GENERATED_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or not node.name.endswith("Filters"):
                continue
            model = getattr(package, node.name.removesuffix("Filters"), None)
            if not isinstance(model, type) or not issubclass(model, BaseSurrealModel):
                continue  # <Model>StreamFilters: a subset of <Model>Filters
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    found.append((model, item.target.id, item.annotation))
    return found


async def test_every_key_the_generated_filters_offer_runs(orm: OrmTarget) -> None:
    """A key that type-checks is accepted by the runtime and is valid SurrealQL."""
    await apply_files(orm.connection, reference_files())
    offered = generated_filters()
    assert any(key.startswith("items__") for _, key, _ in offered)
    failures: list[str] = []
    for model, key, annotation in offered:
        try:
            await model.objects().filter(**{key: sample(annotation)}).exists()
        except SurrealGenError as exc:
            failures.append(f"{model.__name__} {key}: {exc}")
    assert failures == []
