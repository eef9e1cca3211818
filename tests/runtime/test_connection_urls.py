"""Connection URLs: credentials in a URL are used and never shown; a `surrealkv://` URL
without a folder is refused, and reading the schema of a store that does not exist neither
creates it nor opens it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from surreal_gen.codegen.introspect import SchemaSourceError, read_schema
from surreal_gen.runtime.connection import Connection, ConnectionConfig
from surreal_gen.runtime.errors import ConfigurationError, SurrealGenError
from tests.fixtures.server import SurrealDatabase, SurrealServer
from tests.hardening.test_bad_input import assert_one_line, closed_port, surreal_gen

SECRET = "s3cret%2Fpart"
"""A password as written in a URL (percent-encoded `s3cret/part`)."""


def _with_credentials(url: str, user: str, password: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_credentials_in_the_url_sign_in(
    surreal_database: SurrealDatabase, transport: str
) -> None:
    server = surreal_database.server
    plain = server.ws_url if transport == "ws" else server.http_url
    config = ConnectionConfig(
        _with_credentials(plain, server.user, server.password),
        namespace=surreal_database.namespace,
        database=surreal_database.database,
    )
    assert (config.url, config.user, config.password) == (plain, server.user, server.password)
    assert "@" not in repr(config)
    connection = Connection(config)
    try:
        assert await connection.query("RETURN 1") == [1]
    finally:
        await connection.close()


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_a_wrong_password_in_the_url_is_not_shown(
    surreal_server: SurrealServer, transport: str
) -> None:
    plain = surreal_server.ws_url if transport == "ws" else surreal_server.http_url
    connection = Connection(ConnectionConfig(_with_credentials(plain, "root", SECRET)))
    with pytest.raises(SurrealGenError) as raised:
        await connection.connect()
    await connection.close()
    assert "s3cret" not in str(raised.value)
    assert plain in str(raised.value)


@pytest.mark.parametrize(
    ("url", "user", "expected"),
    [
        (f"ws://root:{SECRET}@127.0.0.1:1", "root", "given both in the URL and apart"),
        (f"ws://:{SECRET}@127.0.0.1:1", None, "needs both a user and a password"),
        (f"http://root:{SECRET}@127.0.0.1:99999", None, "invalid URL http://***@127.0.0.1:99999"),
        (f"ftp://root:{SECRET}@host", None, "ftp://***@host"),
        (f"ws://root:{SECRET}@[::1", None, "invalid URL ws://***@[::1"),
    ],
)
def test_a_refused_url_is_shown_without_its_credentials(
    url: str, user: str | None, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ConnectionConfig(url, user=user)
    assert expected in str(raised.value)
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "ws://root:s3cret/part@127.0.0.1:1",
        "ws://root:1234#s3cret@127.0.0.1:1",
        "http://root:12/s3cret@127.0.0.1:1/rpc",
        "wss://root:se?s3cret@example.com",
    ],
)
def test_a_password_with_an_unencoded_delimiter_is_refused_unshown(url: str) -> None:
    """`/`, `?` or `#` in a password end the URL's host part early, so the parser sees no
    credentials: the config kept the password in `url` (its repr, every error) and tried a
    host named `root`, or failed on the port, showing the password both times."""
    with pytest.raises(ConfigurationError) as raised:
        ConnectionConfig(url)
    assert "percent-encode" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_the_cli_never_prints_the_password(tmp_path: Path) -> None:
    url = f"ws://root:{SECRET}@127.0.0.1:{closed_port()}"
    done = surreal_gen("--url", url, "--ns", "n", "--db", "d", "--out", "pkg", cwd=tmp_path)
    assert_one_line(done, 2, "connection refused")
    assert "s3cret" not in done.stderr
    assert not (tmp_path / "pkg").exists()


@pytest.mark.parametrize("url", ["surrealkv://", "surrealkv://?engine=3"])
def test_surrealkv_needs_a_folder(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="no folder for the store"):
        ConnectionConfig(url)
    done = surreal_gen("--url", url, "--ns", "n", "--db", "d", "--out", "pkg", cwd=tmp_path)
    assert_one_line(done, 2, "no folder for the store")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("engine", ["2", "3"])
async def test_reading_a_store_that_does_not_exist_creates_nothing(
    tmp_path: Path, engine: str
) -> None:
    store = tmp_path / "missing" / "db"
    url = f"surrealkv://{store}?engine={engine}"
    with pytest.raises(SchemaSourceError, match=f"no such store: {store}$"):
        await read_schema(ConnectionConfig(url, namespace="n", database="d"))
    done = surreal_gen("--url", url, "--ns", "n", "--db", "d", "--out", "pkg", cwd=tmp_path)
    assert_one_line(done, 2, "no such store")
    assert os.listdir(tmp_path) == []
