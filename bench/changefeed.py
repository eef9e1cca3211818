"""Change feeds over HTTP: the typed change-feed stream vs a bare httpx loop, same pages.

M records are written to a CHANGEFEED table on the test server (10 per statement, so the
feed holds M/10 change sets); then each reader goes through the whole feed from the start:
- the runtime: `FeedItem.objects().changes(since=0, batch_size=PAGE, until_caught_up=True)`,
  typed `ModelChangeEvent[FeedItem]`;
- the baseline: `POST /sql` with `SHOW CHANGES FOR TABLE feed_item SINCE <cursor> LIMIT PAGE`
  in a loop, CBOR decoded with plain cbor2, cursor advanced past the last versionstamp
  (3.x: vs + 1). CBOR, not JSON: versionstamps exceed 2**53, and the test server's JSON
  rounds them (a resumed cursor then repeats a change set).

    python -m bench.changefeed            # M = 50,000, median of 5 rounds
    python -m bench.changefeed --quick    # M = 10,000, median of 3 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import cbor2
import httpx

from bench.clients import runtime_missing
from bench.engines import NAMESPACE, ROOT_PASS, ROOT_USER, official, query_all
from bench.measure import median, print_table
from bench.server import server_missing, test_server

TABLE = "feed_item"
PER_STATEMENT = 10
PAGE = 1000
SCHEMA = f"""
DEFINE TABLE {TABLE} SCHEMAFULL CHANGEFEED 1d;
DEFINE FIELD text ON {TABLE} TYPE string;
DEFINE FIELD n ON {TABLE} TYPE int;
"""


async def fill(ws_url: str, database: str, count: int) -> None:
    async with official(ws_url, database) as db:
        await query_all(db, SCHEMA)
        for start in range(0, count, PER_STATEMENT):
            rows = [
                {"text": f"item {n}", "n": n}
                for n in range(start, min(start + PER_STATEMENT, count))
            ]
            await db.query(f"INSERT INTO {TABLE} $rows", {"rows": rows})


async def bare_httpx(http_url: str, database: str, count: int) -> list[int]:
    """The loop a user would write by hand: raw dicts, no types, no retries."""
    headers = {"Accept": "application/cbor", "surreal-ns": NAMESPACE, "surreal-db": database}
    numbers: list[int] = []
    cursor = 0
    async with httpx.AsyncClient(
        base_url=http_url, auth=(ROOT_USER, ROOT_PASS), headers=headers
    ) as client:
        while len(numbers) < count:
            sql = f"SHOW CHANGES FOR TABLE {TABLE} SINCE {cursor} LIMIT {PAGE}"
            response = await client.post("/sql", content=sql)
            response.raise_for_status()
            [statement] = cbor2.loads(response.content)
            for change_set in statement["result"]:
                numbers += [c["update"]["n"] for c in change_set["changes"] if "update" in c]
                cursor = change_set["versionstamp"] + 1
    return numbers


async def typed_stream(http_url: str, database: str, count: int) -> list[int]:
    from bench.runtime_models import FeedItem
    from surreal_gen.runtime import SurrealDBConnectionManager

    SurrealDBConnectionManager.set_connection(http_url, ROOT_USER, ROOT_PASS, NAMESPACE, database)
    connection = SurrealDBConnectionManager.get_connection()
    numbers: list[int] = []
    try:
        stream = FeedItem.objects().changes(since=0, batch_size=PAGE, until_caught_up=True)
        async for event in stream:
            if not isinstance(event.instance, FeedItem):
                raise TypeError(f"untyped change event {event!r}")
            numbers.append(event.instance.n)
    finally:
        await connection.close()
    return numbers


def check(name: str, numbers: list[int], count: int) -> None:
    if sorted(numbers) != list(range(count)):
        raise AssertionError(
            f"{name}: read {len(numbers)} changes ({len(set(numbers))} distinct), wrote {count}"
        )


async def compare(http_url: str, count: int, rounds: int) -> dict[str, list[float]]:
    ws_url = http_url.replace("http://", "ws://") + "/rpc"
    database = "changefeed"
    await fill(ws_url, database, count)
    readers = {"bare httpx": bare_httpx, "ChangeFeedStream": typed_stream}
    rates: dict[str, list[float]] = {name: [] for name in readers}
    for round_ in range(rounds):
        order = list(readers) if round_ % 2 == 0 else list(reversed(readers))
        for name in order:
            start = time.perf_counter()
            numbers: list[Any] = await readers[name](http_url, database, count)
            elapsed = time.perf_counter() - start
            check(name, numbers, count)
            rates[name].append(count / elapsed)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description="change-feed stream vs bare httpx loop")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--changes", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    count = args.changes or (10_000 if args.quick else 50_000)
    rounds = args.rounds or (3 if args.quick else 5)
    missing = runtime_missing("transports.http", "changes") or server_missing()
    if missing:
        print(f"changefeed: not measured ({missing})")
        return
    with test_server() as http_url:
        rates = asyncio.run(compare(http_url, count, rounds))
    print(
        f"changefeed: {count} changes in {count // PER_STATEMENT} change sets, pages of {PAGE}, {rounds} rounds"
    )
    print_table(["reader", "events/s"], [[name, median(r)] for name, r in rates.items()])
    ours, bare = median(rates["ChangeFeedStream"]), median(rates["bare httpx"])
    print(
        f"changefeed: typed stream {ours / bare:.2f}x the bare httpx loop (target >= 0.8), {ours:.0f} events/s (target >= 20000)"
    )


if __name__ == "__main__":
    main()
