"""The events that live queries and change feeds yield."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from surreal_gen.runtime.errors import ValidationFailed
from surreal_gen.runtime.types import RecordID

if TYPE_CHECKING:
    from surreal_gen.runtime.model import BaseSurrealModel

__all__ = ["LiveAction", "ModelChangeEvent", "StreamGap", "build_event", "build_events"]

ModelT = TypeVar("ModelT", bound="BaseSurrealModel")


class LiveAction(StrEnum):
    """What happened to a record."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class ModelChangeEvent(Generic[ModelT]):
    """One change to one record, with the record as a model instance.

    - ``instance``: the record after the change; for DELETE, the record as it was. When the
      stream only knows a deleted record's id (a change feed without INCLUDE ORIGINAL on an
      engine before 3.2), ``instance`` carries just the ``id``.
    - ``error``: set when the record does not fit the model. The stream goes on; ``instance``
      is then built from ``raw`` without validation (``model_construct``), so check ``error``
      before trusting its fields.
    - ``changed_fields``: DIFF live queries only: each changed top-level field and its new
      value (a removed field maps to None). None in other modes.
    - ``raw``: what SurrealDB sent: a notification's result (the record, or for DIFF the
      patch operations), or the change-feed entry (``{update: ...}``, ``{delete: ...}``).
    - ``versionstamp``: change feeds only: the versionstamp of the change set.
    - ``backfilled``: True when a live stream recovered the change from the change feed
      after a reconnect rather than receiving it as a notification.
    """

    action: LiveAction
    instance: ModelT
    record_id: RecordID[str]
    changed_fields: dict[str, Any] | None
    raw: Any
    error: ValidationFailed | None = None
    versionstamp: int | None = None
    backfilled: bool = False


@dataclass(frozen=True, slots=True)
class StreamGap:
    """A live stream missed notifications for a while (a dropped socket, or a full buffer).

    ``recovered`` is True when the table has a change feed and every change of the window
    was replayed from it (``backfilled`` events, duplicates removed); False means the gap
    is real and changes may be lost. ``reason`` says why in one line; ``reconnect`` is the
    stream's reconnect count when the gap was noticed.
    """

    reconnect: int
    recovered: bool
    backfilled: int
    reason: str


def build_event(
    model: type[ModelT],
    action: LiveAction,
    record_id: RecordID[str],
    data: Mapping[str, Any] | None,
    raw: Any,
    *,
    changed_fields: dict[str, Any] | None = None,
    versionstamp: int | None = None,
    backfilled: bool = False,
) -> ModelChangeEvent[ModelT]:
    """Validate ``data`` into ``model``; a record that does not fit gives an event with ``error``.

    ``data`` None means only the id is known (a deleted record never seen whole).
    """
    error: ValidationFailed | None = None
    if data is None:
        instance = _unvalidated(model, {"id": record_id})
    else:
        try:
            instance = model.from_db(data)
        except ValidationFailed as exc:
            error = exc
            instance = _unvalidated(model, data)
    return _new_event(
        action, instance, record_id, changed_fields, raw, error, versionstamp, backfilled
    )


def _unvalidated(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    return model.model_construct(**dict(data))


def build_events(
    model: type[ModelT],
    actions: Sequence[LiveAction],
    record_ids: Sequence[RecordID[str]],
    documents: Sequence[Mapping[str, Any] | None],
    raws: Sequence[Any],
    versionstamps: Sequence[int | None],
) -> list[ModelChangeEvent[ModelT]]:
    """``build_event`` for many changes at once, given column by column: event ``i`` is
    built from item ``i`` of each sequence (no tuple per change to allocate).

    The records are validated in one pass; if any does not fit, each is validated on its
    own so only that one carries the error.
    """
    columns = zip(actions, record_ids, documents, raws, versionstamps, strict=True)
    try:
        instances = iter(model.from_db_many([data for data in documents if data is not None]))
    except ValidationFailed:
        return [
            build_event(model, action, record_id, data, raw, versionstamp=versionstamp)
            for action, record_id, data, raw, versionstamp in columns
        ]
    return [
        _new_event(
            action,
            next(instances) if data is not None else _unvalidated(model, {"id": record_id}),
            record_id,
            None,
            raw,
            None,
            versionstamp,
            False,
        )
        for action, record_id, data, raw, versionstamp in columns
    ]


_new_object = object.__new__


def _slot_setter(name: str) -> Any:
    """The setter of a field's slot: it writes the frozen dataclass's field directly."""
    setter: Any = ModelChangeEvent.__dict__[name].__set__
    return setter


_set_action = _slot_setter("action")
_set_instance = _slot_setter("instance")
_set_record_id = _slot_setter("record_id")
_set_changed_fields = _slot_setter("changed_fields")
_set_raw = _slot_setter("raw")
_set_error = _slot_setter("error")
_set_versionstamp = _slot_setter("versionstamp")
_set_backfilled = _slot_setter("backfilled")


def _new_event(
    action: LiveAction,
    instance: ModelT,
    record_id: RecordID[str],
    changed_fields: dict[str, Any] | None,
    raw: Any,
    error: ValidationFailed | None,
    versionstamp: int | None,
    backfilled: bool,
) -> ModelChangeEvent[ModelT]:
    """``ModelChangeEvent(...)`` with every field given, at half the cost: the frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, and streams
    build one event per change."""
    event: ModelChangeEvent[ModelT] = _new_object(ModelChangeEvent)
    _set_action(event, action)
    _set_instance(event, instance)
    _set_record_id(event, record_id)
    _set_changed_fields(event, changed_fields)
    _set_raw(event, raw)
    _set_error(event, error)
    _set_versionstamp(event, versionstamp)
    _set_backfilled(event, backfilled)
    return event
