"""Change-feed mistakes and losses are raised, never skipped: a table without CHANGEFEED, and
a saved cursor whose changes the engine's cleanup has already removed."""

from __future__ import annotations

import pytest

from surreal_gen.runtime.errors import ChangeFeedError, CursorExpiredError
from tests.hardening.figures import Figure, record
from tests.hardening.models import Message, named_connection
from tests.hardening.test_bad_input import BAD_INPUT


@pytest.mark.parametrize("engine", ["2", "3"])
async def test_table_without_changefeed(engine: str) -> None:
    async with named_connection(f"mem://?engine={engine}", namespace="n", database="d") as (
        name,
        connection,
    ):
        await connection.query("DEFINE TABLE message SCHEMALESS; CREATE message SET text = 'x'")
        stream = Message.objects().using(name).changes(until_caught_up=True)
        with pytest.raises(ChangeFeedError) as raised:
            [event async for event in stream]
    message = str(raised.value)
    assert "\n" not in message
    assert "message" in message and "CHANGEFEED" in message
    record(Figure(BAD_INPUT, 1))


async def test_cursor_from_before_a_recreated_feed() -> None:
    """3.x: a consumer saved its cursor, then the database was removed and defined again, so
    the changes after the cursor are gone; resuming must raise. (REMOVE TABLE keeps the feed.)

    (No engine available here runs the feed cleanup within a test's time, so this is how a
    test can put a saved cursor before the oldest change still kept.)"""
    async with named_connection("mem://?engine=3", namespace="n", database="d") as (
        name,
        connection,
    ):
        await connection.query("DEFINE TABLE message CHANGEFEED 1h; CREATE message SET text = 'a'")
        stream = Message.objects().using(name).changes(until_caught_up=True)
        assert [event.instance.text async for event in stream] == ["a"]
        cursor = stream.cursor
        assert cursor is not None
        await connection.query("CREATE message SET text = 'lost'")
        await connection.query("REMOVE DATABASE d; DEFINE DATABASE d")
        await connection.query("DEFINE TABLE message CHANGEFEED 1h; CREATE message SET text = 'b'")
        resumed = Message.objects().using(name).changes(since=cursor, until_caught_up=True)
        with pytest.raises(CursorExpiredError) as raised:
            [event async for event in resumed]
    assert str(cursor) in str(raised.value) and "\n" not in str(raised.value)
    record(Figure(BAD_INPUT, 1))
