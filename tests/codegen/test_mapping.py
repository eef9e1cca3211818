"""The type mapping, field by field, on kinds read back from both engines."""

from __future__ import annotations

import pytest

from surreal_gen.codegen.introspect import SchemaFile
from surreal_gen.codegen.mapping import FieldPlan, ModulePlan, plan_module
from tests.codegen.reference import read_files

SCHEMA = """
DEFINE TABLE t SCHEMAFULL;
DEFINE FIELD s ON t TYPE string;
DEFINE FIELD opt ON t TYPE option<string>;
DEFINE FIELD nullable ON t TYPE string | null;
DEFINE FIELD optnull ON t TYPE option<int | null>;
DEFINE FIELD num ON t TYPE number;
DEFINE FIELD dec ON t TYPE decimal;
DEFINE FIELD dur ON t TYPE duration;
DEFINE FIELD dt ON t TYPE datetime;
DEFINE FIELD id_ ON t TYPE uuid;
DEFINE FIELD rec ON t TYPE record<a | b>;
DEFINE FIELD anyrec ON t TYPE record;
DEFINE FIELD lit ON t TYPE 'x' | 'y' | 3 | true;
DEFINE FIELD flt ON t TYPE 1.5 | 2.5;
DEFINE FIELD geo ON t TYPE geometry<point | polygon>;
DEFINE FIELD arr ON t TYPE array<float, 3>;
DEFINE FIELD strings ON t TYPE set<string>;
DEFINE FIELD blobs ON t TYPE set<object>;
DEFINE FIELD pair ON t TYPE [int, string];
DEFINE FIELD obj ON t TYPE object;
DEFINE FIELD nested ON t TYPE object;
DEFINE FIELD nested.deep ON t TYPE object FLEXIBLE;
DEFINE FIELD nested.deep.leaf ON t TYPE int;
DEFINE FIELD rows ON t TYPE array<object>;
DEFINE FIELD rows[*].name ON t TYPE string;
DEFINE FIELD lower ON t TYPE string VALUE string::lowercase($value);
DEFINE FIELD stamp ON t TYPE datetime VALUE time::now();
DEFINE FIELD made ON t TYPE datetime DEFAULT time::now() READONLY;
DEFINE FIELD room ON t TYPE string DEFAULT 'general';
DEFINE FIELD count ON t TYPE int DEFAULT 0;
DEFINE FIELD state ON t TYPE 'on' | 'off' DEFAULT 'off';
DEFINE FIELD untyped ON t VALUE 1;
"""


@pytest.fixture(scope="module", params=["2.x", "3.x"])
def plan(request: pytest.FixtureRequest) -> ModulePlan:
    [table] = read_files([SchemaFile("t.surql", SCHEMA)], request.param).schema.tables
    return plan_module(table, "T", "t")


def field(plan: ModulePlan, name: str) -> FieldPlan:
    return next(f for f in plan.model.fields if f.name == name)


@pytest.mark.parametrize(
    ("name", "annotation", "default"),
    [
        ("s", "str", None),
        ("opt", "str | None", "None"),
        ("nullable", "Annotated[str | None, Nullable]", None),
        ("optnull", "Annotated[int | None, Nullable]", "None"),
        ("num", "int | float | Decimal", None),
        ("dec", "Decimal", None),
        ("dur", "Duration", None),
        ("dt", "AwareDatetime", None),
        ("rec", 'RecordID[Literal["a", "b"]]', None),
        ("anyrec", "RecordID[str]", None),
        ("lit", 'Literal["x", "y", 3, True]', None),
        ("flt", "float", None),
        ("geo", "GeometryPoint | GeometryPolygon", None),
        ("arr", "Annotated[list[float], Field(max_length=3)]", None),
        ("strings", "frozenset[str]", None),
        ("blobs", "list[dict[str, Any]]", None),
        ("pair", "tuple[int, str]", None),
        ("obj", "dict[str, Any]", None),
        ("nested", "TNested", None),
        ("rows", "list[TRowsItem]", None),
        ("lower", "str", None),
        ("stamp", "Annotated[AwareDatetime, Computed]", "db_default()"),
        ("made", "Annotated[AwareDatetime, ReadOnly]", "db_default()"),
        ("room", "str", '"general"'),
        ("count", "int", "0"),
        ("state", 'Literal["on", "off"]', '"off"'),
        ("untyped", "Annotated[Any, Computed]", "db_default()"),
    ],
)
def test_field_types(plan: ModulePlan, name: str, annotation: str, default: str | None) -> None:
    planned = field(plan, name)
    assert (planned.annotation, planned.default) == (annotation, default)


def test_nested_models_fold_paths_and_keep_flexibility(plan: ModulePlan) -> None:
    nested = {m.class_name: m for m in plan.nested}
    assert set(nested) == {"TNested", "TNestedDeep", "TRowsItem"}
    assert [f.name for f in nested["TNestedDeep"].fields] == ["leaf"]
    assert nested["TNestedDeep"].extra_allow and not nested["TNested"].extra_allow
    assert [m.class_name for m in plan.nested].index("TNestedDeep") < [
        m.class_name for m in plan.nested
    ].index("TNested")


def test_filters_follow_nested_paths_and_types(plan: ModulePlan) -> None:
    filters = {f.key + suffix: type_text for f in plan.filters for suffix, type_text in f.lookups}
    assert filters["nested__deep__leaf__gte"] == "int"
    assert filters["s__startswith"] == "str"
    assert filters["opt"] == "str"
    assert filters["nullable"] == "str | None"
    assert filters["rec__in"] == 'Sequence[RecordID[Literal["a", "b"]]]'
    assert filters["strings__contains"] == "str"
    assert filters["arr__containsall"] == "Sequence[float]"
    # through a list of objects a key means "some element matches": the element's own lookups
    assert filters["rows__name"] == "str"
    assert filters["rows__name__contains"] == "str"
    assert filters["rows__name__startswith"] == "str"
    assert "rows__name__containsany" not in filters
    assert "s__gte" in filters and "rec__gte" not in filters


@pytest.mark.parametrize("engine", ["2.x", "3.x"])
def test_brackets_and_bars_inside_string_literals_are_not_type_structure(engine: str) -> None:
    text = """
    DEFINE TABLE t SCHEMAFULL;
    DEFINE FIELD bar ON t TYPE option<']' | '|'>;
    DEFINE FIELD bracket ON t TYPE option<'[' | 'x'>;
    """
    [table] = read_files([SchemaFile("t.surql", text)], engine).schema.tables
    plan = plan_module(table, "T", "t")
    assert field(plan, "bar").annotation == 'Literal["]", "|"] | None'
    assert field(plan, "bracket").annotation == 'Literal["[", "x"] | None'
    filters = {f.key + suffix: type_text for f in plan.filters for suffix, type_text in f.lookups}
    # NONE is absence, not a value to compare with
    assert filters["bar"] == 'Literal["]", "|"]'
    assert filters["bracket"] == 'Literal["[", "x"]'
