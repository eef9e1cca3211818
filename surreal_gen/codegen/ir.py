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
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, NamedTuple, TypeVar, get_args, overload

from surreal_gen.codegen.jsontext import json_encoder
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


_Value = TypeVar("_Value")


class lock_free_cached_property(Generic[_Value]):
    """``functools.cached_property`` without its lock. On Python 3.11 that one holds a lock
    (one per property, shared by every instance) while it computes a value, and a copy of
    the process forked meanwhile (``forked.py`` renders in one, which computes the schema's
    fingerprint) would wait for it forever. Two threads computing the same value at once
    both get an equal one, which is all these properties need."""

    def __init__(self, compute: Callable[[Any], _Value]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type) -> lock_free_cached_property[_Value]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _Value: ...

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value  # found before this descriptor from now on
        return value


@dataclass(frozen=True, slots=True)
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

    @lock_free_cached_property
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

    @lock_free_cached_property
    def tables_json(self) -> list[dict[str, Any]]:
        """The tables as plain JSON data (computed once; do not modify)."""
        return [table_to_json(t) for t in self.tables]

    @lock_free_cached_property
    def tables_json_lines(self) -> tuple[str, ...]:
        """Each table as one line of JSON, the text ``json.dumps`` makes of ``table_to_json``:
        what the fingerprint hashes and the marker file holds. Put together from the lines
        of the fields, each field made once (tables share the ``Field`` of a definition they
        repeat), rather than dumped from ``tables_json``: for 1,000 tables, 44 -> 22 ms
        (best of 7)."""
        lines: dict[int, str] = {}  # by id(): every field is alive as long as this schema

        def field_line(f: Field) -> str:
            line = lines.get(id(f))
            if line is None:
                line = lines[id(f)] = json_text(field_to_json(f))
            return line

        return tuple(table_json_line(t, field_line) for t in self.tables)

    @lock_free_cached_property
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
    return {**_table_head(t), "fields": [field_to_json(f) for f in t.fields], **_table_tail(t)}


def table_json_line(t: Table, field_line: Callable[[Field], str]) -> str:
    """``json_text(table_to_json(t))``, given each field's ``json_text(field_to_json(f))``."""
    head, tail = json_text(_table_head(t)), json_text(_table_tail(t))
    fields = ", ".join(map(field_line, t.fields))
    return f'{head[:-1]}, "fields": [{fields}], {tail[1:]}'


def _table_head(t: Table) -> dict[str, Any]:
    """The keys of ``table_to_json`` before ``fields``."""
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
    }


def _table_tail(t: Table) -> dict[str, Any]:
    """The keys of ``table_to_json`` after ``fields``."""
    return {
        "indexes": [
            {"name": i.name, "columns": list(i.columns), "clause": i.clause, "comment": i.comment}
            for i in t.indexes
        ],
        "events": [
            {"name": e.name, "when": e.when, "then": list(e.then), "comment": e.comment}
            for e in t.events
        ],
    }


json_text = json_encoder(allow_nan=True)
"""``json.dumps(value, ensure_ascii=False)``."""


def snapshot_head(schema: Schema) -> dict[str, Any]:
    """The keys of ``schema_to_json`` before ``tables``."""
    return {
        "format": SNAPSHOT_FORMAT,
        "engine_version": schema.engine_version,
        "fingerprint": schema.fingerprint,
    }


def schema_to_json(schema: Schema) -> dict[str, Any]:
    """The snapshot that ``surreal-gen introspect`` prints and ``--from-json`` reads."""
    return {**snapshot_head(schema), "tables": schema.tables_json}


def schema_from_json(data: Any) -> Schema:
    """Read a snapshot written by ``schema_to_json``.

    Snapshots are also written by hand, so every value is checked: a wrong one raises
    ``SnapshotError`` with a one-line message naming the table (and field) and the problem,
    instead of failing later in the emitter or generating something the user did not mean.
    Tables are put in name order and fields in path order, as the introspector gives them.
    """
    if not isinstance(data, dict):
        raise SnapshotError(f"a schema snapshot is a JSON object, not {_shown(data)}")
    if data.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"unsupported snapshot format {data.get('format')!r}")
    tables_data = data.get("tables")
    if not isinstance(tables_data, list):
        raise SnapshotError(f'"tables" must be a list, not {_shown(tables_data)}')
    engine_version = data.get("engine_version", "")
    if not isinstance(engine_version, str):
        raise SnapshotError(f'"engine_version" must be a string, not {_shown(engine_version)}')
    tables = _once_each(
        [_table_from_json(item, f"table #{n}") for n, item in enumerate(tables_data, 1)],
        key=lambda table: table.name,
        where=lambda table: f"table {table.name!r}",
    )
    return Schema(tables=tuple(sorted(tables, key=lambda t: t.name)), engine_version=engine_version)


_TABLE_TYPES: tuple[TableType, ...] = get_args(TableType)
_TABLE_TYPES_SHOWN = ", ".join(map(repr, _TABLE_TYPES))
_TABLE_KEYS = frozenset(
    {"changefeed", "view", "in", "out", "comment", "fields", "indexes", "events"}
)
_FIELD_KEYS = frozenset({"default", "value", "assert", "readonly", "flexible", "comment"})


def _table_from_json(data: Any, where: str) -> Table:
    _check_keys(data, where, ("name", "type", "schemafull"), _TABLE_KEYS)
    name = _text(data, "name", where)
    where = f"table {name!r}"
    table_type = data["type"]
    if table_type not in _TABLE_TYPES:
        raise SnapshotError(
            f"{where}: 'type' must be one of {_TABLE_TYPES_SHOWN}, not {_shown(table_type)}"
        )
    relation_in, relation_out = _texts(data, "in", where), _texts(data, "out", where)
    if table_type != "relation" and (relation_in or relation_out):
        raise SnapshotError(f"{where}: only a relation table has 'in' and 'out'")
    fields = _once_each(
        [
            _field_from_json(item, f"{where}, field #{n}", where)
            for n, item in enumerate(_list(data, "fields", where), 1)
        ],
        key=lambda f: f.segments,
        where=lambda f: f"{where}, field {f.path!r}",
    )
    return Table(
        name=name,
        type=table_type,
        schemafull=_flag(data, "schemafull", where),
        changefeed=_changefeed_from_json(data.get("changefeed"), where),
        view=_optional_text(data, "view", where),
        relation_in=relation_in,
        relation_out=relation_out,
        fields=tuple(sorted(fields, key=lambda f: f.segments)),
        indexes=tuple(
            _once_each(
                [
                    _index_from_json(i, f"{where}, index #{n}")
                    for n, i in enumerate(_list(data, "indexes", where), 1)
                ],
                key=lambda index: index.name,
                where=lambda index: f"{where}, index {index.name!r}",
            )
        ),
        events=tuple(
            _once_each(
                [
                    _event_from_json(e, f"{where}, event #{n}")
                    for n, e in enumerate(_list(data, "events", where), 1)
                ],
                key=lambda event: event.name,
                where=lambda event: f"{where}, event {event.name!r}",
            )
        ),
        comment=_optional_text(data, "comment", where),
    )


def _field_from_json(data: Any, where: str, table_where: str) -> Field:
    _check_keys(data, where, ("path", "kind"), _FIELD_KEYS)
    path = _text(data, "path", where)
    where = f"{table_where}, field {path!r}"
    try:
        segments = split_path(path)
    except ValueError as exc:
        raise SnapshotError(f"{where}: {exc}") from None
    if "" in segments or segments[0] == ELEMENT:
        raise SnapshotError(f"{where}: not a field path (an empty name, or a leading '*')")
    if join_path(segments) != path:
        raise SnapshotError(
            f"{where}: not a canonical field path: write it as {join_path(segments)!r}"
        )
    kind_text = _text(data, "kind", where)
    try:
        kind = parse_kind(kind_text)
    except ValueError as exc:
        raise SnapshotError(f"{where}: {exc}") from None
    return Field(
        path=path,
        kind=kind,
        default=_optional_text(data, "default", where),
        value=_optional_text(data, "value", where),
        assert_=_optional_text(data, "assert", where),
        readonly=_flag(data, "readonly", where, False),
        flexible=_flag(data, "flexible", where, False),
        comment=_optional_text(data, "comment", where),
    )


def _changefeed_from_json(data: Any, where: str) -> Changefeed | None:
    if data is None:
        return None
    where = f"{where}, changefeed"
    _check_keys(data, where, ("expiry", "original"), frozenset())
    return Changefeed(_text(data, "expiry", where), _flag(data, "original", where))


def _index_from_json(data: Any, where: str) -> Index:
    _check_keys(data, where, ("name", "columns", "clause"), frozenset({"comment"}))
    return Index(
        name=_text(data, "name", where),
        columns=_texts(data, "columns", where),
        clause=_text(data, "clause", where, empty=True),
        comment=_optional_text(data, "comment", where),
    )


def _event_from_json(data: Any, where: str) -> Event:
    _check_keys(data, where, ("name", "when", "then"), frozenset({"comment"}))
    return Event(
        name=_text(data, "name", where),
        when=_text(data, "when", where),
        then=_texts(data, "then", where),
        comment=_optional_text(data, "comment", where),
    )


def _check_keys(data: Any, where: str, required: tuple[str, ...], optional: frozenset[str]) -> None:
    if not isinstance(data, dict):
        raise SnapshotError(f"{where}: must be an object, not {_shown(data)}")
    missing = [key for key in required if key not in data]
    if missing:
        raise SnapshotError(f"{where}: {missing[0]!r} is missing")
    unknown = sorted(key for key in data if key not in optional and key not in required)
    if unknown:
        raise SnapshotError(f"{where}: unknown key {unknown[0]!r}")


def _text(data: dict[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    value = data[key]
    if not isinstance(value, str) or not (value or empty):
        expected = "a string" if empty else "a non-empty string"
        raise SnapshotError(f"{where}: {key!r} must be {expected}, not {_shown(value)}")
    return value


def _optional_text(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise SnapshotError(f"{where}: {key!r} must be a string or null, not {_shown(value)}")
    return value


def _flag(data: dict[str, Any], key: str, where: str, default: bool | None = None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise SnapshotError(f"{where}: {key!r} must be true or false, not {_shown(value)}")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise SnapshotError(f"{where}: {key!r} must be a list, not {_shown(value)}")
    return value


def _texts(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of non-empty strings (a bare string is refused: read as a list it would give
    one item per character)."""
    items = _list(data, key, where)
    for item in items:
        if not isinstance(item, str) or not item:
            raise SnapshotError(f"{where}: {key!r} must hold non-empty strings, not {_shown(item)}")
    return tuple(items)


_Item = TypeVar("_Item")


def _once_each(
    items: list[_Item], *, key: Callable[[_Item], Hashable], where: Callable[[_Item], str]
) -> list[_Item]:
    """``items``, refusing one whose key an earlier item has (``<where>: listed twice``)."""
    seen: set[Hashable] = set()
    for item in items:
        if key(item) in seen:
            raise SnapshotError(f"{where(item)}: listed twice")
        seen.add(key(item))
    return items


def _shown(value: Any) -> str:
    """``value`` as JSON, cut short: one line whatever it holds."""
    text = json_text(value)
    return text if len(text) <= 60 else text[:57] + "..."
