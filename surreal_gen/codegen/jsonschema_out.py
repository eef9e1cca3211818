"""The schema as one JSON Schema (2020-12) document: ``schema.json`` in the generated package.

Every table is a ``$defs`` entry named after its generated class; nested objects (declared
``address.city`` fields and literal objects) and GeoJSON shapes get ``$defs`` entries of their
own, so tools that turn the document into code (datamodel-code-generator, see altmodels.py)
pick the same class names as our pydantic models. Properties are keyed by the database names.

The document describes a record as the database returns it: a property is required unless
its kind lets it be absent (``option<T>``, ``any``); fields the database computes or that
are READONLY are ``readOnly``. Each declared field carries its SurrealQL kind as
``x-surrealdb-kind``. The output is deterministic (no timestamps, schema order).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from surreal_gen.codegen import naming
from surreal_gen.codegen.ir import ELEMENT, Field, Schema, Table
from surreal_gen.codegen.jsontext import json_encoder
from surreal_gen.codegen.kinds import (
    AnyKind,
    Array,
    ArrayLiteral,
    File,
    Geometry,
    Kind,
    KindSyntaxError,
    LiteralValue,
    NoneKind,
    NullKind,
    ObjectLiteral,
    Option,
    Record,
    References,
    Scalar,
    Set,
    TableKind,
    Union,
    parse_kind,
    render_kind,
    sub_kinds,
)
from surreal_gen.codegen.mapping import is_computed, is_optional
from surreal_gen.runtime.types import RecordID

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "schema.json"

JsonSchema = dict[str, Any]

_SCALARS: dict[str, JsonSchema] = {
    "bool": {"type": "boolean"},
    "bytes": {"type": "string", "contentEncoding": "base64"},
    "datetime": {"type": "string", "format": "date-time"},
    "decimal": {"type": "number", "format": "decimal"},
    "duration": {
        "type": "string",
        "pattern": "^([0-9]+(ns|us|µs|ms|s|m|h|d|w|y))+$",
        "description": "A SurrealQL duration such as 1h30m",
    },
    "float": {"type": "number"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "object": {"type": "object"},
    "string": {"type": "string"},
    "uuid": {"type": "string", "format": "uuid"},
    "regex": {"type": "string", "format": "regex"},
    "function": {},
    "range": {},
}

_POSITION: JsonSchema = {"type": "array", "items": {"type": "number"}, "minItems": 2}
_GEOJSON: dict[str, tuple[str, JsonSchema]] = {
    "point": ("Point", _POSITION),
    "line": ("LineString", {"type": "array", "items": _POSITION}),
    "polygon": ("Polygon", {"type": "array", "items": {"type": "array", "items": _POSITION}}),
    "multipoint": ("MultiPoint", {"type": "array", "items": _POSITION}),
    "multiline": (
        "MultiLineString",
        {"type": "array", "items": {"type": "array", "items": _POSITION}},
    ),
    "multipolygon": (
        "MultiPolygon",
        {
            "type": "array",
            "items": {"type": "array", "items": {"type": "array", "items": _POSITION}},
        },
    ),
}
_GEOMETRY_DEFS = {name: "Geometry" + geojson for name, (geojson, _) in _GEOJSON.items()}
_GEOMETRY_DEFS |= {"collection": "GeometryCollection", "feature": "GeometryFeature"}
"""``$defs`` names for the GeoJSON shapes; naming never gives a table these names."""

_REGEX_SPECIAL = frozenset("\\^$.|?*+()[]{}/")


def json_schema(schema: Schema, class_names: Mapping[str, str]) -> JsonSchema:
    """The JSON Schema document for ``schema``; ``class_names`` maps table name -> class name
    (``emit.PackageNames.classes``), which names each table's ``$defs`` entry."""
    document: JsonSchema = json.loads(schema_file(schema, class_names))
    return document


def schema_file(schema: Schema, class_names: Mapping[str, str]) -> bytes:
    """``schema.json``: the document of ``json_schema`` as ``DocumentBuilder.dump`` writes it."""
    builder = DocumentBuilder(class_names)
    for table in schema.tables:
        builder.add_table(table)
    return builder.dump(schema.fingerprint)


_compact = json_encoder(allow_nan=False)
"""One line of JSON text."""


class DocumentBuilder:
    """The document, built one table at a time in schema order (nested objects take the
    first free name, so the order decides them), as ``emit.PackageRenderer`` renders.

    Each ``$defs`` entry is kept as its JSON text, and a table's entry is put together from
    the texts of its properties, each made once per kind and options (``_plain_property``)
    rather than built as a dict per field and encoded again: for 1,000 tables of 30 fields,
    building and dumping the document took 154 ms that way and takes 123 ms this way."""

    def __init__(self, class_names: Mapping[str, str]) -> None:
        self.class_names = class_names
        self.taken = set(class_names.values())
        self.entries: dict[str, str] = {}

    def add_table(self, table: Table) -> None:
        class_name = self.class_names[table.name]
        self.entries[class_name] = _TableBuilder(self, table, class_name).table_def()

    def dump(self, fingerprint: str) -> bytes:
        """The document as deterministic UTF-8 JSON, one line per top-level key and per
        ``$defs`` entry (readable diffs), entries sorted by name."""
        head = {
            "$schema": DIALECT,
            "title": "SurrealDB schema",
            "description": "Generated by surreal-gen; do not edit.",
            "x-surrealdb-fingerprint": fingerprint,
        }
        lines = [f"  {_compact(key)}: {_compact(value)}" for key, value in head.items()]
        entries = [
            f"    {encode_basestring(name)}: {text}" for name, text in sorted(self.entries.items())
        ]
        lines.append('  "$defs": {\n' + ",\n".join(entries) + "\n  }")
        return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")

    def define(self, name_hint: str, schema: str) -> JsonSchema:
        """Add the object schema ``schema`` (JSON text) under a fresh class-like name, which
        becomes its title; return a reference to it."""
        name = naming.class_name(name_hint, self.taken)
        self.taken.add(name)
        self.entries[name] = f'{{"title": {encode_basestring(name)}, {schema[1:]}'
        return {"$ref": f"#/$defs/{name}"}

    def geometry(self, kind: Geometry) -> JsonSchema:
        types: tuple[str, ...] = kind.types or (*_GEOJSON, "collection")
        refs = [self.geometry_def(name) for name in types]
        return refs[0] if len(refs) == 1 else {"anyOf": refs}

    def geometry_def(self, name: str) -> JsonSchema:
        def_name = _GEOMETRY_DEFS[name]
        if def_name not in self.entries:
            self.entries[def_name] = _compact(_geometry_schema(name, self))
        return {"$ref": f"#/$defs/{def_name}"}


def _geometry_schema(name: str, document: DocumentBuilder) -> JsonSchema:
    if name == "collection":
        members = [document.geometry_def(shape) for shape in _GEOJSON]
        geojson, body_key = "GeometryCollection", "geometries"
        body: JsonSchema = {"type": "array", "items": {"anyOf": members}}
    elif name == "feature":
        geojson, body_key, body = "Feature", "geometry", {}
    else:
        geojson, coordinates = _GEOJSON[name]
        body_key, body = "coordinates", coordinates
    return {
        "title": _GEOMETRY_DEFS[name],
        "type": "object",
        "properties": {"type": {"const": geojson}, body_key: body},
        "required": ["type", body_key],
    }


@dataclass
class _TableBuilder:
    document: DocumentBuilder
    table: Table
    class_name: str
    fields: Mapping[tuple[str, ...], Field] = field(init=False)
    children: Mapping[tuple[str, ...], tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self.fields, self.children = self.table.tree

    def table_def(self) -> str:
        """The table's ``$defs`` entry, as JSON text."""
        id_schema = _record_schema((self.table.name,))
        id_schema["x-surrealdb-kind"] = render_kind(Record((self.table.name,)))
        properties = {"id": _compact(id_schema)}
        required: list[str] = []
        if self.table.type == "relation":
            for side, tables in (("in", self.table.relation_in), ("out", self.table.relation_out)):
                if (side,) not in self.fields:
                    properties[side] = _compact(_record_schema(tables))
                    required.append(side)
        names = [name for name in self.children.get((), ()) if name != "id"]
        self.add_properties((), names, properties, required)
        head: JsonSchema = {"title": self.class_name, "type": "object"}
        if self.table.comment:
            head["description"] = self.table.comment
        tail: JsonSchema = {
            "required": required,
            "additionalProperties": not self.table.schemafull,
            "x-surrealdb-table": self.table.name,
        }
        if self.table.view is not None:
            tail["readOnly"] = True
        return _object_text(head, properties, tail)

    def add_properties(
        self,
        parent: tuple[str, ...],
        names: list[str],
        properties: dict[str, str],
        required: list[str],
    ) -> None:
        """Put the schema text of each field of ``names`` under ``parent`` in ``properties``
        (a name already there keeps its place, as in a dict: a relation's ``in`` and
        ``out``), and the name of each one a record always has in ``required``."""
        for name in names:
            text, is_required = self.property_schema((*parent, name))
            properties[name] = text
            if is_required:
                required.append(name)

    def property_schema(self, segments: tuple[str, ...]) -> tuple[str, bool]:
        """The schema of the field at ``segments`` (JSON text) and whether a record always
        has it."""
        declared = self.fields.get(segments)
        if declared is None:
            return _compact(self.kind_schema(AnyKind(), segments)), False
        read_only = declared.readonly or is_computed(declared)
        if segments not in self.children:
            plain = _plain_property(declared.kind, declared.comment, read_only, declared.default)
            if plain is not None:
                return plain
        _, kind_text, required = _declared_kind(declared.kind)
        schema = dict(self.kind_schema(declared.kind, segments))
        _add_options(schema, kind_text, declared.comment, read_only, declared.default)
        return _compact(schema), required

    def kind_schema(self, kind: Kind, segments: tuple[str, ...]) -> JsonSchema:
        match kind:
            case AnyKind() | Scalar("object"):
                if self.named_children(segments):
                    return self.nested_object(segments)
                return {} if isinstance(kind, AnyKind) else {"type": "object"}
            case Scalar(name):
                return dict(_SCALARS[name])
            case NoneKind() | NullKind():
                return {"type": "null"}
            case Option(inner):
                return self.kind_schema(inner, segments)
            case Union(members):
                return self.union_schema(members, segments)
            case LiteralValue():
                return _literal_schema(kind)
            case Record(tables):
                return _record_schema(tables)
            case TableKind(tables):
                return {"enum": list(tables)} if tables else {"type": "string"}
            case File():
                return {"type": "string"}
            case Geometry():
                return self.document.geometry(kind)
            case Array(item, max_len) | Set(item, max_len):
                return self.collection_schema(kind, item, max_len, segments)
            case References():
                return {"type": "array", "items": {"type": "string"}, "readOnly": True}
            case ObjectLiteral(fields):
                return self.literal_object(fields, segments)
            case ArrayLiteral(()):
                return {"type": "array", "maxItems": 0}
            case ArrayLiteral(items):
                return {
                    "type": "array",
                    "prefixItems": [self.element_schema(item, segments) for item in items],
                    "items": False,
                    "minItems": len(items),
                    "maxItems": len(items),
                }

    def union_schema(self, members: tuple[Kind, ...], segments: tuple[str, ...]) -> JsonSchema:
        constants = [m.value for m in members if isinstance(m, LiteralValue) and _is_const(m)]
        schemas: list[JsonSchema] = [{"enum": constants}] if constants else []
        schemas += [
            self.kind_schema(m, segments)
            for m in members
            if not (isinstance(m, LiteralValue) and _is_const(m))
        ]
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}

    def element_schema(self, kind: Kind, segments: tuple[str, ...]) -> JsonSchema:
        """The schema of an array's element: NONE in an array of ``option<T>`` stays there
        (it is no absent key), and JSON writes it as null."""
        schema = self.kind_schema(kind, segments)
        if isinstance(kind, Option) and schema:
            return {"anyOf": [schema, {"type": "null"}]}
        return schema

    def collection_schema(
        self, kind: Array | Set, item: Kind, max_len: int | None, segments: tuple[str, ...]
    ) -> JsonSchema:
        element = (*segments, ELEMENT)
        declared = self.fields.get(element)
        items = self.element_schema(declared.kind if declared else item, element)
        schema: JsonSchema = {"type": "array"}
        if items:
            schema["items"] = items
        if max_len is not None:
            schema["maxItems"] = max_len
        if isinstance(kind, Set):
            schema["uniqueItems"] = True
        return schema

    def named_children(self, segments: tuple[str, ...]) -> list[str]:
        return [name for name in self.children.get(segments, ()) if name != ELEMENT]

    def nested_object(self, segments: tuple[str, ...]) -> JsonSchema:
        properties: dict[str, str] = {}
        required: list[str] = []
        self.add_properties(segments, self.named_children(segments), properties, required)
        owner = self.fields.get(segments)
        extra = (owner is not None and owner.flexible) or not self.table.schemafull
        head: JsonSchema = {"type": "object"}
        if owner is not None and owner.comment:
            head["description"] = owner.comment
        tail = {"required": required, "additionalProperties": extra}
        return self.document.define(self.name_hint(segments), _object_text(head, properties, tail))

    def literal_object(
        self, fields: tuple[tuple[str, Kind], ...], segments: tuple[str, ...]
    ) -> JsonSchema:
        schema: JsonSchema = {
            "type": "object",
            "properties": {key: self.kind_schema(value, segments) for key, value in fields},
            "required": [key for key, value in fields if not is_optional(value)],
            "additionalProperties": False,
        }
        return self.document.define(self.name_hint(segments), _compact(schema))

    def name_hint(self, segments: tuple[str, ...]) -> str:
        """As mapping.py names nested models: ``PersonAddress``, ``PurchaseItemsItem``."""
        parts = ["item" if segment == ELEMENT else segment for segment in segments]
        return "_".join([self.class_name, *parts])


@functools.lru_cache(maxsize=4096)
def _self_contained(kind: Kind) -> bool:
    """True when the schema of a field of ``kind`` with no field declared under it depends on
    nothing else: no literal objects (``$defs`` of their own) and no geometry (shared
    ``$defs``)."""
    if isinstance(kind, (Geometry, ObjectLiteral)):
        return False
    return all(_self_contained(inner) for inner in sub_kinds(kind))


_PLAIN_KINDS = _TableBuilder(DocumentBuilder({}), Table(name=""), "")
"""Builds the schemas of self-contained kinds, which never define a nested object or a
GeoJSON shape (so nothing is ever added to its document)."""


@functools.lru_cache(maxsize=4096)
def _declared_kind(kind: Kind) -> tuple[JsonSchema | None, str, bool]:
    """Per kind, once: its schema when it is self-contained (else None; do not modify it),
    its SurrealQL text, and whether a record always has a field of this kind."""
    plain = _PLAIN_KINDS.kind_schema(kind, ()) if _self_contained(kind) else None
    return plain, render_kind(kind), not is_optional(kind)


@functools.lru_cache(maxsize=4096)
def _plain_property(
    kind: Kind, comment: str | None, read_only: bool, default: str | None
) -> tuple[str, bool] | None:
    """Per kind and options, once: the JSON text of a field's schema when its kind is
    self-contained (else None), and whether a record always has the field."""
    plain, kind_text, required = _declared_kind(kind)
    if plain is None:
        return None
    schema = dict(plain)
    _add_options(schema, kind_text, comment, read_only, default)
    return _compact(schema), required


def _add_options(
    schema: JsonSchema, kind_text: str, comment: str | None, read_only: bool, default: str | None
) -> None:
    """Add what a field's definition says beyond its kind to its ``schema``."""
    if comment:
        schema["description"] = comment
    if read_only:
        schema["readOnly"] = True
    value = _json_default(default)
    if value is not None:
        schema["default"] = value
    schema["x-surrealdb-kind"] = kind_text


def _object_text(head: JsonSchema, properties: dict[str, str], tail: JsonSchema) -> str:
    """The JSON text of ``head``, then ``"properties"`` holding the schema texts by name,
    then ``tail``: what ``_compact`` gives for the object with those keys in order."""
    members = ", ".join(f"{encode_basestring(name)}: {text}" for name, text in properties.items())
    return f'{_compact(head)[:-1]}, "properties": {{{members}}}, {_compact(tail)[1:]}'


def _record_schema(tables: tuple[str, ...]) -> JsonSchema:
    schema: JsonSchema = {"type": "string"}
    if tables:
        schema["pattern"] = _record_pattern(tables)
    return schema


@functools.lru_cache(maxsize=4096)
def _record_pattern(tables: tuple[str, ...]) -> str:
    """Matches the text of a record id of one of ``tables``, as the runtime prints it."""
    printed = [_regex_escape(str(RecordID(table, 0)).removesuffix(":0")) for table in tables]
    return f"^(?:{'|'.join(printed)}):"


def _regex_escape(text: str) -> str:
    """Escape for an ECMA-262 pattern (JSON Schema's dialect) as well as Python's ``re``."""
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text)


def _is_const(kind: LiteralValue) -> bool:
    """Literals JSON can state exactly: strings, ints, bools, durations, finite floats."""
    if kind.type == "float":
        return isinstance(kind.value, float) and math.isfinite(kind.value)
    return kind.type in ("string", "int", "bool", "duration")


def _literal_schema(kind: LiteralValue) -> JsonSchema:
    if _is_const(kind):
        return {"const": kind.value}
    if kind.type == "decimal":
        return dict(_SCALARS["decimal"])
    return {"type": "number"}


def _json_default(default: str | None) -> Any:
    """The JSON value of a DEFAULT that is a plain literal, else None."""
    if default is None:
        return None
    try:
        kind = parse_kind(default)
    except KindSyntaxError:
        return None
    if isinstance(kind, LiteralValue) and _is_const(kind):
        return kind.value
    return None
