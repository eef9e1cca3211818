"""The embedded engine (`mem://`, `surrealkv://PATH`), in-process, speaking the server's RPC.

The 2.x engine comes with the `surrealdb` wheel (the default). `SURREAL_GEN_EMBEDDED=3`, or
`?engine=3` on the URL, picks the 3.x engine of the `surrealdb-embedded` wheel. The engine runs
as root and has no users, so credentials are accepted and not used.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from surreal_gen.runtime.errors import (
    ConfigurationError,
    RpcError,
    SurrealConnectionError,
    SurrealGenError,
    error_from_reply,
)
from surreal_gen.runtime.rpc import Codec, SessionConfig, unknown_namespace_error
from surreal_gen.runtime.transports.base import NotificationHandler, StateHandler

__all__ = ["EmbeddedTransport", "engine_loaded", "engine_module"]

_ENGINE_MODULES = {
    "2": "surrealdb._surrealdb_ext",
    "3": "surrealdb_embedded",
}
_WHEELS = {"2": "surrealdb==2.0.0", "3": "surrealdb-embedded"}


def engine_loaded() -> bool:
    """Whether this process has loaded an embedded engine (either wheel)."""
    return any(name in sys.modules for name in _ENGINE_MODULES.values())


def _engine_choice(url: str) -> tuple[str, str]:
    """Split `?engine=N` off the URL; return the engine URL and the engine major ("2"/"3")."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    hint = query.get("engine", [os.environ.get("SURREAL_GEN_EMBEDDED", "2")])[0]
    if hint not in _ENGINE_MODULES:
        raise ConfigurationError(
            f"unknown embedded engine {hint!r} in {url}: use engine=2 or engine=3 "
            f"(or SURREAL_GEN_EMBEDDED=2/3)"
        )
    return url.split("?", 1)[0], hint


def engine_module(engine: str) -> ModuleType:
    """The engine's extension module.

    The 2.x engine ships inside the official SDK, whose package ``__init__`` imports its
    HTTP and WebSocket clients (aiohttp, requests, websockets: a fifth of a second) that we do
    not use. So its extension is loaded from its file without running that ``__init__``, and
    registered under its own name, which is where the SDK finds it if it is imported later
    (a PyO3 module can be initialised only once per process).
    """
    name = _ENGINE_MODULES[engine]
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    package, _, extension = name.rpartition(".")
    if engine != "2" or package in sys.modules:
        return importlib.import_module(name)
    found = importlib.util.find_spec(package)
    folders = found.submodule_search_locations if found is not None else None
    for folder in folders or ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, extension + suffix)
            if os.path.isfile(path):
                spec = importlib.util.spec_from_file_location(name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
                return module
    return importlib.import_module(name)


class EmbeddedTransport:
    """RPC through `AsyncEmbeddedDB.execute(cbor)`; requests run concurrently in the engine."""

    supports_live = False
    loop_bound = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.codec = Codec()
        self._engine_url, self._engine = _engine_choice(url)
        self._db: Any = None

    def set_handlers(self, on_notification: NotificationHandler, on_state: StateHandler) -> None:
        """The embedded wheels expose no notification channel, so there is nothing to route."""

    async def open(self, session: SessionConfig) -> None:
        try:
            module = engine_module(self._engine)
        except ImportError as exc:
            raise ConfigurationError(
                f"{self.url} needs the embedded engine: pip install {_WHEELS[self._engine]}"
            ) from exc
        try:
            # Constructing the engine already opens the datastore (a surrealkv path may fail).
            db = module.AsyncEmbeddedDB(self._engine_url)
            await db.connect()
        except Exception as exc:  # the wheels raise RuntimeError/OSError with the cause
            raise SurrealConnectionError(f"cannot open {self.url}: {exc}") from exc
        self._db = db
        if session.namespace is not None or session.database is not None:
            try:
                await self.request("use", [session.namespace, session.database])
            except SurrealGenError as exc:
                raise unknown_namespace_error(exc, session) from exc

    async def request(self, method: str, params: list[Any]) -> Any:
        if self._db is None:
            raise SurrealConnectionError(f"{self.url} is closed")
        data = self.codec.request(method, params, self.codec.next_id())
        try:
            raw = await self._db.execute(data)
        except RuntimeError as exc:
            # The 2.x wheel raises RPC errors instead of returning them.
            raise error_from_reply(str(exc)) from None
        except ValueError as exc:
            # Both wheels refuse a request they cannot read (a server answers "Invalid request").
            raise RpcError(f"{method}: {exc}", kind="Validation") from None
        return self.codec.reply(raw).unwrap()

    async def use(self, namespace: str, database: str) -> None:
        await self.request("use", [namespace, database])

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()
