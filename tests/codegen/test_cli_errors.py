"""User mistakes at the `surreal-gen` command, run as the console script runs it (a child
process through ``entry_point``, embedded 2.x engine): each is one line on stderr naming
what and where, exit 2, no traceback, and the output folder left as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.codegen.folders import files_of
from tests.fixtures.server import SurrealDatabase
from tests.hardening.test_bad_input import assert_one_line, surreal_gen

SCHEMA_A = (
    "DEFINE TABLE user SCHEMAFULL;\nDEFINE FIELD name ON user TYPE string;\nDEFINE TABLE post;\n"
)
SCHEMA_B = "DEFINE TABLE invoice SCHEMAFULL;\nDEFINE FIELD total ON invoice TYPE decimal;\n"
GENERATE_A = ("--schema", "a.surql", "--out", "gp")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Schemas a.surql (user, post) and b.surql (invoice), and package gp generated from a."""
    (tmp_path / "pyproject.toml").write_text("[tool.surreal-gen]\n")
    (tmp_path / "a.surql").write_text(SCHEMA_A)
    (tmp_path / "b.surql").write_text(SCHEMA_B)
    (tmp_path / "bad.surql").write_text(
        "DEFINE TABLE t SCHEMAFULL;\nDEFINE FIELD x ON t TYPE nope;\n"
    )
    generated = surreal_gen(*GENERATE_A, cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "gp" / "user.py").is_file()
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--check", "generate", "--schema", "b.surql", "--out", "gp"),
            "--check is given before 'generate': options go after the command",
        ),
        (("--schema", "a.surql", "--out", "gp", "diff"), "--schema is given before 'diff'"),
        (("--schema", "bad.surql", "introspect"), "--schema is given before 'introspect'"),
        (("-q", "generate", *GENERATE_A), "--quiet is given before 'generate'"),
        (("--check", "diff"), "--check is given before 'diff', which does not take it"),
    ],
)
def test_options_before_a_command_are_refused(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    before = files_of(project / "gp")
    result = surreal_gen(*args, cwd=project)
    assert_one_line(result, 2, message)
    assert result.stdout == ""
    assert files_of(project / "gp") == before


def test_options_after_the_command_still_work(project: Path) -> None:
    assert surreal_gen("generate", "--check", *GENERATE_A, cwd=project).returncode == 0
    assert surreal_gen("diff", *GENERATE_A, cwd=project).returncode == 0
    assert surreal_gen("--check", *GENERATE_A, cwd=project).returncode == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            b"[tool.surreal-gen]\nschema = 5\n",
            "[tool.surreal-gen] schema must be a string or a list",
        ),
        (b"[tool.surreal-gen]\ninclude = 5\n", "[tool.surreal-gen] include must be a string or a"),
        (b"[tool.surreal-gen]\nexclude = [1]\n", "[tool.surreal-gen] exclude must be a string or"),
        (
            b'[tool.surreal-gen]\nstrict = "false"\n',
            "[tool.surreal-gen] strict must be true or false",
        ),
        (b"[tool.surreal-gen]\nout = 1\n", "[tool.surreal-gen] out must be a string, not 1"),
        (b"tool = 5\n", "pyproject.toml: tool must be a table"),
        (
            b"[tool.surreal-gen]\n# caf\xe9\n",
            "pyproject.toml: 'utf-8' codec can't decode byte 0xe9",
        ),
    ],
)
def test_wrong_types_in_pyproject_are_named(project: Path, config: bytes, message: str) -> None:
    (project / "pyproject.toml").write_bytes(config)
    before = files_of(project / "gp")
    result = surreal_gen(*GENERATE_A, cwd=project)
    assert_one_line(result, 2, "pyproject.toml", message)
    assert files_of(project / "gp") == before


def test_strict_takes_a_toml_boolean(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.surreal-gen]\nstrict = false\n")
    assert surreal_gen("--check", *GENERATE_A, cwd=project).returncode == 0


def test_check_reports_a_module_that_became_a_folder_like_generate(project: Path) -> None:
    (project / "gp" / "user.py").unlink()
    (project / "gp" / "user.py").mkdir()
    before = files_of(project / "gp")
    checked = surreal_gen("--check", *GENERATE_A, cwd=project)
    assert_one_line(checked, 2, "gp/user.py", "Is a directory")
    generated = surreal_gen(*GENERATE_A, cwd=project)
    assert generated.stderr == checked.stderr and generated.returncode == 2
    assert files_of(project / "gp") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gen",), "No such command 'gen'. (try 'surreal-gen --help')"),
        (("--output-model-type", "bogus"), "Invalid value for '--output-model-type': 'bogus'"),
        (("--bogus",), "No such option '--bogus'."),
        (("diff", "--bogus"), "(try 'surreal-gen diff --help')"),
        (("introspect", "--include"), "(try 'surreal-gen introspect --help')"),
        (("diff", "--out"), "requires an argument. (try 'surreal-gen diff --help')"),
    ],
)
def test_click_usage_errors_are_one_line(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    assert_one_line(surreal_gen(*args, cwd=project), 2, message)


@pytest.mark.parametrize("marker", [b"{", b"[]", b"\xff"])
@pytest.mark.parametrize("command", [(), ("--check",), ("diff",)])
def test_a_corrupt_marker_is_called_corrupt(
    project: Path, marker: bytes, command: tuple[str, ...]
) -> None:
    (project / "gp" / ".surreal-gen.json").write_bytes(marker)
    before = files_of(project / "gp")
    result = surreal_gen(*command, *GENERATE_A, cwd=project)
    assert_one_line(result, 2, "gp/.surreal-gen.json is corrupt")
    assert "has no" not in result.stderr and "not a package" not in result.stderr
    assert files_of(project / "gp") == before


@pytest.mark.parametrize("command", [(), ("--check",)])
def test_an_include_glob_matching_no_table_is_refused(
    project: Path, command: tuple[str, ...]
) -> None:
    before = files_of(project / "gp")
    result = surreal_gen(*command, *GENERATE_A, "--include", "usr", cwd=project)
    assert_one_line(result, 2, "include glob 'usr' matches no table", "post, user")
    assert files_of(project / "gp") == before
    fresh = surreal_gen("--schema", "a.surql", "--out", "fresh", "--include", "usr", cwd=project)
    assert_one_line(fresh, 2, "include glob 'usr' matches no table")
    assert not (project / "fresh").exists()


def test_include_matching_nothing_is_refused_by_introspect(project: Path) -> None:
    result = surreal_gen("introspect", "--schema", "a.surql", "--include", "usr", cwd=project)
    assert_one_line(result, 2, "include glob 'usr' matches no table")
    assert result.stdout == ""


@pytest.mark.parametrize(
    "globs",
    [("--exclude", "*"), ("--include", "u*", "--exclude", "user"), ("--exclude", "[pu]*")],
)
def test_globs_leaving_no_table_do_not_empty_a_package(
    project: Path, globs: tuple[str, ...]
) -> None:
    before = files_of(project / "gp")
    for command in [(), ("--check",)]:
        result = surreal_gen(*command, *GENERATE_A, *globs, cwd=project)
        assert_one_line(result, 2, "leave no table", "gp holds 2 generated tables")
    assert files_of(project / "gp") == before


def test_a_schema_file_that_is_not_utf8_is_named_with_its_line_and_column(project: Path) -> None:
    (project / "latin1.surql").write_bytes(b"DEFINE TABLE a;\n-- caf\xe9\nDEFINE TABLE b;\n")
    result = surreal_gen("introspect", "--schema", "latin1.surql", cwd=project)
    assert_one_line(result, 2, "latin1.surql:2:7: not valid UTF-8")


def test_a_byte_order_mark_does_not_reach_the_engine(project: Path) -> None:
    (project / "bom.surql").write_bytes(b"\xef\xbb\xbfDEFINE TABLE a;\n")
    result = surreal_gen("introspect", "--schema", "bom.surql", cwd=project)
    assert result.returncode == 0, result.stderr
    assert [table["name"] for table in json.loads(result.stdout)["tables"]] == ["a"]


@pytest.mark.parametrize("check", [(), ("--check",)])
def test_a_folder_not_ours_is_refused_before_the_schema_is_read(
    project: Path, check: tuple[str, ...]
) -> None:
    mine = project / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    before = files_of(mine)
    result = surreal_gen(*check, "--schema", "bad.surql", "--out", "mine", cwd=project)
    assert_one_line(result, 2, "refusing to write into", "not generated by surreal-gen")
    assert files_of(mine) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ns", "app", *GENERATE_A), "--ns: for a live database only"),
        (("--check", "--db", "d", "--user", "u", *GENERATE_A), "--db, --user: for a live"),
        (("introspect", "--schema", "a.surql", "--pass", "pw"), "--pass: for a live database"),
        (("--from-json", "snap.json", "--ns", "n", "--out", "gp"), "schema comes from a snapshot"),
    ],
)
def test_database_flags_without_a_database_are_refused_not_ignored(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    """--ns/--db/--user/--pass only mean something for --url: given with schema files or a
    snapshot they would be dropped, and a user who meant to read a database would get a
    package of the files instead."""
    (project / "snap.json").write_text(
        surreal_gen("introspect", "--schema", "a.surql", cwd=project).stdout
    )
    before = files_of(project / "gp")
    result = surreal_gen(*args, cwd=project)
    assert_one_line(result, 2, message, "pass --url URL")
    assert "pw" not in result.stderr
    assert files_of(project / "gp") == before


def test_quiet_and_verbose_together_are_refused(project: Path) -> None:
    result = surreal_gen("-q", "-v", "--schema", "b.surql", "--out", "gp", cwd=project)
    assert_one_line(result, 2, "--quiet and --verbose do not go together")
    assert not (project / "gp" / "invoice.py").exists()


@pytest.mark.parametrize("check", [(), ("--check",)])
def test_ctrl_c_exits_130_not_1_and_writes_nothing(project: Path, check: tuple[str, ...]) -> None:
    """Exit 1 means "--check found a stale package"; an interrupted run must not say that.
    The schema folder holds a FIFO, so the command is interrupted while reading the schema,
    at a known point and not by timing."""
    slow = project / "slow"
    slow.mkdir()
    (slow / "a.surql").write_text(SCHEMA_B)
    os.mkfifo(slow / "b.surql")
    before = files_of(project / "gp")
    # Python's own Ctrl-C handler, also where the test runs with SIGINT ignored (a
    # background job inherits SIG_IGN, and Python installs its handler only over SIG_DFL).
    command = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from surreal_gen.codegen.cli import entry_point; entry_point()"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURREALDB_")}
    child = subprocess.Popen(
        [sys.executable, "-c", command, *check, "--schema", "slow", "--out", "gp"],
        cwd=project,
        env={**clean, "SURREAL_GEN_EMBEDDED": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = os.open(slow / "b.surql", os.O_WRONLY)  # returns once the child opened it
    try:
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        os.close(writer)
        child.kill()
        child.wait()
    done = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    assert_one_line(done, 130, "interrupted: nothing was written")
    assert files_of(project / "gp") == before


@pytest.mark.parametrize(
    "schema",
    [("schemas", "schemas/a.surql"), ("a.surql", "./a.surql"), ("schemas", "schemas")],
)
def test_a_schema_file_given_twice_is_named_not_applied_twice(
    project: Path, schema: tuple[str, ...]
) -> None:
    """Applied twice, the file fails at its own 1:1 with "The table 'user' already exists"."""
    (project / "schemas").mkdir()
    (project / "schemas" / "a.surql").write_text(SCHEMA_A)
    before = files_of(project / "gp")
    args = [arg for path in schema for arg in ("--schema", path)]
    result = surreal_gen(*args, "--out", "gp", cwd=project)
    assert_one_line(result, 2, "a.surql: in the schema twice (by ", "applied twice")
    assert files_of(project / "gp") == before


@pytest.mark.parametrize("transport", ["ws", "http"])
@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("user", "a user is given without a password (--pass or SURREALDB_PASS)"),
        ("password", "a password is given without a user (--user, SURREALDB_USER"),
    ],
)
def test_half_credentials_name_the_missing_half(
    project: Path, surreal_database: SurrealDatabase, transport: str, given: str, message: str
) -> None:
    """With only one of user and password no signin is sent, and the server's "Anonymous
    access not allowed" does not say that a password (say) is missing."""
    server = surreal_database.server
    url = server.ws_url if transport == "ws" else server.http_url
    target = ("--url", url, "--ns", surreal_database.namespace, "--db", surreal_database.database)
    flag = ("--user", server.user) if given == "user" else ()
    env = {} if given == "user" else {"SURREALDB_PASS": server.password}
    result = surreal_gen(*target, *flag, "--out", "pkg", cwd=project, env=env)
    assert_one_line(result, 2, f"{url}: {message}")
    assert server.password not in result.stderr
    assert not (project / "pkg").exists()
