"""apply_diff against the patches the engines really produce.

An INCLUDE ORIGINAL change feed stores, for each update, the ops that turn the new record
back into the old one; they come from the same diff function as DIFF live queries. So
``apply_diff(current, ops) == previous`` checks our reading of real engine ops on both
2.x and 3.x, including string ``change`` edits and arrays that shrink.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surreal_gen.runtime.patch import PatchConflict, apply_diff
from tests.realtime.engines import RawEngine


@pytest.fixture(params=[2, 3], ids=["engine2", "engine3"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[RawEngine]:
    raw = await RawEngine(request.param).start()
    await raw.query("DEFINE TABLE d CHANGEFEED 1h INCLUDE ORIGINAL")
    yield raw
    await raw.close()


async def reverse_ops(engine: RawEngine, before: dict[str, Any], after: dict[str, Any]) -> Any:
    """Write ``before`` then ``after`` to one record; return the update's feed entry.

    A no-op update writes no entry; then the entry is None.
    """
    await engine.query("DELETE d:1; CREATE d:1 CONTENT $c", c=before)
    (head,) = await engine.query("SHOW CHANGES FOR TABLE d SINCE 0")
    await engine.query("UPDATE d:1 CONTENT $c", c=after)
    (feed,) = await engine.query("SHOW CHANGES FOR TABLE d SINCE 0")
    if len(feed) == len(head):
        return None
    (change,) = feed[len(head)]["changes"]
    return change


async def roundtrip(engine: RawEngine, before: dict[str, Any], after: dict[str, Any]) -> None:
    change = await reverse_ops(engine, before, after)
    if change is None:
        assert before == after
        return
    result = apply_diff(change["current"], change["update"], engine_major=engine.major)
    expected = await engine.query("SELECT * FROM ONLY $r", r=change["current"]["id"])
    assert change["current"] == expected[0]
    assert {k: v for k, v in result.document.items() if k != "id"} == before


async def test_text_change_op_with_unicode_and_escapes(engine: RawEngine) -> None:
    before = {"s": "a%20b 100% ünï 😀 x\ny", "t": "hello world"}
    after = {"s": "a%20b 200% ünï 😀😀 x\nyz", "t": "hello there world"}
    change = await reverse_ops(engine, before, after)
    assert any(op["op"] == "change" for op in change["update"])
    await roundtrip(engine, before, after)


async def test_array_growth_gives_ascending_removals(engine: RawEngine) -> None:
    before = {"arr": ["x"], "nested": [[1], [4, 5, 6]]}
    after = {"arr": ["x", "y", "z"], "nested": [[1, 2, 3], [4]]}
    change = await reverse_ops(engine, before, after)
    removals = [op["path"] for op in change["update"] if op["op"] == "remove"]
    assert removals == ["/arr/1", "/arr/2", "/nested/0/1", "/nested/0/2"]
    await roundtrip(engine, before, after)


async def test_keys_that_need_quoting(engine: RawEngine) -> None:
    keys = ["a/b", "t~x", "sp ace", "1", "a`b", "x⟩y", "-", "with\\back", "select", "ünï"]
    before = {key: {"inner": index, "1": "p"} for index, key in enumerate(keys)}
    after = {key: {"inner": index + 1, "1": "q"} for index, key in enumerate(keys)}
    await roundtrip(engine, before, after)


async def test_removed_and_added_fields(engine: RawEngine) -> None:
    await roundtrip(engine, {"gone": 1, "o": {"k": 1}}, {"new": [1], "o": {"k": 1, "j": 2}})


def test_create_root_replace_and_3x_delete() -> None:
    doc = {"id": "d:1", "text": "hi"}
    created = apply_diff(None, [{"op": "replace", "path": "/", "value": doc}], engine_major=2)
    assert created.document == doc
    assert created.changed_fields() == doc
    deleted = apply_diff(doc, [{"op": "replace", "path": "", "value": None}], engine_major=3)
    assert deleted.document is None


def test_changed_fields_and_input_left_alone() -> None:
    doc = {"id": "d:1", "o": {"k": 1}, "arr": [1, 2, 3], "gone": True}
    ops = [
        {"op": "remove", "path": "/arr/1"},
        {"op": "remove", "path": "/arr/2"},
        {"op": "remove", "path": "/gone"},
        {"op": "add", "path": "/o/j", "value": 2},
    ]
    result = apply_diff(doc, ops, engine_major=3)
    assert result.document == {"id": "d:1", "o": {"k": 1, "j": 2}, "arr": [1]}
    assert result.changed_fields() == {"arr": [1], "gone": None, "o": {"k": 1, "j": 2}}
    assert doc == {"id": "d:1", "o": {"k": 1}, "arr": [1, 2, 3], "gone": True}


@pytest.mark.parametrize(
    ("document", "op"),
    [
        (
            {"s": "something else"},
            {"op": "change", "path": "/s", "value": "@@ -1,5 +1,5 @@\n-hello\n+HELLO\n"},
        ),
        ({"s": 1}, {"op": "change", "path": "/s", "value": "@@ -1,1 +1,1 @@\n-1\n+2\n"}),
        ({"arr": [1]}, {"op": "remove", "path": "/arr/3"}),
        ({"a": 1}, {"op": "replace", "path": "/missing/x", "value": 1}),
        ({"arr": [1]}, {"op": "replace", "path": "/arr/x", "value": 1}),
    ],
)
def test_ops_that_do_not_fit_raise(document: dict[str, Any], op: dict[str, Any]) -> None:
    with pytest.raises(PatchConflict):
        apply_diff(document, [op], engine_major=3)


TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
SCALAR = st.one_of(st.integers(-5, 5), TEXT, st.booleans())
VALUE = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["k", "1", "l/m", "n o"]), inner, max_size=3)
    ),
    max_leaves=8,
)
DOCUMENT = st.dictionaries(
    st.sampled_from(["a", "b", "c/d", "sp ace", "1", "ü`x"]), VALUE, max_size=4
)


@pytest.mark.parametrize("major", [2, 3])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_any_update_roundtrips(major: int, data: st.DataObject) -> None:
    engine = await RawEngine(major).start()
    try:
        await engine.query("DEFINE TABLE d CHANGEFEED 1h INCLUDE ORIGINAL")
        await roundtrip(engine, data.draw(DOCUMENT), data.draw(DOCUMENT))
    finally:
        await engine.close()
