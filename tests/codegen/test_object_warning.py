"""An object in a SCHEMAFULL table with no FLEXIBLE and no field under it keeps no key: the
2.x engine stores ``{}``, 3.x refuses the record. Introspection warns, naming table.field,
on both engines; these tests also show the engines doing what the warning says."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner

from surreal_gen.codegen import cli
from surreal_gen.codegen.introspect import SchemaFile
from surreal_gen.runtime.connection import Connection, ConnectionConfig
from tests.codegen.reference import ENGINE_URLS, read_files

ENGINES = list(ENGINE_URLS)


class Case(NamedTuple):
    """A table ``name`` with the fields of ``warned`` (one warning, for ``path``), the same
    fields with FLEXIBLE where the warning says (``fixed``), and a ``value`` for the field
    ``owner`` starts at, holding the key ``k`` (read back as ``stored`` when kept)."""

    name: str
    warned: str
    fixed: str
    value: str
    path: str
    owner: str
    stored: Any


WARNED = [
    Case(
        "thing",
        "freeform TYPE object",
        "freeform TYPE object FLEXIBLE",
        "{k: 1}",
        "freeform",
        "freeform",
        {"k": 1},
    ),
    Case(
        "optional",
        "f TYPE option<object>",
        "f TYPE option<object> FLEXIBLE",
        "{k: 1}",
        "f",
        "f",
        {"k": 1},
    ),
    Case(
        "either",
        "f TYPE object | string",
        "f TYPE object | string FLEXIBLE",
        "{k: 1}",
        "f",
        "f",
        {"k": 1},
    ),
    Case(
        "items",
        "f TYPE array<object>",
        "f TYPE array<object> FLEXIBLE",
        "[{k: 1}]",
        "f.*",
        "f",
        [{"k": 1}],
    ),
    Case(
        "tags",
        "f TYPE set<object>",
        "f TYPE set<object> FLEXIBLE",
        "<set>[{k: 1}]",
        "f.*",
        "f",
        [{"k": 1}],
    ),
    Case(
        "grid",
        "f TYPE array<array<object>>",
        "f TYPE array<array<object>> FLEXIBLE",
        "[[{k: 1}]]",
        "f.*.*",
        "f",
        [[{"k": 1}]],
    ),
    Case(
        "nested",
        "f TYPE object; f.inner TYPE object",
        "f TYPE object; f.inner TYPE object FLEXIBLE",
        "{inner: {k: 1}}",
        "f.inner",
        "f.inner",
        {"inner": {"k": 1}},
    ),
    Case(
        "under_flexible",
        "f TYPE object FLEXIBLE; f.inner TYPE object",
        "f TYPE object FLEXIBLE; f.inner TYPE object FLEXIBLE",
        "{inner: {k: 1}, other: 2}",
        "f.inner",
        "f.inner",
        {"inner": {"k": 1}, "other": 2},
    ),
]

KEPT_ANYWAY = {("2.x", "under_flexible"), ("3.x", "tags")}
"""Where the engine keeps the key all the same: 2.x lets everything under a FLEXIBLE object
through, and 3.x does not check the elements of a set. The other engine loses the key, and
FLEXIBLE where the warning says keeps it on both, so these are warned too."""


def schema(cases: list[Case], fields: str) -> list[SchemaFile]:
    """One SCHEMAFULL table per case, with its ``warned`` or ``fixed`` fields."""
    lines: list[str] = []
    for case in cases:
        lines.append(f"DEFINE TABLE {case.name} SCHEMAFULL;")
        for definition in getattr(case, fields).split("; "):
            name, kind = definition.split(" ", 1)
            lines.append(f"DEFINE FIELD {name} ON {case.name} {kind};")
    return [SchemaFile(f"{fields}.surql", "\n".join(lines))]


def message(table: str, path: str, owner: str) -> str:
    return (
        f"{table}.{path}: an object in a SCHEMAFULL table keeps only the fields defined under "
        f"it, and none are; add FLEXIBLE to {owner} to keep any key"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_each_keyless_object_is_named_in_a_warning(engine: str) -> None:
    warnings = read_files(schema(WARNED, "warned"), engine).warnings
    expected = sorted(WARNED, key=lambda case: case.name)
    assert warnings == tuple(message(c.name, c.path, c.owner) for c in expected)
    assert (
        "thing.freeform: an object in a SCHEMAFULL table keeps only the fields defined under "
        "it, and none are; add FLEXIBLE to freeform to keep any key"
    ) in warnings


@pytest.mark.parametrize("engine", ENGINES)
def test_flexible_where_the_warning_says_silences_it(engine: str) -> None:
    assert read_files(schema(WARNED, "fixed"), engine).warnings == ()


async def written(engine: str, files: list[SchemaFile]) -> dict[str, Any]:
    """What each case's table holds after writing its value (or the engine's error)."""
    config = ConnectionConfig(url=ENGINE_URLS[engine], namespace="test", database="test")
    connection = Connection(config)
    try:
        [file] = files
        await connection.query(file.text)
        found: dict[str, Any] = {}
        for case in WARNED:
            field = case.owner.split(".")[0]
            sql = f"CREATE ONLY {case.name}:1 SET {field} = {case.value} RETURN VALUE {field}"
            [result] = await connection.rpc("query", [sql, {}])
            found[case.name] = result["result"]
        return found
    finally:
        await connection.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_engines_keep_no_key_there_and_do_with_flexible(engine: str) -> None:
    lost = asyncio.run(written(engine, schema(WARNED, "warned")))
    kept = asyncio.run(written(engine, schema(WARNED, "fixed")))
    for case in WARNED:
        assert kept[case.name] == case.stored, case.name
        if (engine, case.name) in KEPT_ANYWAY:
            assert lost[case.name] == case.stored, case.name
        elif engine == "2.x":  # stored without the key: {}, [{}], {"inner": {}}
            assert "'k'" not in repr(lost[case.name]), (case.name, lost[case.name])
            assert not isinstance(lost[case.name], str), lost[case.name]
        else:  # the record is refused
            assert "but no such field exists" in lost[case.name], (case.name, lost[case.name])


NOT_WARNED = """
DEFINE TABLE flexible SCHEMAFULL;
DEFINE FIELD f ON flexible TYPE object FLEXIBLE;
DEFINE FIELD g ON flexible TYPE option<array<object>> FLEXIBLE;
DEFINE TABLE declared SCHEMAFULL;
DEFINE FIELD f ON declared TYPE object;
DEFINE FIELD f.k ON declared TYPE int;
DEFINE FIELD g ON declared TYPE array<object>;
DEFINE FIELD g.*.sku ON declared TYPE string;
DEFINE FIELD h ON declared TYPE object;
DEFINE FIELD h.* ON declared TYPE int;
DEFINE TABLE loose SCHEMALESS;
DEFINE FIELD f ON loose TYPE object;
DEFINE FIELD g ON loose TYPE array<object>;
DEFINE TABLE other SCHEMAFULL;
DEFINE FIELD f ON other TYPE any;
DEFINE FIELD g ON other TYPE { k: int, o: object };
DEFINE FIELD h ON other TYPE [object, int];
DEFINE FIELD i ON other TYPE option<string>;
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_no_warning_for_flexible_declared_schemaless_any_or_literal_objects(engine: str) -> None:
    assert read_files([SchemaFile("fine.surql", NOT_WARNED)], engine).warnings == ()


def test_strict_keeps_it_a_warning() -> None:
    """--strict makes an unreadable kind an error; this kind is read, the type is right."""
    warnings = read_files(schema(WARNED[:1], "warned"), strict=True).warnings
    assert warnings == (message("thing", "freeform", "freeform"),)


@pytest.mark.parametrize("engine", ["2", "3"])
def test_cli_prints_the_warning_and_generates(engine: str, cli_folder: Path) -> None:
    Path("thing.surql").write_text(
        "DEFINE TABLE thing SCHEMAFULL;\nDEFINE FIELD freeform ON thing TYPE object;\n"
    )
    result = CliRunner().invoke(
        cli.main,
        ["generate", "--schema", "thing.surql", "--out", "generated", "--strict"],
        env={"SURREAL_GEN_EMBEDDED": engine},
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"surreal-gen: warning: {message('thing', 'freeform', 'freeform')}\n")
    assert "freeform: dict[str, Any]" in (cli_folder / "generated" / "thing.py").read_text()
