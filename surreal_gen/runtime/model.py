"""`BaseSurrealModel`: a pydantic v2 model bound to a SurrealDB table.

Writing follows the NONE semantics of docs/internals.md: an unset optional field is left out,
`None` goes out as NONE (NULL only for `Nullable` fields), `Computed` fields are never
written, `ReadOnly` fields only when the record is created, and a field still holding
`DB_DEFAULT` (declared with `db_default()`) is left for the database to fill in. Updates SET
the fields written, so fields the object does not mention keep their database values (and
DEFAULTs). The record the database returns is taken back into the object, so defaults and
computed values appear after `save()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self, cast, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from surreal_gen.runtime.errors import (
    AlreadyExistsError,
    ConfigurationError,
    DoesNotExist,
    NotFoundError,
    PermissionDeniedError,
    ReadOnlyModelError,
    ValidationFailed,
)
from surreal_gen.runtime.gcpause import gc_paused
from surreal_gen.runtime.signals import post_delete, post_save, pre_delete, pre_save
from surreal_gen.runtime.types import NONE, Geometry, Range, RecordID, escape_ident

if TYPE_CHECKING:
    from surreal_gen.runtime.connection import Connection
    from surreal_gen.runtime.queryset import QuerySet

__all__ = [
    "DB_DEFAULT",
    "BaseSurrealModel",
    "Computed",
    "FieldMarker",
    "Nullable",
    "ReadOnly",
    "SurrealConfigDict",
    "db_default",
]


class SurrealConfigDict(ConfigDict, total=False):
    """pydantic's `ConfigDict` plus the table a model maps to and the connection it uses."""

    table_name: str
    """The SurrealDB table this model reads and writes."""
    connection: str
    """Name of the `SurrealDBConnectionManager` connection to use (default: "default")."""
    read_only: bool
    """The table is a view (`DEFINE TABLE ... AS SELECT`): `save`, `delete` and the QuerySet's
    `update`, `delete` and `delete_table` raise `ReadOnlyModelError` instead of writing."""


@dataclass(frozen=True, slots=True)
class FieldMarker:
    """Metadata for `Annotated[...]` that tells the writer how to treat a field."""

    name: str

    def __repr__(self) -> str:
        return self.name


Computed: Final = FieldMarker("Computed")
"""The database computes this field (VALUE / COMPUTED): it is read, never written."""
ReadOnly: Final = FieldMarker("ReadOnly")
"""READONLY field: written when the record is created, never on update."""
Nullable: Final = FieldMarker("Nullable")
"""The field's kind admits NULL: `None` is written as NULL instead of NONE."""


class _DbDefault:
    """Type of `DB_DEFAULT`; one instance, compared with `is`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DB_DEFAULT"

    def __reduce__(self) -> str:
        return "DB_DEFAULT"

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


DB_DEFAULT: Any = _DbDefault()
"""What a field the database fills in (DEFAULT, VALUE, COMPUTED) holds until the object is
saved and read back; such a field is declared with `db_default()`."""


def db_default() -> Any:
    """The default of a field the database fills in: the field holds `DB_DEFAULT` until the
    object is saved and read back, is left out when it is written, and every dump leaves it
    out meanwhile (pydantic's `exclude_if`), whether through `model_dump`, a `TypeAdapter`
    or a model that holds this one."""
    return Field(default=DB_DEFAULT, exclude_if=_is_db_default)


def _is_db_default(value: object) -> bool:
    return value is DB_DEFAULT


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One written field: its Python name, its database key, whether None means NULL, and
    whether its value is sent as it is (see `sent_as_is`)."""

    name: str
    key: str
    nullable: bool
    as_is: bool


@dataclass(frozen=True, slots=True)
class WritePlan:
    """Which fields a model writes on create and on update, computed once per class."""

    on_create: tuple[FieldPlan, ...]
    on_update: tuple[FieldPlan, ...]
    is_relation: bool
    """The model has `in` and `out` fields: a relation (graph edge) table."""


_write_plans: dict[type[BaseModel], WritePlan] = {}
_list_adapters: dict[type[BaseModel], TypeAdapter[Any]] = {}
_string_id_models: dict[type[BaseModel], bool] = {}


def database_key(name: str, field: Any) -> str:
    """The key a pydantic field has in the database: its serialization alias, else its name."""
    alias = field.serialization_alias or field.alias
    return alias if isinstance(alias, str) else name


def write_plan(model: type[BaseModel]) -> WritePlan:
    """The cached write plan of any pydantic model class (nested models included)."""
    plan = _write_plans.get(model)
    if plan is None:
        create: list[FieldPlan] = []
        update: list[FieldPlan] = []
        for name, field in model.model_fields.items():
            if name == "id" and issubclass(model, BaseSurrealModel):
                continue
            if Computed in field.metadata:
                continue
            entry = FieldPlan(
                name,
                database_key(name, field),
                Nullable in field.metadata,
                sent_as_is(field.annotation),
            )
            create.append(entry)
            if ReadOnly not in field.metadata:
                update.append(entry)
        keys = {database_key(name, field) for name, field in model.model_fields.items()}
        plan = WritePlan(tuple(create), tuple(update), {"in", "out"} <= keys)
        _write_plans[model] = plan
    return plan


def sent_as_is(annotation: Any) -> bool:
    """True when values of ``annotation`` may hold geometries or ranges. These are frozen
    dataclasses, which pydantic dumps as plain dicts (``{"x": 1.0, "y": 2.0}``) that the
    database refuses as a geometry; as they are, they encode to SurrealDB's own CBOR tags."""
    if isinstance(annotation, type) and issubclass(annotation, Geometry | Range):
        return True
    return any(sent_as_is(arg) for arg in get_args(annotation))


def write_data(model: BaseModel, *, creating: bool) -> dict[str, Any]:
    """The document to send for `model`, following the NONE semantics above."""
    plan = write_plan(type(model))
    fields = plan.on_create if creating else plan.on_update
    values = model.__dict__
    fields_set = model.model_fields_set
    data: dict[str, Any] = {}
    plain: set[str] = set()
    for field in fields:
        value = values[field.name]
        if value is None:
            if field.name in fields_set:
                data[field.key] = None if field.nullable else NONE
        elif value is DB_DEFAULT:
            continue
        elif isinstance(value, BaseModel):
            data[field.key] = write_data(value, creating=True)
        elif _is_model_list(value):
            data[field.key] = [write_data(item, creating=True) for item in value]
        elif field.as_is:
            data[field.key] = value
        else:
            plain.add(field.name)
    if plain:
        data.update(BaseModel.model_dump(model, include=plain, by_alias=True))
    extra = model.__pydantic_extra__
    if extra:
        data.update({key: NONE if value is None else value for key, value in extra.items()})
    return data


def set_clause(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """` SET a = $set0, b = $set1` for a document's keys, with those values bound ("" for none).

    SET, not MERGE: MERGE merges objects key by key, so a dict or nested object written
    without a key it had before kept that key. SET replaces each named field's value whole
    and leaves the fields not named alone.
    """
    if not data:
        return "", {}
    names = [f"set{index}" for index in range(len(data))]
    text = ", ".join(
        f"{escape_ident(key)} = ${name}" for key, name in zip(data, names, strict=True)
    )
    return f" SET {text}", dict(zip(names, data.values(), strict=True))


def refuse_writes_to_a_view(model: type[BaseSurrealModel], action: str) -> None:
    """Raise `ReadOnlyModelError` for ``action`` when ``model``'s table is a view. (A function,
    not a method: every attribute of the base class is a name generated fields must avoid.)"""
    if model.model_config.get("read_only"):
        raise ReadOnlyModelError(
            f"{model.__name__}.{action}: {model.get_table_name()} is a view, it is read-only"
        )


def _is_model_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and isinstance(value[0], BaseModel)


def _annotation_mentions(annotation: Any, target: type) -> bool:
    if annotation is target or get_origin(annotation) is target:
        return True
    return any(_annotation_mentions(arg, target) for arg in get_args(annotation))


class BaseSurrealModel(BaseModel):
    """Base class of every table model: pydantic validation plus save/delete/refresh/get.

    `model_config = SurrealConfigDict(table_name="chat_message")` names the table;
    `connection="name"` picks a named connection (every method also takes `using=`).
    `id` may be declared as `RecordID[...] | None` (generated models) or `str | None`
    (hand-written models; the id is then kept as `table:key` text). Assignments are
    validated, so a value of the wrong type fails where it is set, not in the database.
    """

    model_config: ClassVar[SurrealConfigDict] = SurrealConfigDict(
        populate_by_name=True, defer_build=True, validate_assignment=True
    )

    id: Any = None

    # -- table and connection -----------------------------------------------------------------

    @classmethod
    def get_table_name(cls) -> str:
        """The table from `model_config["table_name"]`; a missing name is a ConfigurationError."""
        name = cls.model_config.get("table_name")
        if not name:
            raise ConfigurationError(
                f"{cls.__name__} has no table: set "
                'model_config = SurrealConfigDict(table_name="...")'
            )
        return name

    @classmethod
    def get_connection(cls, using: str | None = None) -> Connection:
        """The connection named by `using`, else by `model_config["connection"]`, else "default"."""
        # Imported here: defining a model must not load the transports (or asyncio).
        from surreal_gen.runtime.connection import SurrealDBConnectionManager

        name = using or cls.model_config.get("connection") or "default"
        return SurrealDBConnectionManager.get_connection(name)

    @classmethod
    def objects(cls) -> QuerySet[Self]:
        """A QuerySet over this model's table (`.using(name)` picks another connection)."""
        from surreal_gen.runtime.queryset import QuerySet  # queryset imports this module

        return QuerySet(cls)

    # -- ids ----------------------------------------------------------------------------------

    @classmethod
    def to_record_id(cls, value: Any) -> RecordID[str]:
        """A `RecordID` in this model's table from a RecordID, `table:key` text or a bare key."""
        table = cls.get_table_name()
        if isinstance(value, RecordID):
            rid: RecordID[str] = value
        elif isinstance(value, str) and ":" in value:
            try:
                rid = RecordID.parse(value)
            except ValueError as exc:
                raise ValueError(f"{cls.__name__}: {value!r} is not a record id: {exc}") from None
        elif isinstance(value, tuple):
            rid = RecordID(table, list(value))  # an array key, as the database returns it
        elif isinstance(value, str | int | UUID | list | dict) and not isinstance(value, bool):
            rid = RecordID(table, value)
        else:
            # Anything else (a model instance, a Decimal, a datetime...) would go out as a key
            # and fail in the transport or the server, far from the call that passed it.
            raise ValueError(
                f"{cls.__name__}: {_short(value)} is not a record id or key (keys are "
                "str, int, UUID, list or dict)"
            )
        if rid.table != table:
            raise ValueError(f"{cls.__name__}: record {rid} is not in table {table!r}")
        return rid

    # -- hydration ----------------------------------------------------------------------------

    @classmethod
    def from_db(cls, row: Mapping[str, Any]) -> Self:
        """Validate one record read from the database; failures raise ValidationFailed."""
        if cls._keeps_string_ids():
            row = _with_text_id(row)
        try:
            return cls.model_validate(row)
        except ValidationError as exc:
            raise _validation_failed(cls, exc, row.get("id"), batch=None) from None

    @classmethod
    def from_db_many(cls, rows: Sequence[Mapping[str, Any]]) -> list[Self]:
        """Validate many records in one pass through pydantic's `TypeAdapter(list[Model])`,
        with the cyclic garbage collector paused (runtime/gcpause.py says why)."""
        adapter = _list_adapters.get(cls)
        if adapter is None:
            adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]
            _list_adapters[cls] = adapter
        if cls._keeps_string_ids():
            rows = [_with_text_id(row) for row in rows]
        try:
            with gc_paused():
                return cast("list[Self]", adapter.validate_python(rows))
        except ValidationError as exc:
            raise _validation_failed(cls, exc, None, batch=rows) from None

    @classmethod
    def _keeps_string_ids(cls) -> bool:
        """Whether `id` is declared without RecordID (e.g. `str | None`), so ids become text."""
        cached = _string_id_models.get(cls)
        if cached is None:
            annotation = cls.model_fields["id"].annotation
            cached = _annotation_mentions(annotation, str) and not _annotation_mentions(
                annotation, RecordID
            )
            _string_id_models[cls] = cached
        return cached

    def _absorb(self, row: Mapping[str, Any]) -> None:
        """Replace this object's state with a record the database returned."""
        fresh = type(self).from_db(row)
        object.__setattr__(self, "__dict__", fresh.__dict__)
        object.__setattr__(self, "__pydantic_fields_set__", fresh.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_extra__", fresh.__pydantic_extra__)

    # -- persistence --------------------------------------------------------------------------

    async def save(self, *, using: str | None = None) -> Self:
        """Write this object: create the record, or SET its fields when it exists.

        Without an id the record is created and gets one. With an id the record is updated
        if it exists (SET: fields the object leaves out keep their database values, and
        `ReadOnly` fields are not sent) and created otherwise (a second statement, the
        `ReadOnly` fields included). A relation table (a model with `in` and `out` fields)
        is written with INSERT RELATION. The record the database returns is taken back into
        the object. A record that exists but that the user may not update is a
        PermissionDeniedError.
        """
        cls = type(self)
        refuse_writes_to_a_view(cls, "save()")
        await pre_save.send(cls, instance=self)
        if self.id is None:
            rows = await self._create(None, using)
            created = True
        else:
            rid = cls.to_record_id(self.id)
            assignments, update = set_clause(write_data(self, creating=False))
            update["id"] = rid
            rows = await self._query_rows(f"UPDATE $id{assignments}", update, using)
            created = not rows
            if created:
                try:
                    rows = await self._create(rid, using)
                except AlreadyExistsError as exc:
                    # SurrealDB skips a record the user may not update, without an error.
                    raise PermissionDeniedError(
                        f"{cls.__name__}.save(): {rid} exists, but UPDATE matched nothing: the "
                        "table's permissions do not let this user update it (or another "
                        "client created it meanwhile)",
                        kind="NotAllowed",
                    ) from exc
        record = rows[0]
        self._absorb(record)
        await post_save.send(cls, instance=self, created=created)
        return self

    async def _create(self, rid: RecordID[str] | None, using: str | None) -> list[dict[str, Any]]:
        """CREATE the record (INSERT RELATION for a relation table, which refuses CREATE)."""
        cls = type(self)
        table = escape_ident(cls.get_table_name())
        data = write_data(self, creating=True)
        if write_plan(cls).is_relation:
            if rid is not None:
                data["id"] = rid
            return await self._query_rows(
                f"INSERT RELATION INTO {table} $data", {"data": data}, using
            )
        if rid is None:
            return await self._query_rows(f"CREATE {table} CONTENT $data", {"data": data}, using)
        return await self._query_rows("CREATE $id CONTENT $data", {"id": rid, "data": data}, using)

    async def delete(self, *, using: str | None = None) -> None:
        """Delete this record; the object keeps its values (saving it again recreates it)."""
        cls = type(self)
        refuse_writes_to_a_view(cls, "delete()")
        if self.id is None:
            raise ValueError(f"{cls.__name__}.delete(): the object has no id (was it saved?)")
        await pre_delete.send(cls, instance=self)
        await self._query_rows("DELETE $id", {"id": cls.to_record_id(self.id)}, using)
        await post_delete.send(cls, instance=self)

    async def refresh(self, *, using: str | None = None) -> Self:
        """Reload every field from the database."""
        cls = type(self)
        if self.id is None:
            raise ValueError(f"{cls.__name__}.refresh(): the object has no id (was it saved?)")
        rows = await self._query_rows("SELECT * FROM $id", {"id": cls.to_record_id(self.id)}, using)
        if not rows:
            raise DoesNotExist(f"{cls.__name__} {self.id} does not exist")
        self._absorb(rows[0])
        return self

    @classmethod
    async def get(cls, id: Any, *, using: str | None = None) -> Self:
        """The record with this id (RecordID, `table:key` text or bare key); DoesNotExist if none."""
        rid = cls.to_record_id(id)
        rows = await cls._query_rows("SELECT * FROM $id", {"id": rid}, using)
        if not rows:
            raise DoesNotExist(f"{cls.__name__} {rid} does not exist")
        return cls.from_db(rows[0])

    @classmethod
    async def _query_rows(
        cls, sql: str, variables: dict[str, Any], using: str | None
    ) -> list[dict[str, Any]]:
        return await query_rows(cls.get_connection(using), sql, variables, cls.get_table_name())


async def query_rows(
    connection: Connection, sql: str, variables: dict[str, Any], table: str
) -> list[dict[str, Any]]:
    """The rows of a one-statement query on `table`.

    SurrealDB 3.x refuses to read a table that was never written to ("table does not exist")
    where 2.x returns nothing; both read as no rows here.
    """
    try:
        results = await connection.query(sql, variables)
    except NotFoundError as exc:
        if _is_missing_table(exc, table):
            return []
        raise
    return cast("list[dict[str, Any]]", results[0])


def _is_missing_table(exc: NotFoundError, table: str) -> bool:
    details = exc.details
    return (
        isinstance(details, Mapping)
        and details.get("kind") == "Table"
        and isinstance(details.get("details"), Mapping)
        and details["details"].get("name") == table
    )


def _with_text_id(row: Mapping[str, Any]) -> Mapping[str, Any]:
    rid = row.get("id")
    if isinstance(rid, RecordID):
        return {**row, "id": str(rid)}
    return row


def _validation_failed(
    model: type[BaseModel],
    exc: ValidationError,
    record_id: object,
    *,
    batch: Sequence[Mapping[str, Any]] | None,
) -> ValidationFailed:
    """Name the record and the field of the first error, in one line.

    For a batch, the first location item is the row index, which gives the record.
    """
    error = exc.errors(include_url=False)[0]
    location = list(error["loc"])
    if batch is not None and location and isinstance(location[0], int):
        record_id = batch[location[0]].get("id")
        location = location[1:]
    field = ".".join(str(part) for part in location) or None
    where = f"{model.__name__}: " + error["msg"]
    return ValidationFailed(record_id, field, f"{where} (got {_short(error.get('input'))})")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
