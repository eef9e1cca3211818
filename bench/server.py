"""The loopback test server (tests/surreal_server), started with the test fixture's own code."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

FIXTURE_MODULE = "tests.fixtures.server"


def server_missing() -> str:
    """Why the test server cannot be started, or ''."""
    if importlib.util.find_spec(FIXTURE_MODULE) is None:
        return f"{FIXTURE_MODULE} not landed"
    return ""


@contextmanager
def test_server() -> Iterator[str]:
    """A fresh in-memory loopback server (root/root); yields its base URL `http://127.0.0.1:PORT`."""
    from bench.engines import ROOT_PASS, ROOT_USER
    from tests.fixtures.server import ServerProcess, _ensure_npm_packages

    _ensure_npm_packages()
    process = ServerProcess("mem://", ROOT_USER, ROOT_PASS)
    process.start()
    try:
        yield f"http://127.0.0.1:{process.port}"
    finally:
        process.stop()
