"""Live queries on the test server: LiveModelStream vs the official SDK's `live` + `subscribe_live`.

The same writer (an official SDK connection) feeds both consumers:
- latency: K single creates, each waiting for its event; write-to-event p50/p99;
- throughput: M records inserted in batches of 100; events/s until the last one arrives.
The runtime consumer yields typed `ModelChangeEvent[LiveItem]`; the SDK yields raw dicts.

    python -m bench.live            # K = 1,000, M = 20,000, 2 rounds
    python -m bench.live --quick    # K = 200,  M = 2,000, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from bench.clients import runtime_missing
from bench.engines import official, query_all
from bench.measure import median, percentile, print_table
from bench.server import server_missing, test_server

TABLE = "live_item"
BATCH = 100
SCHEMA = f"""
DEFINE TABLE {TABLE} SCHEMAFULL;
DEFINE FIELD text ON {TABLE} TYPE string;
DEFINE FIELD n ON {TABLE} TYPE int;
"""

# A consumer: an async context manager yielding an iterator of the `n` of each event received.
Consumer = Callable[[str, str], AbstractAsyncContextManager[AsyncIterator[int]]]


@asynccontextmanager
async def official_consumer(url: str, database: str) -> AsyncIterator[AsyncIterator[int]]:
    async with official(url, database) as db:
        live_id = await db.live(TABLE)
        notifications = await db.subscribe_live(live_id)

        async def numbers() -> AsyncIterator[int]:
            # subscribe_live yields each notification's record only (the SDK drops the action).
            async for record in notifications:
                yield record["n"]

        try:
            yield numbers()
        finally:
            await db.kill(live_id)


@asynccontextmanager
async def runtime_consumer(url: str, database: str) -> AsyncIterator[AsyncIterator[int]]:
    from bench.engines import NAMESPACE, ROOT_PASS, ROOT_USER
    from bench.runtime_models import LiveItem
    from surreal_gen.runtime import LiveAction, SurrealDBConnectionManager

    SurrealDBConnectionManager.set_connection(url, ROOT_USER, ROOT_PASS, NAMESPACE, database)
    connection = SurrealDBConnectionManager.get_connection()
    try:
        async with LiveItem.objects().live() as stream:

            async def numbers() -> AsyncIterator[int]:
                async for event in stream:
                    if event.action is not LiveAction.CREATE or not isinstance(
                        event.instance, LiveItem
                    ):
                        raise AssertionError(f"unexpected live event {event!r}")
                    yield event.instance.n

            yield numbers()
    finally:
        await connection.close()


async def run_consumer(
    consumer: Consumer, url: str, database: str, latency_writes: int, burst_writes: int
) -> tuple[list[float], float]:
    """Write through the official SDK, read through `consumer`; return latencies and events/s."""
    async with official(url, database) as writer:
        await query_all(writer, SCHEMA)
        async with consumer(url, database) as events:
            latencies = await measure_latency(writer, events, latency_writes)
            rate = await measure_throughput(writer, events, latency_writes, burst_writes)
    return latencies, rate


async def measure_latency(writer: Any, events: AsyncIterator[int], count: int) -> list[float]:
    latencies = []
    for n in range(count):
        start = time.perf_counter()
        await writer.query(
            f"CREATE {TABLE} SET text = $text, n = $n", {"text": f"item {n}", "n": n}
        )
        got = await anext(events)
        latencies.append(time.perf_counter() - start)
        if got != n:
            raise AssertionError(f"latency phase: expected event for #{n}, got #{got}")
    return latencies


async def measure_throughput(
    writer: Any, events: AsyncIterator[int], first: int, count: int
) -> float:
    expected = set(range(first, first + count))

    async def write() -> None:
        for start in range(first, first + count, BATCH):
            rows = [
                {"text": f"item {n}", "n": n}
                for n in range(start, min(start + BATCH, first + count))
            ]
            await writer.query(f"INSERT INTO {TABLE} $rows", {"rows": rows})

    begin = time.perf_counter()
    writing = asyncio.create_task(write())
    seen: set[int] = set()
    while len(seen) < count:
        got = await asyncio.wait_for(anext(events), timeout=30)
        if got not in expected or got in seen:
            raise AssertionError(f"throughput phase: unexpected or repeated event #{got}")
        seen.add(got)
    elapsed = time.perf_counter() - begin
    await writing
    return count / elapsed


async def compare(url: str, latency_writes: int, burst_writes: int, rounds: int) -> dict[str, Any]:
    consumers: dict[str, Consumer] = {
        "official SDK": official_consumer,
        "LiveModelStream": runtime_consumer,
    }
    results: dict[str, dict[str, list[float]]] = {
        name: {"lat": [], "rate": []} for name in consumers
    }
    for round_ in range(rounds):
        order = list(consumers) if round_ % 2 == 0 else list(reversed(consumers))
        for name in order:
            database = f"live_{name.split()[0]}_{round_}"
            latencies, rate = await run_consumer(
                consumers[name], url, database, latency_writes, burst_writes
            )
            results[name]["lat"] += latencies
            results[name]["rate"].append(rate)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="LiveModelStream vs official SDK live queries")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--latency-writes", type=int)
    parser.add_argument("--burst-writes", type=int)
    args = parser.parse_args()
    latency_writes, burst_writes = (200, 2000) if args.quick else (1000, 20_000)
    latency_writes = args.latency_writes or latency_writes
    burst_writes = args.burst_writes or burst_writes
    rounds = args.rounds or (1 if args.quick else 2)
    missing = runtime_missing("transports.ws", "live") or server_missing()
    if missing:
        print(f"live: not measured ({missing})")
        return
    with test_server() as http_url:
        url = http_url.replace("http://", "ws://") + "/rpc"
        results = asyncio.run(compare(url, latency_writes, burst_writes, rounds))
    rows = []
    for name, r in results.items():
        rows.append(
            [
                name,
                median(r["rate"]),
                percentile(r["lat"], 0.5) * 1000,
                percentile(r["lat"], 0.99) * 1000,
            ]
        )
    print(
        f"live: {latency_writes} paced creates (latency), {burst_writes} burst inserts (throughput), {rounds} rounds"
    )
    print_table(["consumer", "events/s", "p50 ms", "p99 ms"], rows)
    sdk, ours = results["official SDK"], results["LiveModelStream"]
    throughput = median(ours["rate"]) / median(sdk["rate"])
    p50 = percentile(ours["lat"], 0.5) / percentile(sdk["lat"], 0.5)
    print(
        f"live: LiveModelStream throughput {throughput:.2f}x the SDK (target >= 1.0), p50 {p50:.2f}x (target <= 1.2)"
    )


if __name__ == "__main__":
    main()
