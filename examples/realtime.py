"""The real-time walkthrough (the seed notebook), with every blocking cell actually running.

Live queries run as background tasks while another task writes; a forced disconnect shows
the stream carrying on; a change-feed consumer saves its cursor, stops and resumes.

    python examples/realtime.py

Configuration comes from the same environment variables as the notebook: SURREALDB_URL
(default ws://localhost:8000), SURREALDB_USER, SURREALDB_PASS, SURREALDB_NAMESPACE,
SURREALDB_DATABASE. The forced disconnect uses the test server's ``POST /_test/drop``
(tests/surreal_server/); against another server that step is skipped.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from surreal_gen.runtime import (
    BaseSurrealModel,
    LiveAction,
    ModelChangeEvent,
    SurrealConfigDict,
    SurrealDBConnectionManager,
    post_live_change,
)
from surreal_gen.runtime.events import StreamGap

GUARD_S = 30.0
"""No step waits longer than this: a stuck stream fails the walkthrough instead of hanging it."""

ResultT = TypeVar("ResultT")


class ChatMessage(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="chat_message")

    id: str | None = None
    text: str
    sender: str
    room: str = "general"


def configure() -> None:
    SurrealDBConnectionManager.set_connection(
        os.getenv("SURREALDB_URL", "ws://localhost:8000"),
        os.getenv("SURREALDB_USER", "root"),
        os.getenv("SURREALDB_PASS", "root"),
        os.getenv("SURREALDB_NAMESPACE", "ns"),
        os.getenv("SURREALDB_DATABASE", "db"),
    )


async def guarded(step: Awaitable[ResultT]) -> ResultT:
    return await asyncio.wait_for(step, GUARD_S)


def section(title: str) -> None:
    print(f"\n== {title} ==")


async def setup() -> None:
    section("Setup")
    connection = SurrealDBConnectionManager.get_connection()
    # Change feeds (and gap-free live queries) need a CHANGEFEED on the table; ALTER also
    # gives one to a chat_message table an earlier run created without it.
    await connection.query(
        "DEFINE TABLE IF NOT EXISTS chat_message;"
        "ALTER TABLE chat_message CHANGEFEED 1h INCLUDE ORIGINAL;"
    )
    messages = [
        ChatMessage(text="Hello everyone!", sender="Alice", room="general"),
        ChatMessage(text="Hey Alice!", sender="Bob", room="general"),
        ChatMessage(text="Working on the API", sender="Charlie", room="dev"),
    ]
    for msg in messages:
        await msg.save()
        print(f"Saved: [{msg.room}] {msg.sender}: {msg.text}")


def describe(event: ModelChangeEvent[ChatMessage]) -> str:
    match event.action:
        case LiveAction.CREATE:
            return f"New message from {event.instance.sender}: {event.instance.text}"
        case LiveAction.UPDATE:
            return f"Message edited: {event.instance.text}"
        case LiveAction.DELETE:
            return f"Message deleted: {event.record_id}"


async def live_query_on_general() -> None:
    section("1. Live query on room='general' (background task)")
    subscribed = asyncio.Event()

    async def watch_general(expected: int) -> None:
        async with ChatMessage.objects().filter(room="general").live() as stream:
            subscribed.set()
            async for event in stream:
                print(f"  [live] {describe(event)}")
                expected -= 1
                if expected == 0:
                    return

    async def chat_activity() -> None:
        await subscribed.wait()
        lunch = ChatMessage(text="Anyone up for lunch?", sender="Dave", room="general")
        await lunch.save()
        await ChatMessage(text="Deploying now", sender="Eve", room="dev").save()
        lunch.text = "Anyone up for lunch at noon?"
        await lunch.save()
        oops = ChatMessage(text="Wrong room, sorry", sender="Frank", room="general")
        await oops.save()
        await oops.delete()

    # Dave's create and edit, Frank's create and delete; Eve writes to "dev".
    await guarded(asyncio.gather(watch_general(expected=4), chat_activity()))


async def diff_mode() -> None:
    section("2. DIFF mode: only the changed fields travel, the full record is kept")
    subscribed = asyncio.Event()

    async def watch_diffs() -> None:
        async with ChatMessage.objects().live(diff=True) as stream:
            subscribed.set()
            async for event in stream:
                if event.action == LiveAction.UPDATE:
                    print(f"  [diff] Changed fields: {event.changed_fields}")
                    print(f"  [diff] Full record: {event.instance.sender}: {event.instance.text}")
                    return

    async def edit() -> None:
        await subscribed.wait()
        typo = ChatMessage(text="Meeting at 3pn", sender="Alice", room="general")
        await typo.save()
        typo.text = "Meeting at 3pm"
        await typo.save()

    await guarded(asyncio.gather(watch_diffs(), edit()))


def drop_url() -> str:
    parts = urlsplit(os.getenv("SURREALDB_URL", "ws://localhost:8000"))
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, parts.netloc, "/_test/drop", "", ""))


async def forced_disconnect() -> None:
    section("3. Auto-resubscribe: the stream carries on after a dropped socket")
    subscribed = asyncio.Event()

    def on_gap(gap: StreamGap) -> None:
        how = "recovered from the change feed" if gap.recovered else "NOT recovered"
        print(f"  [gap] after reconnect {gap.reconnect}: {how} ({gap.backfilled} backfilled)")

    async def watch() -> None:
        async with ChatMessage.objects().filter(room="general").live(on_gap=on_gap) as stream:
            subscribed.set()
            async for event in stream:
                if event.instance.sender == "Grace":
                    print(f"  [live] {describe(event)} (reconnects so far: {stream.reconnects})")
                    return

    async def drop_then_write() -> None:
        await subscribed.wait()
        async with httpx.AsyncClient() as client:
            response = await client.post(drop_url())
        if response.status_code == 404:
            print("  (this server has no /_test/drop: skipping the forced disconnect)")
        else:
            print(f"  Dropped {response.json()['dropped']} WebSocket(s)")
        await ChatMessage(text="Back online", sender="Grace", room="general").save()

    await guarded(asyncio.gather(watch(), drop_then_write()))


async def change_feed_with_cursor(feed_start: datetime) -> None:
    section("4. Change feed: save the cursor, stop, resume without loss or repeat")
    first_run: list[ModelChangeEvent[ChatMessage]] = []
    stream = ChatMessage.objects().changes(since=feed_start, poll_interval=0.1)
    async for event in stream:
        first_run.append(event)
        checkpoint = stream.cursor  # save it only once the event is handled
        if len(first_run) == 3:
            break
    await stream.aclose()
    print(f"  First run handled {len(first_run)} changes; cursor saved: {checkpoint}")

    await ChatMessage(text="Written while the consumer was stopped", sender="Heidi").save()

    resumed = ChatMessage.objects().changes(since=checkpoint, until_caught_up=True)
    second_run = [event async for event in resumed]
    print(f"  Resumed from {checkpoint}: {len(second_run)} more changes, cursor {resumed.cursor}")
    for event in first_run + second_run:
        print(f"    chat.{event.action.value.lower()} {event.record_id}")

    everything = ChatMessage.objects().changes(since=feed_start, until_caught_up=True)
    full = [(e.versionstamp, str(e.record_id)) async for e in everything]
    mine = [(e.versionstamp, str(e.record_id)) for e in first_run + second_run]
    verdict = "no loss, no repeat" if mine == full else "MISMATCH with a full read"
    print(f"  {len(first_run)} + {len(second_run)} changes == full read of {len(full)}: {verdict}")


async def live_change_signal() -> None:
    section("5. post_live_change: react to live events with a signal handler")
    subscribed = asyncio.Event()

    @post_live_change.connect(ChatMessage)
    async def on_message_change(
        sender: type[ChatMessage],
        instance: ChatMessage,
        action: LiveAction,
        record_id: Any,
        **kwargs: Any,
    ) -> None:
        if action == LiveAction.CREATE:
            print(f"  [signal] broadcast new_message from {instance.sender}: {instance.text}")

    async def watch() -> None:
        async with ChatMessage.objects().filter(sender="Ivan").live() as stream:
            subscribed.set()
            await anext(stream)

    async def post() -> None:
        await subscribed.wait()
        await ChatMessage(text="Signals work", sender="Ivan").save()

    try:
        await guarded(asyncio.gather(watch(), post()))
    finally:
        post_live_change.disconnect(on_message_change, ChatMessage)


async def cleanup() -> None:
    section("Cleanup")
    await ChatMessage.objects().delete_table()
    print("Cleanup complete.")
    await SurrealDBConnectionManager.close_all()


async def main() -> None:
    configure()
    feed_start = datetime.now(UTC) - timedelta(seconds=1)
    await setup()
    await live_query_on_general()
    await diff_mode()
    await forced_disconnect()
    await change_feed_with_cursor(feed_start)
    await live_change_signal()
    await cleanup()


if __name__ == "__main__":
    asyncio.run(main())
