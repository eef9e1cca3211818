"""WebSocket and HTTP transports against the loopback test server (or SURREALDB_TEST_URL).

Faults are real: a TCP proxy between client and server freezes traffic (a dead peer) or
resets the sockets (a dropped connection), and the server's `POST /_test/drop` cuts every
WebSocket. Waits are bounded by `within()`, so a broken reconnect fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import socket
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable
from decimal import Decimal
from typing import Any, Literal, TypeVar

import pytest

from surreal_gen.runtime.connection import (
    Connection,
    ConnectionConfig,
    ConnectionEvent,
    SurrealDBConnectionManager,
)
from surreal_gen.runtime.errors import (
    AuthenticationError,
    ConfigurationError,
    LiveQueryError,
    QueryError,
    RequestTimeoutError,
    SurrealConnectionError,
)
from surreal_gen.runtime.rpc import SessionConfig
from surreal_gen.runtime.transports.base import describe_network_error
from surreal_gen.runtime.transports.ws import WebSocketTransport
from surreal_gen.runtime.types import Duration, RecordID, Table
from tests.fixtures.server import SurrealDatabase, SurrealServer

T = TypeVar("T")
Scheme = Literal["ws", "http"]


async def within(awaitable: Awaitable[T], seconds: float = 30.0) -> T:
    """Await with an upper bound: a regression shows up as a failure, not a hung test run."""
    return await asyncio.wait_for(awaitable, seconds)


def server_url(db: SurrealDatabase, scheme: Scheme, *, with_path: bool = True) -> str:
    base = db.server.ws_url if scheme == "ws" else db.server.http_url + "/rpc"
    return base if with_path else base.removesuffix("/rpc")


def root_connection(
    db: SurrealDatabase, scheme: Scheme, *, with_path: bool = True, **options: Any
) -> Connection:
    """The "default" named connection to the test's database, signed in as root."""
    return SurrealDBConnectionManager.set_connection(
        server_url(db, scheme, with_path=with_path),
        db.server.user,
        db.server.password,
        db.namespace,
        db.database,
        **options,
    )


@pytest.fixture(autouse=True)
async def clean_manager() -> AsyncIterator[None]:
    """Each test starts with no named connections and leaves none open."""
    yield
    await SurrealDBConnectionManager.close_all()


@pytest.fixture(params=["ws", "http"])
async def conn(
    request: pytest.FixtureRequest, surreal_database: SurrealDatabase
) -> AsyncIterator[Connection]:
    connection = root_connection(surreal_database, request.param)
    yield connection
    await connection.close()


class TcpProxy:
    """A loopback TCP proxy whose connections can go silent (a dead peer) or be reset."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter, asyncio.Event]] = []
        self.port = 0
        self.held_bytes = 0

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.close()
            return
        flowing = asyncio.Event()
        flowing.set()
        self._links.append((client_writer, upstream_writer, flowing))
        await asyncio.gather(
            self._pump(client_reader, upstream_writer, flowing, count_held=True),
            self._pump(upstream_reader, client_writer, flowing, count_held=False),
            return_exceptions=True,
        )

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        flowing: asyncio.Event,
        *,
        count_held: bool,
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if flowing.is_set():
                    writer.write(chunk)
                    await writer.drain()
                elif count_held:
                    self.held_bytes += len(chunk)
        finally:
            writer.close()

    def freeze(self) -> None:
        """Swallow all traffic on the current connections, silently (new ones flow normally)."""
        for _, _, flowing in self._links:
            flowing.clear()

    def reset(self) -> None:
        """Abort the current connections (an RST to the client)."""
        links, self._links = self._links, []
        for client, upstream, _ in links:
            client.transport.abort()
            upstream.transport.abort()

    async def refuse(self) -> None:
        """Stop listening: new connections are refused."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def wait_held(self, more_than: int) -> int:
        while self.held_bytes <= more_than:
            await asyncio.sleep(0.01)
        return self.held_bytes

    async def close(self) -> None:
        self.reset()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def proxy(surreal_database: SurrealDatabase) -> AsyncIterator[TcpProxy]:
    url = surreal_database.server.http_url
    if url.startswith("https://"):
        pytest.skip("the fault-injection proxy forwards plain ws/http, not TLS")
    host, port = url.removeprefix("http://").rsplit(":", 1)
    running = await TcpProxy(host, int(port)).start()
    yield running
    await running.close()


def proxied_connection(
    db: SurrealDatabase, proxy: TcpProxy, scheme: Scheme, **options: Any
) -> Connection:
    config = ConnectionConfig(
        url=f"{scheme}://127.0.0.1:{proxy.port}",
        user=db.server.user,
        password=db.server.password,
        namespace=db.namespace,
        database=db.database,
        **options,
    )
    return Connection(config)


class Events:
    """Collects connection events and lets a test wait for one kind."""

    def __init__(self, connection: Connection) -> None:
        self.seen: list[ConnectionEvent] = []
        self._changed = asyncio.Condition()
        connection.add_listener(self._record)

    async def _record(self, event: ConnectionEvent) -> None:
        async with self._changed:
            self.seen.append(event)
            self._changed.notify_all()

    async def wait_for(self, kind: str, count: int = 1) -> ConnectionEvent:
        async with self._changed:
            await within(
                self._changed.wait_for(lambda: sum(e.kind == kind for e in self.seen) >= count)
            )
        return [e for e in self.seen if e.kind == kind][count - 1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- both transports ---------------------------------------------------------------------------


async def test_queries_values_and_concurrency(conn: Connection) -> None:
    data = {
        "name": "ann",
        "ttl": Duration(90, 5),
        "tags": ["a", "b"],
        "friend": RecordID("person", "bob"),
    }
    [created] = await conn.query("CREATE person:ann CONTENT $data", {"data": data})
    assert created == [{"id": RecordID("person", "ann"), **data}]
    results = await asyncio.gather(*(conn.query("RETURN $n * 2", {"n": n}) for n in range(40)))
    assert results == [[n * 2] for n in range(40)]
    assert conn.engine_major in (2, 3)
    assert await conn.rpc("select", [Table("person")]) == created


async def test_decimals_of_any_exponent_are_sent(conn: Connection) -> None:
    """`str(Decimal("1E-7"))` is exponent form, which the 3.0 server refuses."""
    values = [Decimal("1E-7"), Decimal("1E+2"), Decimal("-12.50")]
    assert await conn.query("RETURN $v", {"v": values}) == [values]


async def test_statement_errors_name_the_statement(conn: Connection) -> None:
    await conn.query("CREATE person:one")
    with pytest.raises(QueryError, match=r"statement 1: .*already exists"):
        await conn.query("RETURN 1; CREATE person:one")


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_a_value_python_cannot_hold_fails_only_its_request(
    surreal_database: SurrealDatabase, scheme: Scheme
) -> None:
    """Year 0 is a valid SurrealDB datetime but not a Python one: say so, at once, and go on."""
    connection = root_connection(surreal_database, scheme, timeout=5.0)
    with pytest.raises(SurrealConnectionError) as info:
        await within(connection.query("RETURN d'0000-01-01T00:00:00Z'"))
    assert not isinstance(info.value, RequestTimeoutError)
    assert "cannot decode" in str(info.value)
    assert "date value out of range" in str(info.value)
    assert await connection.query("RETURN 'still usable'") == ["still usable"]
    await connection.close()


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_url_without_path_gets_rpc(surreal_database: SurrealDatabase, scheme: Scheme) -> None:
    connection = root_connection(surreal_database, scheme, with_path=False)
    assert await connection.query("RETURN 'ok'") == ["ok"]
    await connection.close()


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_close_while_connecting_leaves_nothing_open(
    surreal_database: SurrealDatabase, scheme: Scheme
) -> None:
    """close() (close_all at shutdown) while the first queries are still connecting: they
    fail as closed, like queries in flight, and the transport they were opening is closed;
    before, it was kept and the connection was open again after close()."""
    connection = root_connection(surreal_database, scheme)
    queries = [asyncio.create_task(connection.query("RETURN 1")) for _ in range(3)]
    await asyncio.sleep(0)  # the first is connecting, the others wait for it
    await connection.close()
    outcomes = await within(asyncio.gather(*queries, return_exceptions=True))
    assert all(isinstance(outcome, SurrealConnectionError) for outcome in outcomes), outcomes
    assert all("was closed" in str(outcome) for outcome in outcomes), outcomes
    assert not connection.connected
    assert await connection.query("RETURN 2") == [2]  # a later use connects again
    await connection.close()


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_wrong_credentials(surreal_database: SurrealDatabase, scheme: Scheme) -> None:
    db = surreal_database
    connection = SurrealDBConnectionManager.set_connection(
        server_url(db, scheme), db.server.user, "wrong password", db.namespace, db.database
    )
    with pytest.raises(AuthenticationError, match=f"signin to {scheme}://.* as root user"):
        await connection.query("RETURN 1")
    await connection.close()


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_unreachable_server_names_the_url(scheme: Scheme) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}"
    connection = SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    with pytest.raises(SurrealConnectionError) as info:
        await connection.query("RETURN 1")
    assert str(info.value) == f"cannot reach {url}: connection refused"


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_namespace_user_and_token_signin(
    surreal_database: SurrealDatabase, scheme: Scheme
) -> None:
    db = surreal_database
    url = server_url(db, scheme)
    root = root_connection(db, scheme)
    await root.query("DEFINE USER editor ON NAMESPACE PASSWORD 'pw' ROLES EDITOR")
    token = await root.rpc("signin", [{"user": db.server.user, "pass": db.server.password}])

    editor = SurrealDBConnectionManager.set_connection(
        url, "editor", "pw", db.namespace, db.database, name="editor", auth_level="namespace"
    )
    assert await editor.query("CREATE note:1 RETURN VALUE id") == [[RecordID("note", 1)]]
    intruder = SurrealDBConnectionManager.set_connection(
        url, "editor", "nope", db.namespace, db.database, name="intruder", auth_level="namespace"
    )
    with pytest.raises(AuthenticationError, match="as namespace user 'editor'"):
        await intruder.connect()
    by_token = SurrealDBConnectionManager.set_connection(
        url, None, None, db.namespace, db.database, name="token", token=token
    )
    assert await by_token.query("SELECT VALUE id FROM note") == [[RecordID("note", 1)]]
    ghost = SurrealDBConnectionManager.set_connection(
        url, "editor", "pw", "no_such_ns", db.database, name="ghost", auth_level="namespace"
    )
    with pytest.raises(
        AuthenticationError, match="of namespace 'no_such_ns' failed: .*does that namespace exist"
    ):
        await ghost.connect()
    forged = SurrealDBConnectionManager.set_connection(
        url, None, None, db.namespace, db.database, name="forged", token="not-a-token"
    )
    with pytest.raises(AuthenticationError, match="with the given token failed"):
        await forged.connect()


async def test_http_companion_of_a_websocket(surreal_database: SurrealDatabase) -> None:
    ws = root_connection(surreal_database, "ws")
    await ws.query("CREATE person:shared")
    companion = ws.http_companion()
    assert companion.url.startswith(("http://", "https://"))
    assert companion is ws.http_companion()
    assert await companion.query("SELECT VALUE id FROM person") == [[RecordID("person", "shared")]]
    assert companion.http_companion() is companion
    await ws.close()


def test_invalid_websocket_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported URL scheme 'wsx://'"):
        SurrealDBConnectionManager.set_connection("wsx://127.0.0.1:1", "root", "root", "ns", "db")


# -- live notifications and reconnects (WebSocket) ---------------------------------------------


async def test_live_notifications_are_routed_by_id(surreal_database: SurrealDatabase) -> None:
    ws = root_connection(surreal_database, "ws")
    await ws.query("DEFINE TABLE person; DEFINE TABLE note")  # 3.x: LIVE needs the table
    [people] = await ws.query("LIVE SELECT * FROM person")
    [notes] = await ws.query("LIVE SELECT * FROM note")
    assert isinstance(people, uuid.UUID)
    await ws.query("CREATE person:early")  # arrives before anyone claims the id: kept
    people_stream = ws.live_notifications(people)
    notes_stream = ws.live_notifications(notes)
    await ws.query("CREATE note:1 SET text = 'hi'")
    first = await within(anext(people_stream))
    assert (first["action"], first["record"], first["id"]) == (
        "CREATE",
        RecordID("person", "early"),
        people,
    )
    note = await within(anext(notes_stream))
    assert note["result"] == {"id": RecordID("note", 1), "text": "hi"}
    notes_stream.close()
    assert [n async for n in notes_stream] == []
    await ws.close()


async def test_drop_reconnects_reauthenticates_and_live_queries_can_resume(
    surreal_database: SurrealDatabase,
) -> None:
    db = surreal_database
    ws = root_connection(db, "ws")
    [_, live_id] = await ws.query("DEFINE TABLE person; LIVE SELECT * FROM person")
    stream = ws.live_notifications(live_id)
    events = Events(ws)

    resubscribed = asyncio.Event()

    async def resubscribe(event: ConnectionEvent) -> None:
        if event.kind == "reconnected":
            [new_id] = await ws.query("LIVE SELECT * FROM person")
            stream.retarget(new_id)
            resubscribed.set()

    ws.add_listener(resubscribe)
    assert db.server.drop_sockets() >= 1
    assert (await events.wait_for("disconnected")).reconnects == 0
    assert (await events.wait_for("reconnected")).reconnects == 1
    assert ws.reconnects == 1
    await within(resubscribed.wait())
    # Signed in again and `use` re-issued: a plain query works in the same database.
    await ws.query("CREATE person:after_drop")
    notification = await within(anext(stream))
    assert notification["record"] == RecordID("person", "after_drop")
    assert stream.live_id != live_id
    await ws.close()


async def test_repeated_drops_each_reconnect(surreal_database: SurrealDatabase) -> None:
    db = surreal_database
    ws = root_connection(db, "ws")
    events = Events(ws)
    await ws.query("CREATE counter:c SET n = 0")
    for round_ in range(1, 6):
        db.server.drop_sockets()
        await events.wait_for("reconnected", count=round_)
        await ws.query("UPDATE counter:c SET n += 1")
    assert ws.reconnects == 5
    assert await ws.query("SELECT VALUE n FROM counter:c") == [[5]]
    await ws.close()


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_use_selects_the_database_for_later_requests_and_reconnects(
    surreal_database: SurrealDatabase, scheme: Scheme
) -> None:
    db = surreal_database
    connection = Connection(
        ConnectionConfig(
            url=server_url(db, scheme), user=db.server.user, password=db.server.password
        )
    )
    with pytest.raises(QueryError):  # no namespace selected yet
        await connection.query("CREATE item:x")
    await connection.use(db.namespace, db.database)
    await connection.query("CREATE item:x")
    if scheme == "ws":
        events = Events(connection)
        db.server.drop_sockets()
        await events.wait_for("reconnected")
    assert await connection.query("SELECT VALUE id FROM item") == [[RecordID("item", "x")]]
    await connection.close()


async def test_server_restart_is_survived(persistent_surreal_server: SurrealServer) -> None:
    server = persistent_surreal_server
    ws = SurrealDBConnectionManager.set_connection(
        server.ws_url, server.user, server.password, "restart_ns", "restart_db"
    )
    events = Events(ws)
    await ws.query("CREATE person:before_restart")
    await asyncio.to_thread(server.restart)
    await events.wait_for("reconnected")
    assert await ws.query("SELECT VALUE id FROM person") == [[RecordID("person", "before_restart")]]
    await ws.close()


async def test_request_in_flight_when_the_socket_drops(
    surreal_database: SurrealDatabase, proxy: TcpProxy
) -> None:
    """A write in flight fails with a clear error; a read in flight is sent again."""
    ws = proxied_connection(surreal_database, proxy, "ws")
    events = Events(ws)
    await ws.query("CREATE person:one")
    proxy.freeze()
    write = asyncio.create_task(ws.query("CREATE person:two"))
    held = await within(proxy.wait_held(0))
    read = asyncio.create_task(ws.rpc("select", [RecordID("person", "one")]))
    await within(proxy.wait_held(held))
    proxy.reset()
    with pytest.raises(
        SurrealConnectionError, match=r"dropped .*during query; it may or may not have been applied"
    ):
        await within(write)
    assert await within(read) == {"id": RecordID("person", "one")}
    await events.wait_for("reconnected")
    # The write never reached the server: nothing half-applied by us.
    assert await ws.query("SELECT VALUE id FROM person") == [[RecordID("person", "one")]]
    await ws.close()


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_no_reply_within_the_timeout(
    surreal_database: SurrealDatabase, proxy: TcpProxy, scheme: Scheme
) -> None:
    connection = proxied_connection(surreal_database, proxy, scheme, timeout=0.5)
    await connection.connect()
    proxy.freeze()
    with pytest.raises(RequestTimeoutError, match=r"no reply to query from .* within 0.5s"):
        await within(connection.query("RETURN 1"))
    await connection.close()


async def test_keepalive_notices_a_dead_peer(
    surreal_database: SurrealDatabase, proxy: TcpProxy
) -> None:
    ws = proxied_connection(surreal_database, proxy, "ws", keepalive_interval=0.2, timeout=5.0)
    events = Events(ws)
    await ws.connect()
    proxy.freeze()  # no close, no RST: only the missing pongs tell
    await events.wait_for("disconnected")
    await events.wait_for("reconnected")
    assert await ws.query("RETURN 'alive'") == ["alive"]
    await ws.close()


async def test_giving_up_is_an_error_not_a_hang(
    surreal_database: SurrealDatabase, proxy: TcpProxy
) -> None:
    ws = proxied_connection(surreal_database, proxy, "ws", reconnect_attempts=2)
    events = Events(ws)
    [_, live_id] = await ws.query("DEFINE TABLE person; LIVE SELECT * FROM person")
    stream = ws.live_notifications(live_id)
    await proxy.refuse()
    proxy.reset()
    gave_up = await events.wait_for("gave_up")
    assert "could not reconnect after 2 attempts" in str(gave_up.error)
    traceback_lengths: list[int] = []
    causes: list[BaseException | None] = []
    for _ in range(3):
        with pytest.raises(SurrealConnectionError, match="could not reconnect") as info:
            await within(anext(stream))
        traceback_lengths.append(len(traceback.extract_tb(info.value.__traceback__)))
        causes.append(info.value.__cause__)
    # Each call raises a fresh error: re-raising one object would grow its traceback.
    assert len(set(traceback_lengths)) == 1
    assert all(cause is gave_up.error for cause in causes)
    with pytest.raises(
        SurrealConnectionError, match="cannot reach ws://127.0.0.1:.*: connection refused"
    ):
        await within(ws.query("RETURN 1"))
    await ws.close()


async def test_a_closed_websocket_transport_raises_a_fresh_error_each_time(
    surreal_database: SurrealDatabase,
) -> None:
    server = surreal_database.server
    transport = WebSocketTransport(
        server.ws_url, timeout=5.0, reconnect_attempts=1, keepalive_interval=5.0
    )
    session = SessionConfig(
        surreal_database.namespace, surreal_database.database, server.user, server.password
    )
    await transport.open(session)
    await transport.close()
    errors: list[SurrealConnectionError] = []
    for _ in range(3):
        with pytest.raises(SurrealConnectionError, match="was closed") as info:
            await within(transport.request("ping", []))
        errors.append(info.value)
    assert len({id(error) for error in errors}) == 3
    # The stored error is never raised itself, so its traceback cannot grow.
    [cause] = {id(error.__cause__): error.__cause__ for error in errors}.values()
    assert isinstance(cause, SurrealConnectionError)
    assert cause.__traceback__ is None
    assert len({len(traceback.extract_tb(error.__traceback__)) for error in errors}) == 1


async def test_a_listener_may_close_the_connection_it_listens_to(
    surreal_database: SurrealDatabase,
) -> None:
    """Closing from a "reconnected" listener must finish, and not cancel the listeners after it."""
    db = surreal_database
    ws = root_connection(db, "ws")
    heard: list[str] = []
    done = asyncio.Event()

    async def close_on_reconnect(event: ConnectionEvent) -> None:
        if event.kind == "reconnected":
            await ws.close()
            heard.append("closed")

    async def later_listener(event: ConnectionEvent) -> None:
        await asyncio.sleep(0)
        heard.append(event.kind)
        if event.kind == "reconnected":
            done.set()

    ws.add_listener(close_on_reconnect)
    ws.add_listener(later_listener)
    await ws.connect()
    assert db.server.drop_sockets() >= 1
    await within(done.wait())
    assert heard == ["disconnected", "closed", "reconnected"]
    assert await ws.query("RETURN 'reopened'") == ["reopened"]
    await ws.close()


async def test_http_request_in_flight_when_the_connection_drops(
    surreal_database: SurrealDatabase, proxy: TcpProxy
) -> None:
    """Each step reuses the pooled keep-alive connection, which the proxy then silences."""
    http = proxied_connection(surreal_database, proxy, "http")
    await http.query("CREATE person:one")
    proxy.freeze()
    write = asyncio.create_task(http.query("CREATE person:two"))
    await within(proxy.wait_held(0))
    proxy.reset()
    with pytest.raises(
        SurrealConnectionError, match="dropped during query; it may or may not have been applied"
    ):
        await within(write)

    assert await http.query("SELECT VALUE id FROM person") == [[RecordID("person", "one")]]
    proxy.freeze()
    held = proxy.held_bytes
    read = asyncio.create_task(http.rpc("select", [RecordID("person", "one")]))
    await within(proxy.wait_held(held))
    proxy.reset()
    assert await within(read) == {"id": RecordID("person", "one")}
    await http.close()


def test_live_notifications_need_a_websocket(surreal_database: SurrealDatabase) -> None:
    http = root_connection(surreal_database, "http")
    assert not http.supports_live
    with pytest.raises(LiveQueryError, match="live queries need a WebSocket connection"):
        http.live_notifications(uuid.uuid4())


def test_failures_of_every_address_of_a_host_read_as_one_reason() -> None:
    """asyncio joins the errors when "localhost" resolves to both ::1 and 127.0.0.1."""
    joined = OSError(
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 8000, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 8000)"
    )
    assert describe_network_error(joined) == "connection refused"
    assert describe_network_error(ConnectionRefusedError(111, "refused")) == "connection refused"
    assert describe_network_error(TimeoutError()) == "timed out"
