"""Where a failing statement starts, when a ``.surql`` file holds regex literals and divisions:
the engine runs the file, ``statements`` only says where each statement begins."""

from __future__ import annotations

from pathlib import Path

import pytest

from surreal_gen.codegen.introspect import SchemaFile, SchemaSourceError, statements
from tests.codegen.reference import read_files

ENGINES = ["2.x", "3.x"]

# Each schema is fine up to its last line, which defines table `a` a second time.
LOCATED = {
    "regex holding ;": "DEFINE TABLE a;\nDEFINE FIELD e ON a TYPE string ASSERT $value = /x;y/;\n",
    "regex holding a quote": 'DEFINE TABLE a;\nDEFINE FIELD e ON a TYPE string ASSERT $value = /"/;\n'
    'DEFINE FIELD f ON a TYPE string ASSERT $value = /"/;\n',
    "regex with an escaped slash": "DEFINE TABLE a;\n"
    "DEFINE FIELD e ON a TYPE string ASSERT $value = /a\\/;'/;\n",
    "regex in a call": "DEFINE TABLE a;\n"
    "DEFINE FIELD e ON a TYPE string ASSERT string::matches($value, /[;(]/);\n",
    "regex after a keyword": "DEFINE TABLE a;\nDEFINE FIELD e ON a DEFAULT /x;/;\n",
    "regex after a keyword and a comment": "DEFINE TABLE a;\n"
    "DEFINE FIELD e ON a DEFAULT /* c; */ /x;/;\n",
    "division after a name and a comment": "DEFINE TABLE a;\n"
    "DEFINE FIELD n ON a TYPE number VALUE $value /* c; */ / 2;\n",
    "division": "DEFINE TABLE a;\n"
    "DEFINE FIELD n ON a TYPE number VALUE $value / 2;\n"
    "DEFINE FIELD m ON a TYPE number VALUE (4) / 2 + $this.value / 2;\n"
    "DEFINE FIELD o ON a TYPE number VALUE 6 / 3; DEFINE FIELD p ON a TYPE number;\n",
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", LOCATED.values(), ids=LOCATED.keys())
def test_a_failing_statement_after_a_slash_is_located(text: str, engine: str) -> None:
    text += "DEFINE TABLE a;\n"
    last_line = text.count("\n")
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", text)], engine)
    assert str(raised.value).startswith(f"s.surql:{last_line}:1: "), str(raised.value)
    assert "already exists" in str(raised.value)


@pytest.mark.parametrize("text", LOCATED.values(), ids=LOCATED.keys())
def test_each_statement_starts_a_line(text: str) -> None:
    """Every statement above starts its own line, save the two on the last line."""
    found = statements(text)
    lines = text.splitlines()
    expected = [(n, 1) for n in range(1, len(lines) + 1)]
    if "; DEFINE" in lines[-1]:
        expected.append((len(lines), lines[-1].index("; DEFINE") + 3))
    assert [(s.line, s.column) for s in found] == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_a_byte_order_mark_is_not_part_of_the_schema(engine: str) -> None:
    bom = "\ufeff"
    schema = read_files([SchemaFile("s.surql", bom + "DEFINE TABLE bom SCHEMAFULL;\n")], engine)
    assert [t.name for t in schema.schema.tables] == ["bom"]
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", bom + "DEFINE TABLE a;\nDEFINE TABLE a;\n")], engine)
    assert str(raised.value).startswith("s.surql:2:1: "), str(raised.value)
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", bom + "DEFINE TABLEX a;\n")], engine)
    assert str(raised.value).startswith("s.surql:1:8: "), str(raised.value)


def test_reading_a_file_drops_the_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "s.surql"
    path.write_bytes(b"\xef\xbb\xbfDEFINE TABLE bom;\n")
    assert SchemaFile.read(path, "s.surql") == SchemaFile("s.surql", "DEFINE TABLE bom;\n")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"DEFINE TABLE \xff\xfe x;\n", "1:14"),
        (b"\xef\xbb\xbfDEFINE TABLE a;\r\n-- caf\xc3\xa9 \xe9\n", "2:9"),
        (b"\xff", "1:1"),
        (b"DEFINE TABLE a;\r-- caf\xe9\r", "2:7"),
    ],
)
def test_bytes_that_are_not_utf8_are_located(tmp_path: Path, data: bytes, where: str) -> None:
    path = tmp_path / "s.surql"
    path.write_bytes(data)
    with pytest.raises(SchemaSourceError) as raised:
        SchemaFile.read(path, "schema/s.surql")
    assert str(raised.value) == f"schema/s.surql:{where}: not valid UTF-8"


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(SchemaSourceError) as raised:
        SchemaFile.read(tmp_path / "missing.surql", "missing.surql")
    assert str(raised.value) == "missing.surql: cannot read: No such file or directory"


# Both engines end a line comment at any of these, not only at "\n".
LINE_ENDS = {"CR": "\r", "NEL": "\x85", "LS": "\u2028", "PS": "\u2029"}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("comment", ["--", "//", "#"])
@pytest.mark.parametrize("end", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_a_line_comment_ends_where_the_engine_ends_it(engine: str, comment: str, end: str) -> None:
    """A file whose lines end in "\\r" (old Mac editors) and that starts with a comment was
    taken for a comment alone, and not applied: no tables, exit 0."""
    newline = "\r" if end == "\r" else "\n"  # the others are no whitespace between statements
    text = f"{comment} tables{end}DEFINE TABLE a;{newline}DEFINE TABLE b;{newline}"
    assert [s.keyword for s in statements(text)] == ["DEFINE", "DEFINE"]
    schema = read_files([SchemaFile("s.surql", text)], engine)
    assert [t.name for t in schema.schema.tables] == ["a", "b"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("char", "shown"), [("\u2028", "\\u2028"), ("\x85", "\\x85"), ("\x00", "\\x00")]
)
def test_an_invisible_token_is_shown_escaped(engine: str, char: str, shown: str) -> None:
    """The engine quotes the token it refuses; a line separator in it cut the message at
    "Invalid token `", and a NUL was printed as it is, invisible on a terminal."""
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", f"DEFINE TABLE a;{char}DEFINE TABLE b;\n")], engine)
    assert str(raised.value) == f"s.surql:1:16: Parse error: Invalid token `{shown}`"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("use", "where"),
    [
        ("USE NS app DB app;", "namespace app, database app"),
        ("use db `x-y`; -- comment; here", "namespace test, database x-y"),
        ("USE NS test;\nUSE DB other;", "namespace test, database other"),
    ],
)
def test_a_use_of_another_database_is_refused_where_it_is(
    engine: str, use: str, where: str
) -> None:
    """The statements after such a USE went to a database that is never read: the schema
    came out empty or short, with exit 0."""
    text = f"DEFINE TABLE a;\n  {use}\nDEFINE TABLE b;\n"
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", text)], engine)
    line = 3 if "\n" in use else 2
    column = 1 if "\n" in use else 3
    assert str(raised.value) == (
        f"s.surql:{line}:{column}: USE switches to {where}, which is not read: leave USE out "
        "of schema files (they are applied to one database)"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_use_of_the_database_read_is_allowed(engine: str) -> None:
    text = "USE NS test DB test;\nDEFINE TABLE a;\nUSE DB test;\nDEFINE TABLE b;\n"
    schema = read_files([SchemaFile("s.surql", text)], engine)
    assert [t.name for t in schema.schema.tables] == ["a", "b"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("-- header\rDEFINE TABLE a;\rDEFINE TABLE b bogus;\r", "3:16"),  # a parse error
        ("DEFINE TABLE a;\rDEFINE TABLE b;\r  DEFINE TABLE a;\r", "3:3"),  # a failing statement
        ("DEFINE TABLE a;\r\n-- x\rDEFINE TABLE a;\n", "3:1"),  # mixed
    ],
)
def test_a_lone_cr_ends_a_line_as_in_editors(engine: str, text: str, where: str) -> None:
    """The engines count lines by "\\n" alone: a file saved with CR line endings had every
    error on line 1, at a column past the end of any line an editor shows."""
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", text)], engine)
    assert str(raised.value).startswith(f"s.surql:{where}: "), str(raised.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failing_statement_is_reported_whole_on_one_line(engine: str) -> None:
    """Only a parse error's first line is its message (a copy of the line and a caret
    follow); a failing statement's message was cut at its first newline."""
    text = "DEFINE TABLE a;\nTHROW 'no:\nname\tmissing';\n"
    with pytest.raises(SchemaSourceError) as raised:
        read_files([SchemaFile("s.surql", text)], engine)
    assert str(raised.value) == "s.surql:2:1: An error occurred: no:\\nname\\tmissing"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_called_utf16(tmp_path: Path, encoding: str) -> None:
    """PowerShell 5 writes UTF-16 with `>`: 'not valid UTF-8' at 1:1 did not say what to do."""
    path = tmp_path / "s.surql"
    path.write_text("\ufeffDEFINE TABLE a;\n", encoding)  # one byte-order mark either way
    with pytest.raises(SchemaSourceError) as raised:
        SchemaFile.read(path, "s.surql")
    assert (
        str(raised.value)
        == "s.surql: UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8"
    )
