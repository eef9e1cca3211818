"""The schema IR: what the generator knows about a database, independent of the engine version.

The introspector builds it from ``INFO ... STRUCTURE`` (2.x or 3.x), ``--from-json`` reads it
back from a snapshot, and the emitter renders it. Everything here is normalised so the same
schema gives equal values, and the same fingerprint, on both engines.

``Table.fields`` is flat and ordered by path; paths use ``.*`` for array elements
(``items.*.sku``), never ``[*]``. Nested paths are folded into nested models by the mapping.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple

from surreal_gen.codegen.kinds import Kind, parse_kind, render_kind

TableType = Literal["normal", "relation", "any"]

SNAPSHOT_FORMAT = 1


class SnapshotError(ValueError):
    """A schema snapshot (``introspect`` JSON) that cannot be read."""


ELEMENT = "*"
"""The path segment that stands for "every element of the array or set"."""

_PLAIN_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\*))*")


@functools.lru_cache(maxsize=65536)
def split_path(path: str) -> tuple[str, ...]:
    """Split a field idiom as INFO prints it into raw segments.

    ``address.city`` -> ``("address", "city")``; ``items[*].sku`` and ``items.*.sku`` ->
    ``("items", "*", "sku")``; backticked and ``⟨⟩`` segments are unescaped. Anything else
    in brackets raises ``ValueError``.
    """
    if _PLAIN_PATH.fullmatch(path):
        return tuple(path.split("."))
    segments: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char == ".":
            i += 1
        elif path.startswith("[*]", i):
            segments.append(ELEMENT)
            i += 3
        elif char == "[":
            raise ValueError(f"unsupported part {path[i:]!r} in field path {path!r}")
        elif char in "`⟨":
            closing = "`" if char == "`" else "⟩"
            i += 1
            raw: list[str] = []
            while i < len(path) and path[i] != closing:
                if path[i] == "\\" and i + 1 < len(path):
                    i += 1
                raw.append(path[i])
                i += 1
            if i >= len(path):
                raise ValueError(f"unterminated {char} in field path {path!r}")
            segments.append("".join(raw))
            i += 1
        else:
            end = i
            while end < len(path) and path[end] not in ".[`⟨":
                end += 1
            segments.append(path[i:end])
            i = end
    return tuple(segments)


_PLAIN_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=65536)
def join_path(segments: tuple[str, ...]) -> str:
    """The canonical idiom for ``segments``: ``.*`` for elements, and backticks only around
    names that are not plain identifiers (a stable spelling, for display and snapshots).

    Both functions are cached: tables repeat field names (``created_at``, ``name``)."""
    return ".".join(
        s if s == ELEMENT or _PLAIN_SEGMENT.fullmatch(s) else _backticked(s) for s in segments
    )


def _backticked(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


@dataclass(frozen=True)
class Field:
    """One ``DEFINE FIELD``; ``value`` holds a VALUE or (3.x) COMPUTED expression."""

    path: str
    kind: Kind
    default: str | None = None
    value: str | None = None
    assert_: str | None = None
    readonly: bool = False
    flexible: bool = False
    comment: str | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        """The raw path segments (``("items", "*", "sku")``)."""
        return split_path(self.path)


@dataclass(frozen=True)
class Changefeed:
    """``CHANGEFEED <expiry> [INCLUDE ORIGINAL]``; ``expiry`` in canonical SurrealQL form."""

    expiry: str
    original: bool = False


@dataclass(frozen=True)
class Index:
    """``DEFINE INDEX``; ``clause`` is the engine's text (``UNIQUE``, ``HNSW ...``, or empty)."""

    name: str
    columns: tuple[str, ...]
    clause: str
    comment: str | None = None


@dataclass(frozen=True)
class Event:
    """``DEFINE EVENT``; expressions as the engine prints them."""

    name: str
    when: str
    then: tuple[str, ...]
    comment: str | None = None


class FieldTree(NamedTuple):
    """A table's fields by raw path segments, and the names found directly under each path
    (``()`` for the top level), in field order."""

    fields: Mapping[tuple[str, ...], Field]
    children: Mapping[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Table:
    """One ``DEFINE TABLE`` with its fields, indexes and events."""

    name: str
    type: TableType = "normal"
    schemafull: bool = False
    changefeed: Changefeed | None = None
    view: str | None = None
    relation_in: tuple[str, ...] = ()
    relation_out: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    indexes: tuple[Index, ...] = ()
    events: tuple[Event, ...] = ()
    comment: str | None = None

    def field(self, path: str) -> Field | None:
        """The field at ``path``, or None."""
        return next((f for f in self.fields if f.path == path), None)

    @cached_property
    def tree(self) -> FieldTree:
        """The fields as a tree (computed once; the model and JSON Schema builders share it)."""
        fields: dict[tuple[str, ...], Field] = {}
        children: dict[tuple[str, ...], dict[str, None]] = {}
        for f in self.fields:
            segments = f.segments
            fields[segments] = f
            for depth in range(len(segments)):
                children.setdefault(segments[:depth], {})[segments[depth]] = None
        return FieldTree(fields, {path: tuple(names) for path, names in children.items()})


@dataclass(frozen=True)
class Schema:
    """All tables of one database, ordered by name."""

    tables: tuple[Table, ...]
    engine_version: str = field(default="", compare=False)

    @cached_property
    def tables_json(self) -> list[dict[str, Any]]:
        """The tables as plain JSON data (computed once; do not modify)."""
        return [table_to_json(t) for t in self.tables]

    @cached_property
    def tables_json_lines(self) -> tuple[str, ...]:
        """Each table as one line of JSON, keys in the fixed order ``table_to_json`` gives
        them: what the fingerprint hashes and the marker file holds."""
        return tuple(json.dumps(table, ensure_ascii=False) for table in self.tables_json)

    @cached_property
    def fingerprint(self) -> str:
        """A stable hash of the normalised tables (the engine version is not part of it)."""
        canonical = "\n".join(self.tables_json_lines)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def table(self, name: str) -> Table | None:
        """The table called ``name``, or None."""
        return next((t for t in self.tables if t.name == name), None)


def field_to_json(f: Field) -> dict[str, Any]:
    """A field as plain JSON data: its path and kind (canonical SurrealQL text), then only
    the clauses it has (an unset clause is left out, as ``schema_from_json`` reads it)."""
    data: dict[str, Any] = {"path": f.path, "kind": render_kind(f.kind)}
    if f.default is not None:
        data["default"] = f.default
    if f.value is not None:
        data["value"] = f.value
    if f.assert_ is not None:
        data["assert"] = f.assert_
    if f.readonly:
        data["readonly"] = True
    if f.flexible:
        data["flexible"] = True
    if f.comment is not None:
        data["comment"] = f.comment
    return data


def table_to_json(t: Table) -> dict[str, Any]:
    """A table as plain JSON data."""
    return {
        "name": t.name,
        "type": t.type,
        "schemafull": t.schemafull,
        "changefeed": (
            None
            if t.changefeed is None
            else {"expiry": t.changefeed.expiry, "original": t.changefeed.original}
        ),
        "view": t.view,
        "in": list(t.relation_in),
        "out": list(t.relation_out),
        "comment": t.comment,
        "fields": [field_to_json(f) for f in t.fields],
        "indexes": [
            {"name": i.name, "columns": list(i.columns), "clause": i.clause, "comment": i.comment}
            for i in t.indexes
        ],
        "events": [
            {"name": e.name, "when": e.when, "then": list(e.then), "comment": e.comment}
            for e in t.events
        ],
    }


def schema_to_json(schema: Schema) -> dict[str, Any]:
    """The snapshot that ``surreal-gen introspect`` prints and ``--from-json`` reads."""
    return {
        "format": SNAPSHOT_FORMAT,
        "engine_version": schema.engine_version,
        "fingerprint": schema.fingerprint,
        "tables": schema.tables_json,
    }


def schema_from_json(data: Any) -> Schema:
    """Read a snapshot written by ``schema_to_json``; raise ``SnapshotError`` when malformed."""
    try:
        if data.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"unsupported snapshot format {data.get('format')!r}")
        tables = tuple(_table_from_json(t) for t in data["tables"])
        return Schema(tables=tables, engine_version=str(data.get("engine_version", "")))
    except SnapshotError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SnapshotError(f"malformed schema snapshot: {type(exc).__name__}: {exc}") from None


def _table_from_json(data: dict[str, Any]) -> Table:
    changefeed = data.get("changefeed")
    return Table(
        name=str(data["name"]),
        type=data["type"],
        schemafull=bool(data["schemafull"]),
        changefeed=(
            None
            if changefeed is None
            else Changefeed(str(changefeed["expiry"]), bool(changefeed["original"]))
        ),
        view=data.get("view"),
        relation_in=tuple(data.get("in", ())),
        relation_out=tuple(data.get("out", ())),
        comment=data.get("comment"),
        fields=tuple(
            Field(
                path=str(f["path"]),
                kind=parse_kind(str(f["kind"])),
                default=f.get("default"),
                value=f.get("value"),
                assert_=f.get("assert"),
                readonly=bool(f.get("readonly", False)),
                flexible=bool(f.get("flexible", False)),
                comment=f.get("comment"),
            )
            for f in data.get("fields", ())
        ),
        indexes=tuple(
            Index(str(i["name"]), tuple(i["columns"]), str(i["clause"]), i.get("comment"))
            for i in data.get("indexes", ())
        ),
        events=tuple(
            Event(str(e["name"]), str(e["when"]), tuple(e["then"]), e.get("comment"))
            for e in data.get("events", ())
        ),
    )
