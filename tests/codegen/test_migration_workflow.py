"""The regenerate-on-migration workflow as a team runs it: change the schema, `diff`,
`--check`, regenerate, on both embedded engines."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from surreal_gen.codegen.cli import main
from surreal_gen.codegen.output import MARKER, write_package
from tests.codegen.folders import files_of

ENGINES = ["2", "3"]


def run(engine: str, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        [*args[:1], "--schema", "s.surql", "--out", "pkg", *args[1:]],
        env={"SURREAL_GEN_EMBEDDED": engine},
    )


def assert_drift_reported(engine: str, expected: str) -> None:
    """`diff` prints exactly ``expected`` (lines) and `--check` lists each of them; both
    exit 1."""
    result = run(engine, "diff")
    assert (result.exit_code, result.output) == (1, expected), result.exception
    result = run(engine, "generate", "--check")
    assert result.exit_code == 1
    assert all(f"  {line}\n" in result.stderr for line in expected.splitlines()), result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_diff_and_check_name_a_clause_added_or_removed(engine: str, cli_folder: Path) -> None:
    """A DEFAULT, READONLY or COMMENT that appears or goes away is one side of the JSON form
    only: `diff` named nothing for an added one and crashed (KeyError) on a removed one."""
    schema = cli_folder / "s.surql"
    schema.write_text("DEFINE TABLE t SCHEMAFULL;\nDEFINE FIELD a ON t TYPE string;\n")
    assert run(engine, "generate").exit_code == 0
    schema.write_text(
        "DEFINE TABLE t SCHEMAFULL;\n"
        "DEFINE FIELD a ON t TYPE string DEFAULT 'q' READONLY COMMENT 'c';\n"
    )
    added = "~ t.a: default None -> \"'q'\", readonly None -> True, comment None -> 'c'"
    assert_drift_reported(engine, added + "\n")

    assert run(engine, "generate").exit_code == 0
    schema.write_text("DEFINE TABLE t SCHEMAFULL;\nDEFINE FIELD a ON t TYPE string;\n")
    removed = "~ t.a: default \"'q'\" -> None, readonly True -> None, comment 'c' -> None"
    assert_drift_reported(engine, removed + "\n")


@pytest.mark.parametrize("engine", ENGINES)
def test_diff_and_check_name_a_kept_table_whose_class_goes_to_a_new_one(
    engine: str, cli_folder: Path
) -> None:
    """Adding ``aB`` beside ``a_b`` gives ``aB`` the class ``AB`` and module ``a_b`` that
    were ``a_b``'s, which moves to ``AB_2`` in ``a_b_2.py``: ``from pkg import AB`` then
    reads another table. `diff` said only ``+ table aB``."""
    schema = cli_folder / "s.surql"
    schema.write_text("DEFINE TABLE a_b SCHEMAFULL;\nDEFINE FIELD x ON a_b TYPE int;\n")
    assert run(engine, "generate").exit_code == 0
    schema.write_text(schema.read_text() + "DEFINE TABLE aB SCHEMALESS;\n")
    expected = (
        "+ table aB\n~ table a_b: class 'AB' -> 'AB_2'\n~ table a_b: module 'a_b' -> 'a_b_2'\n"
    )
    assert_drift_reported(engine, expected)
    assert run(engine, "generate").exit_code == 0
    result = run(engine, "diff")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("engine", ENGINES)
def test_diff_and_check_name_a_kept_field_whose_attribute_goes_to_a_new_one(
    engine: str, cli_folder: Path
) -> None:
    """Adding ``class_`` beside ``class`` gives it the attribute ``class_`` that was
    ``class``'s (which becomes ``class__2``), at the top level and in nested objects:
    ``row.class_`` then reads another field. `diff` said only ``+ t.class_: int``."""
    schema = cli_folder / "s.surql"
    schema.write_text(
        "DEFINE TABLE t SCHEMAFULL;\n"
        "DEFINE FIELD class ON t TYPE string;\n"
        "DEFINE FIELD items ON t TYPE array<object>;\n"
        "DEFINE FIELD items.*.in ON t TYPE int;\n"
    )
    assert run(engine, "generate").exit_code == 0
    schema.write_text(
        schema.read_text()
        + "DEFINE FIELD class_ ON t TYPE int;\nDEFINE FIELD items.*.in_ ON t TYPE int;\n"
    )
    expected = (
        "+ t.class_: int\n"
        "+ t.items.*.in_: int\n"
        "~ t.class: attribute 'class_' -> 'class__2'\n"
        "~ t.items.*.in: attribute 'in_' -> 'in__2'\n"
    )
    assert_drift_reported(engine, expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_new_table_does_not_overwrite_the_users_own_module(engine: str, cli_folder: Path) -> None:
    """The user's ``pkg/helpers.py`` was overwritten by the module of a new table
    ``helpers`` (reported as "changed"), and deleted with that table later."""
    schema = cli_folder / "s.surql"
    schema.write_text("DEFINE TABLE t SCHEMAFULL;\nDEFINE FIELD a ON t TYPE string;\n")
    assert run(engine, "generate").exit_code == 0
    (cli_folder / "pkg" / "helpers.py").write_text("def my_helper() -> int:\n    return 1\n")
    before = files_of(cli_folder)
    schema.write_text(schema.read_text() + "DEFINE TABLE helpers SCHEMALESS;\n")
    after_edit = files_of(cli_folder)
    refused = "refusing to overwrite pkg/helpers.py: surreal-gen did not write it"
    for command in (("generate", "--check"), ("generate",)):
        result = run(engine, *command)
        assert result.exit_code == 2 and refused in result.stderr, result.output
        assert files_of(cli_folder) == after_edit
    assert after_edit["pkg/helpers.py"] == before["pkg/helpers.py"]


def _package(version: int, tables: range = range(20)) -> dict[str, bytes]:
    """A package's files: a module per table, its content naming ``version``."""
    files = {f"t{i:03d}.py": f"VERSION = {version}\n".encode() for i in tables}
    files[MARKER] = json.dumps({"files": sorted(files), "version": version}).encode()
    return files


def _no_hard_links(source: str, target: str, **options: bool) -> None:
    raise OSError(errno.EPERM, "no hard links on this file system")


@pytest.mark.parametrize("hard_links", [True, False])
def test_an_interrupt_just_after_a_rename_puts_that_file_back_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    """Ctrl-C landing after ``os.replace`` returned but before the commit noted the rename
    left that file out of the undo: missing from the package, or the marker missing and the
    folder refused from then on. Every move of the commit is interrupted in turn, with the
    replaced files kept aside by hard links and, where there are none, by renames."""
    out = tmp_path / "pkg"
    write_package(out, _package(1))
    before = files_of(out)
    real_replace, real_link = os.replace, os.link if hard_links else _no_hard_links
    moves = 2 * len(_package(1))  # each file kept aside, then the new one in
    for interrupted in range(1, moves + 1):
        calls: list[str] = []

        def move_then_interrupt(
            real: Callable[..., None], calls: list[str] = calls, at: int = interrupted
        ) -> Callable[..., None]:
            def move(source: str, target: str, **options: bool) -> None:
                real(source, target, **options)
                calls.append(target)
                if len(calls) == at:
                    raise KeyboardInterrupt

            return move

        monkeypatch.setattr(os, "replace", move_then_interrupt(real_replace))
        monkeypatch.setattr(os, "link", move_then_interrupt(real_link))
        with pytest.raises(KeyboardInterrupt):
            write_package(out, _package(2))
        monkeypatch.undo()
        assert files_of(out) == before, f"interrupted after move {interrupted}"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]
    monkeypatch.setattr(os, "link", real_link)
    write_package(out, _package(2))
    assert files_of(out).keys() == _package(2).keys()
    assert all(content == _package(2)[path] for path, (content, _) in files_of(out).items())


WRITE_THEN_STOP = """
import os, signal, sys
from pathlib import Path
from surreal_gen.codegen.output import write_package
from tests.codegen.test_migration_workflow import _package

out, how, at_move = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
calls = 0

def stopping(real):
    def move(source, target, **options):
        global calls
        calls += 1
        if calls == at_move:
            if how == "kill":
                os._exit(137)  # as SIGKILL: no handler, no undo, no cleanup
            os.kill(os.getpid(), signal.SIGTERM)
        real(source, target, **options)
    return move

os.replace, os.link = stopping(os.replace), stopping(os.link)
write_package(out, _package(2, range(5, 25)))
"""


def _write_then_stop(out: Path, how: str, at_move: int) -> subprocess.CompletedProcess[str]:
    """Write version 2 over ``out`` in a new process, stopped (``kill`` or ``term``) at its
    ``at_move``-th rename or hard link."""
    return subprocess.run(
        [sys.executable, "-c", WRITE_THEN_STOP, str(out), how, str(at_move)],
        cwd=Path(__file__).resolve().parents[2],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("at_move", [1, 5, 21, 30])
def test_sigterm_while_writing_leaves_the_old_package_and_no_staging_folder(
    tmp_path: Path, at_move: int
) -> None:
    """SIGTERM (``kill``, a cancelled CI job) ended the process on the spot: the staging
    folder stayed beside the output and, mid-commit, the package was half renamed and had
    no marker, so the next run refused to write into it. Now it ends with exit status 143
    after putting the old files back (signals sent at moves 1 to 30 of 42)."""
    out = tmp_path / "pkg"
    write_package(out, _package(1))
    before = files_of(out)
    process = _write_then_stop(out, "term", at_move)
    assert process.returncode == 128 + signal.SIGTERM, process.stderr
    assert files_of(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]


def test_a_write_killed_at_any_point_is_finished_by_the_next_run(tmp_path: Path) -> None:
    """Killed outright (SIGKILL, a power cut) there is no undo. Wherever it happens the
    folder keeps a marker listing every generated file in it, so a plain re-run writes the
    new package whole, as into a clean folder. Before, the old marker was moved aside first:
    killed then, the folder had no marker and every later run refused it."""
    clean = tmp_path / "clean"
    write_package(clean, _package(2, range(5, 25)))
    # 5 modules deleted, 15 updated (a hard link and a rename each), 5 created, the marker
    moves = 5 + 2 * 15 + 5 + 2
    for at_move in range(1, moves + 1):
        out = tmp_path / f"pkg{at_move}"
        write_package(out, _package(1))
        process = _write_then_stop(out, "kill", at_move)
        assert process.returncode == 137, process.stderr
        write_package(out, _package(2, range(5, 25)))
        assert _contents(out) == _contents(clean), f"killed at move {at_move}"


def _contents(folder: Path) -> dict[str, bytes]:
    return {path: content for path, (content, _) in files_of(folder).items()}
