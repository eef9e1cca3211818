"""Hand-written models for the hardening tests, shaped as surreal-gen generates them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from surreal_gen.runtime.connection import Connection, SurrealDBConnectionManager
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import RecordID


class Message(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="message")

    id: RecordID[Literal["message"]] | None = None
    text: str
    room: str = "general"
    n: int = 0


@asynccontextmanager
async def named_connection(url: str, **options: Any) -> AsyncIterator[tuple[str, Connection]]:
    """A connection of its own under a fresh name; yields (name, connection), then closes it."""
    name = f"h8-{uuid.uuid4().hex[:8]}"
    connection = SurrealDBConnectionManager.set_connection(url, name=name, **options)
    try:
        yield name, connection
    finally:
        await SurrealDBConnectionManager.close_connection(name)
