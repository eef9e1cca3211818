"""`QuerySet[T]`: immutable, chainable queries over one model's table.

Every call returns a new QuerySet; nothing runs until an awaited method (`all`, `first`,
`get`, `count`, `exists`, `update`, `delete`, `delete_table`). Filters are checked against
the model when they are written: an unknown field, an unknown lookup or a value that does not
fit the field's type is an InvalidQueryError there and then, never a silent `=`. Values are
always bound as query parameters (`$p0`, `$p1`, ...); identifiers go through `escape_ident`.

Lookups (`field__lookup=value`, nested paths as `address__city__startswith`):
exact, gt, gte, lt, lte, in, not_in, contains, containsany, containsall, startswith,
endswith, icontains, isnull. `startswith`, `endswith` and `icontains` compare the field's
text (`<string>`), and a missing field counts as the empty string. A list field takes only
exact, isnull, contains, containsany and containsall. `exact` on a set field takes any
iterable of its elements and matches the set with those elements, in whatever order.

A path through a list of objects (`items__quantity__gt=1`) means "some element matches":
the lookups of one `filter`/`exclude` call that go through the same list must all hold for
one and the same element (`array::len((items ?? [])[WHERE quantity > $p0]) > 0`).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Generic,
    Literal,
    Self,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

from pydantic import BaseModel, StrictBool, TypeAdapter, ValidationError

from surreal_gen.runtime.errors import DoesNotExist, InvalidQueryError, MultipleObjectsReturned
from surreal_gen.runtime.model import (
    BaseSurrealModel,
    FieldPlan,
    database_key,
    query_rows,
    refuse_writes_to_a_view,
    sent_as_is,
    set_clause,
    write_data,
    write_plan,
)
from surreal_gen.runtime.types import NONE, escape_ident

if TYPE_CHECKING:
    from datetime import date

    from surreal_gen.runtime.changes import ChangeFeedStream
    from surreal_gen.runtime.connection import Connection
    from surreal_gen.runtime.live import GapCallback, LiveModelStream

__all__ = ["LIST_LOOKUPS", "LOOKUPS", "QuerySet"]

T = TypeVar("T", bound=BaseSurrealModel)

LOOKUPS: frozenset[str] = frozenset(
    {
        "exact",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "not_in",
        "contains",
        "containsany",
        "containsall",
        "startswith",
        "endswith",
        "icontains",
        "isnull",
    }
)

_OPERATORS: dict[str, str] = {
    "exact": "{path} = {value}",
    "gt": "{path} > {value}",
    "gte": "{path} >= {value}",
    # NONE and NULL sort before every value: a missing value must not pass lt/lte.
    "lt": "({path} != NONE AND {path} != NULL AND {path} < {value})",
    "lte": "({path} != NONE AND {path} != NULL AND {path} <= {value})",
    "in": "{path} IN {value}",
    "not_in": "{path} NOT IN {value}",
    "contains": "{path} CONTAINS {value}",
    "containsany": "{path} CONTAINSANY {value}",
    "containsall": "{path} CONTAINSALL {value}",
    "startswith": "string::starts_with(<string>({path} ?? ''), {value})",
    "endswith": "string::ends_with(<string>({path} ?? ''), {value})",
    "icontains": (
        "string::contains(string::lowercase(<string>({path} ?? '')), string::lowercase({value}))"
    ),
    # `exact` on a set field (not a lookup of its own). `=` on sets depends on order: 2.x keeps
    # a set in insertion order and compares in order, and 3.x turns a set bound in a WHERE
    # clause into an array literal, which never equals a set. Sets hold no duplicates, so
    # holding each other's elements is equality; the value is sent as a list.
    "same_set": "({path} CONTAINSALL {value} AND {value} CONTAINSALL {path})",
}
_IS_NULL = "({path} = NONE OR {path} = NULL)"
_IS_NOT_NULL = "({path} != NONE AND {path} != NULL)"
_SOME_ELEMENT = "array::len(({path} ?? [])[WHERE {condition}]) > 0"
"""True when some element of the list at `path` meets `condition` (a NONE list has none)."""

LIST_LOOKUPS: frozenset[str] = frozenset(
    {"exact", "isnull", "contains", "containsany", "containsall"}
)
"""The lookups a list-valued field takes (comparing or casting a whole list is never meant)."""

# How a lookup's value is checked against the field's annotation T.
_VALUE_SHAPES: dict[str, str] = {
    "exact": "value",  # T
    "gt": "value",
    "gte": "value",
    "lt": "value",
    "lte": "value",
    "in": "values",  # list[T]
    "not_in": "values",
    "contains": "element",  # the element type of T (str for text)
    "containsany": "elements",  # list of the element type
    "containsall": "elements",
    "startswith": "text",  # str
    "endswith": "text",
    "icontains": "text",
    "isnull": "flag",  # bool
}


@dataclass(frozen=True, slots=True)
class _Path:
    """A resolved field path: SurrealQL text, the leaf annotation, and whether it is typed.

    `lists` are the lists of objects the path goes through, each as SurrealQL text relative
    to an element of the one before (the first relative to the record); `text` is the rest,
    relative to an element of the last.
    """

    lists: tuple[str, ...]
    text: str
    annotation: Any
    typed: bool
    is_id: bool


@dataclass(frozen=True, slots=True)
class _Condition:
    lists: tuple[str, ...]
    path: str
    lookup: str
    value: Any


@dataclass(frozen=True, slots=True)
class _Group:
    negated: bool
    conditions: tuple[_Condition, ...]


class QuerySet(Generic[T]):
    """A lazy query over `model`'s table; see the module docstring for lookups."""

    __slots__ = ("_groups", "_limit", "_model", "_offset", "_order", "_using")

    def __init__(self, model: type[T], *, using: str | None = None) -> None:
        self._model = model
        self._groups: tuple[_Group, ...] = ()
        self._order: tuple[str, ...] = ()
        self._limit: int | None = None
        self._offset: int = 0
        self._using = using

    def __repr__(self) -> str:
        clause, _ = self._where_clause()
        return f"<{type(self).__name__} {self._model.__name__} {clause or 'all'}>"

    @property
    def model(self) -> type[T]:
        """The model class whose records this QuerySet returns."""
        return self._model

    # -- chaining (each returns a new QuerySet) -----------------------------------------------

    def filter(self, **lookups: Any) -> Self:
        """Keep records matching every lookup."""
        return self._with_group(lookups, negated=False, method="filter")

    def exclude(self, **lookups: Any) -> Self:
        """Drop records matching every lookup (the lookups are ANDed, then negated)."""
        return self._with_group(lookups, negated=True, method="exclude")

    def order_by(self, *fields: str) -> Self:
        """Sort by these fields (`-field` for descending); replaces an earlier ordering."""
        order: list[str] = []
        for name in fields:
            descending = name.startswith("-")
            path = self._resolve(_split_key(name.removeprefix("-")), "order_by", name)
            if path.lists:
                raise self._error("order_by", name, "cannot order by a path through a list")
            order.append(f"{path.text} {'DESC' if descending else 'ASC'}")
        return self._clone(_order=tuple(order))

    def limit(self, count: int) -> Self:
        """Return at most `count` records."""
        return self._clone(_limit=self._non_negative("limit", count))

    def offset(self, count: int) -> Self:
        """Skip the first `count` records."""
        return self._clone(_offset=self._non_negative("offset", count))

    def using(self, connection: str) -> Self:
        """Run on the named connection instead of the model's."""
        return self._clone(_using=connection)

    # -- reading -----------------------------------------------------------------------------

    async def all(self) -> list[T]:
        """Every matching record, as model instances."""
        sql, variables = self._select_sql()
        rows = await self._rows(sql, variables)
        return self._model.from_db_many(rows)

    async def first(self) -> T | None:
        """The first matching record in this QuerySet's order, or None."""
        found = await self._clone(_limit=self._window(1)).all()
        return found[0] if found else None

    async def get(self, **lookups: Any) -> T:
        """The one record matching; DoesNotExist if none, MultipleObjectsReturned if several."""
        query = self.filter(**lookups) if lookups else self
        found = await query._clone(_limit=query._window(2)).all()
        if not found:
            raise DoesNotExist(f"no {self._model.__name__} matches {query._describe()}")
        if len(found) > 1:
            raise MultipleObjectsReturned(
                f"more than one {self._model.__name__} matches {query._describe()}"
            )
        return found[0]

    async def count(self) -> int:
        """How many records match (limit and offset taken into account)."""
        where, variables = self._where_clause()
        sql = f"SELECT count() FROM {self._table()}{_prefixed(where)} GROUP ALL"
        rows = await self._rows(sql, variables)
        total = int(rows[0]["count"]) if rows else 0
        remaining = max(total - self._offset, 0)
        return remaining if self._limit is None else min(remaining, self._limit)

    async def exists(self) -> bool:
        """Whether at least one record matches."""
        if self._limit == 0:
            return False
        where, variables = self._where_clause()
        sql = f"SELECT id FROM {self._table()}{_prefixed(where)} LIMIT 1 START $start"
        return bool(await self._rows(sql, {**variables, "start": self._offset}))

    # -- writing -----------------------------------------------------------------------------

    async def update(self, **values: Any) -> int:
        """Set these fields on every matching record; return how many were updated.

        Signals are not sent for bulk updates.
        """
        refuse_writes_to_a_view(self._model, "objects().update()")
        self._refuse_window("update")
        assignments, data = set_clause(self._update_data(values))
        where, variables = self._where_clause()
        sql = f"UPDATE {self._table()}{assignments}{_prefixed(where)} RETURN VALUE id"
        return len(await self._rows(sql, {**variables, **data}))

    async def delete(self) -> int:
        """Delete every matching record; return how many were deleted.

        Signals are not sent for bulk deletes.
        """
        refuse_writes_to_a_view(self._model, "objects().delete()")
        self._refuse_window("delete")
        where, variables = self._where_clause()
        sql = f"DELETE {self._table()}{_prefixed(where)} RETURN VALUE $before.id"
        return len(await self._rows(sql, variables))

    async def delete_table(self) -> None:
        """Delete every record of the table; the table and its schema stay."""
        refuse_writes_to_a_view(self._model, "objects().delete_table()")
        if self._groups:
            raise InvalidQueryError(
                f"{self._model.__name__}.objects().delete_table() deletes every record and "
                "takes no filters; use .filter(...).delete() to delete some"
            )
        await self._rows(f"DELETE {self._table()}", {})

    # -- real-time (implemented in runtime.live and runtime.changes) --------------------------

    def live(
        self,
        *,
        diff: bool = False,
        auto_resubscribe: bool = True,
        on_gap: GapCallback | None = None,
        max_buffer: int = 10_000,
        **lookups: Any,
    ) -> LiveModelStream[T]:
        """A live query over the matching records: an async context manager and iterator.

        `on_gap` is called with each gap a reconnect leaves; `max_buffer` bounds the events
        waiting for the consumer (see `LiveModelStream`). `lookups` are extra filters, as for
        `filter`. Ordering, limit and offset have no meaning for a live query and are refused.
        """
        query = self.filter(**lookups) if lookups else self
        if query._order or query._limit is not None or query._offset:
            raise InvalidQueryError(
                f"{self._model.__name__}.objects().live(): a live query cannot use "
                "order_by, limit or offset; remove them"
            )
        from surreal_gen.runtime.live import LiveModelStream

        return LiveModelStream(
            query,
            diff=diff,
            auto_resubscribe=auto_resubscribe,
            on_gap=on_gap,
            max_buffer=max_buffer,
        )

    def changes(
        self,
        *,
        since: int | str | date | None = None,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        until_caught_up: bool = False,
        **lookups: Any,
    ) -> ChangeFeedStream[T]:
        """The table's change feed from `since` (a versionstamp cursor, or a date/datetime).

        `lookups` are extra filters, as for `filter`.
        """
        query = self.filter(**lookups) if lookups else self
        from surreal_gen.runtime.changes import ChangeFeedStream

        return ChangeFeedStream(
            query,
            since=since,
            poll_interval=poll_interval,
            batch_size=batch_size,
            until_caught_up=until_caught_up,
        )

    # -- query text --------------------------------------------------------------------------

    def _where_clause(self) -> tuple[str, dict[str, Any]]:
        """The filters as SurrealQL condition text (no `WHERE` keyword; "" when unfiltered).

        Values are named `$p0`, `$p1`, ... in the returned vars; the live and change-feed
        streams build their statements from this.
        """
        parts: list[str] = []
        variables: dict[str, Any] = {}
        for group in self._groups:
            joined = _conditions_text(group.conditions, 0, variables)
            parts.append(f"!({joined})" if group.negated else f"({joined})")
        return " AND ".join(parts), variables

    def _select_sql(self) -> tuple[str, dict[str, Any]]:
        where, variables = self._where_clause()
        sql = f"SELECT * FROM {self._table()}{_prefixed(where)}"
        if self._order:
            sql += " ORDER BY " + ", ".join(self._order)
        if self._limit is not None:
            sql += " LIMIT $limit"
            variables["limit"] = self._limit
        if self._offset:
            sql += " START $start"
            variables["start"] = self._offset
        return sql, variables

    def _table(self) -> str:
        return escape_ident(self._model.get_table_name())

    def _connection(self) -> Connection:
        return self._model.get_connection(self._using)

    async def _rows(self, sql: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
        table = self._model.get_table_name()
        return await query_rows(self._connection(), sql, variables, table)

    # -- building blocks ---------------------------------------------------------------------

    def _clone(self, **changes: Any) -> Self:
        clone = object.__new__(type(self))
        for slot in QuerySet.__slots__:
            object.__setattr__(clone, slot, changes.get(slot, getattr(self, slot)))
        return clone

    def _with_group(self, lookups: Mapping[str, Any], *, negated: bool, method: str) -> Self:
        if not lookups:
            return self._clone()
        conditions = tuple(self._condition(key, value, method) for key, value in lookups.items())
        return self._clone(_groups=(*self._groups, _Group(negated, conditions)))

    def _condition(self, key: str, value: Any, method: str) -> _Condition:
        parts = _split_key(key)
        lookup = "exact"
        if len(parts) > 1 and parts[-1] in LOOKUPS:
            lookup = parts.pop()
        path = self._resolve(parts, method, key)
        if lookup == "exact" and value is None:
            return _Condition(path.lists, path.text, "isnull", True)
        if lookup not in LIST_LOOKUPS and _is_list(path.annotation):
            raise self._error(
                method,
                key,
                f"{lookup} does not apply to a list; use one of {', '.join(sorted(LIST_LOOKUPS))}",
            )
        checked = self._check_value(path, lookup, value, method, key)
        if lookup == "exact" and _is_set(path.annotation):
            return _Condition(path.lists, path.text, "same_set", list(checked))
        return _Condition(path.lists, path.text, lookup, checked)

    def _resolve(self, parts: list[str], method: str, key: str) -> _Path:
        """Walk `parts` through the model's fields (aliases honoured) into nested models;
        a list field with more parts after it is a list the path goes through."""
        owner: type[BaseModel] | None = self._model
        annotation: Any = Any
        lists: list[str] = []
        segments: list[str] = []
        for depth, part in enumerate(parts):
            if segments and _is_array(annotation):
                lists.append(".".join(segments))
                segments = []
            if not part:
                raise self._error(method, key, "empty path segment")
            if owner is not None:
                found = _fields_by_key(owner).get(part)
                if found is not None:
                    db_key, annotation = found
                elif owner.model_config.get("extra") == "allow":
                    db_key, annotation = part, Any
                else:
                    raise self._error(method, key, _unknown_field(owner, part, depth, parts))
            elif _is_open(annotation):
                db_key, annotation = part, Any
            else:
                parent = "__".join(parts[:depth])
                raise self._error(
                    method,
                    key,
                    f"{parent!r} has no sub-field {part!r} and {part!r} is not a lookup "
                    f"(lookups: {', '.join(sorted(LOOKUPS))})",
                )
            segments.append(escape_ident(db_key))
            owner = _nested_model(annotation)
        is_id = parts == ["id"]
        typed = annotation is not Any and not _is_open(annotation)
        return _Path(tuple(lists), ".".join(segments), annotation, typed, is_id)

    def _check_value(self, path: _Path, lookup: str, value: Any, method: str, key: str) -> Any:
        shape = _VALUE_SHAPES[lookup]
        if shape == "flag":
            adapter: TypeAdapter[Any] | None = _adapter(StrictBool)
        elif path.is_id:
            return self._check_ids(value, shape, method, key)
        elif shape == "text":
            adapter = _adapter(str)
        elif not path.typed:
            adapter = None
        else:
            base = _strip_optional(path.annotation)
            if shape in ("element", "elements"):
                element = _element_type(base)
                if element is None:
                    raise self._error(method, key, f"{lookup} needs a text or list field")
                base = element
            adapter = _adapter(list[base] if shape in ("values", "elements") else base)  # type: ignore[valid-type]
        if adapter is None:
            return _plain(value)
        try:
            checked = adapter.validate_python(value)
            return _plain(checked, None if sent_as_is(path.annotation) else adapter)
        except ValidationError as exc:
            detail = exc.errors(include_url=False)[0]["msg"]
            raise self._error(method, key, f"{detail} (got {value!r})") from None

    def _check_ids(self, value: Any, shape: str, method: str, key: str) -> Any:
        try:
            if shape in ("values", "elements"):
                if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                    raise ValueError(f"expected a list of record ids, got {value!r}")
                return [self._model.to_record_id(item) for item in value]
            if shape == "text":
                return _adapter(str).validate_python(value)
            return self._model.to_record_id(value)
        except (ValueError, ValidationError) as exc:
            raise self._error(method, key, str(exc).splitlines()[0]) from None

    def _update_data(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check `update(**values)` against the model's writable fields; None becomes NONE."""
        if not values:
            raise self._error("update", "", "give at least one field=value")
        model = self._model
        writable: dict[str, FieldPlan] = {}
        for plan in write_plan(model).on_update:
            writable[plan.name] = plan
            writable[plan.key] = plan
        data: dict[str, Any] = {}
        open_model = model.model_config.get("extra") == "allow"
        for key, value in values.items():
            entry = writable.get(key)
            if entry is None and open_model and key not in _fields_by_key(model):
                data[key] = NONE if value is None else _plain(value)
                continue
            if entry is None:
                reason = (
                    "is computed or read-only and cannot be updated"
                    if key in _fields_by_key(model)
                    else f"is not a field of {model.__name__}"
                )
                raise self._error("update", key, f"{key!r} {reason}")
            if value is None:
                data[entry.key] = None if entry.nullable else NONE
                continue
            field = model.model_fields[entry.name]
            adapter = _adapter(
                Annotated[(field.annotation, *field.metadata)]
                if field.metadata
                else field.annotation
            )
            try:
                checked = adapter.validate_python(value)
            except ValidationError as exc:
                detail = exc.errors(include_url=False)[0]["msg"]
                raise self._error("update", key, f"{detail} (got {value!r})") from None
            data[entry.key] = _plain(checked, None if entry.as_is else adapter)
        return data

    def _refuse_window(self, method: str) -> None:
        if self._order or self._limit is not None or self._offset:
            raise InvalidQueryError(
                f"{self._model.__name__}.objects().{method}() cannot be combined with "
                "order_by, limit or offset"
            )

    def _window(self, wanted: int) -> int:
        return wanted if self._limit is None else min(wanted, self._limit)

    def _describe(self) -> str:
        where, variables = self._where_clause()
        if not where:
            return "(no filters)"
        for name, value in sorted(variables.items(), key=lambda item: -len(item[0])):
            where = where.replace(f"${name}", repr(value))
        return where

    def _error(self, method: str, key: str, reason: str) -> InvalidQueryError:
        target = f"{key}=" if key else ""
        return InvalidQueryError(
            f"{self._model.__name__}.objects().{method}({target}...): {reason}"
        )

    def _non_negative(self, method: str, count: int) -> int:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidQueryError(
                f"{self._model.__name__}.objects().{method}({count!r}): "
                "expected a non-negative integer"
            )
        return count


def _split_key(key: str) -> list[str]:
    """`address__city__startswith` -> parts; `from___gte` -> `["from_", "gte"]`.

    pydantic field names cannot start with `_`, so a part that does is the trailing
    underscore of the previous name (generated models rename keywords to `from_`).
    """
    parts = key.split("__")
    merged = [parts[0]]
    for part in parts[1:]:
        if part.startswith("_") and merged[-1]:
            merged[-1] += "_"
            part = part[1:]
        merged.append(part)
    return merged


def _prefixed(where: str) -> str:
    return f" WHERE {where}" if where else ""


def _conditions_text(
    conditions: tuple[_Condition, ...], depth: int, variables: dict[str, Any]
) -> str:
    """The conditions ANDed; those through the same list (at `depth` of their `lists`) share
    one "some element" test, so they must hold for one element together."""
    terms: list[str] = []
    done: set[str] = set()
    for condition in conditions:
        if len(condition.lists) == depth:
            terms.append(_condition_text(condition, variables))
            continue
        path = condition.lists[depth]
        if path in done:
            continue
        done.add(path)
        inner = tuple(c for c in conditions if len(c.lists) > depth and c.lists[depth] == path)
        condition_text = _conditions_text(inner, depth + 1, variables)
        terms.append(_SOME_ELEMENT.format(path=path, condition=condition_text))
    return " AND ".join(terms)


def _condition_text(condition: _Condition, variables: dict[str, Any]) -> str:
    if condition.lookup == "isnull":
        template = _IS_NULL if condition.value else _IS_NOT_NULL
        return template.format(path=condition.path)
    name = f"p{len(variables)}"
    variables[name] = condition.value
    return _OPERATORS[condition.lookup].format(path=condition.path, value=f"${name}")


# -- model introspection (cached per class) ---------------------------------------------------

_field_indexes: dict[type[BaseModel], dict[str, tuple[str, Any]]] = {}
_adapters: dict[Any, TypeAdapter[Any]] = {}


def _fields_by_key(model: type[BaseModel]) -> dict[str, tuple[str, Any]]:
    """Python name and database key of every field -> (database key, annotation)."""
    index = _field_indexes.get(model)
    if index is None:
        index = {}
        for name, field in model.model_fields.items():
            entry = (database_key(name, field), field.annotation)
            index[name] = entry
            index[entry[0]] = entry
        _field_indexes[model] = index
    return index


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    try:
        adapter = _adapters.get(annotation)
    except TypeError:
        return TypeAdapter(annotation)
    if adapter is None:
        adapter = TypeAdapter(annotation)
        _adapters[annotation] = adapter
    return adapter


def _plain(value: Any, adapter: TypeAdapter[Any] | None = None) -> Any:
    """A checked value as the database wants it: models become documents."""
    if isinstance(value, BaseModel):
        return write_data(value, creating=True)
    if isinstance(value, list | tuple) and value and isinstance(value[0], BaseModel):
        return [_plain(item) for item in value]
    if adapter is not None:
        return adapter.dump_python(value, by_alias=True)
    return value


def _strip_optional(annotation: Any) -> Any:
    """`T | None` -> `T` (and Annotated[T, ...] -> T)."""
    if get_origin(annotation) is Annotated:
        return _strip_optional(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return _strip_optional(rest[0])
        return Union[tuple(rest)]  # noqa: UP007 - a runtime-built union
    return annotation


def _element_type(annotation: Any) -> Any:
    """What `contains` looks for: list/set element type, or str for a text field."""
    if annotation is str:
        return str
    origin = get_origin(annotation)
    if origin is Literal:
        return str if all(isinstance(arg, str) for arg in get_args(annotation)) else None
    if origin in (list, set, frozenset, tuple):
        args = get_args(annotation)
        return _strip_optional(args[0]) if args else Any
    return None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a path can step into (through Optional and lists), if any."""
    inner = _strip_optional(annotation)
    if get_origin(inner) in (list, set, frozenset, tuple):
        args = get_args(inner)
        inner = _strip_optional(args[0]) if args else Any
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner
    return None


def _is_list(annotation: Any) -> bool:
    """Whether the value is a list or set, once None is set aside (a tuple, SurrealQL's
    `[int, string]`, is one fixed-shape value: it keeps the value lookups)."""
    return get_origin(_strip_optional(annotation)) in (list, set, frozenset)


def _is_set(annotation: Any) -> bool:
    """Whether the value is a set (`set<T>`), once None is set aside."""
    return get_origin(_strip_optional(annotation)) in (set, frozenset)


def _is_array(annotation: Any) -> bool:
    """Whether the value is a SurrealQL array: a list, a set or a tuple."""
    return _is_list(annotation) or get_origin(_strip_optional(annotation)) is tuple


def _is_open(annotation: Any) -> bool:
    """Whether any sub-path is allowed below a field of this annotation (dicts, Any).

    Lists are looked through: `lines__sku` on `list[dict]` is the `sku` of some line.
    """
    inner = _strip_optional(annotation)
    if inner is Any or inner is object or inner is dict:
        return True
    origin = get_origin(inner)
    if origin in (dict, Mapping):
        return True
    if origin in (Union, types.UnionType):
        return any(_is_open(arg) for arg in get_args(inner))
    if origin in (list, set, frozenset, tuple):
        args = get_args(inner)
        return bool(args) and _is_open(args[0])
    return False


def _unknown_field(owner: type[BaseModel], part: str, depth: int, parts: list[str]) -> str:
    names = ", ".join(sorted(owner.model_fields))
    if depth == 0:
        return f"{owner.__name__} has no field {part!r} (fields: {names})"
    parent = "__".join(parts[:depth])
    return (
        f"{parent!r} ({owner.__name__}) has no field {part!r} and {part!r} is not a lookup "
        f"(fields: {names})"
    )
