"""Rendering: deterministic bytes, and schema text that cannot break or inject code."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surreal_gen.codegen import emit
from surreal_gen.codegen.emit import PACKAGE_FILES, PackageRenderer, docstring, render_package
from surreal_gen.codegen.introspect import SchemaFile
from surreal_gen.codegen.ir import Field, Schema, Table
from surreal_gen.codegen.kinds import Kind, literal, union_of
from surreal_gen.codegen.mapping import py_str
from surreal_gen.codegen.output import MARKER, write_package
from surreal_gen.runtime.model import BaseSurrealModel
from tests.codegen.reference import read_files, reference
from tests.codegen.strategies import kinds


def test_output_is_deterministic_and_the_same_from_both_engines() -> None:
    from_two = render_package(reference("2.x").schema)
    assert render_package(reference("2.x").schema) == from_two
    assert render_package(reference("3.x").schema) == from_two
    everything = b"".join(from_two.values())
    for engine in ("2.x", "3.x"):
        assert reference(engine).schema.engine_version.encode() not in everything


@pytest.mark.parametrize("handed_over", [0, 1, 5, -1])
def test_tables_handed_over_while_read_give_the_same_bytes(handed_over: int) -> None:
    schema = reference("2.x").schema
    modules: list[tuple[str, bytes]] = []
    renderer = PackageRenderer(on_module=lambda path, content: modules.append((path, content)))
    renderer.expect([t.name for t in schema.tables])
    for table in schema.tables[: len(schema.tables) if handed_over < 0 else handed_over]:
        renderer.add(table)
    files = renderer.files(schema)
    assert files == render_package(schema)
    package_files = {"__init__.py", "py.typed", "schema.json", MARKER}
    assert modules == [(p, c) for p, c in files.items() if p not in package_files]
    assert len(modules) == len(schema.tables)


def test_the_renderer_refuses_tables_it_did_not_expect() -> None:
    schema = reference("2.x").schema
    first, second = schema.tables[:2]
    renderer = PackageRenderer()
    with pytest.raises(ValueError, match="not expected next"):
        renderer.add(first)
    renderer.expect([first.name, second.name])
    with pytest.raises(ValueError, match="not expected next"):
        renderer.add(second)
    renderer.add(first)
    renderer.add(second)
    with pytest.raises(ValueError, match="not expected next"):
        renderer.add(first)
    with pytest.raises(ValueError, match="not the ones the renderer expected"):
        renderer.files(schema)


def test_every_module_compiles() -> None:
    for path, content in render_package(reference("2.x").schema).items():
        if path.endswith(".py"):
            compile(content, path, "exec")


NASTY = '""" + __import__("os").getcwd() + """ \\\\ \\n {{ x }} {% if %} \U0001f600 # end \\\\'
"""SurrealQL text of a comment that tries to end a docstring, escape it, start Jinja, hide a
newline and end on a backslash."""

NASTY_SCHEMA = f"""
DEFINE TABLE `odd "name"` SCHEMAFULL COMMENT '{NASTY}';
DEFINE FIELD `a"b` ON `odd "name"` TYPE string COMMENT '{NASTY}';
DEFINE FIELD `model_config` ON `odd "name"` TYPE int;
DEFINE FIELD `1st` ON `odd "name"` TYPE option<string>;
DEFINE FIELD `in` ON `odd "name"` TYPE option<int>;
DEFINE FIELD quote ON `odd "name"` TYPE 'it\\'s' | "say \\"hi\\"" DEFAULT 'it\\'s';
DEFINE FIELD nested ON `odd "name"` TYPE object;
DEFINE FIELD nested.`x-y` ON `odd "name"` TYPE int COMMENT 'line one
line two';
"""


@given(st.text().filter(lambda text: "\n" not in text))
def test_a_one_line_docstring_reads_back_as_its_text(text: str) -> None:
    assert ast.literal_eval(docstring(text, 4)) == text.strip()


def _ruff_formatted(source: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", "100", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_a_call_statement_is_laid_out_as_ruff_formats_it() -> None:
    heads = ["    model_config = SurrealConfigDict", "config = Config"]
    argument_lists = [
        ['table_name="t"'],
        ['table_name="room_stats"', 'extra="allow"', "frozen=True", "read_only=True"],
        [f'table_name="{"t" * 70}"', 'extra="allow"'],
        [f'table_name="{"t" * 95}"', 'extra="allow"', "frozen=True"],
    ]
    for head in heads:
        for arguments in argument_lists:
            statement = emit.call_statement(arguments, head)
            source = f"class C:\n{statement}\n" if head.startswith(" ") else f"{statement}\n"
            assert _ruff_formatted(source) == source


def assert_ruff_passes(cwd: Path, *arguments: str) -> None:
    """``ruff <arguments>`` run in ``cwd`` finds nothing to change or report."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_checked_in_package_is_as_ruff_formats_it() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert_ruff_passes(repository, "format", "--check", "--line-length", "100", "generated")


def test_schema_text_is_escaped_never_interpolated(tmp_path: Path) -> None:
    schema = read_files([SchemaFile("nasty.surql", NASTY_SCHEMA)]).schema
    [table] = schema.tables
    assert table.comment is not None and '"""' in table.comment and "\n" in table.comment
    files = render_package(schema)
    [module_file] = [p for p in files if p.endswith(".py") and p != "__init__.py"]
    tree = ast.parse(files[module_file])
    called = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    queryset = next(c for c in called if c.endswith("QuerySet"))
    assert called == {"ConfigDict", "SurrealConfigDict", "Field", queryset}

    write_package(tmp_path / "nasty_pkg", files)
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(f"nasty_pkg.{module_file[:-3]}")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("nasty_pkg")]:
            del sys.modules[name]
    [model] = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, BaseSurrealModel) and v is not BaseSurrealModel
    ]
    assert inspect.getdoc(model) == inspect.cleandoc(table.comment)
    assert model.model_config["table_name"] == 'odd "name"'
    aliases = {f.alias or name for name, f in model.model_fields.items()}
    assert aliases >= {'a"b', "model_config", "1st", "in", "quote", "nested"}
    instance = model.model_validate(
        {'a"b': "v", "model_config": 1, "quote": 'say "hi"', "nested": {"x-y": 2}}
    )
    dumped = instance.model_dump(by_alias=True, exclude_unset=True)
    assert dumped["nested"] == {"x-y": 2} and dumped["quote"] == 'say "hi"'
    assert (
        model.model_validate({'a"b': "v", "model_config": 1, "nested": {"x-y": 2}}).quote == "it's"
    )


def test_an_empty_schema_gives_a_valid_package(tmp_path: Path) -> None:
    files = render_package(read_files([SchemaFile("empty.surql", "-- nothing yet\n")]).schema)
    assert sorted(files) == [MARKER, "__init__.py", "py.typed", "schema.json"]
    compile(files["__init__.py"], "__init__.py", "exec")


@pytest.mark.parametrize(
    "value",
    ["plain", "it's", 'say "hi"', 'it\'s "x"', "''x\"\"", "x \"a\" 'b' 'c'", "\\'", "\u2028\x00\r"],
)
def test_a_string_literal_is_quoted_as_ruff_formats_it(value: str) -> None:
    source = f"x = {py_str(value)}\n"
    assert _ruff_formatted(source) == source


@given(st.text())
def test_a_string_literal_reads_back_as_its_text(text: str) -> None:
    assert ast.literal_eval(py_str(text)) == text


LONG_NAMES_SCHEMA = """
DEFINE TABLE customer_subscription_invoice_line SCHEMAFULL;
DEFINE FIELD note ON customer_subscription_invoice_line TYPE string
    DEFAULT 'the "quoted" word isn\\'t \\'single\\'';
DEFINE FIELD place ON customer_subscription_invoice_line TYPE geometry;
DEFINE FIELD spots ON customer_subscription_invoice_line TYPE option<array<geometry, 3>>;
DEFINE FIELD shipping_address ON customer_subscription_invoice_line TYPE object;
DEFINE FIELD shipping_address.delivery_instructions_for_the_courier ON
    customer_subscription_invoice_line TYPE option<array<record<customer_subscription_invoice_line>>>;
DEFINE TABLE warehouse_stock_movement_event TYPE RELATION
    IN customer_subscription_invoice_line OUT customer_subscription_invoice_line
    | warehouse_stock_movement_event SCHEMAFULL;
DEFINE TABLE customer_subscription_invoice_line_item_adjustment SCHEMAFULL COMMENT 'Adjustments.
    One row per change to a line item,
    written by the billing job.  ';
DEFINE FIELD amount ON customer_subscription_invoice_line_item_adjustment TYPE decimal;
"""


@pytest.mark.parametrize("engine", ["2.x", "3.x"])
def test_a_package_of_long_names_quotes_and_comments_is_as_ruff_formats_it(
    tmp_path: Path, engine: str
) -> None:
    schema = read_files([SchemaFile("long.surql", LONG_NAMES_SCHEMA)], engine).schema
    files = render_package(schema)
    write_package(tmp_path / "pkg", files)
    assert_ruff_passes(tmp_path, "format", "--check", "--line-length", "100", "pkg")


WIDE_SCHEMA = """
DEFINE TABLE `注文` SCHEMAFULL COMMENT '注文。一行が一件の注文です。';
DEFINE FIELD `配送先の住所と受取人の名前と電話番号と配達時間帯の希望` ON `注文` TYPE option<string>;
DEFINE FIELD `状態` ON `注文` TYPE
    "受付済み" | "発送準備中" | "発送済み" | "配達完了" | "キャンセル済み" | "返品受付";
DEFINE FIELD `合計金額` ON `注文` TYPE decimal
    COMMENT '税込みの合計金額（円）。割引とポイント利用の後の金額で、送料を含みます。';
"""


@pytest.mark.parametrize("engine", ["2.x", "3.x"])
def test_a_package_of_wide_characters_is_as_ruff_formats_it(tmp_path: Path, engine: str) -> None:
    """A line of CJK text is twice as wide as it is long: ruff wraps by width."""
    schema = read_files([SchemaFile("wide.surql", WIDE_SCHEMA)], engine).schema
    write_package(tmp_path / "pkg", render_package(schema))
    assert_ruff_passes(tmp_path, "format", "--check", "--line-length", "100", "pkg")


@pytest.mark.parametrize(
    "letters",
    [
        "名前",  # wide: two columns each
        "ﾀﾞﾃﾞ",  # halfwidth katakana with halfwidth sound marks: one and none
        "か\u3099",  # a kana and a combining sound mark (NFD): two and none
        "\u1100\u1161\ud7b0",  # Hangul leading consonant, vowel, extended vowel: two, none, none
        "ড\u09be",  # Bengali letter and a vowel sign that extends it: one and none
        "ㅤx",  # the Hangul filler: none
        "e\u0301",  # a combining accent: none
    ],
)
def test_string_literals_of_any_width_are_laid_out_as_ruff_formats_it(letters: str) -> None:
    """Literals of every length from 10 to 60 repeats, so some line of the filters lands on
    the line length exactly, whatever the width of ``letters``."""
    fields = tuple(
        Field(f"f{n}", union_of([literal(letters * n), literal("b")])) for n in range(10, 61)
    )
    files = render_package(Schema((Table("t", fields=fields),)))
    source = files["t.py"].decode("utf-8")
    assert _ruff_formatted(source) == source


WORD_CHARACTERS = "ab_z名前状態注文한국어ぁアｶＡé" + "e\u0301" + "\u1100\u1161"
"""Letters as schemas write them: ASCII, CJK (two columns wide), hangul (a syllable, and a
leading consonant with a vowel that joins it), kana, fullwidth and halfwidth forms,
accented Latin precomposed and combining. Ruff measures a line by its characters' display
width."""


@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.from_regex(r"[a-z][a-z_]{0,39}", fullmatch=True),
                st.text(alphabet=WORD_CHARACTERS, min_size=1, max_size=40),
            ),
            kinds,
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda pair: pair[0],
    ),
    st.text(alphabet=WORD_CHARACTERS, min_size=1, max_size=30),
)
@settings(deadline=None, max_examples=60)
def test_any_field_is_laid_out_as_ruff_formats_it(
    named_kinds: list[tuple[str, Kind]], table: str
) -> None:
    fields = tuple(Field(name, kind) for name, kind in named_kinds)
    files = render_package(Schema((Table(table, fields=fields),)))
    [module] = [content for path, content in files.items() if path not in PACKAGE_FILES]
    source = module.decode("utf-8")
    assert _ruff_formatted(source) == source


MULTI_LINE_COMMENTS = [
    "Orders.\n    Each row is one order,\n    placed by a person.",
    "first\n  two\n    three",
    "trailing spaces   \nnext line \nlast",
    "a\n    \n b",
    "a\n\n\n  b \\ \n  c",
]


def _docstrings_as_ruff_formats_them(texts: list[str]) -> None:
    source = "\n\n".join(f"class C:\n    {docstring(text, 4)}\n" for text in texts)
    assert _ruff_formatted(source) == source
    classes = ast.parse(source).body
    assert [ast.get_docstring(c) for c in classes if isinstance(c, ast.ClassDef)] == [
        inspect.cleandoc(text.strip()) for text in texts
    ]


@pytest.mark.parametrize("text", MULTI_LINE_COMMENTS)
def test_a_multi_line_docstring_is_as_ruff_formats_it(text: str) -> None:
    _docstrings_as_ruff_formats_them([text])


@given(st.lists(st.text(alphabet=' \n\r\\"ab\u3000\x0c', min_size=1), min_size=1))
@settings(deadline=None, max_examples=50)
def test_any_docstring_is_as_ruff_formats_it(texts: list[str]) -> None:
    _docstrings_as_ruff_formats_them([text for text in texts if text.strip()] or ["x"])


def test_a_blank_comment_gives_no_empty_docstring() -> None:
    schema = read_files(
        [
            SchemaFile(
                "blank.surql",
                "DEFINE TABLE w SCHEMAFULL COMMENT '   ';\n"
                "DEFINE FIELD o ON w TYPE object COMMENT '\n  ';\n"
                "DEFINE FIELD o.x ON w TYPE int COMMENT ' ';\n",
            )
        ]
    ).schema
    source = render_package(schema)["w.py"].decode("utf-8")
    assert '""""""' not in source
    assert '"""Table w."""' in source and '"""A nested object of W."""' in source


def test_the_package_imports_are_sorted_as_ruff_isort_sorts_them(tmp_path: Path) -> None:
    tables = ["user", "user_address", "t_2", "t_10", "t1", "ta", "t", "b_x", "b"]
    source = "".join(f"DEFINE TABLE {name} SCHEMAFULL;\n" for name in tables)
    files = render_package(read_files([SchemaFile("names.surql", source)]).schema)
    write_package(tmp_path / "pkg", files)
    assert_ruff_passes(tmp_path, "check", "--isolated", "--select", "I", "pkg/__init__.py")
