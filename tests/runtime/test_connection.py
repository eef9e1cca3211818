"""The connection manager and Connection on the embedded engines (2.x and 3.x wheels)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from surreal_gen.runtime.connection import Connection, ConnectionConfig, SurrealDBConnectionManager
from surreal_gen.runtime.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConfigurationError,
    LiveQueryError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    RpcError,
    SurrealConnectionError,
    error_from_reply,
)
from surreal_gen.runtime.rpc import SessionConfig, unknown_namespace_error
from surreal_gen.runtime.types import RecordID


@pytest.fixture(autouse=True)
async def clean_manager() -> AsyncIterator[None]:
    """Each test starts with no named connections and leaves none open."""
    yield
    await SurrealDBConnectionManager.close_all()


@pytest.fixture(params=[2, 3], ids=["engine-2", "engine-3"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Connection]:
    connection = SurrealDBConnectionManager.set_connection(
        f"mem://?engine={request.param}", "root", "root", "ns", "db"
    )
    yield connection
    await connection.close()


async def test_set_connection_is_positional_and_lazy(engine: Connection) -> None:
    assert SurrealDBConnectionManager.get_connection() is engine
    assert not engine.connected
    with pytest.raises(SurrealConnectionError, match="not connected yet"):
        _ = engine.engine_major
    assert await engine.query("RETURN 1 + 1") == [2]
    assert engine.connected
    assert engine.engine_major == int(engine.url[-1])
    assert engine.version.startswith("surrealdb-")


async def test_named_connections_are_separate_databases() -> None:
    first = SurrealDBConnectionManager.set_connection("mem://", "root", "root", "ns", "one")
    second = SurrealDBConnectionManager.set_connection(
        "mem://?engine=3", "root", "root", "ns", "two", name="other"
    )
    assert SurrealDBConnectionManager.get_connection("other") is second
    assert SurrealDBConnectionManager.names() == ["default", "other"]
    await first.query("CREATE item:1")
    [info] = await second.query("INFO FOR DB")
    assert info["tables"] == {}
    await SurrealDBConnectionManager.close_all()
    assert SurrealDBConnectionManager.names() == []


async def test_use_switches_database_for_later_requests(engine: Connection) -> None:
    await engine.query("CREATE item:in_db")
    await engine.use("ns", "other")
    [info] = await engine.query("INFO FOR DB")
    assert info["tables"] == {}
    assert (engine.config.namespace, engine.config.database) == ("ns", "other")
    await engine.use("ns", "db")
    assert await engine.query("SELECT VALUE id FROM item") == [[RecordID("item", "in_db")]]


def test_unknown_connection_name_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="no SurrealDB connection named 'missing'"):
        SurrealDBConnectionManager.get_connection("missing")


@pytest.mark.parametrize("url", ["ftp://localhost", "localhost:8000", "postgres://x/y"])
def test_wrong_scheme_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="one of mem://, surrealkv://PATH, ws://"):
        SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")


@pytest.mark.parametrize("scheme", ["ws", "wss", "http", "https"])
@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1:99999", "Port out of range 0-65535"),
        ("127.0.0.1:rpc", "Port could not be cast to integer value as 'rpc'"),
        (":8000", "no host"),
        ("/rpc", "no host"),
        ("[::1", "Invalid IPv6 URL"),
    ],
)
def test_a_malformed_address_is_refused_by_set_connection(
    scheme: str, address: str, reason: str
) -> None:
    """The check the network transports make when they build the endpoint, made up front."""
    url = f"{scheme}://{address}"
    with pytest.raises(ConfigurationError) as info:
        SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    assert str(info.value) == f"invalid URL {url}: {reason}"
    assert SurrealDBConnectionManager.names() == []


def test_an_unreadable_embedded_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"^invalid URL mem://\[x: Invalid IPv6 URL$"):
        SurrealDBConnectionManager.set_connection("mem://[x", "root", "root", "ns", "db")


async def test_unknown_embedded_engine_is_a_configuration_error() -> None:
    connection = SurrealDBConnectionManager.set_connection("mem://?engine=9", None, None, "n", "d")
    with pytest.raises(ConfigurationError, match="unknown embedded engine '9'"):
        await connection.connect()


async def test_query_returns_one_result_per_statement(engine: Connection) -> None:
    results = await engine.query(
        "CREATE person:ann SET age = $age; SELECT * FROM person; RETURN $age",
        {"age": 30},
    )
    assert results == [
        [{"id": RecordID("person", "ann"), "age": 30}],
        [{"id": RecordID("person", "ann"), "age": 30}],
        30,
    ]


async def test_an_err_statement_raises_query_error_naming_it(engine: Connection) -> None:
    await engine.query("CREATE person:ann")
    with pytest.raises(QueryError) as info:
        await engine.query("RETURN 1; CREATE person:ann; RETURN 2")
    error = info.value
    assert error.statement == 1
    assert str(error).startswith("statement 1: ")
    assert "already exists" in error.message
    assert isinstance(error, AlreadyExistsError)
    assert error.kind == "AlreadyExists"


async def test_thrown_errors_keep_their_message(engine: Connection) -> None:
    with pytest.raises(QueryError, match="statement 0: .*out of stock"):
        await engine.query("THROW 'out of stock'")


async def test_rpc_errors_map_by_kind_on_both_engines(engine: Connection) -> None:
    with pytest.raises(NotFoundError, match="Method not found"):
        await engine.rpc("no_such_method", [])
    with pytest.raises(RpcError, match="Parse error") as info:
        await engine.query("RETURN (")
    assert info.value.kind == "Validation"


async def test_a_missing_function_is_not_found_on_both_engines(engine: Connection) -> None:
    """3.x files this under kind "Internal"; its message says what 2.x says: does not exist."""
    with pytest.raises(NotFoundError, match="fn::nope"):
        await engine.rpc("run", ["fn::nope"])


async def test_a_request_the_engine_cannot_read_is_an_rpc_error(engine: Connection) -> None:
    """A float record key: no engine reads one, so the engine refuses the request. (Decimals
    beyond the engines' range, the earlier example, are refused before sending now.)"""
    with pytest.raises(RpcError, match="Expected a CBOR integer, text, array or map") as info:
        await engine.query("RETURN $d", {"d": RecordID("person", 1.5)})  # type: ignore[arg-type]
    assert info.value.kind == "Validation"
    assert await engine.query("RETURN 1") == [1]


async def test_raw_rpc_methods(engine: Connection) -> None:
    created = await engine.rpc("create", [RecordID("person", "bob"), {"age": 5}])
    created = created[0] if isinstance(created, list) else created
    assert created == {"id": RecordID("person", "bob"), "age": 5}
    assert await engine.rpc("select", [RecordID("person", "bob")]) == created
    assert await engine.rpc("ping") is None


async def test_concurrent_queries_share_one_connection(engine: Connection) -> None:
    results = await asyncio.gather(*(engine.query("RETURN $n", {"n": n}) for n in range(50)))
    assert results == [[n] for n in range(50)]


async def test_embedded_has_no_live_notifications_and_is_its_own_companion(
    engine: Connection,
) -> None:
    assert not engine.supports_live
    assert engine.http_companion() is engine
    with pytest.raises(LiveQueryError, match="live queries need a WebSocket connection"):
        engine.live_notifications(uuid.uuid4())


async def test_surrealkv_keeps_data_across_connections(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'data'}"
    first = SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    await first.query("CREATE person:kept")
    await first.close()
    second = SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    assert await second.query("SELECT VALUE id FROM person") == [[RecordID("person", "kept")]]
    await second.close()


@pytest.mark.parametrize("engine_major", [2, 3])
async def test_an_unusable_surrealkv_path_is_a_connection_error(
    tmp_path: Path, engine_major: int
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    url = f"surrealkv://{blocker / 'data'}?engine={engine_major}"
    connection = SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    with pytest.raises(SurrealConnectionError, match=r"cannot open surrealkv://.*Not a directory"):
        await connection.connect()


def test_a_connection_follows_its_event_loop() -> None:
    """asyncio.run twice (a new loop each time) still works: the transport is reopened."""
    connection = Connection(ConnectionConfig("mem://", namespace="ns", database="db"))

    async def ask() -> list[object]:
        return await connection.query("RETURN 7")

    assert asyncio.run(ask()) == [7]
    assert asyncio.run(ask()) == [7]


@pytest.mark.parametrize("engine_major", [2, 3])
def test_a_surrealkv_store_follows_the_event_loop(tmp_path: Path, engine_major: int) -> None:
    """A script that calls asyncio.run per step: the store the first loop opened is closed
    before the next loop reopens it (the 3.x engine locks its folder: 'already locked'), and
    close() from yet another loop releases it for the next connection."""
    url = f"surrealkv://{tmp_path / 'data'}?engine={engine_major}"
    connection = Connection(ConnectionConfig(url, namespace="ns", database="db"))

    async def count() -> object:
        return (await connection.query("CREATE t; RETURN count(SELECT * FROM t)"))[-1]

    assert asyncio.run(count()) == 1
    assert asyncio.run(count()) == 2
    asyncio.run(connection.close())
    again = Connection(ConnectionConfig(url, namespace="ns", database="db"))

    async def count_again() -> list[object]:
        try:
            return await again.query("RETURN count(SELECT * FROM t)")
        finally:
            await again.close()

    assert asyncio.run(count_again()) == [2]


async def test_replacing_a_named_connection_closes_the_old_one() -> None:
    old = SurrealDBConnectionManager.set_connection("mem://", "root", "root", "ns", "db")
    await old.connect()
    new = SurrealDBConnectionManager.set_connection("mem://", "root", "root", "ns", "db")
    assert SurrealDBConnectionManager.get_connection() is new
    await asyncio.sleep(0)  # let the background close run
    assert not old.connected


async def test_replacing_a_named_surrealkv_connection_releases_the_store(tmp_path: Path) -> None:
    """Re-running a notebook's setup cell: the new connection opens the store only once the
    old one has closed it; the 3.x engine locks its folder ('already locked' before)."""
    url = f"surrealkv://{tmp_path / 'data'}?engine=3"
    old = SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    await old.query("CREATE t")
    new = SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    assert await new.query("RETURN count(SELECT * FROM t)") == [1]


def test_replacing_a_surrealkv_connection_between_event_loops(tmp_path: Path) -> None:
    """The same in a script: set_connection again outside any loop, between asyncio.run calls."""
    url = f"surrealkv://{tmp_path / 'data'}?engine=3"

    async def count() -> object:
        connection = SurrealDBConnectionManager.get_connection()
        return (await connection.query("CREATE t; RETURN count(SELECT * FROM t)"))[-1]

    SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    assert asyncio.run(count()) == 1
    SurrealDBConnectionManager.set_connection(url, "root", "root", "ns", "db")
    assert asyncio.run(count()) == 2
    asyncio.run(SurrealDBConnectionManager.close_all())


def run_python(script: str) -> None:
    """Run ``script`` in a fresh interpreter (nothing imported yet); it must exit 0.

    The script then leaves without interpreter teardown, as the console script does
    (``cli.entry_point``): both embedded engines may abort a process that finalises while
    their workers run (about one exit in fifty), which is not what these tests are about.
    """
    ending = "\nimport os, sys\nsys.stdout.flush()\nsys.stderr.flush()\nos._exit(0)\n"
    done = subprocess.run(
        [sys.executable, "-c", script + ending], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_runtime_package_imports_lazily_and_exports_every_name() -> None:
    script = (
        "import sys, surreal_gen.runtime as runtime\n"
        "heavy = [m for m in ('pydantic', 'cbor2', 'websockets', 'httpx') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "missing = [name for name in runtime.__all__ if getattr(runtime, name, None) is None]\n"
        "assert not missing, missing\n"
        "assert sorted(dir(runtime)) == sorted(runtime.__all__)\n"
    )
    run_python(script)


@pytest.mark.parametrize("official_first", [False, True], ids=["ours-first", "sdk-first"])
def test_the_embedded_engine_is_shared_with_the_official_sdk(official_first: bool) -> None:
    """We load the 2.x engine without the SDK's package __init__; the SDK imported before or
    after us must find the same engine (a PyO3 module initialises once per process)."""
    script = (
        "import asyncio\n"
        "from surreal_gen.runtime.connection import Connection, ConnectionConfig\n"
        "async def ours():\n"
        "    connection = Connection(ConnectionConfig(url='mem://', namespace='n', database='d'))\n"
        "    assert await connection.query('RETURN 1') == [1]\n"
        "    await connection.close()\n"
        "async def theirs():\n"
        "    from surrealdb import AsyncSurreal\n"
        "    async with AsyncSurreal('mem://') as db:\n"
        "        await db.use('n', 'd')\n"
        "        assert await db.query('RETURN 2') == 2\n"
        f"order = [theirs, ours] if {official_first} else [ours, theirs]\n"
        "for step in order:\n"
        "    asyncio.run(step())\n"
    )
    run_python(script)


def test_opening_the_embedded_engine_does_not_import_the_official_sdk_clients() -> None:
    script = (
        "import asyncio, sys\n"
        "from surreal_gen.runtime.connection import Connection, ConnectionConfig\n"
        "async def main():\n"
        "    connection = Connection(ConnectionConfig(url='mem://', namespace='n', database='d'))\n"
        "    await connection.query('RETURN 1')\n"
        "    await connection.close()\n"
        "asyncio.run(main())\n"
        "loaded = [m for m in ('surrealdb', 'aiohttp', 'requests') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    run_python(script)


# Error replies as the engines sent them (surrealdb-raw-outputs.md): 2.x raises a bare
# message, 3.x sends {code, message, kind, details}. Both map to the same classes.
ERROR_REPLIES: list[tuple[Any, type[Exception], str]] = [
    (
        "There was a problem with the database: There was a problem with authentication",
        AuthenticationError,
        "NotAllowed",
    ),
    (
        {
            "code": -32002,
            "kind": "NotAllowed",
            "message": "There was a problem with authentication",
            "details": {"kind": "Auth", "details": {"kind": "InvalidAuth"}},
        },
        AuthenticationError,
        "NotAllowed",
    ),
    (
        "There was a problem with the database: Username or Password was not provided",
        AuthenticationError,
        "",
    ),
    ({"code": -32000, "kind": "Internal", "message": "InvalidToken"}, AuthenticationError, ""),
    (
        {
            "code": -32002,
            "kind": "NotAllowed",
            "message": "Anonymous access not allowed: Not enough permissions to perform this action",
            "details": {
                "kind": "Auth",
                "details": {"kind": "NotAllowed", "details": {"actor": "anonymous"}},
            },
        },
        AuthenticationError,
        "",
    ),
    (
        {
            "code": -32002,
            "kind": "NotAllowed",
            "message": "Not enough permissions to perform this action",
            "details": {
                "kind": "Auth",
                "details": {"kind": "NotAllowed", "details": {"actor": "editor"}},
            },
        },
        PermissionDeniedError,
        "NotAllowed",
    ),
    ("Method not found", NotFoundError, "NotFound"),
    (
        {
            "code": -32601,
            "kind": "NotFound",
            "message": "Method not found",
            "details": {"kind": "Method"},
        },
        NotFoundError,
        "NotFound",
    ),
    (
        {
            "code": -32602,
            "kind": "NotAllowed",
            "message": "Method not allowed",
            "details": {"kind": "Method"},
        },
        PermissionDeniedError,
        "NotAllowed",
    ),
    (
        {
            "code": -32603,
            "kind": "Validation",
            "message": "Expected query to be string",
            "details": {"kind": "InvalidParams"},
        },
        RpcError,
        "Validation",
    ),
    (
        "There was a problem with the database: Parse error: Unexpected token",
        RpcError,
        "Validation",
    ),
    (
        {"code": -32000, "kind": "AlreadyExists", "message": "Session already exists: a1"},
        AlreadyExistsError,
        "AlreadyExists",
    ),
]


@pytest.mark.parametrize(("reply", "expected", "kind"), ERROR_REPLIES, ids=lambda v: str(v)[:40])
def test_error_shapes_of_both_engines_map_to_the_same_classes(
    reply: Any, expected: type[Exception], kind: str
) -> None:
    error = error_from_reply(reply)
    assert type(error) is expected
    if isinstance(error, RpcError):
        assert error.kind == kind


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"auth_level": "db"}, "unknown auth_level 'db'"),
        ({"auth_level": "namespace", "namespace": None}, "a namespace user needs the namespace"),
        ({"auth_level": "database", "database": None}, "a database user needs the database"),
        ({"timeout": 0}, "timeout must be positive seconds, got 0"),
        ({"reconnect_attempts": -1}, "reconnect_attempts must be 0 or more"),
    ],
)
def test_bad_connection_options_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"namespace": "ns", "database": "db", **options}
    namespace, database = arguments.pop("namespace"), arguments.pop("database")
    with pytest.raises(ConfigurationError, match=message):
        SurrealDBConnectionManager.set_connection(
            "ws://127.0.0.1:1", "user", "pass", namespace, database, **arguments
        )


async def test_environment_picks_the_embedded_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURREAL_GEN_EMBEDDED", "3")
    chosen = SurrealDBConnectionManager.set_connection("mem://", "root", "root", "ns", "db")
    pinned = SurrealDBConnectionManager.set_connection(
        "mem://?engine=2", "root", "root", "ns", "db", name="pinned"
    )
    await chosen.connect()
    await pinned.connect()
    assert (chosen.engine_major, pinned.engine_major) == (3, 2)


def test_a_missing_namespace_or_database_is_named() -> None:
    """A strict server refuses `use` of an undefined namespace; the error says which one."""
    session = SessionConfig(namespace="ghost", database="app")
    missing_ns = error_from_reply("The namespace 'ghost' does not exist")
    missing_db = error_from_reply("The database 'app' does not exist")
    assert str(unknown_namespace_error(missing_ns, session)).startswith("unknown namespace 'ghost'")
    assert str(unknown_namespace_error(missing_db, session)).startswith(
        "unknown database 'app' in namespace 'ghost'"
    )
