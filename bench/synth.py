"""Synthetic schemas for the codegen benchmarks: N tables x F fields, as SurrealQL and JSON Schema.

Fields cycle through every kind the type mapper supports; record fields link each table to
others, so record types name other tables. The JSON Schema (2020-12, one
`$defs` entry per table) describes the same shapes, for datamodel-code-generator.

    python -m bench.synth --tables 100 --fields 30 --out /tmp/synth --verify
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.engines import official, query_all

DATETIME_FORMAT = {"type": "string", "format": "date-time"}
POINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"const": "Point"},
        "coordinates": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
        },
    },
    "required": ["type", "coordinates"],
}


def table_name(index: int) -> str:
    return f"tbl_{index:04d}"


def record_schema(*tables: str) -> dict[str, Any]:
    """A record id as JSON Schema: a `table:key` string naming one of the tables."""
    return {"type": "string", "pattern": f"^({'|'.join(tables)}):"}


@dataclass(frozen=True)
class SynthField:
    """One top-level field: its DEFINE FIELD lines (path, kind) and its JSON Schema."""

    defines: list[tuple[str, str]]
    schema: dict[str, Any]
    required: bool = True


@dataclass(frozen=True)
class Links:
    """The tables a field of table `own` may point at."""

    own: str
    next: str
    other: str


FieldMaker = Callable[[str, Links], SynthField]


def scalar(kind: str, schema: dict[str, Any]) -> FieldMaker:
    return lambda name, links: SynthField([(name, kind)], schema)


def optional(kind: str, schema: dict[str, Any]) -> FieldMaker:
    return lambda name, links: SynthField([(name, f"option<{kind}>")], schema, required=False)


def record_link(name: str, links: Links) -> SynthField:
    return SynthField([(name, f"record<{links.next}>")], record_schema(links.next))


def record_union(name: str, links: Links) -> SynthField:
    kind = f"option<record<{links.next} | {links.other}>>"
    return SynthField([(name, kind)], record_schema(links.next, links.other), required=False)


def record_array(name: str, links: Links) -> SynthField:
    schema = {"type": "array", "items": record_schema(links.other)}
    return SynthField([(name, f"array<record<{links.other}>>")], schema)


def nested_object(name: str, links: Links) -> SynthField:
    defines = [
        (name, "object"),
        (f"{name}.street", "string"),
        (f"{name}.city", "string"),
        (f"{name}.zip", "option<string>"),
    ]
    schema = {
        "type": "object",
        "properties": {
            "street": {"type": "string"},
            "city": {"type": "string"},
            "zip": {"type": "string"},
        },
        "required": ["street", "city"],
        "additionalProperties": False,
    }
    return SynthField(defines, schema)


def object_array(name: str, links: Links) -> SynthField:
    defines = [
        (name, "array<object>"),
        (f"{name}[*].sku", "string"),
        (f"{name}[*].qty", "int"),
        (f"{name}[*].price", "decimal"),
    ]
    item = {
        "type": "object",
        "properties": {
            "sku": {"type": "string"},
            "qty": {"type": "integer"},
            "price": {"type": "number", "format": "decimal"},
        },
        "required": ["sku", "qty", "price"],
        "additionalProperties": False,
    }
    return SynthField(defines, {"type": "array", "items": item})


def flexible_object(name: str, links: Links) -> SynthField:
    defines = [(name, "object FLEXIBLE"), (f"{name}.source", "string")]
    schema = {
        "type": "object",
        "properties": {"source": {"type": "string"}},
        "required": ["source"],
        "additionalProperties": True,
    }
    return SynthField(defines, schema)


FIELD_MAKERS: list[tuple[str, FieldMaker]] = [
    ("text", scalar("string", {"type": "string"})),
    ("count", scalar("int", {"type": "integer"})),
    ("ratio", scalar("float", {"type": "number"})),
    ("flag", scalar("bool", {"type": "boolean"})),
    ("amount", scalar("decimal", {"type": "number", "format": "decimal"})),
    ("created", scalar("datetime", DATETIME_FORMAT)),
    ("ttl", scalar("duration", {"type": "string", "format": "duration"})),
    ("uid", scalar("uuid", {"type": "string", "format": "uuid"})),
    ("measure", scalar("number", {"type": "number"})),
    ("blob", scalar("bytes", {"type": "string", "format": "binary"})),
    ("note", optional("string", {"type": "string"})),
    ("score", optional("int", {"type": "integer"})),
    ("tags", scalar("array<string>", {"type": "array", "items": {"type": "string"}})),
    (
        "vector",
        scalar("array<float, 5>", {"type": "array", "items": {"type": "number"}, "maxItems": 5}),
    ),
    (
        "labels",
        scalar("set<string>", {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
    ),
    ("link", record_link),
    ("either", record_union),
    ("refs", record_array),
    (
        "status",
        scalar("'draft' | 'published' | 'archived'", {"enum": ["draft", "published", "archived"]}),
    ),
    ("address", nested_object),
    ("items", object_array),
    ("location", scalar("geometry<point>", POINT_SCHEMA)),
    ("meta", flexible_object),
    ("extra", scalar("object", {"type": "object"})),
    ("anything", scalar("any", {})),
    ("seen", optional("datetime", DATETIME_FORMAT)),
]


@dataclass
class SynthTable:
    name: str
    fields: dict[str, SynthField] = field(default_factory=dict)


def build_tables(n_tables: int, n_fields: int) -> list[SynthTable]:
    """N tables of F top-level fields; field j of every table has the j-th kind (cycling)."""
    tables = []
    for t in range(n_tables):
        links = Links(
            own=table_name(t),
            next=table_name((t + 1) % n_tables),
            other=table_name((t * 7 + 3) % n_tables),
        )
        table = SynthTable(links.own)
        for j in range(n_fields):
            label, make = FIELD_MAKERS[j % len(FIELD_MAKERS)]
            name = f"{label}_{j:02d}"
            table.fields[name] = make(name, links)
        tables.append(table)
    return tables


def to_surql(tables: list[SynthTable]) -> str:
    lines = []
    for table in tables:
        lines.append(f"DEFINE TABLE {table.name} SCHEMAFULL;")
        for synth_field in table.fields.values():
            for path, kind in synth_field.defines:
                lines.append(f"DEFINE FIELD {path} ON {table.name} TYPE {kind};")
        lines.append("")
    return "\n".join(lines)


def to_json_schema(tables: list[SynthTable]) -> dict[str, Any]:
    """One `$defs` entry per table; the root object references each so every model is emitted."""
    defs: dict[str, Any] = {}
    for table in tables:
        properties: dict[str, Any] = {"id": {"type": "string"}}
        properties.update({name: f.schema for name, f in table.fields.items()})
        defs[table.name] = {
            "type": "object",
            "title": table.name,
            "properties": properties,
            "required": [name for name, f in table.fields.items() if f.required],
            "additionalProperties": False,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "SynthSchema",
        "type": "object",
        "properties": {name: {"$ref": f"#/$defs/{name}"} for name in defs},
        "$defs": defs,
    }


def write_schema(out: Path, n_tables: int, n_fields: int) -> tuple[Path, Path]:
    """Write `schema.surql` and `schema.json` into `out`; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    tables = build_tables(n_tables, n_fields)
    surql_path = out / "schema.surql"
    json_path = out / "schema.json"
    surql_path.write_text(to_surql(tables), encoding="utf-8")
    json_path.write_text(json.dumps(to_json_schema(tables), indent=1), encoding="utf-8")
    return surql_path, json_path


async def count_applied(surql: str) -> tuple[int, int]:
    """Apply the schema to a fresh 2.x embedded engine; return (tables, fields of the first)."""
    async with official("mem://") as db:
        await query_all(db, surql)
        [info] = await query_all(db, "INFO FOR DB STRUCTURE")
        [first] = await query_all(db, f"INFO FOR TABLE {info['tables'][0]['name']} STRUCTURE")
        return len(info["tables"]), len(first["fields"])


def verify(surql_path: Path, n_tables: int, n_fields: int) -> None:
    """Check the engine accepted every table and every field of the first table."""
    tables = build_tables(n_tables, n_fields)
    expected_fields = {path for f in tables[0].fields.values() for path, _ in f.defines}
    got_tables, got_fields = asyncio.run(count_applied(surql_path.read_text(encoding="utf-8")))
    if got_tables != n_tables:
        raise SystemExit(f"engine has {got_tables} tables, expected {n_tables}")
    # The engine adds implicit element fields (`tags[*]`), so it may report more.
    if got_fields < len(expected_fields):
        raise SystemExit(
            f"engine has {got_fields} fields on tbl_0000, expected >= {len(expected_fields)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--fields", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--verify", action="store_true", help="apply to the 2.x embedded engine")
    args = parser.parse_args()
    surql_path, json_path = write_schema(args.out, args.tables, args.fields)
    print(f"wrote {surql_path} and {json_path}")
    if args.verify:
        verify(surql_path, args.tables, args.fields)
        print(f"2.x embedded engine accepted {args.tables} tables x {args.fields} fields")


if __name__ == "__main__":
    main()
