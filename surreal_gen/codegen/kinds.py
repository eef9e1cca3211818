"""SurrealQL kind strings (``DEFINE FIELD ... TYPE <kind>``) to a small AST and back.

The AST is normalised so that the 2.x and 3.x renderings of one kind parse to equal values:
``option<T>`` and ``none | T`` both become ``Option(T)``, ``point`` becomes
``Geometry(("point",))``, unions are flattened, and float/decimal literals ignore the leading
space 3.x prints. See surrealdb-notes.md section 2 for the grammar.

Invariants of a parsed (normalised) kind:

- ``Union.members`` has two or more distinct members, none of them ``Union``, ``Option``,
  ``NoneKind`` or ``AnyKind``.
- ``Option.inner`` is never ``Option``, ``NoneKind`` or ``AnyKind``.
- ``ObjectLiteral.fields`` is sorted by key (code point order, as the engine sorts), keys unique.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeAlias, cast, get_args

from surreal_gen.runtime.types import Duration, escape_ident

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


def sub_kinds(kind: Kind) -> tuple[Kind, ...]:
    """The kinds directly inside ``kind`` (``option<array<int>>`` -> ``array<int>``)."""
    if isinstance(kind, Option):
        return (kind.inner,)
    if isinstance(kind, (Array, Set)):
        return (kind.item,)
    if isinstance(kind, Union):
        return kind.members
    if isinstance(kind, ArrayLiteral):
        return kind.items
    if isinstance(kind, ObjectLiteral):
        return tuple(value for _, value in kind.fields)
    return ()


class KindSyntaxError(ValueError):
    """A kind string the parser cannot read; ``position`` is the 0-based offset in ``text``."""

    def __init__(self, message: str, text: str, position: int) -> None:
        super().__init__(f"{message} at column {position + 1} of kind {_excerpt(text)}")
        self.message = message
        self.text = text
        self.position = position


# Constructors that keep the invariants -------------------------------------------------------


def union_of(members: Iterable[Kind]) -> Kind:
    """Combine kinds as ``A | B | ...`` does, normalised.

    Nested unions are flattened, duplicates dropped (first one kept), ``none`` and ``Option``
    members lift the result to ``Option``, and ``any`` absorbs everything.
    """
    flat: list[Kind] = []
    optional = False
    for member in members:
        if isinstance(member, AnyKind):
            return AnyKind()
        if isinstance(member, NoneKind):
            optional = True
            continue
        if isinstance(member, Option):
            optional = True
            member = member.inner
        for item in member.members if isinstance(member, Union) else (member,):
            if item not in flat:
                flat.append(item)
    if not flat:
        if not optional:
            raise ValueError("a union needs at least one member")
        return NoneKind()
    combined = flat[0] if len(flat) == 1 else Union(tuple(flat))
    return Option(combined) if optional else combined


def literal(value: LiteralPython) -> LiteralValue:
    """The literal kind for a Python ``str``, ``bool``, ``int``, ``float`` or ``Decimal``."""
    if isinstance(value, bool):
        return LiteralValue("bool", "true" if value else "false", value)
    if isinstance(value, int):
        if value not in _INT_RANGE:
            raise ValueError(f"an int literal must fit in 64 bits, not {value}")
        return LiteralValue("int", str(value), value)
    if isinstance(value, float):
        return LiteralValue("float", _float_text(value), value)
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() not in _DECIMAL_EXPONENTS:
            raise ValueError(f"a decimal literal must be finite and within 1e±28, not {value}")
        plain = _plain_number(value)
        return LiteralValue("decimal", plain + "dec", Decimal(plain))
    return LiteralValue("string", _quote_string(value), value)


def duration_literal(text: str) -> LiteralValue:
    """The literal kind for a duration such as ``"90m"``, normalised as the engine prints it
    (``1h30m``); raises ``ValueError`` on anything that is not a duration."""
    canonical = str(Duration.parse(text))
    return LiteralValue("duration", canonical, canonical)


# Parsing --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def parse_kind(text: str) -> Kind:
    """Parse one kind string as INFO prints it (2.x or 3.x); raise ``KindSyntaxError``.

    Cached: real schemas repeat a few kinds thousands of times, and kinds are immutable.
    """
    return _Parser(text).parse()


def parse_kind_lenient(text: str, where: str, *, strict: bool) -> tuple[Kind, str | None]:
    """Parse ``text``; on failure return ``AnyKind()`` and a warning naming ``where``.

    ``where`` names the field (``table.field``). With ``strict`` a bad kind raises
    ``KindSyntaxError`` (its message names ``where``) instead of degrading to ``AnyKind``.
    """
    try:
        return parse_kind(text), None
    except KindSyntaxError as error:
        if strict:
            raise KindSyntaxError(f"{where}: {error.message}", text, error.position) from None
        problem = f"{error.message} at column {error.position + 1}"
        return AnyKind(), f"{where}: cannot read kind {_excerpt(text)} ({problem}); typed as any"


_SCALARS: frozenset[str] = frozenset(get_args(ScalarName))
_GEOMETRY_TYPES: frozenset[str] = frozenset(get_args(GeometryType))
_MAX_DEPTH = 200

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_WORD = re.compile(r"[A-Za-z0-9_]+")
_UINT = re.compile(r"[0-9]+")
_DURATION = re.compile(r"(?:[0-9]{1,20}(?:ns|us|µs|μs|ms|s|m|h|d|w|y))+(?![A-Za-z0-9_])")
_INT_RANGE = range(-(2**63), 2**63)
_DECIMAL_EXPONENTS = range(-28, 29)
"""What the engine's 64-bit integers and 96-bit decimals hold; bigger literals are refused
(also keeping a hostile kind string from making huge numbers or strings)."""
_NUMBER = re.compile(
    r"(?P<digits>[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?)(?P<suffix>f|dec)?"
    r"(?![A-Za-z0-9_])"
)
_STRING_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "0": "\0",
}


class _Parser:
    """Recursive descent over the kind text; one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, message: str, position: int | None = None) -> KindSyntaxError:
        return KindSyntaxError(message, self.text, self.pos if position is None else position)

    def parse(self) -> Kind:
        kind = self.kind()
        self.skip_space()
        if self.pos < len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return kind

    # Characters and words

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def eat(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.eat(char):
            found = self.peek()
            raise self.error(
                f"expected {char!r}, found {found!r}" if found else f"expected {char!r}"
            )

    def word(self) -> str | None:
        self.skip_space()
        match = _WORD.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    # Grammar rules

    def kind(self) -> Kind:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("kind nested too deeply")
        members = [self.member()]
        while self.eat("|"):
            members.append(self.member())
        self.depth -= 1
        return union_of(members)

    def member(self) -> Kind:
        first = self.peek()
        if first in ("'", '"'):
            return literal(self.string())
        if first == "{":
            return self.object_literal()
        if first == "[":
            return self.array_literal()
        if first.isdigit() or first in ("+", "-"):
            return self.number()
        start = self.pos
        word = self.word()
        if word is None:
            raise self.error(f"expected a kind, found {first!r}" if first else "expected a kind")
        return self.keyword(word.lower(), start)

    def keyword(self, name: str, start: int) -> Kind:
        if name in _SCALARS:
            return Scalar(cast(ScalarName, name))
        match name:
            case "any":
                return AnyKind()
            case "none":
                return NoneKind()
            case "null":
                return NullKind()
            case "true" | "false":
                return literal(name == "true")
            case "nan" | "infinity":
                return literal(float(name))
            case "option":
                self.expect("<")
                inner = self.kind()
                self.expect(">")
                return union_of([NoneKind(), inner])
            case "point":
                return Geometry(("point",))
            case "record":
                return Record(self.names(allow_parentheses=True))
            case "table":
                return TableKind(self.names())
            case "file":
                return File(self.names())
            case "geometry":
                return Geometry(self.geometry_types())
            case "array" | "set":
                item, max_len = self.collection_parameters()
                return Array(item, max_len) if name == "array" else Set(item, max_len)
            case "references":
                return self.references()
        raise self.error(f"unknown kind {name!r}", start)

    def names(self, *, allow_parentheses: bool = False) -> tuple[str, ...]:
        """``<a | b>``, or the 1.x ``(a, b)`` form where allowed; nothing means any."""
        if self.eat("<"):
            close, separator = ">", "|"
        elif allow_parentheses and self.eat("("):
            close, separator = ")", ","
        else:
            return ()
        names = [self.ident()]
        while self.eat(separator):
            names.append(self.ident())
        self.expect(close)
        return tuple(dict.fromkeys(names))

    def geometry_types(self) -> tuple[GeometryType, ...]:
        types: list[GeometryType] = []
        for name in self.names(allow_parentheses=True):
            lowered = name.lower()
            if lowered not in _GEOMETRY_TYPES:
                raise self.error(f"unknown geometry type {name!r}")
            if lowered not in types:
                types.append(cast(GeometryType, lowered))
        return tuple(types)

    def collection_parameters(self) -> tuple[Kind, int | None]:
        if not self.eat("<"):
            return AnyKind(), None
        item = self.kind()
        max_len = None
        if self.eat(","):
            self.skip_space()
            match = _UINT.match(self.text, self.pos)
            if match is None:
                raise self.error("expected a maximum length")
            if len(match.group().lstrip("0")) > 19:
                raise self.error("maximum length out of range")
            self.pos = match.end()
            max_len = int(match.group())
        self.expect(">")
        return item, max_len

    def references(self) -> References:
        if not self.eat("<"):
            return References()
        table = self.ident()
        path = None
        if self.eat(","):
            end = self.text.find(">", self.pos)
            if end == -1:
                raise self.error("expected '>'")
            path = self.text[self.pos : end].strip()
            if not path:
                raise self.error("expected a field path")
            self.pos = end
        self.expect(">")
        return References(table, path)

    def ident(self) -> str:
        """A table or bucket name: bare, in backticks or in ⟨⟩."""
        first = self.peek()
        if first in ("`", "⟨"):
            start = self.pos
            name = self.quoted(first, "`" if first == "`" else "⟩")
            if not name:
                raise self.error("empty name", start)
            return name
        match = _IDENT_WORD.match(self.text, self.pos)
        if match is None:
            raise self.error(f"expected a name, found {first!r}" if first else "expected a name")
        self.pos = match.end()
        return match.group()

    def quoted(self, opening: str, closing: str) -> str:
        """Text between quotes, decoding backslash escapes; the cursor is on ``opening``."""
        start = self.pos
        self.pos += len(opening)
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == closing:
                return "".join(chars)
            if char == "\\":
                chars.append(self.escape())
            else:
                chars.append(char)
        raise self.error("unterminated quoted text", start)

    def escape(self) -> str:
        if self.pos >= len(self.text):
            raise self.error("unterminated escape")
        char = self.text[self.pos]
        self.pos += 1
        if char in _STRING_ESCAPES:
            return _STRING_ESCAPES[char]
        if char == "⟩":
            return char
        if char == "u":
            return self.unicode_escape()
        raise self.error(f"invalid escape \\{char}", self.pos - 2)

    def unicode_escape(self) -> str:
        braced = re.compile(r"\{([0-9A-Fa-f]{1,6})\}").match(self.text, self.pos)
        plain = re.compile(r"[0-9A-Fa-f]{4}").match(self.text, self.pos)
        match = braced or plain
        if match is None:
            raise self.error("invalid unicode escape")
        code = int(match.group(1) if braced else match.group(), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise self.error("invalid unicode escape")
        self.pos = match.end()
        return chr(code)

    def string(self) -> str:
        quote = self.text[self.pos]
        return self.quoted(quote, quote)

    def number(self) -> LiteralValue:
        start = self.pos
        sign = ""
        if self.text[self.pos] in "+-":
            sign = self.text[self.pos]
            self.pos += 1
        word = _WORD.match(self.text, self.pos)
        if word is not None and word.group().lower() in ("infinity", "nan"):
            self.pos = word.end()
            return literal(float(sign + word.group()))
        duration = _DURATION.match(self.text, self.pos)
        if duration is not None and not sign:
            self.pos = duration.end()
            return duration_literal(duration.group())
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.error("invalid number", start)
        self.pos = match.end()
        digits = sign + match.group("digits").replace("_", "")
        suffix = match.group("suffix")
        if suffix == "dec":
            decimal = Decimal(digits)
            if decimal.adjusted() not in _DECIMAL_EXPONENTS:
                raise self.error("decimal literal out of range", start)
            return literal(decimal)
        if suffix == "f" or any(char in digits for char in ".eE"):
            return literal(float(digits))
        if len(digits.lstrip("+-").lstrip("0")) > 19 or int(digits) not in _INT_RANGE:
            raise self.error("integer literal out of range", start)
        return literal(int(digits))

    def object_literal(self) -> ObjectLiteral:
        self.expect("{")
        fields: dict[str, Kind] = {}
        while not self.eat("}"):
            key = self.object_key()
            self.expect(":")
            fields[key] = self.kind()
            if not self.eat(","):
                self.expect("}")
                break
        return ObjectLiteral(tuple(sorted(fields.items())))

    def object_key(self) -> str:
        first = self.peek()
        if first in ("'", '"'):
            return self.string()
        if first in ("`", "⟨"):
            return self.ident()
        if first == ":":
            return ""  # 2.x prints an empty key bare: `{ : int }`
        match = _IDENT_WORD.match(self.text, self.pos)
        if match is None:
            raise self.error(f"expected a field name, found {first!r}" if first else "expected '}'")
        self.pos = match.end()
        return match.group()

    def array_literal(self) -> ArrayLiteral:
        self.expect("[")
        items: list[Kind] = []
        while not self.eat("]"):
            items.append(self.kind())
            if not self.eat(","):
                self.expect("]")
                break
        return ArrayLiteral(tuple(items))


# Rendering -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def render_kind(kind: Kind) -> str:
    """Canonical SurrealQL text for ``kind`` (the 2.x spelling: ``option<T>``, ``1.5f``)."""
    match kind:
        case AnyKind():
            return "any"
        case Scalar(name):
            return name
        case NoneKind():
            return "none"
        case NullKind():
            return "null"
        case Option(inner):
            return f"option<{render_kind(inner)}>"
        case Union(members):
            return " | ".join(render_kind(member) for member in members)
        case Record(tables):
            return _with_names("record", tables)
        case TableKind(tables):
            return _with_names("table", tables)
        case File(buckets):
            return _with_names("file", buckets)
        case Geometry(types):
            return f"geometry<{' | '.join(types)}>" if types else "geometry"
        case Array(item, max_len):
            return _collection("array", item, max_len)
        case Set(item, max_len):
            return _collection("set", item, max_len)
        case References(table, path):
            if table is None:
                return "references"
            suffix = f", {path}" if path is not None else ""
            return f"references<{escape_ident(table)}{suffix}>"
        case LiteralValue(text=text):
            return text
        case ObjectLiteral(fields):
            if not fields:
                return "{  }"
            body = ", ".join(f"{_object_key(key)}: {render_kind(value)}" for key, value in fields)
            return f"{{ {body} }}"
        case ArrayLiteral(items):
            return f"[{', '.join(render_kind(item) for item in items)}]"


def _with_names(keyword: str, names: tuple[str, ...]) -> str:
    if not names:
        return keyword
    return f"{keyword}<{' | '.join(escape_ident(name) for name in names)}>"


def _collection(keyword: str, item: Kind, max_len: int | None) -> str:
    if max_len is not None:
        return f"{keyword}<{render_kind(item)}, {max_len}>"
    if isinstance(item, AnyKind):
        return keyword
    return f"{keyword}<{render_kind(item)}>"


def _object_key(key: str) -> str:
    if _WORD.fullmatch(key):
        return key
    return '"' + _escape_string_body(key, '"') + '"'


def _quote_string(value: str) -> str:
    """Quote as the engine does: single quotes unless the text holds one."""
    quote = '"' if "'" in value else "'"
    return quote + _escape_string_body(value, quote) + quote


def _escape_string_body(value: str, quote: str) -> str:
    named = {"\\": "\\\\", quote: "\\" + quote, "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    named |= {"\b": "\\b", "\f": "\\f"}
    out: list[str] = []
    for char in value:
        if char in named:
            out.append(named[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return "".join(out)


def _excerpt(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, shortened when long."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _plain_number(value: Decimal) -> str:
    """Positional notation without trailing zeros, as the engine prints numbers."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return _plain_number(Decimal(repr(value))) + "f"
