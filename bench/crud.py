"""CRUD and queries: surreal_gen.runtime vs the official `surrealdb` SDK making the same raw calls.

Per target (embedded 2.x engine; WebSocket to the loopback test server) and per client:
N creates by record id, N selects by id, 100 filtered queries with a bound variable, each as
one `query` RPC with the same text and variables from both clients.
Clients alternate order each round, each round in a fresh database; medians are reported.

    python -m bench.crud            # N = 10,000, 2 rounds
    python -m bench.crud --quick    # N = 1,000, 2 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from bench.clients import Client, official_client, runtime_client, runtime_missing
from bench.measure import median, print_table
from bench.server import server_missing, test_server

TABLE = "crud_item"
ROOMS = 100
QUERIES = 100
SCHEMA = f"""
DEFINE TABLE {TABLE} SCHEMAFULL;
DEFINE FIELD text ON {TABLE} TYPE string;
DEFINE FIELD room ON {TABLE} TYPE string;
DEFINE FIELD n ON {TABLE} TYPE int;
DEFINE INDEX {TABLE}_room ON {TABLE} FIELDS room;
"""
PHASES = ["create", "select", "query"]

ClientFactory = Callable[[str, str], AbstractAsyncContextManager[Client]]


def row(n: int) -> dict[str, Any]:
    return {"text": f"message {n}", "room": f"room{n % ROOMS}", "n": n}


async def workload(client: Client, n_records: int) -> dict[str, float]:
    """Time each phase; check every answer; return seconds per phase."""
    await client.run(SCHEMA)
    ids = [client.record_id(TABLE, n) for n in range(n_records)]
    timings = {}

    start = time.perf_counter()
    for n, record in enumerate(ids):
        await client.rows("CREATE $id CONTENT $data", {"id": record, "data": row(n)})
    timings["create"] = time.perf_counter() - start
    [count] = await client.rows(f"SELECT count() FROM {TABLE} GROUP ALL", {})
    if count["count"] != n_records:
        raise AssertionError(f"{client.name}: {count['count']} records after {n_records} creates")

    start = time.perf_counter()
    selected = [await client.rows("SELECT * FROM $id", {"id": record}) for record in ids]
    timings["select"] = time.perf_counter() - start
    wrong = [n for n, got in enumerate(selected) if len(got) != 1 or got[0]["n"] != n]
    if wrong:
        raise AssertionError(
            f"{client.name}: select by id returned wrong records, e.g. #{wrong[0]}"
        )

    sql = f"SELECT * FROM {TABLE} WHERE room = $room"
    start = time.perf_counter()
    answers = [await client.rows(sql, {"room": f"room{q % ROOMS}"}) for q in range(QUERIES)]
    timings["query"] = time.perf_counter() - start
    for q, rows in enumerate(answers):
        expected = len(range(q % ROOMS, n_records, ROOMS))
        if len(rows) != expected or any(r["room"] != f"room{q % ROOMS}" for r in rows):
            raise AssertionError(
                f"{client.name}: query {q} returned {len(rows)} rows, expected {expected}"
            )
    return timings


async def measure_target(url: str, n_records: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median seconds per phase for each client on one target."""
    factories: dict[str, ClientFactory] = {
        "official SDK": official_client,
        "runtime": runtime_client,
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in factories}
    for round_ in range(rounds):
        order = list(factories) if round_ % 2 == 0 else list(reversed(factories))
        for name in order:
            database = f"crud_{name.split()[0]}_{round_}"
            async with factories[name](url, database) as client:
                samples[name].append(await workload(client, n_records))
    return {
        name: {phase: median([s[phase] for s in runs]) for phase in PHASES}
        for name, runs in samples.items()
    }


def target_rows(
    label: str, n_records: int, medians: dict[str, dict[str, float]]
) -> list[list[object]]:
    """One table row per phase: ops/s of each client and the runtime/official time ratio."""
    counts = {"create": n_records, "select": n_records, "query": QUERIES}
    rows: list[list[object]] = []
    for phase in PHASES:
        official_s = medians["official SDK"][phase]
        runtime_s = medians["runtime"][phase]
        rows.append(
            [
                label,
                f"{counts[phase]} {phase}",
                counts[phase] / official_s,
                counts[phase] / runtime_s,
                runtime_s / official_s,
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="runtime vs official SDK: CRUD and queries")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--records", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    n_records = args.records or (1000 if args.quick else 10_000)
    rounds = args.rounds or 2
    if runtime_missing():
        print(f"crud: not measured ({runtime_missing()})")
        return
    print(f"crud: {n_records} records, {QUERIES} filtered queries, median of {rounds} rounds")
    rows = target_rows(
        "embedded", n_records, asyncio.run(measure_target("mem://", n_records, rounds))
    )
    ws_missing = server_missing() or runtime_missing("transports.ws")
    if ws_missing:
        print(f"websocket: not measured ({ws_missing})")
    else:
        with test_server() as http_url:
            ws_url = http_url.replace("http://", "ws://") + "/rpc"
            medians = asyncio.run(measure_target(ws_url, n_records, rounds))
            rows += target_rows("websocket", n_records, medians)
    print_table(
        ["target", "operation", "official ops/s", "runtime ops/s", "runtime/official time"], rows
    )
    worst = max(float(row[4]) for row in rows)  # type: ignore[arg-type]
    print(f"crud: runtime time vs official SDK, worst operation {worst:.2f}x (target <= 1.15x)")


if __name__ == "__main__":
    main()
