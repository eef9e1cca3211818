"""Fixtures for the runtime tests.

`engine` is a connected Connection to a fresh in-memory embedded engine, 2.x then 3.x.
`orm` sets the default connection for one test on each transport in turn: the embedded 2.x
engine, the embedded 3.x engine, and WebSocket and HTTP against the loopback test server
(tests/fixtures/server.py), where each test gets a namespace and database of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from surreal_gen.runtime.connection import Connection, ConnectionConfig, SurrealDBConnectionManager
from tests.fixtures.server import SurrealDatabase, SurrealServer
from tests.runtime.orm_connections import TRANSPORTS, OrmTarget


@pytest.fixture(params=[2, 3], ids=["engine-2", "engine-3"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Connection]:
    """A connected Connection to an in-memory embedded engine of each major version."""
    connection = Connection(
        ConnectionConfig(f"mem://?engine={request.param}", namespace="t", database="t")
    )
    await connection.connect()
    yield connection
    await connection.close()


@pytest.fixture(params=TRANSPORTS)
async def orm(request: pytest.FixtureRequest) -> AsyncIterator[OrmTarget]:
    """Set the default connection for this test's transport; close it afterwards."""
    transport: str = request.param
    server: SurrealServer | None = None
    if transport.startswith("embedded-"):
        url = f"mem://?engine={transport.removeprefix('embedded-')}"
        user, password, namespace, database = "root", "root", "test", "test"
    else:
        target: SurrealDatabase = request.getfixturevalue("surreal_database")
        server = target.server
        url = server.ws_url if transport == "ws" else server.http_url
        user, password = server.user, server.password
        namespace, database = target.namespace, target.database
    connection = SurrealDBConnectionManager.set_connection(url, user, password, namespace, database)
    try:
        yield OrmTarget(transport, url, user, password, namespace, database, connection, server)
    finally:
        await SurrealDBConnectionManager.close_connection()
