"""SurrealQL kind strings (``DEFINE FIELD ... TYPE <kind>``) to a small AST and back.

The AST is normalised so that the 2.x and 3.x renderings of one kind parse to equal values:
``option<T>`` and ``none | T`` both become ``Option(T)``, ``point`` becomes
``Geometry(("point",))``, unions are flattened, and float/decimal literals ignore the leading
space 3.x prints. See surrealdb-notes.md section 2 for the grammar.

Invariants of a parsed (normalised) kind:

- ``Union.members`` has two or more distinct members, none of them ``Union``, ``Option``,
  ``NoneKind`` or ``AnyKind``.
- ``Option.inner`` is never ``Option`` or ``NoneKind``.
- ``ObjectLiteral.fields`` is sorted by key (code point order, as the engine sorts), keys unique.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeAlias

ScalarName: TypeAlias = Literal[
    "bool",
    "bytes",
    "datetime",
    "decimal",
    "duration",
    "float",
    "int",
    "number",
    "object",
    "string",
    "uuid",
    "regex",
    "function",
    "range",
]

GeometryType: TypeAlias = Literal[
    "point",
    "line",
    "polygon",
    "multipoint",
    "multiline",
    "multipolygon",
    "collection",
    "feature",
]

LiteralType: TypeAlias = Literal["bool", "int", "float", "decimal", "string", "duration"]
LiteralPython: TypeAlias = bool | int | float | Decimal | str


@dataclass(frozen=True, slots=True)
class AnyKind:
    """``any``, or no TYPE clause at all."""


@dataclass(frozen=True, slots=True)
class Scalar:
    """A kind keyword without parameters: ``string``, ``int``, ``object``, ``range`` ..."""

    name: ScalarName


@dataclass(frozen=True, slots=True)
class NoneKind:
    """``none`` on its own (3.x only); inside a union it lifts the union to ``Option``."""


@dataclass(frozen=True, slots=True)
class NullKind:
    """``null``."""


@dataclass(frozen=True, slots=True)
class Option:
    """``option<T>`` (2.x) or ``none | T`` (3.x): the value may be absent (NONE)."""

    inner: Kind


@dataclass(frozen=True, slots=True)
class Union:
    """``A | B | ...`` in the order the schema gives (never containing ``none``)."""

    members: tuple[Kind, ...]


@dataclass(frozen=True, slots=True)
class Record:
    """``record`` / ``record<a | b>``: a record id; empty ``tables`` means any table."""

    tables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableKind:
    """``table`` / ``table<a | b>`` (3.x): a table name value; empty means any table."""

    tables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Geometry:
    """``geometry`` / ``geometry<point | polygon>``; empty ``types`` means any geometry."""

    types: tuple[GeometryType, ...] = ()


@dataclass(frozen=True, slots=True)
class Array:
    """``array<T, N>``: ``max_len`` None when no N was given."""

    item: Kind = field(default_factory=AnyKind)
    max_len: int | None = None


@dataclass(frozen=True, slots=True)
class Set:
    """``set<T, N>``: like ``Array`` with unique items."""

    item: Kind = field(default_factory=AnyKind)
    max_len: int | None = None


@dataclass(frozen=True, slots=True)
class File:
    """``file`` / ``file<bucket>`` (3.x); empty ``buckets`` means any bucket."""

    buckets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class References:
    """``references`` / ``references<table, path>`` (2.x, experimental): computed back-links."""

    table: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class LiteralValue:
    """A literal kind such as ``'a'``, ``1``, ``1.5f``, ``2.5dec``, ``1d`` or ``true``.

    ``text`` is the canonical SurrealQL text (no leading space), ``value`` the Python value
    (a duration keeps its text, e.g. ``"1h30m"``). Equality uses ``type`` and ``text`` only,
    so ``NaN`` literals compare equal.
    """

    type: LiteralType
    text: str
    value: LiteralPython = field(compare=False)


@dataclass(frozen=True, slots=True)
class ObjectLiteral:
    """``{ a: int, b: option<string> }``: fields sorted by key."""

    fields: tuple[tuple[str, Kind], ...]


@dataclass(frozen=True, slots=True)
class ArrayLiteral:
    """``[int, string]``: a fixed-length tuple of kinds."""

    items: tuple[Kind, ...]


Kind: TypeAlias = (
    AnyKind
    | Scalar
    | NoneKind
    | NullKind
    | Option
    | Union
    | Record
    | TableKind
    | Geometry
    | Array
    | Set
    | File
    | References
    | LiteralValue
    | ObjectLiteral
    | ArrayLiteral
)


class KindSyntaxError(ValueError):
    """A kind string the parser cannot read; ``position`` is the 0-based offset in ``text``."""

    def __init__(self, message: str, text: str, position: int) -> None:
        super().__init__(f"{message} at column {position + 1} of kind {text!r}")
        self.text = text
        self.position = position


def parse_kind(text: str) -> Kind:
    """Parse one kind string as INFO prints it (2.x or 3.x); raise ``KindSyntaxError``."""
    raise NotImplementedError("parser lands in the next commit")


def parse_kind_lenient(text: str, where: str, *, strict: bool) -> tuple[Kind, str | None]:
    """Parse ``text``; on failure return ``AnyKind()`` and a warning naming ``where``.

    ``where`` names the field (``table.field``). With ``strict`` a bad kind raises
    ``KindSyntaxError`` (its message names ``where``) instead of degrading to ``AnyKind``.
    """
    raise NotImplementedError("parser lands in the next commit")


def render_kind(kind: Kind) -> str:
    """Canonical SurrealQL text for ``kind`` (the 2.x spelling: ``option<T>``, ``1.5f``)."""
    raise NotImplementedError("renderer lands in the next commit")
