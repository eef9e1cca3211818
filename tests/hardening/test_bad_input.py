"""User mistakes: each gets a one-line message naming what and where, the documented exit
code, no traceback, and nothing written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.server import SurrealDatabase, SurrealServer
from tests.hardening.figures import Figure, record

REPO = Path(__file__).resolve().parents[2]
BAD_INPUT = "bad input: one-line error, exit code, nothing written"
GOOD_SCHEMA = "DEFINE TABLE chat SCHEMAFULL;\nDEFINE FIELD text ON chat TYPE string;\n"
MALFORMED = "DEFINE TABLE chat SCHEMAFULL;\nDEFINE FIELD text ON chat TYPE strng<;\n"


def surreal_gen(
    *args: str, cwd: Path, engine: str = "2", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, as a build step would run it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURREALDB_")}
    command = [
        sys.executable,
        "-c",
        "from surreal_gen.codegen.cli import entry_point; entry_point()",
        *args,
    ]
    return subprocess.run(
        command,
        cwd=cwd,
        env={**clean, "SURREAL_GEN_EMBEDDED": engine, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, *expected: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("surreal-gen: error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr
    record(Figure(BAD_INPUT, 1))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schema.surql").write_text(GOOD_SCHEMA, encoding="utf-8")
    return tmp_path


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("engine", ["2", "3"])
def test_malformed_schema(project: Path, engine: str) -> None:
    (project / "bad.surql").write_text(MALFORMED, encoding="utf-8")
    done = surreal_gen("--schema", "bad.surql", "--out", "pkg", cwd=project, engine=engine)
    assert_one_line(done, 2, "bad.surql:2:")
    assert not (project / "pkg").exists()


def test_unreachable_server(project: Path) -> None:
    url = f"ws://127.0.0.1:{closed_port()}/rpc"
    done = surreal_gen("--url", url, "--ns", "n", "--db", "d", "--out", "pkg", cwd=project)
    assert_one_line(done, 2, url, "connection refused")
    assert not (project / "pkg").exists()


@pytest.mark.parametrize("transport", ["ws", "http"])
def test_wrong_credentials(
    project: Path, surreal_database: SurrealDatabase, transport: str
) -> None:
    server = surreal_database.server
    url = server.ws_url if transport == "ws" else server.http_url
    done = surreal_gen(
        *("--url", url, "--ns", surreal_database.namespace, "--db", surreal_database.database),
        *("--user", server.user, "--pass", "not-the-password", "--out", "pkg"),
        cwd=project,
    )
    assert_one_line(done, 2, url)
    assert "not-the-password" not in done.stderr
    assert not (project / "pkg").exists()


@pytest.mark.parametrize("transport", ["ws", "http"])
@pytest.mark.parametrize("unknown", ["namespace", "database"])
def test_unknown_namespace_or_database(
    project: Path, surreal_database: SurrealDatabase, transport: str, unknown: str
) -> None:
    server = surreal_database.server
    url = server.ws_url if transport == "ws" else server.http_url
    credentials = ("--user", server.user, "--pass", server.password, "--out", "pkg")
    real = ("--ns", surreal_database.namespace, "--db", surreal_database.database)
    assert surreal_gen("--url", url, *real, *credentials, cwd=project).returncode == 0
    before = snapshot(project / "pkg")
    ns = "no_such_ns" if unknown == "namespace" else surreal_database.namespace
    db = "no_such_db" if unknown == "database" else surreal_database.database
    done = surreal_gen("--url", url, "--ns", ns, "--db", db, *credentials, cwd=project)
    assert_one_line(done, 2, url, f"no_such_{'ns' if unknown == 'namespace' else 'db'}")
    assert snapshot(project / "pkg") == before, "a typo in --ns/--db must not empty the package"


def test_output_path_is_a_file(project: Path) -> None:
    (project / "pkg").write_text("mine\n", encoding="utf-8")
    done = surreal_gen("--schema", "schema.surql", "--out", "pkg", cwd=project)
    assert_one_line(done, 2, "pkg")
    assert (project / "pkg").read_text(encoding="utf-8") == "mine\n"


def test_output_folder_that_is_not_ours(project: Path) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "models.py").write_text("x = 1\n", encoding="utf-8")
    (project / "pkg" / "chat.py").write_text("precious = True\n", encoding="utf-8")
    before = snapshot(project / "pkg")
    done = surreal_gen("--schema", "schema.surql", "--out", "pkg", cwd=project)
    assert_one_line(done, 2, "pkg", "not generated by surreal-gen")
    assert snapshot(project / "pkg") == before


@pytest.mark.parametrize(
    "out",
    [
        "/proc/surreal_gen_pkg",  # a file system that refuses new folders, even to root
        "schema.surql/pkg",  # a file where a folder must be
    ],
)
def test_output_folder_that_cannot_be_written(project: Path, out: str) -> None:
    """chmod cannot stop root (the tests run as root), so these paths refuse writes instead."""
    before = snapshot(project)
    done = surreal_gen("--schema", "schema.surql", "--out", out, cwd=project)
    assert_one_line(done, 2, out)
    assert snapshot(project) == before


def test_check_on_a_stale_package(project: Path) -> None:
    assert surreal_gen("--schema", "schema.surql", "--out", "pkg", cwd=project).returncode == 0
    before = snapshot(project / "pkg")
    with (project / "schema.surql").open("a", encoding="utf-8") as schema:
        schema.write("DEFINE FIELD sent_at ON chat TYPE option<datetime>;\n")
    done = surreal_gen("--schema", "schema.surql", "--out", "pkg", "--check", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "out of date" in done.stderr and "chat.sent_at" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(project / "pkg") == before
    record(Figure(BAD_INPUT, 1))


def test_password_is_not_echoed_when_the_server_is_unreachable(project: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    done = surreal_gen(
        *("--url", url, "--ns", "n", "--db", "d", "--user", "u", "--pass", "s3cret-pw"),
        *("--out", "pkg"),
        cwd=project,
    )
    assert_one_line(done, 2, url)
    assert "s3cret-pw" not in done.stderr


def test_server_fixture_is_alive(surreal_server: SurrealServer) -> None:
    """The server-backed cases above need the loopback server; fail loudly if it is gone."""
    assert surreal_server.ws_url.startswith("ws")


def test_forged_marker_cannot_make_it_delete_outside_the_folder(project: Path) -> None:
    """The marker's file list is ours to read, not to trust: paths leading out of the
    folder are never deleted."""
    assert surreal_gen("--schema", "schema.surql", "--out", "pkg", cwd=project).returncode == 0
    victim = project / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    marker = project / "pkg" / ".surreal-gen.json"
    data = json.loads(marker.read_text(encoding="utf-8"))
    data["files"] += ["../victim.txt", str(victim), "../pkg/../victim.txt"]
    marker.write_text(json.dumps(data), encoding="utf-8")
    (project / "schema.surql").write_text("DEFINE TABLE other SCHEMAFULL;\n", encoding="utf-8")
    done = surreal_gen("--schema", "schema.surql", "--out", "pkg", cwd=project)
    assert done.returncode == 0, done.stderr
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert not (project / "pkg" / "chat.py").exists() and (project / "pkg" / "other.py").exists()
    record(Figure(BAD_INPUT, 1))
