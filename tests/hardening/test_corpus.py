"""The hostile schema corpus through `surreal-gen` on both embedded engines: every output
compiles, imports, passes `mypy --strict`, round-trips a record through the database, and
keeps all schema text inside string literals and docstrings."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from mypy import api as mypy_api

from surreal_gen.codegen.introspect import SchemaFile, apply_files
from surreal_gen.codegen.ir import Schema, schema_from_json
from surreal_gen.runtime.connection import SurrealDBConnectionManager
from surreal_gen.runtime.model import BaseSurrealModel
from tests.hardening.corpus import (
    CANARY,
    CorpusEntry,
    code_text,
    comments_of,
    corpus,
    sample_record,
)
from tests.hardening.figures import Figure, record

REPO = Path(__file__).resolve().parents[2]

CASES = [(entry, engine) for entry in corpus() for engine in entry.engines]
IDS = [f"{entry.name}-{engine}x" for entry, engine in CASES]


@dataclass(frozen=True)
class Generated:
    entry: CorpusEntry
    engine: str
    folder: Path
    schema: Schema

    def modules(self) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(self.folder.glob("*.py"))}

    def package(self) -> ModuleType:
        root = str(self.folder.parent)
        if root not in sys.path:
            sys.path.insert(0, root)
        return importlib.import_module(self.folder.name)

    def models(self) -> list[type[BaseSurrealModel]]:
        package = self.package()
        exported = [getattr(package, name) for name in package.__all__]
        return [m for m in exported if isinstance(m, type) and issubclass(m, BaseSurrealModel)]


def run_cli(engine: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`surreal-gen ARGS` in a child process on the given embedded engine."""
    env = {**os.environ, "SURREAL_GEN_EMBEDDED": engine}
    command = [
        sys.executable,
        "-c",
        "from surreal_gen.codegen.cli import entry_point; entry_point()",
        *args,
    ]
    return subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=600, cwd=REPO
    )


@pytest.fixture(scope="session")
def corpus_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the corpus packages are generated (on sys.path once imported)."""
    return tmp_path_factory.mktemp("corpus")


@cache
def generate(root: Path, entry: CorpusEntry, engine: str) -> Generated:
    """Write the entry's schema to a file and run the CLI on it (once per test run)."""
    schema_file = root / "schemas" / f"{entry.name}.surql"
    schema_file.parent.mkdir(parents=True, exist_ok=True)
    schema_file.write_text(entry.text, encoding="utf-8")
    folder = root / entry.package(engine)
    done = run_cli(engine, "--schema", str(schema_file), "--out", str(folder))
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr}"
    assert "error" not in done.stderr, done.stderr
    marker = json.loads((folder / ".surreal-gen.json").read_text(encoding="utf-8"))
    return Generated(entry, engine, folder, schema_from_json(marker["schema"]))


@pytest.fixture(params=CASES, ids=IDS)
def generated(request: pytest.FixtureRequest, corpus_out: Path) -> Generated:
    entry, engine = request.param
    return generate(corpus_out, entry, engine)


def test_output_stays_inside_its_folder(generated: Generated) -> None:
    """Table names like `..`, `a/b` and `py.typed` must not steer where files go."""
    files = [p for p in generated.folder.parent.rglob("*") if generated.folder.name in p.parts]
    assert all(p.parent == generated.folder for p in files if p.is_file())
    assert {p.name for p in files} >= {
        "__init__.py",
        "py.typed",
        "schema.json",
        ".surreal-gen.json",
    }


def test_output_compiles_and_imports(generated: Generated) -> None:
    for name, source in generated.modules().items():
        compile(source, str(generated.folder / name), "exec")
    models = generated.models()
    tables = {t.name for t in generated.schema.tables}
    assert {m.get_table_name() for m in models} == tables
    for model in models:
        assert model.model_rebuild(force=True) is not False
    record(Figure("hostile schemas x engines: generated, compiled, imported", 1))


def test_schema_text_stays_inside_strings(generated: Generated) -> None:
    names = {t.name for t in generated.schema.tables} | {
        segment for t in generated.schema.tables for f in t.fields for segment in f.segments
    }
    awkward = [n for n in names if re.search(r"[^\w*]", n) and n.strip(".")]  # `..` is in `...`
    for name, source in generated.modules().items():
        code = code_text(source)
        assert CANARY not in code, f"{name}: schema text outside a string literal"
        assert not [c for c in comments_of(source) if CANARY in c], f"{name}: in a comment"
        leaked = [raw for raw in awkward if raw in code]
        assert not leaked, f"{name}: raw schema names in code: {leaked}"


def test_identifiers_are_distinct(generated: Generated) -> None:
    models = generated.models()
    assert len({m.__name__ for m in models}) == len(models)
    for model in models:
        aliases = [info.alias or name for name, info in model.model_fields.items()]
        assert len(set(aliases)) == len(aliases), model.__name__


@pytest.fixture
def connection_url(generated: Generated) -> Iterator[str]:
    url = f"mem://?engine={generated.engine}"
    SurrealDBConnectionManager.set_connection(url, "root", "root", "hostile", "corpus")
    yield url


async def test_record_round_trips(generated: Generated, connection_url: str) -> None:
    connection = SurrealDBConnectionManager.get_connection()
    try:
        await apply_files(connection, [SchemaFile(generated.entry.name, generated.entry.text)])
        tables = {t.name: t for t in generated.schema.tables}
        written = 0
        for model in generated.models():
            table = tables[model.get_table_name()]
            if table.view is not None:
                continue
            values = sample_record(model)
            saved = await model(**values).save()
            assert saved.id is not None
            loaded = await model.get(saved.id)
            assert loaded == saved
            computed = {f.path for f in table.fields if f.value is not None}
            for name, value in values.items():
                info = model.model_fields[name]
                if (info.alias or name) not in computed:
                    assert getattr(loaded, name) == value, f"{table.name}.{name}"
            written += 1
        assert written > 0
        record(Figure("hostile schemas: records round-tripped", written))
    finally:
        await SurrealDBConnectionManager.close_all()


@pytest.mark.parametrize("engine", ["2", "3"])
def test_output_passes_mypy_strict(engine: str, corpus_out: Path) -> None:
    packages = [generate(corpus_out, entry, e).folder for entry, e in CASES if e == engine]
    stdout, stderr, status = mypy_api.run(
        [
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--cache-dir",
            str(corpus_out / f".mypy_cache_{engine}"),
            *map(str, packages),
        ]
    )
    assert status == 0, stdout + stderr
    record(Figure("hostile schemas: packages through mypy --strict", len(packages)))


def test_token_check_sees_text_that_escaped_its_string() -> None:
    escaped = f'x = """docstring"""\n{CANARY} = 1  # {CANARY}\ny = "{CANARY}"\n'
    assert CANARY in code_text(escaped).splitlines()[1]
    assert CANARY not in code_text(escaped).splitlines()[2]
    assert comments_of(escaped) == [f"# {CANARY}"]
