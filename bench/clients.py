"""The two clients the request benchmarks compare, behind one small interface.

Both send the same raw RPC: `query` with the same SurrealQL text and bound variables (the SDK's
own `create`/`select` helpers are built on exactly these `query` calls). `official` is the
`surrealdb` SDK, `runtime` is surreal_gen.runtime's Connection.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from bench.engines import NAMESPACE, ROOT_PASS, ROOT_USER, official, query_all

_connection_names = itertools.count()


class Client(Protocol):
    name: str

    def record_id(self, table: str, key: int | str) -> Any: ...

    async def rows(self, sql: str, variables: dict[str, Any]) -> list[Any]:
        """The first statement's result rows."""
        ...

    async def run(self, sql: str) -> None: ...


class OfficialClient:
    name = "official SDK"

    def __init__(self, db: Any) -> None:
        self.db = db

    def record_id(self, table: str, key: int | str) -> Any:
        from surrealdb import RecordID

        return RecordID(table, key)

    async def rows(self, sql: str, variables: dict[str, Any]) -> list[Any]:
        result = await self.db.query(sql, variables)
        return list(result)

    async def run(self, sql: str) -> None:
        await query_all(self.db, sql)


class RuntimeClient:
    name = "surreal_gen.runtime"

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def record_id(self, table: str, key: int | str) -> Any:
        from surreal_gen.runtime import RecordID

        return RecordID(table, key)

    async def rows(self, sql: str, variables: dict[str, Any]) -> list[Any]:
        results = await self.connection.query(sql, variables)
        return list(results[0])

    async def run(self, sql: str) -> None:
        await self.connection.query(sql)


def runtime_missing(*modules: str) -> str:
    """Why the runtime (and these of its modules, e.g. `transports.ws`) cannot be measured, or ''."""
    for module in ("connection", *modules):
        if importlib.util.find_spec(f"surreal_gen.runtime.{module}") is None:
            return f"surreal_gen.runtime.{module} not landed"
    return ""


@asynccontextmanager
async def official_client(url: str, database: str) -> AsyncIterator[OfficialClient]:
    async with official(url, database=database) as db:
        yield OfficialClient(db)


@asynccontextmanager
async def runtime_client(url: str, database: str) -> AsyncIterator[RuntimeClient]:
    from surreal_gen.runtime import SurrealDBConnectionManager

    name = f"bench-{next(_connection_names)}"
    SurrealDBConnectionManager.set_connection(
        url, ROOT_USER, ROOT_PASS, NAMESPACE, database, name=name
    )
    connection = SurrealDBConnectionManager.get_connection(name=name)
    try:
        yield RuntimeClient(connection)
    finally:
        await connection.close()
