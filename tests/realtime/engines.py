"""Raw access to the two embedded engines, for tests that need exact engine output."""

from __future__ import annotations

import itertools
from typing import Any

import cbor2


class RawEngine:
    """An embedded engine (2.x or 3.x wheel) spoken to with raw CBOR RPC."""

    def __init__(self, major: int) -> None:
        if major == 2:
            from surrealdb._surrealdb_ext import AsyncEmbeddedDB
        else:
            from surrealdb_embedded import AsyncEmbeddedDB
        self.major = major
        self._db = AsyncEmbeddedDB("mem://")
        self._ids = itertools.count(1)

    async def start(self) -> RawEngine:
        await self._db.connect()
        await self.rpc("use", "ns", "db")
        return self

    async def rpc(self, method: str, *params: Any) -> Any:
        request = cbor2.dumps({"id": next(self._ids), "method": method, "params": list(params)})
        reply = cbor2.loads(await self._db.execute(request))
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    async def query(self, sql: str, **variables: Any) -> list[Any]:
        """Results of every statement; an ERR statement raises."""
        results = await self.rpc("query", sql, variables)
        for entry in results:
            if entry["status"] != "OK":
                raise RuntimeError(entry["result"])
        return [entry["result"] for entry in results]

    async def close(self) -> None:
        await self._db.close()
