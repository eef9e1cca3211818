"""The runtime that generated code imports. Never imports jinja2, click or the code generator.

Names are loaded on first access (PEP 562), so `import surreal_gen.runtime` stays cheap and
an application pays only for the parts it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from surreal_gen.runtime.changes import ChangeFeedStream
    from surreal_gen.runtime.connection import (
        Connection,
        ConnectionEvent,
        LiveNotifications,
        SurrealDBConnectionManager,
    )
    from surreal_gen.runtime.errors import (
        AlreadyExistsError,
        AuthenticationError,
        ChangeFeedError,
        ConfigurationError,
        CursorExpiredError,
        DoesNotExist,
        InvalidQueryError,
        LiveQueryError,
        LiveQueryKilled,
        MultipleObjectsReturned,
        NotFoundError,
        PermissionDeniedError,
        QueryError,
        ReadOnlyModelError,
        RequestTimeoutError,
        RpcError,
        SurrealConnectionError,
        SurrealGenError,
        ValidationFailed,
    )
    from surreal_gen.runtime.events import LiveAction, ModelChangeEvent, StreamGap
    from surreal_gen.runtime.live import LiveModelStream
    from surreal_gen.runtime.model import (
        DB_DEFAULT,
        BaseSurrealModel,
        Computed,
        Nullable,
        ReadOnly,
        SurrealConfigDict,
        db_default,
    )
    from surreal_gen.runtime.queryset import QuerySet
    from surreal_gen.runtime.signals import (
        Signal,
        post_delete,
        post_live_change,
        post_save,
        pre_delete,
        pre_save,
    )
    from surreal_gen.runtime.types import (
        NONE,
        Bound,
        Duration,
        Geometry,
        GeometryCollection,
        GeometryLine,
        GeometryMultiLine,
        GeometryMultiPoint,
        GeometryMultiPolygon,
        GeometryPoint,
        GeometryPolygon,
        NanoDatetime,
        Range,
        RecordID,
        Table,
        escape_ident,
    )

_MODULE_OF: dict[str, str] = {
    **dict.fromkeys(
        (
            "BaseSurrealModel",
            "SurrealConfigDict",
            "Computed",
            "ReadOnly",
            "Nullable",
            "DB_DEFAULT",
            "db_default",
        ),
        "model",
    ),
    "QuerySet": "queryset",
    **dict.fromkeys(
        ("Signal", "pre_save", "post_save", "pre_delete", "post_delete", "post_live_change"),
        "signals",
    ),
    "LiveAction": "events",
    "ModelChangeEvent": "events",
    "StreamGap": "events",
    "LiveModelStream": "live",
    "ChangeFeedStream": "changes",
    **dict.fromkeys(
        ("SurrealDBConnectionManager", "Connection", "ConnectionEvent", "LiveNotifications"),
        "connection",
    ),
    **dict.fromkeys(
        (
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
            "Range",
            "RecordID",
            "Table",
            "escape_ident",
        ),
        "types",
    ),
    **dict.fromkeys(
        (
            "SurrealGenError",
            "ConfigurationError",
            "SurrealConnectionError",
            "RequestTimeoutError",
            "AuthenticationError",
            "RpcError",
            "QueryError",
            "InvalidQueryError",
            "ReadOnlyModelError",
            "NotFoundError",
            "AlreadyExistsError",
            "PermissionDeniedError",
            "ValidationFailed",
            "DoesNotExist",
            "MultipleObjectsReturned",
            "LiveQueryError",
            "LiveQueryKilled",
            "ChangeFeedError",
            "CursorExpiredError",
        ),
        "errors",
    ),
}

__all__ = [
    "DB_DEFAULT",
    "NONE",
    "AlreadyExistsError",
    "AuthenticationError",
    "BaseSurrealModel",
    "Bound",
    "ChangeFeedError",
    "ChangeFeedStream",
    "Computed",
    "ConfigurationError",
    "Connection",
    "ConnectionEvent",
    "CursorExpiredError",
    "DoesNotExist",
    "Duration",
    "Geometry",
    "GeometryCollection",
    "GeometryLine",
    "GeometryMultiLine",
    "GeometryMultiPoint",
    "GeometryMultiPolygon",
    "GeometryPoint",
    "GeometryPolygon",
    "InvalidQueryError",
    "LiveAction",
    "LiveModelStream",
    "LiveNotifications",
    "LiveQueryError",
    "LiveQueryKilled",
    "ModelChangeEvent",
    "MultipleObjectsReturned",
    "NanoDatetime",
    "NotFoundError",
    "Nullable",
    "PermissionDeniedError",
    "QueryError",
    "QuerySet",
    "Range",
    "ReadOnly",
    "ReadOnlyModelError",
    "RecordID",
    "RequestTimeoutError",
    "RpcError",
    "Signal",
    "StreamGap",
    "SurrealConfigDict",
    "SurrealConnectionError",
    "SurrealDBConnectionManager",
    "SurrealGenError",
    "Table",
    "ValidationFailed",
    "db_default",
    "escape_ident",
    "post_delete",
    "post_live_change",
    "post_save",
    "pre_delete",
    "pre_save",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
