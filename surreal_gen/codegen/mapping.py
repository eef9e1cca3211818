"""Kinds to Python types, and each table to the plan of its generated module.

The type mapping (DESIGN.md "Type mapping"), with the choices made here:

- ``option<T>`` is ``T | None = None``: unset means NONE, and NONE is never sent as NULL.
  A kind that admits ``null`` carries the ``Nullable`` marker, so ``None`` goes out as NULL.
- ``record<a | b>`` is ``RecordID[Literal["a", "b"]]``; a bare ``record`` is ``RecordID[str]``.
- Literal unions of strings, ints and bools are ``Literal[...]``; float, decimal and duration
  literals fall back to their base type (Python's ``Literal`` cannot hold them).
- ``decimal`` is ``Decimal``; ``number`` is ``int | float | Decimal``; ``datetime`` is
  pydantic's ``AwareDatetime``; ``duration`` is the runtime's lossless ``Duration``.
- ``array<T, N>`` is ``list[T]`` with ``max_length=N`` (2.x means "at most N", 3.x "exactly
  N"; the database enforces the rest).
- ``set<T>`` is ``frozenset[T]`` when ``T`` is hashable in Python (so the runtime sends a CBOR
  set, which 3.x requires), else ``list[T]``.
- ``object`` with declared nested fields (``address.city``, ``items.*.sku``) is a nested
  model; FLEXIBLE fields and schemaless tables allow extra keys. A bare ``object`` and a
  literal object kind (``{ a: int }``) are ``dict[str, Any]``; ``[int, string]`` is a tuple.
- Views are frozen models (the database refuses writes to them). A relation's ``in`` and
  ``out`` are ``ReadOnly``: an edge's ends are set when it is created.
- A field with VALUE or COMPUTED is ``Computed`` (never written), unless the expression reads
  ``$value``: then it transforms what the client writes and stays writable.
  READONLY is ``ReadOnly`` (written on create only). A DEFAULT that is a plain literal
  becomes the Python default; any other DEFAULT is ``db_default()`` (the field holds
  ``DB_DEFAULT``, left out of writes and dumps, until the database fills it in).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from surreal_gen.codegen import naming
from surreal_gen.codegen.ir import ELEMENT, Field, Table
from surreal_gen.codegen.kinds import (
    AnyKind,
    Array,
    ArrayLiteral,
    File,
    Geometry,
    Kind,
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
    sub_kinds,
)

RUNTIME_MODULES: dict[str, tuple[str, ...]] = {
    "surreal_gen.runtime.model": (
        "BaseSurrealModel",
        "SurrealConfigDict",
        "Computed",
        "ReadOnly",
        "Nullable",
        "db_default",
    ),
    "surreal_gen.runtime.queryset": ("QuerySet",),
    "surreal_gen.runtime.types": (
        "RecordID",
        "Table",
        "Duration",
        "Range",
        "GeometryPoint",
        "GeometryLine",
        "GeometryPolygon",
        "GeometryMultiPoint",
        "GeometryMultiLine",
        "GeometryMultiPolygon",
        "GeometryCollection",
    ),
    "surreal_gen.runtime.live": ("LiveModelStream",),
    "surreal_gen.runtime.changes": ("ChangeFeedStream",),
}
"""Where generated code imports each runtime name from (docs/internals.md package map)."""

_RUNTIME_MODULE_OF = {n: m for m, names in RUNTIME_MODULES.items() for n in names}


def runtime(name: str) -> tuple[str, str]:
    """The import of a runtime name used by generated code."""
    return (_RUNTIME_MODULE_OF[name], name)


Import = tuple[str, str]
"""``(module, name)`` for ``from module import name``."""

LookupGroup = Literal["plain", "ordered", "text", "collection"]


class PyType(NamedTuple):
    """A Python type expression, the names it needs, and facts the mapping relies on (a tuple:
    one is made for every record type, and a large schema links thousands of tables)."""

    text: str
    imports: frozenset[Import] = frozenset()
    hashable: bool = True
    lookups: LookupGroup = "plain"
    element: str | None = None
    """For arrays and sets: the item type (used by ``contains`` filters)."""


def _t(
    text: str, *imports: Import, hashable: bool = True, lookups: LookupGroup = "plain"
) -> PyType:
    return PyType(text, frozenset(imports), hashable, lookups)


ANY = _t("Any", ("typing", "Any"), hashable=False)
NONE = _t("None")
DICT = _t("dict[str, Any]", ("typing", "Any"), hashable=False)

_SCALARS: dict[str, PyType] = {
    "string": _t("str", lookups="text"),
    "int": _t("int", lookups="ordered"),
    "float": _t("float", lookups="ordered"),
    "bool": _t("bool"),
    "bytes": _t("bytes"),
    "number": _t("int | float | Decimal", ("decimal", "Decimal"), lookups="ordered"),
    "decimal": _t("Decimal", ("decimal", "Decimal"), lookups="ordered"),
    "datetime": _t("AwareDatetime", ("pydantic", "AwareDatetime"), lookups="ordered"),
    "duration": _t("Duration", runtime("Duration"), lookups="ordered"),
    "uuid": _t("UUID", ("uuid", "UUID")),
    "regex": _t("str"),
    "object": DICT,
    "function": ANY,
    "range": _t("Range", runtime("Range"), hashable=False),
}

_GEOMETRY_CLASSES: dict[str, str] = {
    "point": "GeometryPoint",
    "line": "GeometryLine",
    "polygon": "GeometryPolygon",
    "multipoint": "GeometryMultiPoint",
    "multiline": "GeometryMultiLine",
    "multipolygon": "GeometryMultiPolygon",
    "collection": "GeometryCollection",
}

IMPORTABLE_NAMES = frozenset(
    {name for names in RUNTIME_MODULES.values() for name in names}
    | {name for t in _SCALARS.values() for _, name in t.imports}
    | {"Annotated", "Any", "Literal", "TYPE_CHECKING", "Sequence", "TypedDict", "Unpack"}
    | {"Field", "BaseModel", "ConfigDict", "datetime", "annotations"}
)
"""Every name a generated module may import; fields never take these names."""

LOOKUPS: dict[LookupGroup, tuple[str, ...]] = {
    "plain": ("in", "not_in", "isnull"),
    "ordered": ("in", "not_in", "isnull", "gt", "gte", "lt", "lte"),
    "text": (
        "in",
        "not_in",
        "isnull",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "icontains",
        "startswith",
        "endswith",
    ),
    "collection": ("isnull", "contains", "containsall", "containsany"),
}
"""The lookups (``field__lookup``) offered for each kind of value: those of
``surreal_gen.runtime.queryset.LOOKUPS`` that make sense for it."""


def py_str(value: str) -> str:
    """A Python string literal for ``value``; always safe. Quoted as ruff formats it: in
    double quotes unless ``value`` holds more double than single quotes (``repr`` picks
    single quotes whenever both occur, which ruff then rewrites)."""
    quote = "'" if value.count('"') > value.count("'") else '"'
    if value.isprintable() and quote not in value and "\\" not in value:
        return f"{quote}{value}{quote}"
    pieces = []
    for char in value:
        if char in (quote, "\\"):
            pieces.append("\\" + char)
        elif char.isprintable():
            pieces.append(char)
        else:
            pieces.append(repr(char)[1:-1])
    return quote + "".join(pieces) + quote


def union(types: list[PyType]) -> PyType:
    """``A | B`` with duplicates dropped, in order, members that are unions themselves
    included (``option<int | null>`` is ``int | None``, not ``int | None | None``); a single
    member stands alone."""
    unique: list[PyType] = []
    for t in types:
        if t.text not in {u.text for u in unique}:
            unique.append(t)
    if len(unique) == 1:
        return unique[0]
    values = [u for u in unique if u.text != "None"]
    lookups = {u.lookups for u in values}
    members = [m for u in unique for m in _split_top_level_union(u.text)]
    return PyType(
        " | ".join(dict.fromkeys(members)),
        frozenset().union(*(u.imports for u in unique)),
        all(u.hashable for u in unique),
        lookups.pop() if len(lookups) == 1 else "plain",
        values[0].element if len(values) == 1 else None,
    )


def literal_type(values: list[LiteralValue]) -> PyType:
    """``Literal[...]`` for string, int and bool literals (others use their base type)."""
    members: list[PyType] = []
    python_literals: list[str] = []
    for value in values:
        if value.type == "string":
            python_literals.append(py_str(str(value.value)))
        elif value.type in ("int", "bool"):
            python_literals.append(repr(value.value))
        else:
            members.append(_SCALARS[value.type])
    if python_literals:
        members.insert(0, _t(f"Literal[{', '.join(python_literals)}]", ("typing", "Literal")))
    return union(members)


@functools.lru_cache(maxsize=4096)
def admits_null(kind: Kind) -> bool:
    """True when ``null`` is one of the values ``kind`` allows."""
    if isinstance(kind, NullKind):
        return True
    if isinstance(kind, Option):
        return admits_null(kind.inner)
    if isinstance(kind, Union):
        return any(admits_null(m) for m in kind.members)
    return False


def is_optional(kind: Kind) -> bool:
    """True when the value may be absent (NONE): ``option<T>`` / ``none | T`` / ``any``."""
    return isinstance(kind, (Option, NoneKind, AnyKind))


@functools.lru_cache(maxsize=8)
def _markers(computed: bool, readonly: bool, nullable: bool) -> str:
    """The ``Annotated`` markers of a field (``"Computed, Nullable"``; ``""`` for none). A
    computed field is never written, so it is not marked read-only as well."""
    names = ["Computed"] if computed else ["ReadOnly"] if readonly else []
    return ", ".join([*names, "Nullable"] if nullable else names)


_MARKER_IMPORTS = {
    markers: frozenset({("typing", "Annotated"), *(runtime(m) for m in markers.split(", "))})
    for markers in {
        _markers(computed, readonly, nullable)
        for computed in (False, True)
        for readonly in (False, True)
        for nullable in (False, True)
    }
    if markers
}


def is_computed(f: Field) -> bool:
    """VALUE / COMPUTED that does not read the written value: the database owns the field."""
    return f.value is not None and re.search(r"\$value\b", f.value) is None


# --- module plans --------------------------------------------------------------------------


class FilterType(NamedTuple):
    """What a field offers to filters: each lookup suffix with its value type (``""`` for
    the exact match), and the imports those types need. Shared by the fields of one type."""

    lookups: tuple[tuple[str, str], ...]
    imports: frozenset[Import]


class FieldPlan(NamedTuple):
    """One attribute of a generated model (a tuple: a large schema makes tens of thousands)."""

    name: str
    alias: str | None
    annotation: str
    default: str | None
    doc: str | None
    filter_type: FilterType | None
    nested_model: str | None
    """The nested model class when the field holds one object (``T`` or ``T | None``)."""
    item_model: str | None = None
    """The nested model class when the field holds a list of objects (``list[T]``)."""


@dataclass(frozen=True)
class ModelPlan:
    """One generated pydantic class (a table model or a nested object model)."""

    class_name: str
    doc: str | None
    fields: tuple[FieldPlan, ...]
    extra_allow: bool


class FilterField(NamedTuple):
    """The keys of the filters TypedDict for one field: ``key`` followed by each suffix
    (``address__city`` + ``__startswith``: ``str``). ``lookups`` is shared by every field of
    the same type, since a large schema has hundreds of thousands of keys."""

    key: str
    lookups: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ModulePlan:
    """Everything the table-module template needs."""

    table: Table
    module_name: str
    model: ModelPlan
    nested: tuple[ModelPlan, ...]
    queryset_name: str
    filters_name: str
    filters: tuple[FilterField, ...]
    stream_filters_name: str
    stream_filters: tuple[FilterField, ...]
    imports: tuple[str, ...]
    type_checking_imports: tuple[str, ...]
    read_only: bool


@dataclass
class _ModuleBuilder:
    table: Table
    class_name: str
    used_names: set[str]
    imports: set[Import] = field(default_factory=set)
    import_sets: set[frozenset[Import]] = field(default_factory=set)
    """Imports as the (shared) sets the field types carry: one set per type, not per field."""
    filter_import_sets: set[frozenset[Import]] = field(default_factory=set)
    nested: list[ModelPlan] = field(default_factory=list)
    nested_by_path: dict[tuple[str, ...], str] = field(default_factory=dict)
    fields: Mapping[tuple[str, ...], Field] = field(init=False)
    children: Mapping[tuple[str, ...], tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self.fields, self.children = self.table.tree

    # -- types --

    def python_type(self, kind: Kind, segments: tuple[str, ...]) -> PyType:
        """The Python type for ``kind`` at ``segments`` (nested models are built on demand)."""
        if _is_closed(kind):
            return _closed_type(kind)
        return self.open_type(kind, segments)

    def open_type(self, kind: Kind, segments: tuple[str, ...]) -> PyType:
        if isinstance(kind, AnyKind):
            return self.object_model(segments) or ANY
        if isinstance(kind, Scalar):
            if kind.name == "object":
                return self.object_model(segments) or DICT
            return _SCALARS[kind.name]
        if isinstance(kind, (NoneKind, NullKind)):
            return NONE
        if isinstance(kind, Option):
            return union([self.python_type(kind.inner, segments), NONE])
        if isinstance(kind, Union):
            literals = [m for m in kind.members if isinstance(m, LiteralValue)]
            others = [
                self.python_type(m, segments)
                for m in kind.members
                if not isinstance(m, LiteralValue)
            ]
            return union(([literal_type(literals)] if literals else []) + others)
        if isinstance(kind, LiteralValue):
            return literal_type([kind])
        if isinstance(kind, Record):
            return _record_type(kind.tables)
        if isinstance(kind, TableKind):
            return _t("Table", runtime("Table"))
        if isinstance(kind, Geometry):
            return _geometry_type(kind.types)
        if isinstance(kind, (Array, Set)):
            return self.collection_type(kind, segments)
        if isinstance(kind, References):
            target = _record_type((kind.table,) if kind.table else ())
            return _t(f"list[{target.text}]", *target.imports, hashable=False)
        if isinstance(kind, ArrayLiteral):
            items = [self.python_type(k, segments) for k in kind.items]
            if not items:
                return _t("tuple[()]", hashable=True)
            return PyType(
                f"tuple[{', '.join(i.text for i in items)}]",
                frozenset().union(*(i.imports for i in items)),
                all(i.hashable for i in items),
            )
        if isinstance(kind, (ObjectLiteral, File)):
            return DICT if isinstance(kind, ObjectLiteral) else ANY
        raise AssertionError(f"unhandled kind {kind!r}")

    def collection_type(self, kind: Array | Set, segments: tuple[str, ...]) -> PyType:
        element_path = (*segments, ELEMENT)
        element_kind = kind.item
        declared = self.fields.get(element_path)
        if isinstance(element_kind, AnyKind) and declared is not None:
            element_kind = declared.kind
        item = self.python_type(element_kind, element_path)
        container = "frozenset" if isinstance(kind, Set) and item.hashable else "list"
        text = f"{container}[{item.text}]"
        imports = set(item.imports)
        if kind.max_len is not None:
            text = f"Annotated[{text}, Field(max_length={kind.max_len})]"
            imports |= {("typing", "Annotated"), ("pydantic", "Field")}
        return PyType(text, frozenset(imports), False, "collection", item.text)

    def object_model(self, segments: tuple[str, ...]) -> PyType | None:
        """The nested model for the object at ``segments``, or None when it has no fields."""
        named = [c for c in self.children.get(segments, ()) if c != ELEMENT]
        if not named:
            return None
        existing = self.nested_by_path.get(segments)
        if existing is None:
            existing = self.build_model(segments, named)
        return PyType(existing, hashable=False, lookups="plain")

    # -- models --

    def build_model(self, segments: tuple[str, ...], named: list[str]) -> str:
        parts = ["item" if s == ELEMENT else s for s in segments]
        class_name = naming.class_name("_".join([self.class_name, *parts]), self.used_names)
        self.used_names.update(
            class_name + suffix for suffix in ("", *naming.DERIVED_CLASS_SUFFIXES)
        )
        self.nested_by_path[segments] = class_name
        owner = self.fields.get(segments)
        plans = self.field_plans(segments, named)
        self.nested.append(
            ModelPlan(
                class_name=class_name,
                doc=_doc(owner.comment) if owner is not None else None,
                fields=plans,
                extra_allow=(owner is not None and owner.flexible) or not self.table.schemafull,
            )
        )
        return class_name

    def field_plans(
        self, parent: tuple[str, ...], names: list[str], taken: frozenset[str] = frozenset()
    ) -> tuple[FieldPlan, ...]:
        python_names = naming.field_names(names, taken | IMPORTABLE_NAMES | self.used_names)
        plans: list[FieldPlan] = []
        for db_name in names:
            segments = (*parent, db_name)
            declared = self.fields.get(segments) or Field(path=db_name, kind=Option(AnyKind()))
            plans.append(self.field_plan(python_names[db_name], db_name, segments, declared))
        return tuple(plans)

    def field_plan(
        self, python_name: str, db_name: str, segments: tuple[str, ...], f: Field
    ) -> FieldPlan:
        # an edge's ends are fixed when it is created
        edge_end = self.table.type == "relation" and segments in (("in",), ("out",))
        closed = _closed_field_plan(python_name, db_name, f, edge_end)
        if closed is not None:  # no nested model: the plan depends on the definition alone
            plan, imports = closed
            self.import_sets.add(imports)
            return plan
        value_type, nullable = self.open_type(f.kind, segments), admits_null(f.kind)
        alias, annotation, default, imports = _attribute(
            python_name, db_name, f, value_type, nullable, edge_end
        )
        self.import_sets.add(imports)
        doc = _doc(f.comment)
        nested = self.nested_by_path.get(segments)
        item = self.nested_by_path.get((*segments, ELEMENT))
        if nested is None and item is None:
            filter_type = _filter_type(value_type, nullable)
            return FieldPlan(python_name, alias, annotation, default, doc, filter_type, None)
        return FieldPlan(
            python_name,
            alias,
            annotation,
            default,
            doc,
            None,
            nested if value_type.text in (nested, f"{nested} | None") else None,
            item if value_type.text in (f"list[{item}]", f"list[{item}] | None") else None,
        )

    def filters(self, model: ModelPlan, prefix: str = "") -> list[FilterField]:
        """Filter keys for ``model``'s fields, through nested objects and lists of objects.

        Through a list a key means "some element matches" (``items__quantity__gt: int``), so
        an element's field offers the same lookups and value types as a top-level one.
        """
        keys: list[FilterField] = []
        by_name = {m.class_name: m for m in self.nested}
        for plan in model.fields:
            key = f"{prefix}{plan.name}"
            nested = plan.nested_model or plan.item_model
            if nested is not None:
                keys.extend(self.filters(by_name[nested], f"{key}__"))
                continue
            if plan.filter_type is not None:
                self.filter_import_sets.add(plan.filter_type.imports)
                keys.append(FilterField(key, plan.filter_type.lookups))
        return keys


@functools.lru_cache(maxsize=4096)
def _is_closed(kind: Kind) -> bool:
    """True when ``kind`` holds no ``object`` and no ``any``: its Python type is then the
    same wherever it appears (no nested model), so it is computed once per kind."""
    if isinstance(kind, AnyKind) or kind == Scalar("object"):
        return False
    return all(_is_closed(inner) for inner in sub_kinds(kind))


_NO_FIELDS = _ModuleBuilder(table=Table(name=""), class_name="", used_names=set())
"""Maps closed kinds: they never reach the nested-model part of a builder."""


@functools.lru_cache(maxsize=4096)
def _closed_type(kind: Kind) -> PyType:
    return _NO_FIELDS.open_type(kind, ())


@functools.lru_cache(maxsize=4096)
def _closed_field(kind: Kind) -> tuple[PyType, bool, FilterType] | None:
    """For a field of a closed kind, once per kind: its type, whether it admits null, and
    its filters (one lookup per field instead of four). None for other kinds."""
    if not _is_closed(kind):
        return None
    value_type, nullable = _closed_type(kind), admits_null(kind)
    return value_type, nullable, _filter_type(value_type, nullable)


@functools.lru_cache(maxsize=4096)
def _closed_field_plan(
    python_name: str, db_name: str, f: Field, edge_end: bool
) -> tuple[FieldPlan, frozenset[Import]] | None:
    """The plan of an attribute whose kind is closed, and the imports it needs (None for
    other kinds): made once per name and definition (the tables of a large schema repeat
    definitions)."""
    closed = _closed_field(f.kind)
    if closed is None:
        return None
    value_type, nullable, filter_type = closed
    alias, annotation, default, imports = _attribute(
        python_name, db_name, f, value_type, nullable, edge_end
    )
    plan = FieldPlan(python_name, alias, annotation, default, _doc(f.comment), filter_type, None)
    return plan, imports


def _attribute(
    python_name: str,
    db_name: str,
    f: Field,
    value_type: PyType,
    nullable: bool,
    edge_end: bool,
) -> tuple[str | None, str, str | None, frozenset[Import]]:
    """An attribute's alias, annotation and default expression, and the imports they need."""
    imports = set(value_type.imports)
    computed = is_computed(f)
    markers = _markers(computed, f.readonly or edge_end, nullable)
    if markers:
        imports |= _MARKER_IMPORTS[markers]
    alias = None if python_name == db_name else db_name
    if alias is not None:
        # The alias goes in Annotated, never in a `= Field(alias=...)` default: type
        # checkers (dataclass_transform) name the __init__ keyword after a default's
        # alias, and `in`, `class` or `my-field` cannot be written as a keyword.
        imports |= {("pydantic", "Field"), ("typing", "Annotated")}
        alias_field = f"Field(alias={py_str(alias)})"
        markers = f"{markers}, {alias_field}" if markers else alias_field
    annotation = f"Annotated[{value_type.text}, {markers}]" if markers else value_type.text
    default = _default_expression(f, value_type, computed)
    if default == DATABASE_DEFAULT:
        imports.add(runtime("db_default"))
    return alias, annotation, default, frozenset(imports)


DATABASE_DEFAULT = "db_default()"
"""The default of an attribute the database fills in (``runtime.model.db_default``)."""


def _default_expression(f: Field, value_type: PyType, computed: bool) -> str | None:
    """The attribute's default: a plain literal DEFAULT, ``None`` for an optional field, or
    ``db_default()`` when the database fills it in (None: the attribute is required)."""
    if computed:
        return DATABASE_DEFAULT
    if f.default is not None:
        literal = simple_default(f.default, value_type)
        return DATABASE_DEFAULT if literal is None else literal
    if is_optional(f.kind):
        return "None"
    return None


@functools.lru_cache(maxsize=4096)
def _filter_type(value_type: PyType, nullable: bool) -> FilterType:
    """The filters of a field of ``value_type``. They compare with the field's type without
    ``None``, unless NULL is a real value of the field."""
    compared = value_type
    members = list(_split_top_level_union(value_type.text))
    if not nullable and "None" in members and len(members) > 1:
        members.remove("None")
        compared = value_type._replace(text=" | ".join(members))
    lookups = _lookup_types(compared)
    return FilterType(lookups, compared.imports | _lookup_imports(lookups))


@functools.lru_cache(maxsize=4096)
def _split_top_level_union(text: str) -> tuple[str, ...]:
    """The members of a union type expression (``A | B[C | D]`` -> ``A``, ``B[C | D]``).
    Brackets and bars inside string literals (``Literal["]", "|"]``, as ``py_str`` writes
    them) are text, not structure."""
    if "|" not in text:  # most of them: a nested model's or a record's type
        return (text.strip(),)
    parts: list[str] = []
    depth = 0
    start = 0
    quote: str | None = None  # the quote of the string literal we are in
    escaped = False
    for i, char in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return tuple(parts)


STREAM_PARAMETERS = frozenset(
    {"diff", "auto_resubscribe", "since", "poll_interval", "batch_size", "until_caught_up"}
)
"""Keyword parameters of ``QuerySet.live`` / ``changes``: filters by these names must go
through ``.filter(...)``, so the typed ``live`` / ``changes`` leave them out."""

_TEXT_LOOKUPS = frozenset({"contains", "icontains", "startswith", "endswith"})


def _lookup_types(value: PyType) -> tuple[tuple[str, str], ...]:
    """``("", exact type)`` and ``("__<lookup>", value type)`` for every lookup of ``value``."""
    exact = value.text if value.element is None else f"list[{value.element}]"
    types = [("", exact)]
    not_none = " | ".join(m for m in _split_top_level_union(value.text) if m != "None")
    for lookup in LOOKUPS[value.lookups]:
        if lookup == "isnull":
            type_text = "bool"
        elif lookup in ("in", "not_in"):
            type_text = f"Sequence[{value.text}]"
        elif value.element is not None:
            contains = value.element if lookup == "contains" else f"Sequence[{value.element}]"
            type_text = contains
        elif lookup in _TEXT_LOOKUPS:
            type_text = "str"
        else:
            type_text = not_none
        types.append((f"__{lookup}", type_text))
    return tuple(types)


def _lookup_imports(lookups: tuple[tuple[str, str], ...]) -> frozenset[Import]:
    """What the value types of ``lookups`` need beyond the field's own type."""
    if any("Sequence[" in type_text for _, type_text in lookups):
        return frozenset({("collections.abc", "Sequence")})
    return frozenset()


def _record_type(tables: tuple[str, ...]) -> PyType:
    if not tables:
        return _t("RecordID[str]", runtime("RecordID"))
    names = ", ".join(py_str(t) for t in tables)
    return _t(f"RecordID[Literal[{names}]]", runtime("RecordID"), ("typing", "Literal"))


def _geometry_type(types: tuple[str, ...]) -> PyType:
    chosen = [t for t in types if t in _GEOMETRY_CLASSES] if types else list(_GEOMETRY_CLASSES)
    members = [_t(_GEOMETRY_CLASSES[t], runtime(_GEOMETRY_CLASSES[t])) for t in chosen]
    if len(chosen) != len(types) and types:
        members.append(DICT)  # geometry<feature> (2.x only) has no runtime class
    return union(members)


_INT = re.compile(r"[-+]?\d+")


_STRING_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def _string_literal(text: str) -> str | None:
    """The value of a quoted SurrealQL string as INFO prints it (``'a'``, or ``"it's"``), or
    None when ``text`` is something else (or uses an escape we do not read)."""
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        return None
    quote = text[0]
    out: list[str] = []
    body = text[1:-1]
    i = 0
    while i < len(body):
        char = body[i]
        if char == quote:
            return None
        if char == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _STRING_ESCAPES:
                return None
            out.append(_STRING_ESCAPES[body[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _doc(comment: str | None) -> str | None:
    """A COMMENT as a docstring's text; None when it is blank (no empty docstring, and the
    class keeps its fallback text)."""
    return comment if comment and comment.strip() else None


def simple_default(text: str, value_type: PyType) -> str | None:
    """The Python literal for a DEFAULT that is a plain NONE/NULL, bool, int or string that the
    field's type holds; None when the database must fill it in."""
    value = text.strip()
    members = set(_split_top_level_union(value_type.text))
    has_literal = any(m.startswith("Literal[") for m in members)
    if value in ("NONE", "NULL"):
        return "None" if "None" in members else None
    if value in ("true", "false"):
        python, base = ("True" if value == "true" else "False"), "bool"
    elif _INT.fullmatch(value):
        python, base = str(int(value)), "int"
    else:
        string = _string_literal(value)
        if string is None:
            return None
        python, base = py_str(string), "str"
    return python if base in members or has_literal else None


def queryset_name(class_name: str) -> str:
    """The name of the ``QuerySet`` subclass generated beside the model ``class_name``."""
    return f"{class_name}QuerySet"


def plan_module(table: Table, class_name: str, module_name: str) -> ModulePlan:
    """The plan of the module generated for ``table``."""
    builder = _ModuleBuilder(
        table=table,
        class_name=class_name,
        used_names={
            class_name,
            queryset_name(class_name),
            f"{class_name}Filters",
            f"{class_name}StreamFilters",
        },
    )
    builder.imports.update(
        {runtime("BaseSurrealModel"), runtime("SurrealConfigDict"), runtime("QuerySet")}
        | {("typing", "TYPE_CHECKING")}
    )
    id_plan = FieldPlan(
        name="id",
        alias=None,
        annotation=f"{_record_type((table.name,)).text} | None",
        default="None",
        doc=None,
        filter_type=_filter_type(_record_type((table.name,)), False),
        nested_model=None,
    )
    builder.imports.update(_record_type((table.name,)).imports)
    names = [n for n in builder.children.get((), ()) if n != "id"]
    if table.type == "relation":
        names = [n for n in ("in", "out") if n not in names] + names
        ends = {("in",): table.relation_in, ("out",): table.relation_out}
        builder.fields = {
            **{side: Field(path=side[0], kind=Record(tables)) for side, tables in ends.items()},
            **builder.fields,
        }
    plans = (id_plan, *builder.field_plans((), names, frozenset({"id"})))
    model = ModelPlan(
        class_name=class_name,
        doc=_doc(table.comment),
        fields=plans,
        extra_allow=not table.schemafull,
    )
    filters = builder.filters(model)
    stream_filters = [_without_parameter(f) for f in filters]
    if builder.nested:
        builder.imports.update({("pydantic", "BaseModel"), ("pydantic", "ConfigDict")})
    checking_imports = {
        ("typing", "TypedDict"),
        ("typing", "Unpack"),
        ("datetime", "datetime"),
        runtime("LiveModelStream"),
        runtime("ChangeFeedStream"),
    }
    imports = builder.imports.union(*builder.import_sets)
    return ModulePlan(
        table=table,
        module_name=module_name,
        model=model,
        nested=tuple(builder.nested),
        queryset_name=queryset_name(class_name),
        filters_name=f"{class_name}Filters",
        filters=tuple(filters),
        stream_filters_name=(
            f"{class_name}Filters" if stream_filters == filters else f"{class_name}StreamFilters"
        ),
        stream_filters=tuple(stream_filters),
        imports=_import_lines(frozenset(imports)),
        type_checking_imports=_import_lines(
            frozenset((set().union(*builder.filter_import_sets) - imports) | checking_imports)
        ),
        read_only=table.view is not None,
    )


def _without_parameter(field: FilterField) -> FilterField:
    """``field`` without its bare key when that key is a parameter of ``live`` / ``changes``
    (``since__gt`` stays: only ``since`` itself would clash)."""
    if field.key not in STREAM_PARAMETERS:
        return field
    return field._replace(lookups=tuple(lookup for lookup in field.lookups if lookup[0]))


_THIRD_PARTY = frozenset({"pydantic"})


@functools.lru_cache(maxsize=1024)
def _import_lines(imports: frozenset[Import]) -> tuple[str, ...]:
    """``from m import a, b`` lines, grouped stdlib / pydantic / runtime with a blank line
    (an empty string) between groups, wrapped like ruff format when too long. Made once
    per set of imports: tables whose fields have the same types import the same names."""
    by_module: dict[str, set[str]] = {}
    for module, name in imports:
        by_module.setdefault(module, set()).add(name)

    def group(module: str) -> int:
        return 2 if module.startswith("surreal_gen") else 1 if module in _THIRD_PARTY else 0

    lines: list[str] = []
    previous_group: int | None = None
    for module in sorted(by_module, key=lambda m: (group(m), m)):
        if previous_group is not None and group(module) != previous_group:
            lines.append("")
        previous_group = group(module)
        names = sorted(by_module[module], key=lambda n: (not n.isupper(), n))
        line = f"from {module} import {', '.join(names)}"
        if len(line) > 100:
            line = f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        lines.append(line)
    return tuple(lines)
