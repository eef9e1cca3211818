"""Live queries against the loopback test server (SurrealDB 3.x over WebSocket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import FrozenInstanceError, fields
from typing import Any, TypeVar

import pytest

from surreal_gen.runtime import (
    LiveAction,
    LiveModelStream,
    LiveQueryError,
    LiveQueryKilled,
    ModelChangeEvent,
    SurrealConnectionError,
    post_live_change,
)
from surreal_gen.runtime import live as live_module
from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.events import StreamGap
from surreal_gen.runtime.types import RecordID
from tests.fixtures.server import SurrealDatabase, SurrealServer
from tests.realtime.models import Item, Note, connection, database_connection

T = TypeVar("T", Item, Note)
GUARD_S = 60.0
"""An upper bound so a broken stream fails the test instead of hanging it (not a timing check)."""


@pytest.fixture
async def ws(surreal_database: SurrealDatabase) -> AsyncIterator[tuple[str, Connection]]:
    async with database_connection(surreal_database, "ws") as named:
        await named[1].query(
            "DEFINE TABLE item CHANGEFEED 1h INCLUDE ORIGINAL; DEFINE TABLE note CHANGEFEED 1h"
        )
        yield named


@pytest.fixture
async def writer(surreal_database: SurrealDatabase) -> AsyncIterator[Connection]:
    """A second connection, over HTTP, so dropping WebSockets does not touch the writes."""
    async with database_connection(surreal_database, "http") as (_, conn):
        yield conn


async def take(stream: LiveModelStream[T], count: int) -> list[ModelChangeEvent[T]]:
    async def read() -> list[ModelChangeEvent[T]]:
        return [await anext(stream) for _ in range(count)]

    return await asyncio.wait_for(read(), GUARD_S)


def assert_ordinary(event: ModelChangeEvent[T]) -> None:
    """Events are built without the dataclass `__init__`; they must not differ."""
    values = {field.name: getattr(event, field.name) for field in fields(event)}
    assert event == ModelChangeEvent(**values)
    assert repr(event) == repr(ModelChangeEvent(**values))
    with pytest.raises(FrozenInstanceError):
        event.backfilled = True  # type: ignore[misc]


async def one_by_one(
    stream: LiveModelStream[T], writer: Connection, *statements: str
) -> list[ModelChangeEvent[T]]:
    """Run each statement and take its event before the next one.

    This engine may deliver the notifications of separate transactions out of order, even
    for one record, so tests that check a sequence write one step at a time.
    """
    events: list[ModelChangeEvent[T]] = []
    for statement in statements:
        await writer.query(statement)
        events += await take(stream, 1)
    return events


async def test_typed_create_update_delete(ws: tuple[str, Connection], writer: Connection) -> None:
    name, _ = ws
    async with Item.objects().using(name).live() as stream:
        events = await one_by_one(
            stream, writer, "CREATE item:1 SET n = 1", "UPDATE item:1 SET n = 2", "DELETE item:1"
        )
    assert [e.action for e in events] == [LiveAction.CREATE, LiveAction.UPDATE, LiveAction.DELETE]
    assert [type(e.instance) for e in events] == [Item, Item, Item]
    assert [e.instance.n for e in events] == [1, 2, 2]
    assert {str(e.record_id) for e in events} == {"item:1"}
    assert all(e.error is None and e.changed_fields is None for e in events)
    for event in events:
        assert_ordinary(event)


async def test_filters_become_the_where_clause(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, _ = ws
    async with Item.objects().using(name).filter(room="general", n__gte=10).live() as stream:
        await writer.query(
            "CREATE item:1 SET n = 10, room = 'dev'; CREATE item:2 SET n = 5, room = 'general'; "
            "CREATE item:3 SET n = 11, room = 'general'"
        )
        (event,) = await take(stream, 1)
        await writer.query("UPDATE item:1 SET room = 'general'")
        (back_in,) = await take(stream, 1)
    assert (str(event.record_id), event.action) == ("item:3", LiveAction.CREATE)
    assert (str(back_in.record_id), back_in.action) == ("item:1", LiveAction.UPDATE)


async def test_order_by_or_limit_on_a_live_query_is_refused(ws: tuple[str, Connection]) -> None:
    name, _ = ws
    with pytest.raises(Exception, match="cannot use order_by, limit or offset"):
        Item.objects().using(name).order_by("n").live()


async def test_diff_mode_keeps_the_whole_record(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, _ = ws
    await writer.query("CREATE note:seen_before SET text = 'old', tags = ['a']")
    async with Note.objects().using(name).live(diff=True) as stream:
        events = await one_by_one(
            stream,
            writer,
            "CREATE note:1 SET text = 'hello world', tags = ['x', 'y', 'z'], meta = {k: 1}",
            "UPDATE note:1 SET text = 'hello there world', tags = ['x'], meta = {k: 1, j: 2}",
            "UPDATE note:seen_before SET tags = ['a', 'b']",
            "DELETE note:1",
        )
    by_record: dict[str, list[ModelChangeEvent[Note]]] = {}
    for event in events:
        by_record.setdefault(str(event.record_id), []).append(event)
    created, edited, deleted = by_record["note:1"]
    assert created.action == LiveAction.CREATE
    assert created.instance == Note(
        id="note:1", text="hello world", tags=["x", "y", "z"], meta={"k": 1}
    )
    assert edited.changed_fields == {
        "text": "hello there world",
        "tags": ["x"],
        "meta": {"k": 1, "j": 2},
    }
    assert edited.instance.text == "hello there world"
    assert edited.instance.tags == ["x"]
    assert any(op["op"] == "change" for op in edited.raw)
    assert [op["op"] for op in edited.raw].count("remove") == 2
    assert (deleted.action, deleted.instance.text) == (LiveAction.DELETE, "hello there world")
    (unseen,) = by_record["note:seen_before"]
    assert unseen.instance.text == "old"
    assert unseen.instance.tags == ["a", "b"]
    assert unseen.changed_fields == {"tags": ["a", "b"]}


async def test_a_record_that_does_not_fit_does_not_end_the_stream(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, _ = ws
    async with Item.objects().using(name).live() as stream:
        bad, good = await one_by_one(
            stream, writer, "CREATE item:bad SET n = 'x'", "CREATE item:good SET n = 1"
        )
    assert bad.error is not None
    assert bad.raw["n"] == "x"
    assert str(bad.record_id) == "item:bad"
    assert good.error is None
    assert good.instance.n == 1
    assert_ordinary(bad)
    assert_ordinary(good)


async def test_post_live_change_fires_for_each_event(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, _ = ws
    received: list[tuple[type, LiveAction, str, int]] = []

    @post_live_change.connect(Item)
    async def on_change(
        sender: type, instance: Item, action: LiveAction, record_id: RecordID[str], **kwargs: object
    ) -> None:
        received.append((sender, action, str(record_id), instance.n))

    try:
        async with Item.objects().using(name).live() as stream:
            await one_by_one(stream, writer, "CREATE item:1 SET n = 1", "UPDATE item:1 SET n = 2")
    finally:
        post_live_change.disconnect(on_change, Item)
    assert received == [
        (Item, LiveAction.CREATE, "item:1", 1),
        (Item, LiveAction.UPDATE, "item:1", 2),
    ]


async def test_removing_the_table_kills_the_stream(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, _ = ws
    async with Item.objects().using(name).live() as stream:
        await writer.query("REMOVE TABLE item")
        with pytest.raises(LiveQueryKilled, match="item"):
            await take(stream, 1)


async def test_official_sdk_peer_writes_arrive_typed(
    ws: tuple[str, Connection], surreal_database: SurrealDatabase
) -> None:
    from surrealdb import AsyncSurreal
    from surrealdb import RecordID as SdkRecordID

    name, _ = ws
    server = surreal_database.server
    peer = AsyncSurreal(server.ws_url)
    await peer.connect()
    await peer.signin({"username": server.user, "password": server.password})
    await peer.use(surreal_database.namespace, surreal_database.database)
    try:
        async with Item.objects().using(name).live() as stream:
            # One write at a time: this engine may deliver notifications of separate
            # transactions out of order, even for the same record.
            await peer.create(SdkRecordID("item", "peer"), {"n": 7, "tags": ["p"]})
            events = await take(stream, 1)
            await peer.merge(SdkRecordID("item", "peer"), {"n": 8})
            events += await take(stream, 1)
            await peer.delete(SdkRecordID("item", "peer"))
            events += await take(stream, 1)
    finally:
        await peer.close()
    assert [e.action for e in events] == [LiveAction.CREATE, LiveAction.UPDATE, LiveAction.DELETE]
    assert [(e.instance.n, e.instance.tags) for e in events] == [(7, ["p"]), (8, ["p"]), (8, ["p"])]
    assert all(isinstance(e.instance, Item) and e.error is None for e in events)


@pytest.mark.parametrize("diff", [False, True], ids=["full", "diff"])
async def test_resubscribes_after_20_drops_without_losing_a_change(
    ws: tuple[str, Connection],
    writer: Connection,
    surreal_database: SurrealDatabase,
    diff: bool,
) -> None:
    name, _ = ws
    total, keys, drops = 400, 23, 20
    gaps: list[StreamGap] = []
    seen: list[tuple[str, int, LiveAction]] = []

    async with Item.objects().using(name).live(diff=diff, on_gap=gaps.append) as stream:

        async def consume() -> None:
            async for event in stream:
                if event.record_id.id == "done":
                    return
                seen.append((str(event.record_id), event.instance.n, event.action))

        async def write() -> None:
            existing: set[int] = set()
            for n in range(total):
                key = n % keys
                if n % 6 == 5 and key in existing:
                    await writer.query("DELETE $id", {"id": RecordID("item", key)})
                    existing.discard(key)
                else:
                    await writer.query(
                        "UPSERT $id SET n = $n", {"id": RecordID("item", key), "n": n}
                    )
                    existing.add(key)
                if n % (total // drops) == 0 and n // (total // drops) < drops:
                    before = stream.reconnects
                    await asyncio.to_thread(surreal_database.server.drop_sockets)
                    while stream.reconnects == before:
                        await asyncio.sleep(0.01)

        consumer = asyncio.create_task(consume())
        await asyncio.wait_for(write(), GUARD_S * 2)
        await writer.query("CREATE item:done SET n = -1")
        await asyncio.wait_for(consumer, GUARD_S)

    truth: list[tuple[str, int, LiveAction]] = []
    last_n: dict[str, int] = {}
    for change in await drain_feed(name):
        record = str(change.record_id)
        if record != "item:done":
            n = last_n[record] if change.action == LiveAction.DELETE else change.instance.n
            last_n[record] = n
            truth.append((record, n, change.action))
    assert stream.reconnects == drops
    assert len(gaps) == drops and all(gap.recovered for gap in gaps)
    assert sorted(seen, key=_order) == sorted(truth, key=_order)
    assert len(seen) == len(truth)


async def drain_feed(name: str) -> list[ModelChangeEvent[Item]]:
    stream = Item.objects().using(name).changes(since=0, until_caught_up=True)
    return [event async for event in stream]


def _order(change: tuple[str, int, LiveAction]) -> tuple[str, int, str]:
    """Per-record order (a record's n only grows); no order across records is assumed."""
    record, n, action = change
    return (record, n, action.value)


async def test_a_gap_without_change_feed_is_reported(
    surreal_database: SurrealDatabase, writer: Connection
) -> None:
    server = surreal_database.server
    gaps: list[StreamGap] = []
    await writer.query("DEFINE TABLE item")
    async with (
        database_connection(surreal_database, "ws") as (name, _),
        Item.objects().using(name).live(on_gap=gaps.append) as stream,
    ):
        first_id = stream.live_id
        await asyncio.to_thread(server.drop_sockets)
        while stream.live_id == first_id:  # wait until it is re-issued on the new socket
            await asyncio.sleep(0.01)
        await writer.query("CREATE item:after SET n = 1")
        (event,) = await take(stream, 1)
    assert str(event.record_id) == "item:after"
    assert [(gap.recovered, gap.backfilled) for gap in stream.gaps] == [(False, 0)]
    assert "no change feed" in stream.gaps[0].reason
    assert gaps == stream.gaps


async def test_a_slow_consumer_loses_nothing_when_the_table_has_a_feed(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, _ = ws
    async with Item.objects().using(name).live(max_buffer=2) as stream:
        for n in range(20):
            await writer.query("CREATE item SET n = $n", {"n": n})
        await writer.query("CREATE item:done SET n = -1")

        async def overflowed() -> None:
            while stream.dropped == 0:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(overflowed(), GUARD_S)
        received: list[int] = []
        async for event in stream:
            if event.record_id.id == "done":
                break
            received.append(event.instance.n)
    assert sorted(received) == list(range(20))
    assert stream.gaps and all(gap.recovered for gap in stream.gaps)
    assert "fell behind" in stream.gaps[0].reason


async def test_giving_up_raises_out_of_the_loop(persistent_surreal_server: SurrealServer) -> None:
    server = persistent_surreal_server
    credentials = {"user": server.user, "password": server.password}
    async with connection(server.http_url, **credentials) as (_, admin):
        await admin.query("DEFINE NAMESPACE ns; USE NS ns; DEFINE DATABASE db")
    async with (
        connection(
            server.ws_url, namespace="ns", database="db", reconnect_attempts=2, **credentials
        ) as (name, conn),
    ):
        await conn.query("DEFINE TABLE item")
        async with (
            Item.objects().using(name).live() as stream,
            Item.objects().using(name).live() as other,
        ):
            assert server.process is not None
            await asyncio.to_thread(server.process.stop)
            with pytest.raises(SurrealConnectionError, match="could not reconnect") as first:
                await take(stream, 1)
            with pytest.raises(SurrealConnectionError, match="could not reconnect") as second:
                await take(other, 1)
    # Each stream raises an error of its own: the connection's error is shared, and raising
    # one object in several places would grow its traceback with every raiser's frames.
    assert first.value is not second.value
    assert first.value.__cause__ is not None and second.value.__cause__ is not None
    assert first.value.__cause__ not in (first.value, second.value)


async def test_a_gap_applies_the_filter_as_live_queries_do(
    ws: tuple[str, Connection], writer: Connection, surreal_database: SurrealDatabase
) -> None:
    """Whether these writes land in the gap or after it, the stream reports the same."""
    name, _ = ws
    async with Item.objects().using(name).filter(room="general").live() as stream:
        await asyncio.to_thread(surreal_database.server.drop_sockets)
        await writer.query("CREATE item:a SET n = 1, room = 'general'")
        await writer.query("CREATE item:b SET n = 2, room = 'dev'")
        await writer.query("UPDATE item:a SET room = 'dev'")  # leaves the filter: nothing
        await writer.query("UPDATE item:b SET room = 'general'")  # enters it: an UPDATE
        while stream.reconnects == 0:
            await asyncio.sleep(0.01)
        await writer.query("CREATE item:done SET n = -1, room = 'general'")
        events = []
        async for event in stream:
            if event.record_id.id == "done":
                break
            events.append((str(event.record_id), event.action, event.instance.room))
    assert sorted(events) == [
        ("item:a", LiveAction.CREATE, "general"),
        ("item:b", LiveAction.UPDATE, "general"),
    ]


async def test_without_auto_resubscribe_a_drop_ends_the_stream(
    ws: tuple[str, Connection], surreal_database: SurrealDatabase
) -> None:
    name, _ = ws
    async with Item.objects().using(name).live(auto_resubscribe=False) as stream:
        await asyncio.to_thread(surreal_database.server.drop_sockets)
        with pytest.raises(LiveQueryError, match="auto_resubscribe is off"):
            await take(stream, 1)


async def test_checkpoints_bound_memory_without_duplicates(
    ws: tuple[str, Connection], writer: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "_DELIVERED_RECORDS_MAX", 5)
    checkpoints = 0
    backfill = LiveModelStream._backfill

    async def counting_backfill(self: LiveModelStream[Item], change_sets: Any) -> Any:
        nonlocal checkpoints
        checkpoints += 1
        return await backfill(self, change_sets)

    monkeypatch.setattr(LiveModelStream, "_backfill", counting_backfill)
    name, _ = ws
    async with Item.objects().using(name).live() as stream:
        for n in range(10):
            await writer.query("CREATE item SET n = $n", {"n": n})
        received = [event.instance.n for event in await take(stream, 10)]
        for n in range(10, 30):  # a checkpoint is now queued ahead of these
            await writer.query("CREATE item SET n = $n", {"n": n})
        await writer.query("CREATE item:done SET n = -1")
        async for event in stream:
            if event.record_id.id == "done":
                break
            received.append(event.instance.n)
    assert sorted(received) == list(range(30))
    assert stream.gaps == []
    assert checkpoints >= 1


async def live_queries_on(conn: Connection, table: str) -> int:
    [info] = await conn.query(f"INFO FOR TABLE {table} STRUCTURE")
    return len(info["lives"])


async def test_a_loop_without_async_with_kills_its_live_query_when_left(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    """No `async with`: the loop owns the stream, and leaving it (here by `return`) ends the
    stream, KILL included, as leaving an async generator's loop closes the generator."""
    name, conn = ws

    async def first_event() -> ModelChangeEvent[Item]:
        async for event in Item.objects().using(name).live():
            return event
        raise AssertionError("the stream ended without an event")

    async def keep_writing() -> None:  # until the LIVE SELECT is in place and sees one
        while True:
            await writer.query("CREATE item SET n = 1")
            await asyncio.sleep(0.05)

    writes = asyncio.create_task(keep_writing())
    try:
        event = await asyncio.wait_for(first_event(), GUARD_S)
    finally:
        writes.cancel()
    assert event.action == LiveAction.CREATE

    async def killed() -> None:
        while await live_queries_on(conn, "item"):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(killed(), GUARD_S)


async def test_inside_async_with_a_loop_may_stop_and_start_again(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    name, conn = ws
    seen: list[str] = []
    async with Item.objects().using(name).live() as stream:
        for key in ("a", "b"):
            await writer.query(f"CREATE item:{key} SET n = 1")
            async for event in stream:
                seen.append(str(event.record_id))
                break
        assert await live_queries_on(conn, "item") == 1
    assert seen == ["item:a", "item:b"]
    assert await live_queries_on(conn, "item") == 0


async def test_a_backfill_tells_updates_by_the_feed_setting_of_their_time(
    ws: tuple[str, Connection], writer: Connection
) -> None:
    """`note` has no INCLUDE ORIGINAL when the stream starts, and gets it during a gap: the
    feed's changes from before are plain `{update}` entries, which are updates then (with
    the setting they would be creates); 3.x writes the DEFINE TABLE into the feed."""
    name, _ = ws
    async with Note.objects().using(name).live(max_buffer=1) as stream:
        await writer.query("CREATE note:1 SET text = 'a'")
        await writer.query("UPDATE note:1 SET text = 'b'")
        await writer.query("UPDATE note:1 SET text = 'c'")  # the buffer is full: a gap
        await writer.query("DEFINE TABLE OVERWRITE note CHANGEFEED 1h INCLUDE ORIGINAL")
        await writer.query("UPDATE note:1 SET text = 'd'")
        events = await take(stream, 4)
    assert [(e.action, e.instance.text) for e in events] == [
        (LiveAction.CREATE, "a"),
        (LiveAction.UPDATE, "b"),
        (LiveAction.UPDATE, "c"),
        (LiveAction.UPDATE, "d"),
    ]
    assert [gap.recovered for gap in stream.gaps] == [True]
