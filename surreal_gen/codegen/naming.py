"""Python names for database names: deterministic, collision-free, always valid.

Three kinds of name, each a pure function of the database name and the names already taken:

- ``class_name``: PascalCase (``chat_message`` -> ``ChatMessage``); no singularising, so
  ``status`` and ``statu`` stay apart. A name that would shadow something generated code
  uses (``Decimal``, ``None``, ``Exception``) gets ``Model`` appended.
- ``field_name``: the database name itself whenever Python allows it (case kept, so ``Name``
  and ``name`` stay distinct), else the nearest safe attribute; callers alias the field to the
  database name when the two differ. Reserved words get ``_`` appended (``class_``), names
  pydantic owns (``model_*``) or that cannot start a name (``1st``) get ``field_`` prepended.
- ``module_name``: lower-case ASCII snake_case, safe as a file name on every platform.

A name already in ``taken`` gets ``_2``, ``_3`` ... appended. To make results independent of
the order a caller happens to meet names in, the ``*_names`` helpers sort their input first.

Identifiers are NFKC-normalised because Python normalises identifiers that way when it reads
source: the emitted name must be the name Python sees.

``escape_ident`` (SurrealQL identifiers) belongs to the runtime; it is re-exported here so
the code generator finds every naming rule in one place.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import re
import unicodedata
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

from surreal_gen.runtime.types import escape_ident

__all__ = [
    "DERIVED_CLASS_SUFFIXES",
    "GENERATED_CODE_NAMES",
    "MODEL_ATTRIBUTES",
    "class_name",
    "class_names",
    "escape_ident",
    "field_name",
    "field_names",
    "module_name",
    "module_names",
]

DERIVED_CLASS_SUFFIXES = ("QuerySet", "Filters", "StreamFilters")
"""Generated code names a table's helpers ``<Class>QuerySet``, ``<Class>Filters`` ..."""

_SOFT_KEYWORDS = frozenset({*keyword.softkwlist, "_", "case", "match", "type"})
_KEYWORDS = frozenset(keyword.kwlist) | _SOFT_KEYWORDS

MODEL_ATTRIBUTES = frozenset(
    {
        # pydantic.BaseModel's public names outside ``model_*`` (its deprecated v1 API)
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
        # the runtime's BaseSurrealModel
        "delete",
        "from_db",
        "from_db_many",
        "get",
        "get_connection",
        "get_table_name",
        "objects",
        "refresh",
        "save",
        "to_record_id",
    }
)
"""What generated models inherit besides ``model_*`` (which ``field_name`` avoids by prefix).
Spelled out rather than read from ``dir(BaseSurrealModel)`` so that the code generator does
not import pydantic and the runtime (a tenth of a second); a test checks the two agree."""
_BUILTIN_TYPES = frozenset(
    name for name in dir(builtins) if isinstance(getattr(builtins, name), type)
)
_RESERVED_FIELDS = (_KEYWORDS | MODEL_ATTRIBUTES | _BUILTIN_TYPES) - {"id"}
"""Attribute names a model field must not take. ``id`` is the record id and stays ``id``.
Builtin type names are here because a field named ``str`` would shadow ``str`` in the
annotations of the fields after it."""

GENERATED_CODE_NAMES = frozenset(
    {
        "Annotated",
        "Any",
        "AwareDatetime",
        "BaseModel",
        "BaseSurrealModel",
        "Bound",
        "ChangeFeedStream",
        "ClassVar",
        "Computed",
        "ConfigDict",
        "Decimal",
        "Duration",
        "Field",
        "Geometry",
        "GeometryCollection",
        "GeometryFeature",
        "GeometryLine",
        "GeometryMultiLine",
        "GeometryMultiPoint",
        "GeometryMultiPolygon",
        "GeometryPoint",
        "GeometryPolygon",
        "Literal",
        "LiveAction",
        "LiveModelStream",
        "ModelChangeEvent",
        "NONE",
        "NotRequired",
        "Nullable",
        "Optional",
        "QuerySet",
        "Range",
        "ReadOnly",
        "RecordID",
        "Required",
        "Self",
        "Sequence",
        "SurrealConfigDict",
        "TYPE_CHECKING",
        "Table",
        "TypedDict",
        "UUID",
        "Union",
        "Unpack",
    }
)
"""Names generated modules import or define; no class and no field takes one of them."""
_RESERVED_CLASSES = _KEYWORDS | frozenset(dir(builtins)) | GENERATED_CODE_NAMES

_WINDOWS_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{device}{n}" for device in ("com", "lpt") for n in range(10)}
)
_RESERVED_MODULES = _KEYWORDS | _WINDOWS_DEVICE_NAMES | {"schema"}

_WORDS = re.compile(r"[^\W_]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def class_name(table: str, taken: AbstractSet[str] = frozenset()) -> str:
    """A PascalCase class name for ``table`` such that neither it nor its derived names
    (``<Class>QuerySet`` ...) equal a name in ``taken`` or a derived name of one."""
    return _first_free(_class_name_base(table), lambda candidate: _unoccupied(candidate, taken))


def field_name(db_name: str, taken: AbstractSet[str] = frozenset()) -> str:
    """A safe attribute name for the field ``db_name``, not in ``taken``.

    The caller aliases the field to ``db_name`` when the result differs from it.
    """
    return _first_free(_field_name_base(db_name), lambda candidate: candidate not in taken)


@functools.lru_cache(maxsize=4096)
def _field_name_base(db_name: str) -> str:
    """``field_name`` before collisions: cached, as schemas repeat field names (``id``,
    ``name``, ``created_at``) across their tables."""
    name = _identifier(unicodedata.normalize("NFKC", db_name), replacement="_")
    if not db_name.endswith("_"):
        name = name.rstrip("_")
    name = name.lstrip("_")
    if not name:
        name = "field"
    elif not name.isidentifier() or name.startswith("model_"):
        name = "field_" + name  # starts with a digit or a combining mark, or pydantic's
    if name in _RESERVED_FIELDS:
        name += "_"
    return name


def module_name(table: str, taken: AbstractSet[str] = frozenset()) -> str:
    """A lower-case ASCII snake_case module name for ``table``, not in ``taken`` (compared
    case-insensitively, as file systems may)."""
    return _free_module_name(table, {existing.lower() for existing in taken})


def class_names(tables: Iterable[str], taken: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """``class_name`` for every table, assigned in sorted order so the result is stable.

    Tables whose name looks like a derived name (``user_query_set``) go last, so they never
    push a plain table (``user``) off its natural name.
    """
    ordered = sorted(
        set(tables),
        key=lambda table: (_class_name_base(table).endswith(DERIVED_CLASS_SUFFIXES), table),
    )
    occupied = _occupied(taken)
    result: dict[str, str] = {}
    for table in ordered:
        result[table] = _free_class_name(table, occupied)
        occupied.update(_with_derived(result[table]))
    return result


def field_names(db_names: Iterable[str], taken: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """``field_name`` for every field of one model, assigned in sorted order.

    A name that is already valid as it is wins over one that had to be changed, so a field
    ``in`` next to ``in_`` keeps ``in_`` and ``in`` becomes ``in__2``... never the reverse.
    """
    bases = {name: _field_name_base(name) for name in db_names}
    if len(set(bases.values())) == len(bases) and taken.isdisjoint(bases.values()):
        return bases  # no two collide and none is taken: what the ordering below gives
    ordered = sorted(bases, key=lambda name: (bases[name] != name, name))
    return _assign(ordered, taken, field_name, presorted=True)


def module_names(tables: Iterable[str], taken: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """``module_name`` for every table, assigned in sorted order so the result is stable."""
    return _assign(tables, {existing.lower() for existing in taken}, _free_module_name)


def _assign(
    names: Iterable[str],
    taken: AbstractSet[str],
    make: Callable[[str, AbstractSet[str]], str],
    *,
    presorted: bool = False,
) -> dict[str, str]:
    used = set(taken)
    result: dict[str, str] = {}
    for name in names if presorted else sorted(set(names)):
        result[name] = make(name, used)
        used.add(result[name])
    return result


def _identifier(text: str, replacement: str = "") -> str:
    """``text`` with every character that cannot appear in a Python identifier replaced
    (runs of them by one ``replacement``)."""
    out: list[str] = []
    replaced = False
    for char in text:
        if ("a" + char).isidentifier():
            out.append(char)
            replaced = False
        elif not replaced:
            out.append(replacement)
            replaced = True
    return unicodedata.normalize("NFKC", "".join(out))


def _ascii(char: str) -> str:
    """One character of an NFKD-decomposed name, for a module name: accents dropped, other
    non-ASCII letters and digits spelled as their code point (``日`` -> ``_u65e5_``)."""
    if char.isascii():
        return char
    if unicodedata.combining(char):
        return ""
    return f"_u{ord(char):04x}_" if char.isalnum() else "_"


def _class_name_base(table: str) -> str:
    text = table if table.isascii() else unicodedata.normalize("NFKC", table)
    name = "".join(word[0].upper() + word[1:] for word in _WORDS.findall(text))
    if not name.isascii():  # ASCII words hold letters and digits only
        name = _identifier(name)
    if not name.isidentifier():
        name = "Table" + name  # empty, or starts with a digit or a combining mark
    if name in _RESERVED_CLASSES:
        name += "Model"
    return name


def _free_module_name(table: str, folded_taken: AbstractSet[str]) -> str:
    """``module_name`` given lower-cased taken names (module names are lower-case)."""
    ascii_text = "".join(_ascii(char) for char in unicodedata.normalize("NFKD", table))
    words = [_CAMEL_BOUNDARY.sub("_", word) for word in re.findall(r"[A-Za-z0-9]+", ascii_text)]
    name = "_".join(words).lower() or "table"
    if name[0].isdigit():
        name = "table_" + name
    if name in _RESERVED_MODULES:
        name += "_"
    return _first_free(name, lambda candidate: candidate not in folded_taken)


def _with_derived(name: str) -> tuple[str, ...]:
    return (name, *(name + suffix for suffix in DERIVED_CLASS_SUFFIXES))


def _unoccupied(candidate: str, taken: AbstractSet[str]) -> bool:
    """Whether neither ``candidate`` nor a derived name of it is in ``_occupied(taken)``,
    without building that set (``taken`` may be large)."""
    for name in _with_derived(candidate):
        if name in taken:
            return False
        for suffix in DERIVED_CLASS_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in taken:
                return False
    return True


def _occupied(taken: AbstractSet[str]) -> set[str]:
    return {derived for name in taken for derived in _with_derived(name)}


def _free_class_name(table: str, occupied: AbstractSet[str]) -> str:
    return _first_free(
        _class_name_base(table),
        lambda candidate: not any(name in occupied for name in _with_derived(candidate)),
    )


def _first_free(name: str, is_free: Callable[[str], bool]) -> str:
    if is_free(name):
        return name
    n = 2
    while not is_free(f"{name}_{n}"):
        n += 1
    return f"{name}_{n}"
