"""Models and connections shared by the real-time tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from surreal_gen.runtime import BaseSurrealModel, SurrealConfigDict, SurrealDBConnectionManager
from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.types import RecordID

if TYPE_CHECKING:
    from tests.fixtures.server import SurrealDatabase


class Item(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="item")

    id: RecordID[Literal["item"]] | None = None
    n: int
    room: str = "general"
    tags: list[str] = Field(default_factory=list)


class Other(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="other")

    id: RecordID[Literal["other"]] | None = None
    n: int


@asynccontextmanager
async def connection(url: str, **options: Any) -> AsyncIterator[tuple[str, Connection]]:
    """A named connection of its own; yields (name, connection), closed afterwards."""
    name = f"rt-{uuid.uuid4().hex[:8]}"
    conn = SurrealDBConnectionManager.set_connection(url, name=name, **options)
    try:
        yield name, conn
    finally:
        await SurrealDBConnectionManager.close_connection(name)


def database_connection(
    database: SurrealDatabase, transport: Literal["ws", "http"]
) -> AbstractAsyncContextManager[tuple[str, Connection]]:
    """``connection`` to the test database over WebSocket or HTTP, signed in."""
    server = database.server
    return connection(
        server.ws_url if transport == "ws" else server.http_url,
        user=server.user,
        password=server.password,
        namespace=database.namespace,
        database=database.database,
    )


class Note(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="note")

    id: RecordID[Literal["note"]] | None = None
    text: str
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, int] = Field(default_factory=dict)
