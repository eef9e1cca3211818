"""SurrealDB values that have no exact Python counterpart, and SurrealQL text escaping.

Every type here is immutable, compares by value, and validates with pydantic: generated
models use them as field annotations. `runtime/cbor.py` maps them to CBOR tags. pydantic is
imported inside the schema hooks only, so the code generator, which uses these types and no
models, does not load it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import tzinfo as tzinfo_type
from decimal import Decimal
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Literal,
    Self,
    SupportsIndex,
    Union,
    get_args,
    get_origin,
    overload,
)

from typing_extensions import TypeVar

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import core_schema

__all__ = [
    "NONE",
    "Bound",
    "Duration",
    "Geometry",
    "GeometryCollection",
    "GeometryLine",
    "GeometryMultiLine",
    "GeometryMultiPoint",
    "GeometryMultiPolygon",
    "GeometryPoint",
    "GeometryPolygon",
    "NanoDatetime",
    "NoneType",
    "Range",
    "RecordID",
    "RecordKey",
    "Table",
    "engine_record_id",
    "escape_ident",
    "surql_literal",
]


class NoneType:
    """The type of `NONE`: SurrealDB's "no value", distinct from NULL (`None`). Compare with `is`."""

    def __repr__(self) -> str:
        return "NONE"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NONE"


NONE = NoneType()
"""Send this to write SurrealDB NONE (CBOR tag 6), e.g. to unset a field (`SET f = NONE`)."""


# ---------------------------------------------------------------------------------------------
# Escaping

_SIMPLE_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RECORD_PART = re.compile(r"[A-Za-z0-9_]+")

# The words SurrealDB 2.3 and 3.2 print escaped when they name a table, plus those that failed
# to parse unescaped in a table or field position on either engine (checked one by one).
_KEYWORDS = frozenset(
    [
        "access",
        "after",
        "all",
        "alter",
        "analyze",
        "before",
        "begin",
        "break",
        "by",
        "cancel",
        "commit",
        "continue",
        "create",
        "define",
        "delete",
        "diff",
        "explain",
        "false",
        "for",
        "from",
        "function",
        "if",
        "info",
        "insert",
        "kill",
        "let",
        "live",
        "none",
        "null",
        "only",
        "option",
        "overwrite",
        "relate",
        "remove",
        "return",
        "select",
        "show",
        "sleep",
        "table",
        "tb",
        "throw",
        "true",
        "update",
        "upsert",
        "use",
        "value",
        "where",
    ]
)


def escape_ident(name: str) -> str:
    """Escape a table or field name for SurrealQL text, as SurrealDB prints it.

    A plain ASCII identifier that is not a keyword is returned as is; anything else is wrapped
    in backticks with backslash and backtick escaped: ``escape_ident("a-b") == "`a-b`"``.
    An empty name is refused: SurrealDB has no empty identifiers.
    """
    if not name:
        raise ValueError("an identifier must not be empty")
    if _SIMPLE_IDENT.fullmatch(name) and name.lower() not in _KEYWORDS:
        return name
    return _backticks(name)


def _backticks(text: str) -> str:
    return "`" + text.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _record_part(text: str) -> str:
    """A record id's string key: raw when ASCII word characters and not all digits."""
    if _RECORD_PART.fullmatch(text) and not text.isdigit():
        return text
    return _backticks(text)


def _quote_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def surql_literal(value: Any) -> str:
    """SurrealQL text for a value, as SurrealDB prints it (used for record keys and messages).

    Queries never splice values into their text; this exists for display and for the
    array/object parts of record ids.
    """
    if value is None:
        return "NULL"
    if value is NONE:
        return "NONE"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _quote_string(value)
    if isinstance(value, Decimal):
        return f"{value}dec"
    if isinstance(value, uuid.UUID):
        return f"u'{value}'"
    if isinstance(value, datetime):
        return f"d'{value.isoformat().replace('+00:00', 'Z')}'"
    if isinstance(value, RecordID | Duration | Range):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(surql_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        fields = ", ".join(
            f"{k if _SIMPLE_IDENT.fullmatch(k) else _double_quote(k)}: {surql_literal(v)}"
            for k, v in value.items()
        )
        return "{ " + fields + " }"
    raise TypeError(f"no SurrealQL literal for {type(value).__name__}")


def _double_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# Record ids and tables


class Table(str):
    """A table name as a value (CBOR tag 7). In a record method's `what`, it means the table."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Table({str.__repr__(self)})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(min_length=1),
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json"),
        )


RecordKey = Union[str, int, list[Any], dict[str, Any], uuid.UUID, "Range"]
# Covariant: a RecordID is immutable, so an id of table "org" is also an id of "author" | "org"
# and of any table (`RecordID[Literal["org"]]` is a `RecordID[Literal["author", "org"]]`).
TableT_co = TypeVar("TableT_co", bound=str, default=str, covariant=True)


class RecordID(Generic[TableT_co]):
    """A record id: `table` plus a key (string, integer, array, object, UUID or range).

    `RecordID[Literal["user", "post"]]` types an id that may only point at those tables;
    pydantic enforces it. `str(rid)` gives SurrealQL text such as ``user:`a b` ``.
    """

    __slots__ = ("id", "table")
    table: str
    id: RecordKey

    def __init__(self, table: TableT_co, id: RecordKey) -> None:
        if not isinstance(table, str) or not table:
            raise ValueError(f"record id table must be a non-empty string, got {table!r}")
        object.__setattr__(self, "table", str(table))
        object.__setattr__(self, "id", id)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("RecordID is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("RecordID is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (RecordID, (self.table, self.id))

    @classmethod
    def parse(cls, text: str) -> RecordID[str]:
        """Parse ``table:key`` as SurrealDB prints it.

        The key may be a plain word, a number (an integer key), ``u'<uuid>'``, text escaped
        with backticks or ⟨⟩, or an array or object as `str()` prints it (``t:[1, 'a']``).
        """
        table, rest = _split_record_text(text)
        return RecordID(table, _parse_record_key(rest, text))

    def __str__(self) -> str:
        key = self.id
        if isinstance(key, str):
            key_text = _record_part(key)
        elif isinstance(key, bool):
            key_text = surql_literal(key)
        elif isinstance(key, int):
            key_text = str(key)
        else:
            key_text = surql_literal(key)
        return f"{escape_ident(self.table)}:{key_text}"

    def __repr__(self) -> str:
        return f"RecordID({self.table!r}, {self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordID):
            return NotImplemented
        return self.table == other.table and type(self.id) is type(other.id) and self.id == other.id

    def __hash__(self) -> int:
        return hash((self.table, _hashable(self.id)))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from pydantic_core import core_schema

        allowed = _allowed_tables(source)

        def validate(value: Any) -> RecordID[Any]:
            if isinstance(value, RecordID):
                rid = value
            elif isinstance(value, str):
                rid = RecordID.parse(value)
            else:
                # pydantic reports ValueError as a validation error; TypeError would escape.
                raise ValueError(f"expected a record id or 'table:key' text, got {value!r}")  # noqa: TRY004
            if allowed is not None and rid.table not in allowed:
                names = ", ".join(sorted(allowed))
                raise ValueError(f"record id {rid} must point to table {names}")
            return rid

        text = core_schema.str_schema(pattern=_record_id_pattern(allowed))
        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=text,
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, return_schema=text, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "format": "surrealdb-record-id"}


def _hashable(key: Any) -> Any:
    """`key` with lists as tuples and objects as frozensets of items, hashing as it compares:
    equal keys (objects in any key order, 1 and 1.0 in an array) hash alike."""
    if isinstance(key, list | tuple):
        return tuple(_hashable(item) for item in key)
    if isinstance(key, Mapping):
        return frozenset((name, _hashable(value)) for name, value in key.items())
    if isinstance(key, Range):
        ends = (key.begin, key.end)
        return tuple(None if end is None else (_hashable(end.value), end.inclusive) for end in ends)
    return key


_new_object = object.__new__
_TABLE_SLOT: Any = RecordID.__dict__["table"]
_KEY_SLOT: Any = RecordID.__dict__["id"]


def engine_record_id(table: str, key: RecordKey) -> RecordID[str]:
    """A `RecordID` the engine sent, built without `__init__`'s checks.

    Decoding builds one per record, and the engine only sends a non-empty table name, so
    the checks would cost time and never fail. Anything else goes through `RecordID(...)`.
    """
    record_id: RecordID[str] = _new_object(RecordID)
    _TABLE_SLOT.__set__(record_id, table)
    _KEY_SLOT.__set__(record_id, key)
    return record_id


def _record_id_pattern(tables: frozenset[str] | None) -> str:
    """A JSON Schema pattern for `table:key` text limited to `tables` (any table if None)."""
    if tables is None:
        return "^.+:.+$"
    forms = {escape_ident(t) for t in tables} | {t for t in tables if _RECORD_PART.fullmatch(t)}
    spellings = sorted(re.escape(form) for form in forms)
    return f"^(?:{'|'.join(spellings)}):.+$"


def _allowed_tables(source: Any) -> frozenset[str] | None:
    """The table names a `RecordID[...]` annotation allows; None means any table."""
    args = get_args(source) if get_origin(source) is RecordID else ()
    if not args:
        return None
    names: set[str] = set()
    pending = [args[0]]
    while pending:
        arg = pending.pop()
        if arg is str or isinstance(arg, TypeVar):
            return None
        origin = get_origin(arg)
        if origin is Literal:
            names.update(str(value) for value in get_args(arg))
        elif origin is Union:
            pending.extend(get_args(arg))
        else:
            raise TypeError(f"RecordID[...] takes Literal table names or str, not {arg!r}")
    return frozenset(names)


def _split_record_text(text: str) -> tuple[str, str]:
    if text[:1] in ("`", "⟨"):
        table, end = _read_escaped(text, 0)
        if text[end : end + 1] != ":":
            raise ValueError(f"invalid record id {text!r}: expected ':' after the table name")
        return table, text[end + 1 :]
    table, colon, rest = text.partition(":")
    if not colon or not table or not rest:
        raise ValueError(f"invalid record id {text!r}: expected 'table:key'")
    if not _RECORD_PART.fullmatch(table):
        raise ValueError(f"invalid record id {text!r}: escape the table name with backticks")
    return table, rest


def _read_escaped(text: str, start: int) -> tuple[str, int]:
    """Read a backtick- or ⟨⟩-escaped part starting at `start`; return it and the end index."""
    close = "`" if text[start] == "`" else "⟩"
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == close:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise ValueError(f"invalid record id {text!r}: unterminated escape")


_INT_KEY = re.compile(r"-?[0-9]+")
_UUID_KEY = re.compile(r"""u(['"])([0-9a-fA-F-]{36})\1""")


def _parse_record_key(key: str, text: str) -> RecordKey:
    if ".." in key and key[:1] not in ("`", "⟨"):
        try:
            return Range.parse(key)
        except ValueError:
            pass  # not a range: the error below says how to escape the key
    if key[:1] in ("[", "{"):
        try:
            value, end = _read_value(key, 0)
        except ValueError as error:
            raise ValueError(f"invalid record id {text!r}: {error}") from None
        if end != len(key):
            raise ValueError(f"invalid record id {text!r}: text after the key")
        return value  # type: ignore[no-any-return]
    if key[:1] in ("`", "⟨"):
        value, end = _read_escaped(key, 0)
        if end != len(key):
            raise ValueError(f"invalid record id {text!r}: text after the escaped key")
        return value
    if _INT_KEY.fullmatch(key):
        return int(key)
    if _RECORD_PART.fullmatch(key):
        return key
    uuid_match = _UUID_KEY.fullmatch(key)
    if uuid_match:
        return uuid.UUID(uuid_match.group(2))
    raise ValueError(
        f"invalid record id {text!r}: escape the key with backticks, e.g. "
        f"{_record_part(text.partition(':')[0])}:{_backticks(key)}"
    )


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?(dec|f)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NESTED_KEY = re.compile(r"-?[A-Za-z0-9_]+")
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None, "none": NONE}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_FRACTION_BEYOND_MICROS = re.compile(r"\.\d{6}(\d{1,3})")


def _read_value(text: str, start: int) -> tuple[Any, int]:
    """Read a value that `surql_literal` prints (an array/object record key or a range end),
    from `start`; return it and the index after it. ValueError when it is not one."""
    i = _skip_space(text, start)
    char = text[i : i + 1]
    if char in ("[", "{"):
        close = "]" if char == "[" else "}"
        items: list[Any] = []
        fields: dict[str, Any] = {}
        i = _skip_space(text, i + 1)
        while text[i : i + 1] != close:
            if char == "{":
                name, i = _read_field_name(text, i)
                i = _expect(text, _skip_space(text, i), ":")
                fields[name], i = _read_value(text, i)
            else:
                item, i = _read_value(text, i)
                items.append(item)
            i = _skip_space(text, i)
            if text[i : i + 1] == ",":
                i = _skip_space(text, i + 1)
            elif text[i : i + 1] != close:
                raise ValueError(f"expected ',' or {close!r} at {i} in {text!r}")
        return (fields if char == "{" else items), i + 1
    if char in ("'", '"'):
        return _read_string(text, i)
    if text[i : i + 2] in ("u'", 'u"'):
        value, end = _read_string(text, i + 1)
        return uuid.UUID(value), end
    if text[i : i + 2] in ("d'", 'd"'):
        value, end = _read_string(text, i + 1)
        parsed = NanoDatetime.fromisoformat(value)
        return (parsed if parsed.nanosecond else datetime.fromisoformat(value)), end
    duration = _DURATION_TEXT.match(text, i)
    if duration:
        return Duration.parse(duration.group()), duration.end()
    number = _NUMBER.match(text, i)
    if number:
        digits, fraction, exponent, suffix = number.group(), *number.groups()
        if suffix == "dec":
            return Decimal(digits[:-3]), number.end()
        if suffix or fraction or exponent:
            return float(digits.removesuffix("f")), number.end()
        return int(digits), number.end()
    word = _WORD.match(text, i)
    if word and word.group().lower() in _WORDS and text[word.end() : word.end() + 1] != ":":
        return _WORDS[word.group().lower()], word.end()
    if word or char in ("`", "⟨"):
        table, end = _read_escaped(text, i) if word is None else (word.group(), word.end())
        end = _expect(text, end, ":")
        key_end = _record_key_end(text, end)
        return RecordID(table, _parse_record_key(text[end:key_end], text)), key_end
    raise ValueError(f"expected a value at {i} in {text!r}")


def _record_key_end(text: str, start: int) -> int:
    """Where a nested record id's key that starts at `start` ends."""
    if text[start : start + 1] in ("[", "{"):
        return _read_value(text, start)[1]
    if text[start : start + 1] in ("`", "⟨"):
        return _read_escaped(text, start)[1]
    if text[start : start + 2] in ("u'", 'u"'):
        return _read_string(text, start + 1)[1]
    match = _NESTED_KEY.match(text, start)
    if not match:
        raise ValueError(f"expected a record key at {start} in {text!r}")
    return match.end()


def _read_field_name(text: str, start: int) -> tuple[str, int]:
    if text[start : start + 1] in ("'", '"'):
        return _read_string(text, start)
    if text[start : start + 1] in ("`", "⟨"):
        return _read_escaped(text, start)
    match = _RECORD_PART.match(text, start)
    if not match:
        raise ValueError(f"expected a field name at {start} in {text!r}")
    return match.group(), match.end()


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise ValueError(f"unterminated string in {text!r}")


def _skip_space(text: str, i: int) -> int:
    while text[i : i + 1].isspace():
        i += 1
    return i


def _expect(text: str, i: int, token: str) -> int:
    if not text.startswith(token, i):
        raise ValueError(f"expected {token!r} at {i} in {text!r}")
    return i + len(token)


# ---------------------------------------------------------------------------------------------
# Datetimes


class NanoDatetime(datetime):
    """A `datetime` that keeps SurrealDB's nanoseconds: `nanosecond` (0 to 999) is the part
    below `microsecond`.

    SurrealDB stores datetimes to the nanosecond, and `time::now()` fills all nine digits;
    `datetime` stops at the microsecond. A value read with a part below the microsecond
    comes back as this subclass, so that writing it back or filtering by it names the same
    instant: truncated, it would match no record, and would count as a change to a
    READONLY field. It compares, hashes, prints (`isoformat`), copies and shifts
    (`+ timedelta`, `astimezone`, `replace`) with its nanoseconds; a difference of two
    datetimes is a `timedelta`, to the microsecond. pydantic's datetime fields keep it as is
    (its JSON output, `model_dump_json`, prints every datetime to the microsecond).
    """

    __slots__ = ("_nanosecond",)
    _nanosecond: int

    def __new__(
        cls,
        year: int,
        month: int,
        day: int,
        hour: int = 0,
        minute: int = 0,
        second: int = 0,
        microsecond: int = 0,
        tzinfo: tzinfo_type | None = None,
        *,
        fold: int = 0,
        nanosecond: int = 0,
    ) -> Self:
        if not 0 <= nanosecond <= 999:
            raise ValueError(f"nanosecond must be in 0..999, got {nanosecond}")
        value = super().__new__(
            cls, year, month, day, hour, minute, second, microsecond, tzinfo, fold=fold
        )
        value._nanosecond = nanosecond
        return value

    @classmethod
    def from_datetime(cls, value: datetime, nanosecond: int = 0) -> Self:
        """``value`` with ``nanosecond`` below its microseconds."""
        return cls(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
            fold=value.fold,
            nanosecond=nanosecond,
        )

    @classmethod
    def fromisoformat(cls, date_string: str) -> Self:
        """Parse ISO text with up to nine fraction digits, as `isoformat` prints them
        (`datetime.fromisoformat` keeps six and drops the nanoseconds)."""
        beyond = _FRACTION_BEYOND_MICROS.search(date_string)
        nanosecond = int(beyond.group(1).ljust(3, "0")) if beyond else 0
        return cls.from_datetime(datetime.fromisoformat(date_string), nanosecond)

    @property
    def nanosecond(self) -> int:
        return self._nanosecond

    def replace(self, *args: Any, nanosecond: int | None = None, **changes: Any) -> Self:
        changed = super().replace(*args, **changes)
        return self.from_datetime(changed, self._nanosecond if nanosecond is None else nanosecond)

    def astimezone(self, tz: tzinfo_type | None = None) -> Self:
        return self.from_datetime(super().astimezone(tz), self._nanosecond)

    def __add__(self, other: timedelta) -> Self:
        shifted = super().__add__(other)
        if not isinstance(shifted, datetime):
            return NotImplemented
        return self.from_datetime(shifted, self._nanosecond)

    __radd__ = __add__

    @overload  # type: ignore[override]
    def __sub__(self, other: timedelta) -> Self: ...

    @overload
    def __sub__(self, other: datetime) -> timedelta: ...

    def __sub__(self, other: timedelta | datetime) -> Self | timedelta:
        result = super().__sub__(other)  # type: ignore[operator]
        if isinstance(result, datetime):
            return self.from_datetime(result, self._nanosecond)
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, datetime):
            return NotImplemented
        return super().__eq__(other) and self._nanosecond == _nanosecond_of(other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __lt__(self, other: datetime) -> bool:  # type: ignore[override]
        if super().__eq__(other):
            return self._nanosecond < _nanosecond_of(other)
        return super().__lt__(other)

    def __le__(self, other: datetime) -> bool:  # type: ignore[override]
        return self.__lt__(other) or self.__eq__(other)

    def __gt__(self, other: datetime) -> bool:  # type: ignore[override]
        if super().__eq__(other):
            return self._nanosecond > _nanosecond_of(other)
        return super().__gt__(other)

    def __ge__(self, other: datetime) -> bool:  # type: ignore[override]
        return self.__gt__(other) or self.__eq__(other)

    def __hash__(self) -> int:
        # equal to a plain datetime's hash when there are no nanoseconds, as the values are
        whole = super().__hash__()
        return hash((whole, self._nanosecond)) if self._nanosecond else whole

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        if timespec != "auto" or not self._nanosecond:
            return super().isoformat(sep, timespec)
        text = super().isoformat(sep, "microseconds")
        end = len("YYYY-MM-DD") + len(sep) + len("HH:MM:SS.ffffff")
        return f"{text[:end]}{self._nanosecond:03d}{text[end:]}"

    def __str__(self) -> str:
        return self.isoformat(" ")

    def __repr__(self) -> str:
        text = super().__repr__()
        return f"{text[:-1]}, nanosecond={self._nanosecond})" if self._nanosecond else text

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        whole = datetime(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.microsecond,
            self.tzinfo,
            fold=self.fold,
        )
        return (type(self).from_datetime, (whole, self._nanosecond))


def _nanosecond_of(value: datetime) -> int:
    return value.nanosecond if isinstance(value, NanoDatetime) else 0


# ---------------------------------------------------------------------------------------------
# Durations

_NANOS_PER_SECOND = 1_000_000_000
_UNIT_NANOS = {
    "y": 365 * 86_400 * _NANOS_PER_SECOND,
    "w": 7 * 86_400 * _NANOS_PER_SECOND,
    "d": 86_400 * _NANOS_PER_SECOND,
    "h": 3_600 * _NANOS_PER_SECOND,
    "m": 60 * _NANOS_PER_SECOND,
    "s": _NANOS_PER_SECOND,
    "ms": 1_000_000,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ns": 1,
}
_PRINT_UNITS = ("y", "w", "d", "h", "m", "s", "ms", "µs", "ns")
_DURATION_PART = re.compile(r"([0-9]+)(ns|us|µs|μs|ms|s|m|h|d|w|y)")
_DURATION_TEXT = re.compile(r"(?:[0-9]+(?:ns|us|µs|μs|ms|s|m|h|d|w|y))+(?![A-Za-z0-9_])")


class Duration:
    """A SurrealDB duration, lossless: whole `seconds` plus `nanoseconds` (0 to 999,999,999).

    SurrealDB durations are never negative. `timedelta` keeps only microseconds, so
    `to_timedelta()` drops sub-microsecond digits; keep the `Duration` to round-trip exactly.
    """

    __slots__ = ("nanoseconds", "seconds")
    seconds: int
    nanoseconds: int

    def __init__(self, seconds: int = 0, nanoseconds: int = 0) -> None:
        # a float would print as '1.0s500.0ms', which is no SurrealQL, and lose digits
        if not isinstance(seconds, int) or not isinstance(nanoseconds, int):
            raise TypeError(
                f"Duration takes whole seconds and nanoseconds, got {seconds!r}, {nanoseconds!r}:"
                " use Duration.parse('1s500ms') or Duration.from_timedelta(...)"
            )
        total = seconds * _NANOS_PER_SECOND + nanoseconds
        if total < 0:
            raise ValueError(f"a duration cannot be negative: {seconds}s {nanoseconds}ns")
        secs, nanos = divmod(total, _NANOS_PER_SECOND)
        object.__setattr__(self, "seconds", secs)
        object.__setattr__(self, "nanoseconds", nanos)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Duration is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Duration, (self.seconds, self.nanoseconds))

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse SurrealQL duration text such as ``1h30m`` or ``1y2w3d4h5m6s7ms8µs9ns``."""
        position = 0
        total = 0
        for match in _DURATION_PART.finditer(text):
            if match.start() != position:
                break
            total += int(match.group(1)) * _UNIT_NANOS[match.group(2)]
            position = match.end()
        if position != len(text) or not text:
            raise ValueError(f"invalid duration {text!r}: expected e.g. '1h30m' or '500ms'")
        return cls(0, total)

    @classmethod
    def from_timedelta(cls, value: timedelta) -> Duration:
        return cls(value.days * 86_400 + value.seconds, value.microseconds * 1_000)

    def to_timedelta(self) -> timedelta:
        return timedelta(seconds=self.seconds, microseconds=self.nanoseconds // 1_000)

    @property
    def total_nanoseconds(self) -> int:
        return self.seconds * _NANOS_PER_SECOND + self.nanoseconds

    def __str__(self) -> str:
        remaining = self.total_nanoseconds
        if remaining == 0:
            return "0ns"
        parts: list[str] = []
        for unit in _PRINT_UNITS:
            count, remaining = divmod(remaining, _UNIT_NANOS[unit])
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"Duration.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Duration):
            return self.total_nanoseconds == other.total_nanoseconds
        return NotImplemented

    # NotImplemented for other types, so that Python raises TypeError (as for timedelta)
    def __lt__(self, other: Duration) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.total_nanoseconds < other.total_nanoseconds

    def __le__(self, other: Duration) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.total_nanoseconds <= other.total_nanoseconds

    def __gt__(self, other: Duration) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.total_nanoseconds > other.total_nanoseconds

    def __ge__(self, other: Duration) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.total_nanoseconds >= other.total_nanoseconds

    def __hash__(self) -> int:
        return hash(self.total_nanoseconds)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from pydantic_core import core_schema

        def validate(value: Any) -> Duration:
            if isinstance(value, Duration):
                return value
            if isinstance(value, timedelta):
                return cls.from_timedelta(value)
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError(f"expected a duration, timedelta or text like '1h30m', got {value!r}")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "surrealdb-duration"}


# ---------------------------------------------------------------------------------------------
# Geometry (GeoJSON-compatible; x is longitude, y latitude)


class Geometry:
    """Base of the geometry types. As an annotation it accepts any of them (or GeoJSON)."""

    __slots__ = ()
    geojson_type: ClassVar[str] = ""

    def to_geojson(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_geojson(cls, data: Mapping[str, Any]) -> Geometry:
        """Build from a GeoJSON geometry dict; on a subclass, the type must match it."""
        kind = data.get("type")
        target = _GEOMETRY_BY_GEOJSON.get(kind) if isinstance(kind, str) else None
        if target is None:
            raise ValueError(f"unknown GeoJSON geometry type {kind!r}")
        if cls is not Geometry and target is not cls:
            raise ValueError(f"expected GeoJSON type {cls.geojson_type!r}, got {kind!r}")
        return target._from_geojson_body(data)

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> Geometry:
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from pydantic_core import core_schema

        def validate(value: Any) -> Geometry:
            if isinstance(value, cls):
                return value
            if isinstance(value, Mapping):
                return cls.from_geojson(value)
            raise ValueError(f"expected a {cls.__name__} or a GeoJSON dict, got {value!r}")

        # GeoJSON in Python mode too: pydantic would dump these dataclasses as their fields
        # ({"x": 1.0, "y": 2.0}), which do not validate back and cannot tell a line from a
        # multipoint. The runtime sends geometries to the database as they are (sent_as_is).
        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.to_geojson()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "object", "format": "geojson"}


@dataclass(frozen=True, slots=True)
class GeometryPoint(Geometry):
    x: float
    y: float
    geojson_type: ClassVar[str] = "Point"

    @property
    def coordinates(self) -> tuple[float, float]:
        return (self.x, self.y)

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [self.x, self.y]}

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryPoint:
        return _point(data["coordinates"])


def _point(coordinates: Any) -> GeometryPoint:
    x, y = coordinates
    return GeometryPoint(float(x), float(y))


@dataclass(frozen=True, slots=True)
class GeometryLine(Geometry):
    points: tuple[GeometryPoint, ...]
    geojson_type: ClassVar[str] = "LineString"

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "LineString", "coordinates": _line_coordinates(self)}

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryLine:
        return _line(data["coordinates"])


def _line(coordinates: Any) -> GeometryLine:
    return GeometryLine(tuple(_point(point) for point in coordinates))


def _line_coordinates(line: GeometryLine) -> list[list[float]]:
    return [[point.x, point.y] for point in line.points]


@dataclass(frozen=True, slots=True)
class GeometryPolygon(Geometry):
    """The first ring is the exterior; the others are holes."""

    rings: tuple[GeometryLine, ...]
    geojson_type: ClassVar[str] = "Polygon"

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "Polygon", "coordinates": _polygon_coordinates(self)}

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryPolygon:
        return _polygon(data["coordinates"])


def _polygon(coordinates: Any) -> GeometryPolygon:
    return GeometryPolygon(tuple(_line(ring) for ring in coordinates))


def _polygon_coordinates(polygon: GeometryPolygon) -> list[list[list[float]]]:
    return [_line_coordinates(ring) for ring in polygon.rings]


@dataclass(frozen=True, slots=True)
class GeometryMultiPoint(Geometry):
    points: tuple[GeometryPoint, ...]
    geojson_type: ClassVar[str] = "MultiPoint"

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "MultiPoint", "coordinates": [[p.x, p.y] for p in self.points]}

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryMultiPoint:
        return GeometryMultiPoint(tuple(_point(point) for point in data["coordinates"]))


@dataclass(frozen=True, slots=True)
class GeometryMultiLine(Geometry):
    lines: tuple[GeometryLine, ...]
    geojson_type: ClassVar[str] = "MultiLineString"

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "MultiLineString",
            "coordinates": [_line_coordinates(line) for line in self.lines],
        }

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryMultiLine:
        return GeometryMultiLine(tuple(_line(line) for line in data["coordinates"]))


@dataclass(frozen=True, slots=True)
class GeometryMultiPolygon(Geometry):
    polygons: tuple[GeometryPolygon, ...]
    geojson_type: ClassVar[str] = "MultiPolygon"

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "MultiPolygon",
            "coordinates": [_polygon_coordinates(polygon) for polygon in self.polygons],
        }

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryMultiPolygon:
        return GeometryMultiPolygon(tuple(_polygon(polygon) for polygon in data["coordinates"]))


@dataclass(frozen=True, slots=True)
class GeometryCollection(Geometry):
    geometries: tuple[Geometry, ...]
    geojson_type: ClassVar[str] = "GeometryCollection"

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "GeometryCollection",
            "geometries": [geometry.to_geojson() for geometry in self.geometries],
        }

    @classmethod
    def _from_geojson_body(cls, data: Mapping[str, Any]) -> GeometryCollection:
        return GeometryCollection(
            tuple(Geometry.from_geojson(geometry) for geometry in data["geometries"])
        )


_GEOMETRY_BY_GEOJSON: dict[str, type[Geometry]] = {
    cls.geojson_type: cls
    for cls in (
        GeometryPoint,
        GeometryLine,
        GeometryPolygon,
        GeometryMultiPoint,
        GeometryMultiLine,
        GeometryMultiPolygon,
        GeometryCollection,
    )
}


# ---------------------------------------------------------------------------------------------
# Ranges


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a `Range`: the value and whether the range includes it."""

    value: Any
    inclusive: bool = True


@dataclass(frozen=True, slots=True)
class Range:
    """A SurrealDB range such as ``1..5`` or ``1>..=5``; a missing end is unbounded."""

    begin: Bound | None
    end: Bound | None

    @classmethod
    def parse(cls, text: str) -> Range:
        """Parse range text as `str()` prints it: ``1..5``, ``'a'>..='z'``, ``..[5]``."""
        try:
            begin: Bound | None = None
            i = _skip_space(text, 0)
            if not text.startswith("..", i):
                value, i = _read_value(text, i)
                begin = Bound(value, inclusive=text[i : i + 1] != ">")
                i += 0 if begin.inclusive else 1
            i = _expect(text, i, "..")
            inclusive = text[i : i + 1] == "="
            i += 1 if inclusive else 0
            end: Bound | None = None
            if text[i:].strip():
                value, i = _read_value(text, i)
                end = Bound(value, inclusive)
            if text[i:].strip():
                raise ValueError(f"text after the range end at {i}")
        except ValueError as error:
            raise ValueError(f"invalid range {text!r}: {error}") from None
        return cls(begin, end)

    def __str__(self) -> str:
        begin = "" if self.begin is None else surql_literal(self.begin.value)
        if self.begin is not None and not self.begin.inclusive:
            begin += ">"
        end = "" if self.end is None else surql_literal(self.end.value)
        if self.end is not None and self.end.inclusive:
            end = "=" + end
        return f"{begin}..{end}"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from pydantic_core import core_schema

        def validate(value: Any) -> Range:
            if isinstance(value, Range):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise ValueError(f"expected a Range or text like '1..5', got {value!r}")

        # Text in Python mode too: pydantic would dump this dataclass as a dict of its fields,
        # which does not validate back. The runtime sends ranges as they are (sent_as_is).
        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "surrealdb-range"}
