"""Defects found by using the real-time API as a user would, each against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from surreal_gen.runtime.connection import ConnectionEvent
from surreal_gen.runtime.events import StreamGap
from surreal_gen.runtime.live import LiveModelStream
from tests.fixtures.server import SurrealDatabase, SurrealServer, private_server
from tests.realtime.models import Item, connection, database_connection
from tests.realtime.test_live import GUARD_S, take


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), GUARD_S)


@pytest.fixture
def memory_server() -> Iterator[SurrealServer]:
    """A private loopback server on mem://: a restart brings it back empty, schema and all."""
    with private_server("mem://") as server:
        yield server


async def test_a_server_back_without_the_feed_is_an_unrecovered_gap(
    memory_server: SurrealServer,
) -> None:
    """The server restarts empty: a change made in the gap is in no feed and is lost.

    Before, the stream still read the (now absent) feed, found nothing and reported the gap
    as recovered with 0 events backfilled, so the lost change went unnoticed.
    """
    server = memory_server
    assert server.process is not None
    options = {"user": server.user, "password": server.password, "namespace": "ns"}
    async with (
        connection(server.http_url, database="db", **options) as (_, writer),
        connection(server.ws_url, database="db", **options) as (name, conn),
    ):
        await conn.query("DEFINE TABLE item CHANGEFEED 1h INCLUDE ORIGINAL")

        async def write_in_the_gap(event: ConnectionEvent) -> None:
            # Runs before the stream's own listener re-issues its live query.
            if event.kind == "reconnected":
                await writer.query("CREATE item:lost SET n = 2")

        conn.add_listener(write_in_the_gap)
        gaps: list[StreamGap] = []
        async with Item.objects().using(name).live(on_gap=gaps.append) as stream:
            assert stream.gap_free
            await writer.query("CREATE item:first SET n = 1")
            (first,) = await take(stream, 1)
            first_id = stream.live_id
            await asyncio.to_thread(server.process.restart)
            await until(lambda: stream.live_id != first_id)
            await writer.query("CREATE item:after SET n = 3")
            (after,) = await take(stream, 1)
    assert (str(first.record_id), str(after.record_id)) == ("item:first", "item:after")
    assert [(gap.recovered, gap.backfilled) for gap in gaps] == [(False, 0)]
    assert "no change feed" in gaps[0].reason


async def test_closing_from_another_task_ends_the_waiting_loop(
    surreal_database: SurrealDatabase,
) -> None:
    """`aclose()` from another task (a shutdown handler) ends a consumer waiting for events.

    Before, the consumer stayed blocked on the stream's buffer forever.
    """
    async with database_connection(surreal_database, "ws") as (name, conn):
        await conn.query("DEFINE TABLE item")
        stream = Item.objects().using(name).live()
        await stream.__aenter__()
        received: list[int] = []

        async def consume() -> str:
            async for event in stream:
                received.append(event.instance.n)
            return "ended"

        consumer = asyncio.create_task(consume())
        await conn.query("CREATE item SET n = 1")
        await until(lambda: bool(received))
        await stream.aclose()
        assert await asyncio.wait_for(consumer, GUARD_S) == "ended"
        assert received == [1]


async def test_a_gap_is_backfilled_in_the_order_of_the_writes(
    surreal_database: SurrealDatabase,
) -> None:
    """Changes to several records during a gap come out in the feed's (commit) order.

    Before, backfilled events were grouped by record: item:a's two updates came before the
    creation of item:b that was written between them.
    """
    server = surreal_database.server
    async with (
        database_connection(surreal_database, "http") as (_, writer),
        database_connection(surreal_database, "ws") as (name, conn),
    ):
        await conn.query("DEFINE TABLE item CHANGEFEED 1h INCLUDE ORIGINAL")

        async def write_in_the_gap(event: ConnectionEvent) -> None:
            if event.kind == "reconnected":
                for statement in (
                    "UPDATE item:a SET n = 2",
                    "CREATE item:b SET n = 3",
                    "DELETE item:c",
                    "UPDATE item:a SET n = 4",
                ):
                    await writer.query(statement)

        conn.add_listener(write_in_the_gap)
        async with Item.objects().using(name).live() as stream:
            await writer.query("CREATE item:a SET n = 1")
            await writer.query("CREATE item:c SET n = 0")
            await take(stream, 2)
            await asyncio.to_thread(server.drop_sockets)
            events = await take(stream, 4)
    assert [(event.action.value, str(event.record_id), event.instance.n) for event in events] == [
        ("UPDATE", "item:a", 2),
        ("CREATE", "item:b", 3),
        ("DELETE", "item:c", 0),
        ("UPDATE", "item:a", 4),
    ]
    assert all(event.backfilled for event in events)


async def test_a_record_deleted_in_a_gap_is_not_lost_when_the_stream_never_saw_it(
    surreal_database: SurrealDatabase,
) -> None:
    """A record written before the stream opened and deleted during a gap.

    The live query would have sent its DELETE; the feed has it too. Before, the backfill
    dropped it because the stream held no earlier state of the record, so the consumer
    kept a record that was gone. Without a filter there is nothing to check: it is passed
    on, carrying the id (the feed of this engine holds no original for a delete).
    """
    server = surreal_database.server
    async with (
        database_connection(surreal_database, "http") as (_, writer),
        database_connection(surreal_database, "ws") as (name, conn),
    ):
        await conn.query("DEFINE TABLE item CHANGEFEED 1h INCLUDE ORIGINAL")
        await writer.query("CREATE item:old SET n = 1")

        async def delete_in_the_gap(event: ConnectionEvent) -> None:
            if event.kind == "reconnected":
                await writer.query("DELETE item:old")

        conn.add_listener(delete_in_the_gap)
        async with Item.objects().using(name).live() as stream:
            await asyncio.to_thread(server.drop_sockets)
            await until(lambda: stream.reconnects > 0)
            await writer.query("CREATE item:new SET n = 2")
            events = await take(stream, 2)
    assert [(event.action.value, str(event.record_id)) for event in events] == [
        ("DELETE", "item:old"),
        ("CREATE", "item:new"),
    ]
    assert events[0].backfilled and stream.gaps[0].recovered


async def test_closing_the_connection_ends_the_waiting_loop(
    surreal_database: SurrealDatabase,
) -> None:
    """Closing the connection (an application shutting down) ends its live streams' loops,
    as `Connection.close` promises for live iterators. Before, the consumer hung."""
    async with database_connection(surreal_database, "ws") as (name, conn):
        await conn.query("DEFINE TABLE item")
        received: list[int] = []

        async def consume(stream: LiveModelStream[Item]) -> str:
            async with stream:
                async for event in stream:
                    received.append(event.instance.n)
            return "ended"

        stream = Item.objects().using(name).live()
        await stream.__aenter__()
        consumer = asyncio.create_task(consume(stream))
        await conn.query("CREATE item SET n = 1")
        await until(lambda: bool(received))
        await conn.close()
        assert await asyncio.wait_for(consumer, GUARD_S) == "ended"


async def test_leaving_the_loop_while_the_server_is_down_does_not_wait(
    memory_server: SurrealServer,
) -> None:
    """`break` (or any exit from `async with`) during an outage returns at once.

    The server forgot the live query with the socket, so there is nothing to KILL. Before,
    the KILL waited for the connection's whole reconnect budget (8.5 s here) to run out.
    """
    server = memory_server
    assert server.process is not None
    kinds: list[str] = []
    async with connection(
        server.ws_url, user=server.user, password=server.password, namespace="ns", database="db"
    ) as (name, conn):
        await conn.query("DEFINE TABLE item")
        async with Item.objects().using(name).live():

            async def record(event: ConnectionEvent) -> None:
                kinds.append(event.kind)

            conn.add_listener(record)  # after the stream's own listener: it runs later
            await asyncio.to_thread(server.process.stop)
            await until(lambda: "disconnected" in kinds)
        assert "gave_up" not in kinds  # left before the connection stopped retrying
