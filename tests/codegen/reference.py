"""Helpers shared by the code generator tests: the reference schema read from real engines."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from surreal_gen.codegen.introspect import (
    EMBEDDED_URL,
    Introspection,
    SchemaFile,
    TableFilter,
    read_schema,
)
from surreal_gen.runtime.connection import ConnectionConfig

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "schema"
GENERATED_DIR = REPO / "generated"

ENGINE_URLS = {"2.x": EMBEDDED_URL + "?engine=2", "3.x": EMBEDDED_URL + "?engine=3"}
"""The two embedded engines: 2.x (`surrealdb` wheel) and 3.x (`surrealdb-embedded` wheel)."""


def reference_files() -> list[SchemaFile]:
    """The reference schema, as the CLI reads it (sorted by file name)."""
    return [
        SchemaFile(f"schema/{path.name}", path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.surql"))
    ]


def read_files(
    files: list[SchemaFile], engine: str = "2.x", *, strict: bool = False
) -> Introspection:
    """Apply ``files`` to a fresh embedded engine and introspect it."""
    config = ConnectionConfig(url=ENGINE_URLS[engine], namespace="test", database="test")
    return asyncio.run(read_schema(config, files=files, strict=strict, tables=TableFilter()))


@cache
def reference(engine: str) -> Introspection:
    """The reference schema read back from ``engine`` (cached: the engines are deterministic)."""
    return read_files(reference_files(), engine)
