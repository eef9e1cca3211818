"""Connections: named configurations, lazy connect, queries, live-notification routing.

`SurrealDBConnectionManager.set_connection(url, user, password, namespace, database)` records
a configuration; `get_connection()` returns its `Connection`, which connects on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, get_args
from urllib.parse import unquote, urlsplit, urlunsplit

from surreal_gen.runtime.errors import (
    ConfigurationError,
    LiveQueryError,
    SurrealConnectionError,
    query_error,
)
from surreal_gen.runtime.rpc import AuthLevel, SessionConfig, engine_major_from_version
from surreal_gen.runtime.transports.base import (
    StateKind,
    Transport,
    check_network_url,
    redact_url,
    split_url,
)

__all__ = [
    "Connection",
    "ConnectionConfig",
    "ConnectionEvent",
    "ConnectionListener",
    "LiveNotifications",
    "SurrealDBConnectionManager",
]

logger = logging.getLogger(__name__)

EMBEDDED_SCHEMES = frozenset({"mem", "surrealkv"})
WEBSOCKET_SCHEMES = frozenset({"ws", "wss"})
HTTP_SCHEMES = frozenset({"http", "https"})
_ALL_SCHEMES = ("mem://", "surrealkv://PATH", "ws://", "wss://", "http://", "https://")

# Notifications for a live id nobody listens to yet are kept briefly: the notification can
# overtake the task that started the live query and is about to subscribe.
_UNCLAIMED_LIMIT = 1024


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything needed to open a connection. `timeout` bounds connect and each request.

    The password and token are left out of the repr, so logs and tracebacks never show them.
    """

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    namespace: str | None = None
    database: str | None = None
    auth_level: AuthLevel = "root"
    token: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    reconnect_attempts: int = 8
    keepalive_interval: float = 5.0

    def __post_init__(self) -> None:
        _check_url(self.url)
        self._take_url_credentials()
        if self.auth_level not in get_args(AuthLevel):
            raise ConfigurationError(
                f"unknown auth_level {self.auth_level!r}: use 'root', 'namespace' or 'database'"
            )
        if self.auth_level in ("namespace", "database") and self.namespace is None:
            raise ConfigurationError(f"a {self.auth_level} user needs the namespace to sign in to")
        if self.auth_level == "database" and self.database is None:
            raise ConfigurationError("a database user needs the database to sign in to")
        for option in ("timeout", "keepalive_interval"):
            if not getattr(self, option) > 0:
                raise ConfigurationError(
                    f"{option} must be positive seconds, got {getattr(self, option)!r}"
                )
        if self.reconnect_attempts < 0:
            raise ConfigurationError(
                f"reconnect_attempts must be 0 or more, got {self.reconnect_attempts!r}"
            )

    def _take_url_credentials(self) -> None:
        """Use the user and password of `ws://user:pass@host` when none are given apart, and
        keep them out of `url`, which error messages and logs show.

        The official SDKs sign in only with explicit credentials, so a URL that carries some
        is either the only place they are given (used, percent-decoded) or a conflict.
        """
        parts = split_url(self.url)
        if self.scheme in EMBEDDED_SCHEMES or "@" not in parts.netloc:
            return
        where = redact_url(self.url)
        if self.user is not None or self.password is not None or self.token is not None:
            raise ConfigurationError(
                f"{where}: credentials are given both in the URL and apart: give them once"
            )
        if not parts.username or parts.password is None:
            raise ConfigurationError(f"{where}: the URL needs both a user and a password")
        host = parts.netloc.rpartition("@")[2]
        url = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "user", unquote(parts.username))
        object.__setattr__(self, "password", unquote(parts.password))

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()

    @property
    def session(self) -> SessionConfig:
        return SessionConfig(
            namespace=self.namespace,
            database=self.database,
            user=self.user,
            password=self.password,
            auth_level=self.auth_level,
            token=self.token,
        )


def _check_url(url: str) -> None:
    if not isinstance(url, str) or "://" not in url:
        shown = redact_url(url) if isinstance(url, str) else url
        raise ConfigurationError(
            f"invalid SurrealDB URL {shown!r}: expected one of {', '.join(_ALL_SCHEMES)}"
        )
    scheme = split_url(url).scheme.lower()
    if scheme not in EMBEDDED_SCHEMES | WEBSOCKET_SCHEMES | HTTP_SCHEMES:
        raise ConfigurationError(
            f"unsupported URL scheme {scheme + '://'!r} in {redact_url(url)}: "
            f"use one of {', '.join(_ALL_SCHEMES)}"
        )
    if scheme in WEBSOCKET_SCHEMES | HTTP_SCHEMES:
        check_network_url(url)
    if scheme == "surrealkv" and not surrealkv_path(url):
        raise ConfigurationError(
            f"{url}: no folder for the store: use surrealkv://PATH (the engine would fill "
            "the current folder)"
        )


def surrealkv_path(url: str) -> str:
    """The store folder of a `surrealkv://PATH[?engine=N]` URL, as the engine reads it."""
    return url.partition("://")[2].partition("?")[0]


def _make_transport(config: ConnectionConfig) -> Transport:
    scheme = config.scheme
    if scheme in EMBEDDED_SCHEMES:
        from surreal_gen.runtime.transports.embedded import EmbeddedTransport

        return EmbeddedTransport(config.url)
    if scheme in WEBSOCKET_SCHEMES:
        from surreal_gen.runtime.transports.ws import WebSocketTransport

        return WebSocketTransport(
            config.url,
            timeout=config.timeout,
            reconnect_attempts=config.reconnect_attempts,
            keepalive_interval=config.keepalive_interval,
        )
    from surreal_gen.runtime.transports.http import HttpTransport

    return HttpTransport(config.url, timeout=config.timeout)


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """What a connection listener receives.

    `kind` is `"disconnected"` (the socket dropped; live queries on it are gone),
    `"reconnected"` (a new socket is signed in and `use` re-issued: re-issue live queries now),
    or `"gave_up"` (the retry budget is spent; `error` says why).
    """

    kind: StateKind
    error: BaseException | None
    reconnects: int


ConnectionListener = Callable[[ConnectionEvent], Awaitable[None] | None]


class _Closed:
    """Marks the end of a notification stream; carries the error that ended it, if any."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class LiveNotifications:
    """The notifications of one live query, as an async iterator of notification maps.

    Each map is `{id, action, record, result}` as the server sends it (values decoded).
    Iteration ends after `close()`; it raises `SurrealConnectionError` (caused by the
    connection's error) when the connection gives up reconnecting, on this and every later call.
    After a reconnect, `retarget(new_id)` points the same iterator at the re-issued query.
    """

    def __init__(self, connection: Connection, live_id: uuid.UUID) -> None:
        self._connection = connection
        self.live_id = live_id
        self._queue: asyncio.Queue[Mapping[str, Any] | _Closed] = asyncio.Queue()

    def retarget(self, new_id: uuid.UUID) -> None:
        self._connection._move_live(self, new_id)

    def close(self) -> None:
        """Stop routing to this iterator (the server-side query is the caller's to KILL)."""
        self._connection._drop_live(self)
        self._queue.put_nowait(_Closed(None))

    def _deliver(self, notification: Mapping[str, Any]) -> None:
        self._queue.put_nowait(notification)

    def _fail(self, error: BaseException) -> None:
        self._queue.put_nowait(_Closed(error))

    def __aiter__(self) -> AsyncIterator[Mapping[str, Any]]:
        return self

    async def __anext__(self) -> Mapping[str, Any]:
        item = await self._queue.get()
        if isinstance(item, _Closed):
            self._queue.put_nowait(item)  # every later call ends the same way
            if item.error is not None:
                # A fresh error per call: raising the same object again would grow its
                # traceback by this call's frames each time.
                raise SurrealConnectionError(str(item.error)) from item.error
            raise StopAsyncIteration
        return item


class Connection:
    """One configured connection. Connects lazily; safe to share between tasks."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.reconnects = 0
        self._transport: Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._engine_major: int | None = None
        self._version: str | None = None
        self._listeners: list[ConnectionListener] = []
        self._live: dict[uuid.UUID, LiveNotifications] = {}
        self._unclaimed: deque[Mapping[str, Any]] = deque(maxlen=_UNCLAIMED_LIMIT)
        self._companion: Connection | None = None
        self._closes = 0
        """How many times close() ran: a connect begun before one must not outlive it."""
        self._closing: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        """Set when the transport's close is done, for a second close() to wait on."""
        self._previous: Connection | None = None
        """The connection this one replaced under its name: closed before this one opens,
        as an embedded store stays locked until then."""

    def __repr__(self) -> str:
        return f"Connection({self.config.url!r}, ns={self.config.namespace!r}, db={self.config.database!r})"

    # -- connecting ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.config.url

    @property
    def connected(self) -> bool:
        return self._transport is not None and self._loop is _running_loop()

    @property
    def engine_major(self) -> int:
        """2 or 3: the engine's major version, known once connected."""
        if self._engine_major is None:
            raise SurrealConnectionError(f"{self.url} is not connected yet: await connect() first")
        return self._engine_major

    @property
    def version(self) -> str:
        """The engine's version text (`surrealdb-3.0.2`), known once connected."""
        if self._version is None:
            raise SurrealConnectionError(f"{self.url} is not connected yet: await connect() first")
        return self._version

    @property
    def supports_live(self) -> bool:
        """Whether live queries work here (WebSocket only)."""
        return self.config.scheme in WEBSOCKET_SCHEMES

    async def connect(self) -> None:
        """Connect, sign in and `use` now (otherwise the first request does it)."""
        await self._ready_transport()

    async def _ready_transport(self) -> Transport:
        loop = asyncio.get_running_loop()
        if self._transport is not None and self._loop is loop:
            return self._transport
        closes = self._closes
        stale = None
        if self._loop is not loop:
            # A connection is bound to its event loop; a new loop (a new test, a new
            # asyncio.run) gets a fresh transport. The old one is closed if this loop can:
            # an embedded store stays locked until then ("already locked" on 3.x).
            stale, self._transport = self._transport, None
            self._connect_lock = asyncio.Lock()
            self._loop = loop
        assert self._connect_lock is not None
        async with self._connect_lock:
            if stale is not None and not stale.loop_bound:
                await stale.close()
            if self._previous is not None:
                previous, self._previous = self._previous, None
                await previous.close()
            if self._transport is None:
                self._check_not_closed_since(closes)
                transport = await self._open_transport()
                if self._closes != closes:
                    await transport.close()
                self._check_not_closed_since(closes)
                self._transport = transport
        return self._transport

    def _check_not_closed_since(self, closes: int) -> None:
        """A request that began connecting before close() fails as one in flight does."""
        if self._closes != closes:
            raise SurrealConnectionError(f"{self.url} was closed")

    async def _open_transport(self) -> Transport:
        transport = _make_transport(self.config)
        transport.set_handlers(self._route_notification, self._on_transport_state)
        try:
            await asyncio.wait_for(transport.open(self.config.session), self.config.timeout)
            version = await transport.request("version", [])
        except TimeoutError:
            await transport.close()
            raise SurrealConnectionError(
                f"cannot reach {self.url}: no answer within {self.config.timeout:g}s"
            ) from None
        except BaseException:
            await transport.close()
            raise
        self._version = str(version)
        self._engine_major = engine_major_from_version(version)
        transport.codec.engine_major = self._engine_major
        return transport

    async def use(self, namespace: str, database: str) -> None:
        """Select another namespace and database, for every later request of this connection
        (also after a reconnect)."""
        transport = await self._ready_transport()
        await transport.use(namespace, database)
        self.config = replace(self.config, namespace=namespace, database=database)

    async def close(self) -> None:
        """Close the transport (and the HTTP companion). Live iterators end."""
        transport, self._transport = self._transport, None
        self._closes += 1
        for live in list(self._live.values()):
            live.close()
        if self._companion is not None and self._companion is not self:
            await self._companion.close()
        if self._previous is not None:
            previous, self._previous = self._previous, None
            await previous.close()
        loop = _running_loop()
        if transport is not None and (self._loop is loop or not transport.loop_bound):
            assert loop is not None
            done = asyncio.Event()
            self._closing = (loop, done)
            try:
                await transport.close()
            finally:
                done.set()
        elif self._closing is not None and self._closing[0] is loop:
            await self._closing[1].wait()

    # -- requests ------------------------------------------------------------------------------

    async def rpc(self, method: str, params: Iterable[Any] = ()) -> Any:
        """Send one RPC request; return its result or raise the mapped error."""
        transport = await self._ready_transport()
        return await transport.request(method, list(params))

    async def query(self, sql: str, vars: Mapping[str, Any] | None = None) -> list[Any]:
        """Run SurrealQL with bound variables; one result per statement.

        Any statement that returned ERR raises `QueryError` (`.statement` is its index).
        On 3.x, BEGIN and COMMIT have their own (None) entries; 2.x leaves them out.
        """
        entries = await self.rpc("query", [sql, dict(vars) if vars else {}])
        results: list[Any] = []
        for index, entry in enumerate(entries):
            if entry.get("status") == "ERR":
                raise query_error(entry, index)
            results.append(entry.get("result"))
        return results

    # -- live notifications --------------------------------------------------------------------

    def live_notifications(self, live_id: uuid.UUID) -> LiveNotifications:
        """Start receiving the notifications of the live query `live_id` (WebSocket only)."""
        if not self.supports_live:
            raise LiveQueryError(
                f"live queries need a WebSocket connection (ws:// or wss://), not {self.url}"
            )
        subscription = LiveNotifications(self, live_id)
        self._claim(subscription, live_id)
        return subscription

    def _claim(self, subscription: LiveNotifications, live_id: uuid.UUID) -> None:
        self._live[live_id] = subscription
        subscription.live_id = live_id
        waiting = [n for n in self._unclaimed if n.get("id") == live_id]
        for notification in waiting:
            self._unclaimed.remove(notification)
            subscription._deliver(notification)

    def _move_live(self, subscription: LiveNotifications, new_id: uuid.UUID) -> None:
        if self._live.get(subscription.live_id) is subscription:
            del self._live[subscription.live_id]
        self._claim(subscription, new_id)

    def _drop_live(self, subscription: LiveNotifications) -> None:
        if self._live.get(subscription.live_id) is subscription:
            del self._live[subscription.live_id]

    def _route_notification(self, notification: Mapping[str, Any]) -> None:
        live_id = notification.get("id")
        subscription = self._live.get(live_id) if isinstance(live_id, uuid.UUID) else None
        if subscription is None:
            self._unclaimed.append(notification)
        else:
            subscription._deliver(notification)

    # -- connection state ----------------------------------------------------------------------

    def add_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call `listener(event)` on disconnect, reconnect and give-up; returns a remover.

        Listeners run in registration order, one after the other. A `"reconnected"` listener
        runs once the new socket is signed in and `use` re-issued; requests (its own included)
        are served meanwhile. A failing listener is logged and does not stop the others.
        """
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def _on_transport_state(self, kind: StateKind, error: BaseException | None) -> None:
        if kind == "reconnected":
            self.reconnects += 1
            self._unclaimed.clear()
        event = ConnectionEvent(kind, error, self.reconnects)
        if kind == "gave_up":
            failure = error or SurrealConnectionError(f"lost the connection to {self.url}")
            for subscription in list(self._live.values()):
                subscription._fail(failure)
            self._transport = None
        for listener in list(self._listeners):
            try:
                outcome = listener(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                logger.exception("connection listener %r failed on %s", listener, kind)

    # -- HTTP companion ------------------------------------------------------------------------

    def http_companion(self) -> Connection:
        """A connection over HTTP(S) to the same server, credentials and namespace.

        For a ws(s) URL this derives http(s) (same host, port and path); HTTP and embedded
        connections return themselves. Closed together with this connection.
        """
        scheme = self.config.scheme
        if scheme not in WEBSOCKET_SCHEMES:
            return self
        if self._companion is None:
            parts = urlsplit(self.config.url)
            http_scheme = "https" if scheme == "wss" else "http"
            url = urlunsplit((http_scheme, parts.netloc, parts.path, parts.query, ""))
            self._companion = Connection(replace(self.config, url=url))
        return self._companion


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class SurrealDBConnectionManager:
    """Named connections, process-wide. `"default"` is what models use unless told otherwise."""

    _connections: ClassVar[dict[str, Connection]] = {}

    @classmethod
    def set_connection(
        cls,
        url: str,
        user: str | None = None,
        password: str | None = None,
        namespace: str | None = None,
        database: str | None = None,
        name: str = "default",
        *,
        auth_level: AuthLevel = "root",
        token: str | None = None,
        timeout: float = 30.0,
        reconnect_attempts: int = 8,
    ) -> Connection:
        """Configure connection `name` (nothing connects until it is used) and return it.

        `auth_level` says which kind of system user `user` is: `"root"`, `"namespace"`
        (signs in to `namespace`) or `"database"`. A `token` is used instead of user/password.
        Replacing a configured name closes the old connection's transport in the background;
        the new connection waits for that close before it opens (an embedded store is locked).
        """
        config = ConnectionConfig(
            url=url,
            user=user,
            password=password,
            namespace=namespace,
            database=database,
            auth_level=auth_level,
            token=token,
            timeout=timeout,
            reconnect_attempts=reconnect_attempts,
        )
        connection = Connection(config)
        previous = cls._connections.get(name)
        cls._connections[name] = connection
        if previous is not None:
            connection._previous = previous
            _close_in_background(previous)
        return connection

    @classmethod
    def get_connection(cls, name: str = "default") -> Connection:
        try:
            return cls._connections[name]
        except KeyError:
            raise ConfigurationError(
                f"no SurrealDB connection named {name!r}: call "
                f"SurrealDBConnectionManager.set_connection(url, user, password, namespace, "
                f"database{'' if name == 'default' else f', name={name!r}'}) first"
            ) from None

    @classmethod
    def names(cls) -> list[str]:
        return sorted(cls._connections)

    @classmethod
    async def close_connection(cls, name: str = "default") -> None:
        connection = cls._connections.pop(name, None)
        if connection is not None:
            await connection.close()

    @classmethod
    async def close_all(cls) -> None:
        connections = list(cls._connections.values())
        cls._connections.clear()
        for connection in connections:
            await connection.close()


_background_closes: set[asyncio.Task[None]] = set()


def _close_in_background(connection: Connection) -> None:
    loop = _running_loop()
    if loop is None or not connection.connected:
        return
    task = loop.create_task(connection.close())
    _background_closes.add(task)
    task.add_done_callback(_background_closes.discard)
