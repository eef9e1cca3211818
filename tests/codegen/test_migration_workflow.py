"""The regenerate-on-migration workflow as a team runs it: change the schema, `diff`,
`--check`, regenerate, on both embedded engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from surreal_gen.codegen.cli import main

ENGINES = ["2", "3"]


def run(engine: str, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        [*args[:1], "--schema", "s.surql", "--out", "pkg", *args[1:]],
        env={"SURREAL_GEN_EMBEDDED": engine},
    )


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
    result = run(engine, "diff")
    assert (result.exit_code, result.output) == (1, added + "\n")
    result = run(engine, "generate", "--check")
    assert result.exit_code == 1 and added in result.stderr

    assert run(engine, "generate").exit_code == 0
    schema.write_text("DEFINE TABLE t SCHEMAFULL;\nDEFINE FIELD a ON t TYPE string;\n")
    removed = "~ t.a: default \"'q'\" -> None, readonly True -> None, comment 'c' -> None"
    result = run(engine, "diff")
    assert (result.exit_code, result.output) == (1, removed + "\n"), result.exception
    result = run(engine, "generate", "--check")
    assert result.exit_code == 1 and removed in result.stderr, result.exception
