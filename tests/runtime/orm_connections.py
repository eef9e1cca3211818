"""What the `orm` fixture (tests/runtime/conftest.py) hands to a test."""

from __future__ import annotations

from dataclasses import dataclass

from surreal_gen.runtime.connection import Connection
from tests.fixtures.server import SurrealServer

TRANSPORTS = ("embedded-2", "embedded-3", "ws", "http")
"""Embedded 2.x and 3.x engines (`mem://`), then WebSocket and HTTP to the test server."""


@dataclass(frozen=True)
class OrmTarget:
    """Where the test's default connection points."""

    transport: str
    url: str
    user: str
    password: str
    namespace: str
    database: str
    connection: Connection
    server: SurrealServer | None
    """The test server for the ws/http transports; None for the embedded engines."""
