"""The kind parser: engine renderings, round trips, totality, and both real engines."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from surreal_gen.codegen.introspect import EMBEDDED_URL
from surreal_gen.codegen.kinds import (
    AnyKind,
    Array,
    ArrayLiteral,
    Geometry,
    Kind,
    KindSyntaxError,
    LiteralValue,
    ObjectLiteral,
    Option,
    Record,
    References,
    Scalar,
    Set,
    Union,
    duration_literal,
    literal,
    parse_kind,
    parse_kind_lenient,
    render_kind,
)
from surreal_gen.runtime.connection import Connection, ConnectionConfig
from surreal_gen.runtime.errors import RpcError
from tests.codegen.strategies import kinds

RENDERINGS = json.loads((Path(__file__).parent / "kind_renderings.json").read_text())["rows"]
VERSIONS = ("2.3.10", "2.6.0", "3.0.2", "3.2.4")

# Rejected by every engine we ran, accepted by us on purpose: an older engine (1.x) or an
# experimental 2.x flag accepts them, and the nested option means the same as one option.
TOLERATED = {
    "option<option<int>>",
    "record(a)",
    "references",
    "references<a>",
    "references<a, b>",
}


def outputs(row: dict[str, Any]) -> list[str]:
    return [row[version] for version in VERSIONS if row.get(version) is not None]


# Engine renderings (surrealdb-raw-outputs.md Appendix C) ---------------------------------------


@pytest.mark.parametrize(
    "row", [row for row in RENDERINGS if outputs(row)], ids=lambda row: row["input"]
)
def test_every_engine_rendering_parses_to_one_ast(row: dict[str, Any]) -> None:
    texts = outputs(row)
    asts = {parse_kind(text) for text in texts}
    assert len(asts) == 1, asts
    assert parse_kind(row["input"]) == asts.pop()


@pytest.mark.parametrize(
    "row", [row for row in RENDERINGS if row["2.3.10"] is not None], ids=lambda row: row["input"]
)
def test_canonical_rendering_is_one_the_engines_print(row: dict[str, Any]) -> None:
    """Where 2.x accepts a kind, our text is the 2.x text (or 3.x's, for ``point``)."""
    texts = outputs(row)
    assert render_kind(parse_kind(texts[0])) in {text.strip() for text in texts}


@pytest.mark.parametrize(
    "row",
    [row for row in RENDERINGS if not outputs(row) and row["input"] not in TOLERATED],
    ids=lambda row: row["input"],
)
def test_inputs_every_engine_rejects_are_rejected(row: dict[str, Any]) -> None:
    with pytest.raises(KindSyntaxError):
        parse_kind(row["input"])


def test_two_and_three_spellings_meet() -> None:
    assert parse_kind("option<string | int>") == parse_kind("none | string | int")
    assert parse_kind("option<string | int>") == Option(Union((Scalar("string"), Scalar("int"))))
    assert parse_kind("string | none") == Option(Scalar("string"))
    assert parse_kind("int | int") == parse_kind("int")
    assert parse_kind("1.50dec") == parse_kind(" 1.5dec") == literal(Decimal("1.5"))
    assert parse_kind("point") == parse_kind("geometry<point>") == Geometry(("point",))
    assert parse_kind("'a\nb'") == parse_kind("'a\\nb'") == literal("a\nb")


def test_values_of_literals() -> None:
    nan = parse_kind(" NaN")
    assert nan == literal(math.nan)
    assert isinstance(nan, LiteralValue) and isinstance(nan.value, float)
    assert math.isnan(nan.value)
    assert parse_kind("-1") == literal(-1)
    assert parse_kind("1_000") == literal(1000)
    assert parse_kind("1e3") == literal(1000.0)
    assert parse_kind("true") == literal(True)
    assert parse_kind("'it\\'s'") == literal("it's")
    assert parse_kind("'\\u{e9}\\u00e9'") == literal("éé")
    assert parse_kind("90m") == duration_literal("1h30m")
    assert render_kind(parse_kind("1500ms")) == "1s500ms"


def test_names_are_unescaped_and_case_kept() -> None:
    assert parse_kind("record<`a-b` | ⟨a b⟩ | User>") == Record(("a-b", "a b", "User"))
    assert render_kind(Record(("a-b", "a`b"))) == "record<`a-b` | `a\\`b`>"
    assert parse_kind("record(a, b)") == Record(("a", "b"))
    assert parse_kind("references<post, comments[*]>") == References("post", "comments[*]")


def test_syntax_error_points_at_the_problem() -> None:
    with pytest.raises(KindSyntaxError) as caught:
        parse_kind("array<string, 5, 3>")
    assert caught.value.position == len("array<string, 5")
    assert "column 16" in str(caught.value)


def test_lenient_parse_degrades_to_any_with_a_warning() -> None:
    kind, warning = parse_kind_lenient("either<string, int>", "user.name", strict=False)
    assert kind == AnyKind()
    assert warning is not None and warning.startswith("user.name: ")
    assert parse_kind_lenient("int", "user.age", strict=False) == (Scalar("int"), None)
    with pytest.raises(KindSyntaxError, match="^user.name: unknown kind 'either'"):
        parse_kind_lenient("either<string, int>", "user.name", strict=True)


@pytest.mark.parametrize(
    "text",
    [
        "9" * 5000,
        "9223372036854775808",
        "1e99999dec",
        "1e-29dec",
        "7" * 5000 + "d",
        "set<int, 1" + "0" * 20 + ">",
    ],
)
def test_numbers_beyond_the_engine_are_refused(text: str) -> None:
    kind, warning = parse_kind_lenient(text, "t.f", strict=False)
    assert kind == AnyKind() and warning is not None and len(warning) < 200


def test_literals_refuse_what_the_parser_would() -> None:
    with pytest.raises(ValueError):
        literal(2**63)
    with pytest.raises(ValueError):
        literal(Decimal("1e40"))
    assert parse_kind("-9223372036854775808") == literal(-(2**63))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    kind, warning = parse_kind_lenient("array<" * 5000, "t.f", strict=False)
    assert kind == AnyKind() and warning is not None and "nested too deeply" in warning


# Property-based ---------------------------------------------------------------------------


@given(kinds)
def test_render_then_parse_gives_the_same_kind(kind: Kind) -> None:
    assert parse_kind(render_kind(kind)) == kind


@given(kinds)
def test_three_x_spelling_parses_the_same(kind: Kind) -> None:
    assert parse_kind(three_x_spelling(kind)) == kind


def three_x_spelling(kind: Kind) -> str:
    """Render as 3.x prints: ``none | T`` and a leading space before float/decimal literals."""
    match kind:
        case Option(inner):
            return "none | " + three_x_spelling(inner)
        case Union(members):
            return " | ".join(three_x_spelling(member) for member in members)
        case Array(item, max_len) | Set(item, max_len):
            keyword = "array" if isinstance(kind, Array) else "set"
            length = f", {max_len}" if max_len is not None else ""
            return f"{keyword}<{three_x_spelling(item)}{length}>"
        case ObjectLiteral(fields):
            body = ", ".join(
                f"{json.dumps(key, ensure_ascii=False)}: {three_x_spelling(value)}"
                for key, value in fields
            )
            return "{ " + body + " }"
        case ArrayLiteral(items):
            return "[" + ", ".join(three_x_spelling(item) for item in items) + "]"
        case LiteralValue(type="float" | "decimal"):
            return " " + render_kind(kind)
        case _:
            return render_kind(kind)


kind_alphabet = st.sampled_from(
    list("<>|,:{}[]()'\"`⟨⟩\\ -+.0123456789fdecmsuµ")
    + ["any", "none", "option", "record", "array", "set", "geometry", "point", "NaN", "int"]
)


@given(st.one_of(st.text(), st.lists(kind_alphabet, max_size=30).map("".join)))
@settings(max_examples=500)
def test_lenient_parse_is_total(text: str) -> None:
    kind, warning = parse_kind_lenient(text, "t.f", strict=False)
    try:
        expected = parse_kind(text)
    except KindSyntaxError:
        assert kind == AnyKind() and warning is not None and warning.startswith("t.f: ")
    else:
        assert (kind, warning) == (expected, None)


@given(kinds, st.data())
def test_damaged_renderings_never_crash(kind: Kind, data: st.DataObject) -> None:
    text = render_kind(kind)
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    damaged = text[:cut] + data.draw(kind_alphabet) + text[cut + 1 :]
    result, warning = parse_kind_lenient(damaged, "t.f", strict=False)
    assert warning is None or result == AnyKind()


# Both real engines ---------------------------------------------------------------------------

ENGINE_KINDS = [row["input"] for row in RENDERINGS if outputs(row)] + [
    "option<array<record<user | post>, 3>>",
    "{ a: { b: array<{ c: option<int> }> }, `x-y`: set<string> }",
    "array<option<int>>",
    "'it\\'s' | \"a\\\"b\" | 'a\\nb' | '✓ €' | ''",
    "record<`a-b` | ⟨c d⟩ | ALL>",
    "90m | 1500ms | 0s | 123456789ns | 2y3w",
    "1.50dec | 1e20 | 1e-7 | -0.0 | 1_000",
    "{ Z: int, a: int, 'a b': int, 'é': int, \"1\": int }",
    "array<[int, int]> | { kind: 'a', x: int } | { kind: 'b', y: string }",
]


# Accepted by one engine generation only (surrealdb-notes.md section 2.1).
ONE_ENGINE_ONLY = {"none", "none | string", "string | none", "geometry<feature>", "file"}
ONE_ENGINE_ONLY |= {"file<bucket1>", "table", "table<a | b>", "NaN", "Infinity"}


async def engine_kinds(version: int, kinds_in: list[str]) -> list[str | None]:
    """Define one field per kind on a fresh embedded engine; return each field's INFO kind."""
    from surrealdb._surrealdb_ext import AsyncEmbeddedDB as Engine2
    from surrealdb_embedded import AsyncEmbeddedDB as Engine3

    db: Any = Engine2("mem://") if version == 2 else Engine3("mem://")
    await db.connect()

    async def query(sql: str) -> Any:
        try:
            reply = cbor2.loads(
                await db.execute(cbor2.dumps({"id": 1, "method": "query", "params": [sql]}))
            )
        except RuntimeError:  # the 2.x wheel raises for RPC errors
            return None
        if "error" in reply or reply["result"][0]["status"] != "OK":
            return None
        return reply["result"][0]["result"]

    await db.execute(cbor2.dumps({"id": 0, "method": "use", "params": ["t", "t"]}))
    accepted = [
        await query(f"DEFINE FIELD f{i} ON t TYPE {kind}") is not None
        for i, kind in enumerate(kinds_in)
    ]
    info = await query("INFO FOR TABLE t STRUCTURE")
    by_name = {entry["name"]: entry.get("kind") for entry in info["fields"]}
    return [by_name[f"f{i}"] if ok else None for i, ok in enumerate(accepted)]


async def test_both_engines_kinds_parse_to_the_same_ast() -> None:
    two = await engine_kinds(2, ENGINE_KINDS)
    three = await engine_kinds(3, ENGINE_KINDS)
    for source, text2, text3 in zip(ENGINE_KINDS, two, three, strict=True):
        if source in ONE_ENGINE_ONLY:
            assert (text2 is None) != (text3 is None), (source, text2, text3)
        else:
            assert text2 is not None and text3 is not None, (source, text2, text3)
            assert parse_kind(text2) == parse_kind(text3), (source, text2, text3)
        assert parse_kind(text2 or text3 or "") == parse_kind(source)


async def test_canonical_rendering_survives_both_engines() -> None:
    """Our text, defined again on either engine, reads back as the same kind."""
    shared = [kind for kind in ENGINE_KINDS if kind not in ONE_ENGINE_ONLY]
    asts = [parse_kind(text or "") for text in await engine_kinds(2, shared)]
    canonical = [render_kind(ast) for ast in asts]
    for version in (2, 3):
        again = await engine_kinds(version, canonical)
        for text, ast, after in zip(canonical, asts, again, strict=True):
            assert after is not None, f"engine {version} rejected our rendering {text!r}"
            assert parse_kind(after) == ast


@pytest.mark.parametrize("engine", ["2", "3"])
def test_random_kinds_read_back_from_the_engine_unchanged(engine: str) -> None:
    """Our rendering of a random kind, defined on a real engine, reads back as that kind
    (kinds the engine refuses, e.g. 3.x-only ones on 2.x, are left out)."""
    url = f"{EMBEDDED_URL}?engine={engine}"
    connection = Connection(ConnectionConfig(url=url, namespace="test", database="test"))
    names = itertools.count()

    async def define(text: str) -> str | None:
        name = f"f{next(names)}"
        try:
            await connection.query(f"DEFINE FIELD {name} ON t TYPE {text}")
        except RpcError:  # parse errors fail the request, other refusals the statement
            return None
        [info] = await connection.query("INFO FOR TABLE t STRUCTURE")
        return str(next(f["kind"] for f in info["fields"] if f["name"] == name))

    with asyncio.Runner() as runner:

        @given(kinds)
        @settings(max_examples=80, deadline=None, database=None)
        def check(kind: Kind) -> None:
            printed = runner.run(define(render_kind(kind)))
            assume(printed is not None)
            assert parse_kind(printed or "") == kind

        try:
            check()
        finally:
            runner.run(connection.close())
