"""Fuzzing the generator end to end: random schemas (random names, kinds, comments and
defaults) always render to code that parses, with valid, distinct identifiers in every scope,
schema text only inside strings, and the same bytes every time.

tests/codegen/test_kinds.py and test_naming.py fuzz the kind parser and the naming functions
one by one; these tests fuzz what they feed: the whole package."""

from __future__ import annotations

import ast
import json
import keyword
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surreal_gen.codegen.emit import render_package
from surreal_gen.codegen.ir import ELEMENT, Field, Schema, Table, join_path
from surreal_gen.codegen.kinds import AnyKind, Scalar, parse_kind_lenient, render_kind
from tests.codegen.strategies import kinds
from tests.hardening.corpus import CANARY, code_text, comments_of, corpus
from tests.hardening.figures import Figure, record

REPO = Path(__file__).resolve().parents[2]

names = st.text(min_size=1, max_size=10).filter(lambda n: n != ELEMENT and CANARY not in n)
"""Names become identifiers, so they must not carry the canary that marks schema *texts*
(hypothesis draws constants found in the test's module, the canary among them)."""
texts = st.text(max_size=40).map(lambda t: f"{CANARY} {t}")
defaults = st.none() | st.sampled_from(["'x'", '"y"', "1", "-2.5", "true", "[]", "{}", "NONE"])


@st.composite
def tables(draw: st.DrawFn) -> Table:
    """A table with random top-level fields, one of them an object with nested fields."""
    field_names = draw(st.lists(names.filter(lambda n: n != "id"), unique=True, max_size=6))
    fields = [
        Field(
            path=join_path((name,)),
            kind=draw(kinds),
            default=draw(defaults | texts),
            value=draw(st.none() | texts),
            assert_=draw(st.none() | texts),
            readonly=draw(st.booleans()),
            comment=draw(st.none() | texts),
        )
        for name in field_names
    ]
    parent = draw(names.filter(lambda n: n not in field_names and n != "id"))
    children = draw(st.lists(names, unique=True, min_size=1, max_size=3))
    fields.append(
        Field(path=join_path((parent,)), kind=Scalar("object"), flexible=draw(st.booleans()))
    )
    fields += [Field(path=join_path((parent, child)), kind=draw(kinds)) for child in children]
    return Table(
        name=draw(names),
        type=draw(st.sampled_from(["normal", "any"])),
        schemafull=draw(st.booleans()),
        fields=tuple(sorted(fields, key=lambda f: f.segments)),
        comment=draw(st.none() | texts),
    )


schemas = st.lists(tables(), max_size=4, unique_by=lambda t: t.name).map(
    lambda found: Schema(tables=tuple(sorted(found, key=lambda t: t.name)))
)


def _scopes(tree: ast.Module) -> list[list[str]]:
    """Names bound in each scope of a module: its top level and every class body."""
    scopes = [[n.name for n in tree.body if isinstance(n, ast.ClassDef)]]
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            scopes.append(
                [
                    statement.target.id
                    for statement in node.body
                    if isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)
                ]
            )
    return scopes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas)
def test_random_schemas_render_to_valid_distinct_code(schema: Schema) -> None:
    files = render_package(schema)
    assert render_package(schema) == files
    json.loads(files["schema.json"])
    for path, content in files.items():
        if not path.endswith(".py"):
            continue
        source = content.decode("utf-8")
        tree = ast.parse(source, filename=path)
        for scope in _scopes(tree):
            assert len(set(scope)) == len(scope), f"{path}: duplicate names {scope}"
            for name in scope:
                assert name.isidentifier() and not keyword.iskeyword(name), name
        assert CANARY not in code_text(source), f"{path}: schema text outside a string"
        assert not [c for c in comments_of(source) if CANARY in c], f"{path}: in a comment"
    record(Figure("fuzz: random schemas rendered", 1))


@given(st.text(max_size=60), names, names)
def test_kind_text_never_crashes_the_lenient_parser(text: str, table: str, field: str) -> None:
    kind, warning = parse_kind_lenient(text, f"{table}.{field}", strict=False)
    if warning is None:
        assert render_kind(kind)
    else:
        assert kind == AnyKind()
        place = f"{table}.{field}"
        assert warning.startswith(place)
        assert "\n" not in warning.removeprefix(place), "the kind text broke the line"
    record(Figure("fuzz: random kind texts parsed", 1))


def test_generator_output_is_the_same_across_processes(tmp_path: Path) -> None:
    """Two runs of the CLI with different hash seeds write the same bytes."""
    schema = tmp_path / "all.surql"
    schema.write_text(
        "\n".join(e.text for e in corpus() if e.engines == ("2", "3") and e.name != "wide"),
        encoding="utf-8",
    )
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}" / "pkg"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", "from surreal_gen.codegen.cli import entry_point; entry_point()"]
            + ["--schema", str(schema), "--out", str(out)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    record(Figure("fuzz: generator runs compared byte for byte", 2))
    assert len(outputs[0]) > 50
