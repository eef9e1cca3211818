"""schema.json: a valid 2020-12 document that real records from both engines satisfy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError

from surreal_gen.codegen import naming
from surreal_gen.codegen.emit import render_package
from surreal_gen.codegen.introspect import EMBEDDED_URL, SchemaFile, apply_files, introspect
from surreal_gen.codegen.ir import Field, Schema, Table
from surreal_gen.codegen.jsonschema_out import DIALECT, SCHEMA_FILE, json_schema
from surreal_gen.codegen.kinds import Kind, parse_kind
from surreal_gen.runtime.connection import Connection, ConnectionConfig
from surreal_gen.runtime.errors import QueryError
from surreal_gen.runtime.types import RecordID
from tests.codegen.records import all_records, as_json, reference_database
from tests.codegen.reference import reference
from tests.codegen.strategies import kinds


def document_for(schema: Schema) -> dict[str, Any]:
    return json_schema(schema, naming.class_names([t.name for t in schema.tables]))


def validator_for(document: dict[str, Any], class_name: str) -> Draft202012Validator:
    return Draft202012Validator({**document, "$ref": f"#/$defs/{class_name}"})


def test_reference_document_is_valid_json_schema() -> None:
    document = document_for(reference("2.x").schema)
    assert document["$schema"] == DIALECT
    Draft202012Validator.check_schema(document)


def test_both_engines_give_the_same_bytes() -> None:
    files = []
    for engine in ("2.x", "3.x"):
        schema = reference(engine).schema
        files.append(render_package(schema)[SCHEMA_FILE])
    assert files[0] == files[1]
    text = files[0].decode("utf-8")
    assert text.endswith("}\n") and json.loads(text) == document_for(reference("2.x").schema)


def test_every_table_is_a_def_named_after_its_class() -> None:
    schema = reference("2.x").schema
    classes = naming.class_names([t.name for t in schema.tables])
    defs = document_for(schema)["$defs"]
    for table in schema.tables:
        definition = defs[classes[table.name]]
        assert definition["x-surrealdb-table"] == table.name
        assert definition["additionalProperties"] is not table.schemafull
        declared = {f.path: f for f in table.fields}
        for name, prop in definition["properties"].items():
            if name in declared:
                assert parse_kind(prop["x-surrealdb-kind"]) == declared[name].kind


def test_shapes_of_kinds() -> None:
    table = Table(
        name="shape",
        schemafull=True,
        fields=(
            Field("choice", parse_kind("{ kind: 'a', x: int } | { kind: 'b', y: option<string> }")),
            Field("pair", parse_kind("[int, string]")),
            Field("labels", parse_kind("set<string, 3>")),
            Field("where", parse_kind("geometry")),
            Field("link", parse_kind("option<record<a | `b-c`>>")),
            Field("mixed", parse_kind("'x' | 2 | true | 1.5f | int")),
        ),
    )
    document = json_schema(Schema(tables=(table,)), {"shape": "Shape"})
    Draft202012Validator.check_schema(document)
    check = validator_for(document, "Shape")
    good = {
        "choice": {"kind": "b"},
        "pair": [1, "a"],
        "labels": ["x", "y"],
        "where": {
            "type": "GeometryCollection",
            "geometries": [{"type": "Point", "coordinates": [1, 2]}],
        },
        "link": "`b-c`:1",
        "mixed": 7,
    }
    check.validate(good)
    for key, bad in [
        ("choice", {"kind": "a"}),
        ("pair", [1, 2]),
        ("labels", ["x", "x"]),
        ("labels", ["a", "b", "c", "d"]),
        ("where", {"type": "Circle"}),
        ("link", "c:1"),
        ("mixed", "y"),
    ]:
        with pytest.raises(ValidationError):
            check.validate({**good, key: bad})
    assert "link" not in document["$defs"]["Shape"]["required"]


@given(st.lists(kinds, min_size=1, max_size=4))
@settings(deadline=None)
def test_any_kind_gives_a_valid_document(field_kinds: list[Kind]) -> None:
    fields = tuple(Field(f"f{i}", kind) for i, kind in enumerate(field_kinds))
    schema = Schema(tables=(Table(name="t", schemafull=True, fields=fields),))
    text = render_package(schema)[SCHEMA_FILE]
    document = json.loads(text)
    Draft202012Validator.check_schema(document)
    assert render_package(schema)[SCHEMA_FILE] == text


def test_nested_names_never_collide_with_tables() -> None:
    person = Table(
        name="person",
        fields=(
            Field("address", parse_kind("object")),
            Field("address.city", parse_kind("string")),
        ),
    )
    address = Table(name="person_address", fields=(Field("street", parse_kind("string")),))
    classes = naming.class_names(["person", "person_address"])
    defs = json_schema(Schema(tables=(address, person)), classes)["$defs"]
    assert classes["person_address"] == "PersonAddress"
    nested_ref = defs["Person"]["properties"]["address"]["$ref"]
    assert nested_ref == "#/$defs/PersonAddress_2"
    assert "city" in defs["PersonAddress_2"]["properties"]
    assert "street" in defs["PersonAddress"]["properties"]


# Real records ---------------------------------------------------------------------------------


@pytest.fixture(params=["2", "3"], ids=["2.x", "3.x"])
async def loaded(request: pytest.FixtureRequest) -> AsyncIterator[Connection]:
    connection = await reference_database(request.param)
    yield connection
    await connection.close()


async def test_records_of_both_engines_satisfy_the_schema(loaded: Connection) -> None:
    schema = (await introspect(loaded)).schema
    classes = naming.class_names([t.name for t in schema.tables])
    document = json_schema(schema, classes)
    for table in schema.tables:
        rows = await all_records(loaded, table.name)
        assert rows, table.name
        for row in rows:
            validator_for(document, classes[table.name]).validate(as_json(row))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "gone"),
        ("level", 4),
        ("address", {"street": "x", "city": "y"}),
        ("tags", [f"t{i}" for i in range(11)]),
        ("name", None),
        ("extra", 1),
    ],
)
async def test_what_the_database_refuses_the_schema_refuses(
    loaded: Connection, name: str, value: Any
) -> None:
    schema = (await introspect(loaded)).schema
    document = document_for(schema)
    ann = RecordID("person", "ann")
    [[record]] = await loaded.query("SELECT * FROM $ann", {"ann": ann})
    if (name, loaded.engine_major) != ("extra", 2):  # 2.x drops unknown fields silently
        with pytest.raises(QueryError):
            await loaded.query(
                f"UPDATE $ann SET {naming.escape_ident(name)} = $value",
                {"ann": ann, "value": value},
            )
    with pytest.raises(ValidationError):
        validator_for(document, "Person").validate(as_json({**record, name: value}))


NONE_ELEMENTS_SCHEMA = """
DEFINE TABLE a SCHEMAFULL;
DEFINE FIELD refs ON a TYPE option<array<option<record<a | b>>>>;
DEFINE FIELD pair ON a TYPE option<[int, option<string>]>;
DEFINE FIELD counts ON a TYPE option<set<option<int>>>;
DEFINE TABLE b SCHEMAFULL;
"""


@pytest.mark.parametrize("engine", ["2", "3"], ids=["2.x", "3.x"])
async def test_none_inside_an_array_is_null_in_the_schema(engine: str) -> None:
    """NONE stays in an array of ``option<T>`` and JSON writes it as null."""
    config = ConnectionConfig(url=f"{EMBEDDED_URL}?engine={engine}", namespace="t", database="t")
    connection = Connection(config)
    try:
        await apply_files(connection, [SchemaFile("none.surql", NONE_ELEMENTS_SCHEMA)])
        [[record]] = await connection.query(
            "CREATE a:1 SET refs = [NONE, a:1, b:2], pair = [1, NONE]"
        )
        schema = (await introspect(connection)).schema
    finally:
        await connection.close()
    assert record["refs"] == [None, RecordID("a", 1), RecordID("b", 2)]
    assert record["pair"] == [1, None]
    document = document_for(schema)
    check = validator_for(document, "A")
    check.validate(as_json(record))
    check.validate({"counts": [None, 1]})
    with pytest.raises(ValidationError):
        check.validate({"refs": ["c:1"]})


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


def test_a_relation_side_with_only_fields_under_it_is_one_property() -> None:
    """A schema snapshot (``--from-json``) may declare ``in.note`` without ``in`` itself (both
    engines declare ``in`` and ``out``): the entry held the key ``in`` twice."""
    likes = Table(
        name="likes",
        type="relation",
        relation_in=("person",),
        fields=(Field(path="in.note", kind=parse_kind("string")),),
    )
    text = render_package(Schema((likes,)))[SCHEMA_FILE]
    document = json.loads(text, object_pairs_hook=_unique_keys)
    assert list(document["$defs"]["Likes"]["properties"]) == ["id", "in", "out"]
    assert document["$defs"]["Likes"]["properties"]["in"] == {"$ref": "#/$defs/LikesIn"}
