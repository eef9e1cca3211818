"""The official `surrealdb` SDK as the benchmarks' baseline client and schema loader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

NAMESPACE = "bench"
DATABASE = "bench"
ROOT_USER = "root"
ROOT_PASS = "root"


@asynccontextmanager
async def official(url: str = "mem://", database: str = DATABASE) -> AsyncIterator[Any]:
    """An official SDK connection, signed in as root (not for embedded), using bench/`database`."""
    from surrealdb import AsyncSurreal  # imported here: codegen children must stay light

    db: Any = AsyncSurreal(url)
    await db.connect()
    try:
        if not url.startswith(("mem://", "memory", "surrealkv://", "file://")):
            await db.signin({"username": ROOT_USER, "password": ROOT_PASS})
        await db.use(NAMESPACE, database)
        yield db
    finally:
        await db.close()


async def query_all(db: Any, sql: str, variables: dict[str, Any] | None = None) -> list[Any]:
    """Run `sql` and return every statement's result; raise on the first ERR."""
    response = await db.query_raw(sql, variables or {})
    if "error" in response:
        raise RuntimeError(f"query failed: {response['error']}")
    results = []
    for index, statement in enumerate(response["result"]):
        if statement.get("status") == "ERR":
            raise RuntimeError(f"statement {index} failed: {statement['result']}")
        results.append(statement.get("result"))
    return results
