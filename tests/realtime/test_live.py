"""Live queries against the loopback test server (SurrealDB 3.x over WebSocket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest

from surreal_gen.runtime import LiveAction, LiveModelStream, ModelChangeEvent
from surreal_gen.runtime.connection import Connection
from tests.fixtures.server import SurrealDatabase
from tests.realtime.models import Item, Note, connection

T = TypeVar("T", Item, Note)
GUARD_S = 60.0
"""An upper bound so a broken stream fails the test instead of hanging it (not a timing check)."""


@pytest.fixture
async def ws(surreal_database: SurrealDatabase) -> AsyncIterator[tuple[str, Connection]]:
    server = surreal_database.server
    async with connection(
        server.ws_url,
        user=server.user,
        password=server.password,
        namespace=surreal_database.namespace,
        database=surreal_database.database,
    ) as named:
        await named[1].query(
            "DEFINE TABLE item CHANGEFEED 1h INCLUDE ORIGINAL; DEFINE TABLE note CHANGEFEED 1h"
        )
        yield named


@pytest.fixture
async def writer(surreal_database: SurrealDatabase) -> AsyncIterator[Connection]:
    """A second connection, over HTTP, so dropping WebSockets does not touch the writes."""
    server = surreal_database.server
    async with connection(
        server.http_url,
        user=server.user,
        password=server.password,
        namespace=surreal_database.namespace,
        database=surreal_database.database,
    ) as (_, conn):
        yield conn


async def take(stream: LiveModelStream[T], count: int) -> list[ModelChangeEvent[T]]:
    async def read() -> list[ModelChangeEvent[T]]:
        return [await anext(stream) for _ in range(count)]

    return await asyncio.wait_for(read(), GUARD_S)


async def test_typed_create_update_delete(ws: tuple[str, Connection], writer: Connection) -> None:
    name, _ = ws
    async with Item.objects().using(name).live() as stream:
        await writer.query("CREATE item:1 SET n = 1; UPDATE item:1 SET n = 2; DELETE item:1")
        events = await take(stream, 3)
    assert [e.action for e in events] == [LiveAction.CREATE, LiveAction.UPDATE, LiveAction.DELETE]
    assert [type(e.instance) for e in events] == [Item, Item, Item]
    assert [e.instance.n for e in events] == [1, 2, 2]
    assert {str(e.record_id) for e in events} == {"item:1"}
    assert all(e.error is None and e.changed_fields is None for e in events)
