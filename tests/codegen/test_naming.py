"""Python names for database names: valid, distinct, deterministic."""

from __future__ import annotations

import keyword
import random
import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from surreal_gen.codegen.naming import (
    DERIVED_CLASS_SUFFIXES,
    MODEL_ATTRIBUTES,
    class_name,
    class_names,
    field_name,
    field_names,
    module_name,
    module_names,
)
from surreal_gen.runtime.model import BaseSurrealModel

SOFT_KEYWORDS = {"_", "case", "match", "type"}


def is_safe_identifier(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in SOFT_KEYWORDS
        and unicodedata.normalize("NFKC", name) == name
    )


# Classes -----------------------------------------------------------------------------------


def test_class_names_are_pascal_case_without_singularising() -> None:
    assert class_name("chat_message") == "ChatMessage"
    assert class_name("user-profile") == "UserProfile"
    assert class_name("status") != class_name("statu")
    assert class_name("HTTPServer") == "HTTPServer"


def test_class_names_avoid_what_generated_code_uses() -> None:
    for table in ("none", "true", "decimal", "exception", "record_id", "literal", "table"):
        name = class_name(table)
        assert is_safe_identifier(name)
        assert name not in {"None", "True", "Decimal", "Exception", "Literal", "Table"}
    assert class_name("123abc") == "Table123abc"
    assert is_safe_identifier(class_name("")) and is_safe_identifier(class_name("_"))


def test_class_names_resolve_collisions_in_sorted_order() -> None:
    tables = ["user_profile", "UserProfile", "userProfile", "user", "user_query_set"]
    names = class_names(tables)
    assert len(set(names.values())) == len(tables)
    assert names["user"] == "User"  # a derived-looking name never pushes a plain one aside
    assert names["UserProfile"] == "UserProfile"
    assert {names["user_profile"], names["userProfile"]} == {"UserProfile_2", "UserProfile_3"}
    shuffled = tables[:]
    random.Random(7).shuffle(shuffled)
    assert class_names(shuffled) == names


def test_class_names_keep_their_derived_names_free() -> None:
    names = class_names(["user", "UserFilters", "user_stream"])
    assert names["user"] == "User"
    derived = {name + suffix for name in names.values() for suffix in DERIVED_CLASS_SUFFIXES}
    assert not derived & set(names.values())
    assert len(derived) == 3 * len(DERIVED_CLASS_SUFFIXES)  # UserStreamFilters only once


# Fields ------------------------------------------------------------------------------------


def test_field_names_keep_valid_database_names() -> None:
    for name in ("text", "room", "Name", "name", "id", "créé", "foo_", "in_"):
        assert field_name(name) == name


def test_field_names_avoid_keywords_and_model_attributes() -> None:
    assert field_name("class") == "class_"
    assert field_name("in") == "in_"
    assert field_name("from") == "from_"
    assert field_name("match") == "match_"
    assert field_name("type") == "type_"
    for attribute in ("schema", "json", "copy", "dict", "construct", "validate", "objects"):
        assert field_name(attribute) == attribute + "_"
    for attribute in ("save", "delete", "refresh", "get", "str", "int"):
        assert field_name(attribute) == attribute + "_"
    inherited = {name for name in dir(BaseSurrealModel) if not name.startswith("_")} - {"id"}
    assert inherited > {name for name in dir(BaseModel) if not name.startswith("_")}
    assert all(field_name(name) not in inherited for name in inherited)
    assert field_name("model_config") == "field_model_config"


def test_model_attributes_list_every_inherited_name_outside_model_prefix() -> None:
    inherited = {name for name in dir(BaseSurrealModel) if not name.startswith("_")} - {"id"}
    assert {name for name in inherited if not name.startswith("model_")} == MODEL_ATTRIBUTES


def test_field_names_fix_what_python_cannot_read() -> None:
    assert field_name("first-name") == "first_name"
    assert field_name("a b") == "a_b"
    assert field_name("`weird`") == "weird"
    assert field_name("1st") == "field_1st"
    assert field_name("__init__") == "init__"
    assert field_name("_") == "field"
    assert field_name("ﬁeld") == "field"  # NFKC, as Python reads identifiers


def test_field_names_resolve_collisions_preferring_untouched_names() -> None:
    names = field_names(["in", "in_", "a-b", "a_b", "Name", "name"])
    assert names["in_"] == "in_" and names["a_b"] == "a_b"
    assert names["Name"] == "Name" and names["name"] == "name"
    assert len(set(names.values())) == 6
    assert field_name("x", {"x", "x_2"}) == "x_3"


# Modules -----------------------------------------------------------------------------------


def test_module_names_are_ascii_snake_case() -> None:
    assert module_name("ChatMessage") == "chat_message"
    assert module_name("chat_message") == "chat_message"
    assert module_name("HTTPServer") == "http_server"
    assert module_name("café") == "cafe"
    assert module_name("日本") == "u65e5_u672c"
    assert module_name("class") == "class_"
    assert module_name("con") == "con_"  # a reserved device name on Windows
    assert module_name("1st") == "table_1st"


def test_module_names_differ_case_insensitively() -> None:
    names = module_names(["User", "user", "USER"])
    assert len({name.lower() for name in names.values()}) == 3


# Fuzzing -----------------------------------------------------------------------------------

names_in = st.text(max_size=12) | st.sampled_from(
    ["class", "in", "_", "__init__", "model_config", "schema", "id", "None", "1", "a-b", "ﬁ"]
)


@given(st.lists(names_in, max_size=12))
def test_fuzz_class_names(tables: list[str]) -> None:
    names = class_names(tables)
    assert all(is_safe_identifier(name) for name in names.values())
    assert len(set(names.values())) == len(set(tables))
    everything = set(names.values()) | {
        name + suffix for name in names.values() for suffix in DERIVED_CLASS_SUFFIXES
    }
    assert len(everything) == len(names) * (1 + len(DERIVED_CLASS_SUFFIXES))
    assert class_names(list(reversed(tables))) == names


@given(st.lists(names_in, max_size=12))
def test_fuzz_field_names(db_names: list[str]) -> None:
    names = field_names(db_names)
    for name in names.values():
        assert is_safe_identifier(name)
        assert not name.startswith(("_", "model_"))
    assert len(set(names.values())) == len(set(db_names))
    assert field_names(list(reversed(db_names))) == names


@given(st.lists(names_in, max_size=12))
def test_fuzz_module_names(tables: list[str]) -> None:
    names = module_names(tables)
    for name in names.values():
        assert is_safe_identifier(name) and name.isascii() and name == name.lower()
    assert len(set(names.values())) == len(set(tables))
    assert module_names(list(reversed(tables))) == names


@given(names_in, st.sets(names_in, max_size=5))
def test_fuzz_single_names_avoid_taken(name: str, taken: set[str]) -> None:
    assert field_name(name, taken) not in taken
    assert module_name(name, taken).lower() not in {t.lower() for t in taken}
    assert class_name(name, taken) not in taken
