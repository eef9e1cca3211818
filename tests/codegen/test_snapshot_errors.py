"""A hand-edited ``--from-json`` snapshot: each wrong value is refused in one line naming the
table (and field) and the problem, and the command exits 2 without writing anything."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from surreal_gen.codegen.ir import SnapshotError, schema_from_json, schema_to_json
from tests.codegen.reference import reference
from tests.hardening.test_bad_input import assert_one_line, surreal_gen

Edit = Callable[[dict[str, Any]], None]


def _snapshot() -> dict[str, Any]:
    """The reference schema as the 2.x engine reads it, as ``surreal-gen introspect`` prints it."""
    return copy.deepcopy(schema_to_json(reference("2.x").schema))  # the tables are cached


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in data["tables"] if t["name"] == name)


def _field(data: dict[str, Any], table: str, path: str) -> dict[str, Any]:
    return next(f for f in _table(data, table)["fields"] if f["path"] == path)


def _set_table(key: str, value: Any) -> Edit:
    return lambda data: _table(data, "chat_message").__setitem__(key, value)


def _set_field(key: str, value: Any) -> Edit:
    return lambda data: _field(data, "chat_message", "sender").__setitem__(key, value)


def _duplicate_table(data: dict[str, Any]) -> None:
    data["tables"].append(copy.deepcopy(_table(data, "chat_message")))


def _duplicate_field(data: dict[str, Any]) -> None:
    fields = _table(data, "chat_message")["fields"]
    fields.append(dict(_field(data, "chat_message", "sender")))


def _misspelt_key(data: dict[str, Any]) -> None:
    _field(data, "chat_message", "sender")["defualt"] = "'x'"


def _relation_in_as_text(data: dict[str, Any]) -> None:
    relation = next(t for t in data["tables"] if t["type"] == "relation")
    relation["name"] = "chat_message_rel"
    relation["in"] = "abc"


def _missing_type(data: dict[str, Any]) -> None:
    del _table(data, "chat_message")["type"]


CASES: list[tuple[str, Edit, str]] = [
    ("table comment", _set_table("comment", 5), "table 'chat_message': 'comment' must be"),
    ("field comment", _set_field("comment", 5), "table 'chat_message', field 'sender': 'comment'"),
    ("field default", _set_field("default", 7), "field 'sender': 'default' must be a string"),
    ("empty table name", _set_table("name", ""), "'name' must be a non-empty string"),
    ("table type", _set_table("type", "bogus"), "table 'chat_message': 'type' must be one of"),
    ("missing type", _missing_type, "'type' is missing"),
    ("duplicate table", _duplicate_table, "table 'chat_message': listed twice"),
    ("empty path", _set_field("path", ""), "field #2: 'path' must be a non-empty string"),
    ("empty segment", _set_field("path", "a..b"), "field 'a..b': not a canonical field path"),
    ("duplicate field", _duplicate_field, "table 'chat_message', field 'sender': listed twice"),
    ("relation in as text", _relation_in_as_text, "table 'chat_message_rel': 'in' must be a list"),
    ("unknown kind", _set_field("kind", "strng"), "field 'sender': unknown kind 'strng'"),
    ("misspelt key", _misspelt_key, "unknown key 'defualt'"),
    ("schemafull", _set_table("schemafull", "yes"), "'schemafull' must be true or false"),
    (
        "index",
        _set_table("indexes", [{"name": 1, "columns": ["text"], "clause": ""}]),
        "table 'chat_message', index #1: 'name' must be a non-empty string, not 1",
    ),
    (
        "index clause",
        _set_table("indexes", [{"name": "i", "columns": ["text"], "clause": 5}]),
        "index #1: 'clause' must be a string, not 5",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_wrong_value_names_where_and_what(edit: Edit, expected: str) -> None:
    data = _snapshot()
    edit(data)
    with pytest.raises(SnapshotError) as raised:
        schema_from_json(data)
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message


def test_tables_and_fields_come_back_in_order() -> None:
    """A hand-written snapshot need not be sorted: the IR is, as the introspector gives it."""
    data = _snapshot()
    data["tables"].reverse()
    for table in data["tables"]:
        table["fields"].reverse()
    assert schema_from_json(data) == reference("2.x").schema


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_refuses_a_wrong_snapshot_in_one_line(
    tmp_path: Path, edit: Edit, expected: str
) -> None:
    data = _snapshot()
    edit(data)
    (tmp_path / "schema.json").write_text(json.dumps(data), encoding="utf-8")
    done = surreal_gen("--from-json", "schema.json", "--out", "pkg", cwd=tmp_path)
    assert_one_line(done, 2, "schema.json: ", expected)
    assert not (tmp_path / "pkg").exists()
