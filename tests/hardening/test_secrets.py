"""The password never shows: not in logs (every logger at DEBUG, websockets and httpx
included), reprs, exceptions and their chains, generated code, or `introspect` output.

A private loopback server runs with a distinctive root password; every output is searched
for it and for its HTTP Basic form (base64 of `user:password`)."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from surreal_gen.runtime.connection import Connection, ConnectionConfig, SurrealDBConnectionManager
from surreal_gen.runtime.errors import SurrealGenError
from tests.fixtures.server import ServerProcess, SurrealServer, _ensure_npm_packages
from tests.hardening.figures import Figure, record
from tests.hardening.models import Message, named_connection

USER = "root"
PASSWORD = "Pw-7f3kQz-not-in-logs"
WRONG = "Pw-wrong-9x2LmV-also-secret"
REPO = Path(__file__).resolve().parents[2]


def forms(secret: str) -> list[str]:
    """The secret as typed and as HTTP Basic auth carries it."""
    basic = base64.b64encode(f"{USER}:{secret}".encode()).decode()
    return [secret, basic, basic.rstrip("=")]


def assert_clean(text: str, where: str) -> None:
    for secret in (PASSWORD, WRONG):
        for form in forms(secret):
            assert form not in text, f"the password leaked into {where}"


@pytest.fixture(scope="module")
def secret_server() -> Iterator[SurrealServer]:
    if os.environ.get("SURREALDB_TEST_URL"):
        pytest.skip("needs the loopback test server (its own root password)")
    _ensure_npm_packages()
    process = ServerProcess("mem://", USER, PASSWORD)
    process.start()
    try:
        yield SurrealServer(
            ws_url=f"ws://127.0.0.1:{process.port}/rpc",
            http_url=f"http://127.0.0.1:{process.port}",
            user=USER,
            password=PASSWORD,
            process=process,
        )
    finally:
        process.stop()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG, including websockets, httpx and httpcore."""
    caplog.set_level(logging.DEBUG)
    for name in ("websockets", "httpx", "httpcore", "surreal_gen", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.mark.parametrize("transport", ["ws", "http"])
async def test_runtime_use_and_failures_do_not_show_the_password(
    secret_server: SurrealServer, debug_logs: pytest.LogCaptureFixture, transport: str
) -> None:
    url = secret_server.ws_url if transport == "ws" else secret_server.http_url
    shown: list[str] = []
    target = {"namespace": "s", "database": "s"}
    async with named_connection(url, user=USER, password=PASSWORD, **target) as (name, conn):
        await conn.query("DEFINE TABLE IF NOT EXISTS message SCHEMALESS")
        saved = await Message(text="hello").save(using=name)
        shown += [repr(conn), str(conn), repr(conn.config), repr(saved)]
        shown.append(repr(SurrealDBConnectionManager.get_connection(name)))
        shown.append(repr(await Message.objects().using(name).all()))
    for password in (WRONG, PASSWORD):
        bad_user = "nobody" if password == PASSWORD else USER
        config = ConnectionConfig(
            url=url, user=bad_user, password=password, namespace="s", database="s"
        )
        connection = Connection(config)
        with pytest.raises(SurrealGenError) as raised:
            await connection.query("INFO FOR DB")
        await connection.close()
        shown.append(repr(config))
        shown.append("".join(traceback.format_exception(raised.value)))
        shown.append(repr(raised.value.args))
    shown += [record.getMessage() + repr(record.args) for record in debug_logs.records]
    shown.append(debug_logs.text)
    assert debug_logs.records, "nothing was logged: the DEBUG capture is not working"
    for index, text in enumerate(shown):
        assert_clean(text, f"output #{index}")
    record(Figure("secrets: runtime outputs searched", len(shown)))


def surreal_gen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURREALDB_")}
    probe = (
        "import logging; logging.basicConfig(level=logging.DEBUG); "
        "from surreal_gen.codegen.cli import entry_point; entry_point()"
    )
    return subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def _define_account(url: str) -> None:
    target = {"namespace": "cli", "database": "cli"}
    async with named_connection(url, user=USER, password=PASSWORD, **target) as (_, connection):
        await connection.query(
            "DEFINE TABLE IF NOT EXISTS account SCHEMAFULL;"
            "DEFINE FIELD IF NOT EXISTS name ON account TYPE string"
        )


@pytest.mark.parametrize("transport", ["ws", "http"])
def test_cli_output_and_generated_code_do_not_show_the_password(
    secret_server: SurrealServer, tmp_path: Path, transport: str
) -> None:
    url = secret_server.ws_url if transport == "ws" else secret_server.http_url
    target = ("--url", url, "--ns", "cli", "--db", "cli", "--user", USER)
    asyncio.run(_define_account(url))
    runs = [
        surreal_gen(*target, "--pass", PASSWORD, "--out", "pkg", "-v", cwd=tmp_path),
        surreal_gen("introspect", *target, "--pass", PASSWORD, cwd=tmp_path),
        surreal_gen(*target, "--pass", PASSWORD, "--out", "pkg", "--check", cwd=tmp_path),
        surreal_gen("diff", *target, "--pass", PASSWORD, "--out", "pkg", cwd=tmp_path),
        surreal_gen(*target, "--pass", WRONG, "--out", "pkg", cwd=tmp_path),
        surreal_gen("introspect", *target, "--pass", WRONG, cwd=tmp_path),
    ]
    assert [run.returncode for run in runs] == [0, 0, 0, 0, 2, 2], [r.stderr for r in runs]
    assert '"account"' in runs[1].stdout
    for index, run in enumerate(runs):
        assert_clean(run.stdout + run.stderr, f"CLI run #{index}")
    files = [p for p in (tmp_path / "pkg").rglob("*") if p.is_file()]
    assert any(p.name == "account.py" for p in files)
    for path in files:
        assert_clean(path.read_text(encoding="utf-8"), str(path))
    record(Figure("secrets: CLI outputs and generated files searched", len(runs) + len(files)))
