"""Change feeds on both embedded engines (2.x and 3.x) and over HTTP on the test server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta

import pytest

from surreal_gen.runtime import (
    ChangeFeedError,
    ChangeFeedStream,
    CursorExpiredError,
    LiveAction,
    ModelChangeEvent,
)
from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.types import RecordID
from tests.fixtures.server import SurrealDatabase
from tests.realtime.models import Item, Other, connection


@pytest.fixture(params=["engine2", "engine3", "server"])
async def feed(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Connection]]:
    """A connection to 2.x or 3.x embedded, or to the test server over WebSocket (the feed
    is then read over HTTP), with the tables `item` (INCLUDE ORIGINAL) and `other`."""
    if request.param == "server":
        database: SurrealDatabase = request.getfixturevalue("surreal_database")
        server = database.server
        target = {
            "url": server.ws_url,
            "user": server.user,
            "password": server.password,
            "namespace": database.namespace,
            "database": database.database,
        }
    else:
        major = request.param[-1]
        target = {
            "url": f"mem://?engine={major}",
            "user": "root",
            "password": "root",
            "namespace": "ns",
            "database": "db",
        }
    url = target.pop("url")
    async with connection(url, **target) as named:
        await named[1].query(
            "DEFINE TABLE item CHANGEFEED 1h INCLUDE ORIGINAL; DEFINE TABLE other CHANGEFEED 1h"
        )
        yield named


async def drain(name: str, since: int = 0, **options: object) -> list[ModelChangeEvent[Item]]:
    stream = Item.objects().using(name).changes(since=since, until_caught_up=True, **options)
    return [event async for event in stream]


async def test_typed_create_update_delete(feed: tuple[str, Connection]) -> None:
    name, conn = feed
    await conn.query("CREATE item:1 SET n = 1; UPDATE item:1 SET n = 2; DELETE item:1")
    events = await drain(name)
    assert [e.action for e in events] == [LiveAction.CREATE, LiveAction.UPDATE, LiveAction.DELETE]
    assert all(e.error is None for e in events)
    assert [e.instance.n for e in events[:2]] == [1, 2]
    assert isinstance(events[0].instance, Item)
    assert {str(e.record_id) for e in events} == {"item:1"}


async def test_without_include_original_every_write_is_an_update(
    feed: tuple[str, Connection],
) -> None:
    name, conn = feed
    await conn.query("DEFINE TABLE OVERWRITE item CHANGEFEED 1h")
    await conn.query("CREATE item:1 SET n = 1; UPDATE item:1 SET n = 2")
    events = [e for e in await drain(name) if e.action != LiveAction.DELETE]
    assert [e.action for e in events][-2:] == [LiveAction.UPDATE, LiveAction.UPDATE]


async def test_cursor_is_the_engine_specific_next_since(feed: tuple[str, Connection]) -> None:
    name, conn = feed
    await conn.query("CREATE item:1 SET n = 1")
    await conn.query("CREATE item:2 SET n = 2")
    stream = Item.objects().using(name).changes(since=0, until_caught_up=True)
    first = await anext(stream)
    stamp = first.versionstamp
    assert stamp is not None
    expected = (stamp >> 16) + 1 if conn.engine_major == 2 else stamp + 1
    assert stream.cursor == expected
    assert isinstance(stream.cursor, int)
    await stream.aclose()
    rest = await drain(name, since=expected)
    assert [e.instance.n for e in rest] == [2]


async def test_resuming_from_saved_cursors_sees_every_change_once(
    feed: tuple[str, Connection],
) -> None:
    name, conn = feed
    total = 200
    seen: list[tuple[str, int | None, LiveAction]] = []
    cursor = 0

    async def write() -> None:
        existing: set[int] = set()
        for n in range(total):
            key = n % 37
            if n % 5 == 4 and key in existing:
                await conn.query("DELETE $id", {"id": RecordID("item", key)})
                existing.discard(key)
            else:
                await conn.query("UPSERT $id SET n = $n", {"id": RecordID("item", key), "n": n})
                existing.add(key)
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    for _ in range(20):
        stream = Item.objects().using(name).changes(since=cursor, poll_interval=0.01)
        async for event in stream:
            seen.append((str(event.record_id), event.versionstamp, event.action))
            cursor = stream.cursor or 0
            if len(seen) % 7 == 0:
                break
        await stream.aclose()
    await writer
    async for event in (
        stream := Item.objects().using(name).changes(since=cursor, until_caught_up=True)
    ):
        seen.append((str(event.record_id), event.versionstamp, event.action))
    truth = [(str(e.record_id), e.versionstamp, e.action) for e in await drain(name)]
    assert len(truth) == total
    assert seen == truth


async def test_foreign_entries_filling_pages_do_not_stop_the_stream(
    feed: tuple[str, Connection],
) -> None:
    name, conn = feed
    for n in range(5):
        await conn.query("CREATE item SET n = $n", {"n": n})
        for _ in range(6):
            await conn.query("CREATE other SET n = $n", {"n": n})
    events = await drain(name, batch_size=2)
    assert sorted(e.instance.n for e in events) == [0, 1, 2, 3, 4]


async def test_a_cursor_taken_after_any_event_resumes_where_documented(
    feed: tuple[str, Connection],
) -> None:
    """Events are built about 100 changes at a time, a page at a time. After any event,
    across those ends and other tables' change sets, the cursor resumes after the event's
    change set if it was the set's last change, else at the start of its set."""
    name, conn = feed
    for start in range(0, 330, 11):
        rows = [{"n": n} for n in range(start, start + 11)]
        await conn.query("INSERT INTO item $rows", {"rows": rows})
        if start % 33 == 0:
            await conn.query("CREATE other SET n = 0")
    stream = Item.objects().using(name).changes(since=0, until_caught_up=True, batch_size=13)
    seen = [(event, stream.cursor) async for event in stream]
    keys = [(event.instance.n, event.versionstamp) for event, _ in seen]
    assert sorted(n for n, _ in keys) == list(range(330))
    stamps = [stamp for _, stamp in keys]
    for index in (0, 9, 10, 11, 98, 99, 100, 101, 109, 110, 150, 200, 329):
        last_of_set = index + 1 == len(seen) or stamps[index + 1] != stamps[index]
        resume = index + 1 if last_of_set else stamps.index(stamps[index])
        rest = await drain(name, since=seen[index][1] or 0)
        assert [(e.instance.n, e.versionstamp) for e in rest] == keys[resume:], index


async def test_closing_mid_page_cancels_the_read_ahead(feed: tuple[str, Connection]) -> None:
    """The next page is read while one is consumed; closing the stream stops that read."""
    name, conn = feed
    for n in range(30):
        await conn.query("CREATE item SET n = $n", {"n": n})
    stream = Item.objects().using(name).changes(since=0, batch_size=5, until_caught_up=True)
    before = asyncio.all_tasks()
    first = await anext(stream)
    cursor = stream.cursor
    await stream.aclose()
    assert asyncio.all_tasks() - before == set()
    assert stream.cursor == cursor
    rest = await drain(name, since=cursor or 0)
    assert [first.instance.n] + [e.instance.n for e in rest] == list(range(30))


async def test_feed_events_are_ordinary_frozen_events(feed: tuple[str, Connection]) -> None:
    """Feed events are built without the dataclass `__init__`; they must not differ."""
    name, conn = feed
    await conn.query("CREATE item:1 SET n = 1; UPDATE item:1 SET n = 2; DELETE item:1")
    for event in await drain(name):
        values = {field.name: getattr(event, field.name) for field in fields(event)}
        assert event == ModelChangeEvent(**values)
        assert repr(event) == repr(ModelChangeEvent(**values))
        assert (event.changed_fields, event.error, event.backfilled) == (None, None, False)
        with pytest.raises(FrozenInstanceError):
            event.versionstamp = 0  # type: ignore[misc]


async def test_filters_are_applied_to_changed_records(feed: tuple[str, Connection]) -> None:
    name, conn = feed
    await conn.query(
        "CREATE item:1 SET n = 1, room = 'general'; CREATE item:2 SET n = 2, room = 'dev'; "
        "UPDATE item:2 SET room = 'general'"
    )
    stream = Item.objects().using(name).filter(room="general").changes(until_caught_up=True)
    events = [e async for e in stream]
    assert [(str(e.record_id), e.instance.room) for e in events] == [
        ("item:1", "general"),
        ("item:2", "general"),
    ]


async def test_a_record_that_does_not_fit_carries_the_error(feed: tuple[str, Connection]) -> None:
    name, conn = feed
    await conn.query("CREATE item:1 SET n = 'not a number'; CREATE item:2 SET n = 2")
    events = await drain(name)
    assert events[0].error is not None
    assert "n" in str(events[0].error)
    assert (
        events[0].raw
        == {
            "update": {
                "id": events[0].record_id,
                "n": "not a number",
                "room": "general",
                "tags": [],
            }
        }
        or events[0].raw
    )
    assert events[1].error is None
    assert events[1].instance.n == 2


async def test_a_table_without_change_feed_is_a_clear_error(feed: tuple[str, Connection]) -> None:
    name, conn = feed
    await conn.query("REMOVE TABLE item; DEFINE TABLE item")
    with pytest.raises(ChangeFeedError, match="DEFINE TABLE OVERWRITE item .*CHANGEFEED"):
        await drain(name)


async def test_a_cursor_before_the_oldest_change_kept_raises() -> None:
    """3.x stamps are clock based, so a cursor just before the first entry is a real gap.

    (On 2.x the first entry is always counter 1, so no cursor > 0 lies before it until the
    engine's cleanup removes entries; the check itself does not depend on the engine.)
    """
    async with connection(
        "mem://?engine=3", user="root", password="root", namespace="ns", database="db"
    ) as (name, conn):
        await conn.query("DEFINE TABLE item CHANGEFEED 1h; CREATE item:1 SET n = 1")
        (rows,) = await conn.query("SHOW CHANGES FOR DATABASE SINCE 0 LIMIT 1")
        oldest = rows[0]["versionstamp"]
        with pytest.raises(CursorExpiredError, match="older than the oldest change"):
            await drain(name, since=oldest - 1)
        assert [e.instance.n for e in await drain(name, since=oldest)] == [1]


async def test_since_a_datetime_is_coarse_but_misses_nothing_after_it(
    feed: tuple[str, Connection],
) -> None:
    name, conn = feed
    before = datetime.now(UTC) - timedelta(seconds=5)
    await conn.query("CREATE item:1 SET n = 1")
    events = await drain(name, since=before)
    assert [e.instance.n for e in events] == [1]
    if conn.engine_major == 3:
        later = datetime.now(UTC) + timedelta(seconds=5)
        assert await drain(name, since=later) == []


@pytest.mark.parametrize(
    ("since", "message"),
    [("12345", "pass a cursor as an int"), ("yesterday", "not an ISO date"), (-1, "from 0")],
)
def test_bad_since_is_a_one_line_error(since: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Item.objects().changes(since=since)  # type: ignore[arg-type]


async def test_connection_errors_are_retried_then_raised() -> None:
    async with connection(
        "http://127.0.0.1:9", user="root", password="root", namespace="ns", database="db"
    ) as (name, _):
        stream = ChangeFeedStream(Item.objects().using(name), retries=2)
        with pytest.raises(ChangeFeedError, match="gave up after 3 attempts"):
            await anext(stream)


@pytest.mark.parametrize("batch_size", [1, 2, 3])
async def test_a_page_cut_inside_a_transaction_loses_nothing(
    feed: tuple[str, Connection], batch_size: int
) -> None:
    """3.x gives a transaction one versionstamp, and LIMIT counts one entry per table of it,
    so a page can end inside the set: `item`'s part is on the page, `other`'s is not."""
    name, conn = feed
    await conn.query(
        "BEGIN; CREATE item:1 SET n = 1; CREATE other:1 SET n = 1; CREATE other:2 SET n = 2; "
        "COMMIT; CREATE other:3 SET n = 3"
    )
    stream = Other.objects().using(name).changes(batch_size=batch_size, until_caught_up=True)
    assert [str(e.record_id) async for e in stream] == ["other:1", "other:2", "other:3"]


async def test_since_a_datetime_before_1970_reads_everything(feed: tuple[str, Connection]) -> None:
    """3.x turns a datetime into `unix_ms << 16`: one before the epoch must start at 0."""
    name, conn = feed
    await conn.query("CREATE item:1 SET n = 1")
    events = await drain(name, since=datetime(1960, 1, 1, tzinfo=UTC))
    assert [e.instance.n for e in events] == [1]


async def test_until_caught_up_ends_while_writes_keep_arriving(
    feed: tuple[str, Connection],
) -> None:
    """It reads to the end of the feed as it was when the stream started, not until the
    reader happens to outrun the writers: here each event handled brings a new change, so
    a stream that stopped only at an empty page would never stop."""
    name, conn = feed
    for n in range(20):
        await conn.query("CREATE item SET n = $n", {"n": n})
    seen: list[int] = []
    stream = Item.objects().using(name).changes(batch_size=1, until_caught_up=True)
    async for event in stream:
        seen.append(event.instance.n)
        await conn.query("CREATE item SET n = $n", {"n": 1000 + len(seen)})
        if len(seen) == 100:
            break
    await stream.aclose()
    assert seen[:20] == list(range(20))
    assert len(seen) < 100


async def test_creates_and_updates_follow_the_feed_definition_of_their_time(
    feed: tuple[str, Connection],
) -> None:
    """INCLUDE ORIGINAL decides how a create is told from an update. 3.x writes each
    DEFINE TABLE into the feed with its settings; the events after it follow them, also
    when the table is redefined while a stream reads it. (2.x writes only the name.)"""
    name, conn = feed
    if conn.engine_major < 3:
        pytest.skip("2.x feed entries for DEFINE TABLE carry only the table name")
    stream = Item.objects().using(name).changes(poll_interval=0.01)
    await conn.query("CREATE item:1 SET n = 1")
    first = await anext(stream)
    await conn.query("DEFINE TABLE OVERWRITE item CHANGEFEED 1h; UPDATE item:1 SET n = 2")
    second = await anext(stream)
    await stream.aclose()
    assert [first.action, second.action] == [LiveAction.CREATE, LiveAction.UPDATE]
    await conn.query(
        "DEFINE TABLE OVERWRITE item CHANGEFEED 1h INCLUDE ORIGINAL; "
        "UPDATE item:1 SET n = 3; CREATE item:2 SET n = 4"
    )
    events = await drain(name)
    assert [(e.action, e.instance.n) for e in events] == [
        (LiveAction.CREATE, 1),
        (LiveAction.UPDATE, 2),
        (LiveAction.UPDATE, 3),
        (LiveAction.CREATE, 4),
    ]
