"""Hydration: rows of the reference schema's richest table (`person`) into generated models.

1,000 varied person records are written to the embedded engine and read back through the
runtime (so the rows hold exactly what its CBOR decoder produces: RecordID, Decimal,
Duration, aware datetimes, geometry); they are repeated, with fresh ids, up to R rows. Then:
- runtime: `Person.from_db_many(rows)`, the path every QuerySet read takes;
- limit: `TypeAdapter(list[Person]).validate_python(rows)`, adapter built beforehand;
- per row: `[Person(**row) for row in rows]`.
The ways take turns (a different one first in each repeat), each from a collected heap;
the best time of each is kept. The key ratio is taken with the cyclic GC paused during the
timed call, which isolates validation; one more round with the GC running shows what
collections add (building 100k objects in one call triggers many; the cost depends on the
heap, so those figures are the less steady ones).

    python -m bench.hydrate            # R = 100,000, best of 5
    python -m bench.hydrate --quick    # R = 50,000, best of 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import sg_api
from bench.clients import runtime_client, runtime_missing
from bench.measure import REPO_ROOT, print_table

DISTINCT_ROWS = 1000
LIMIT = "TypeAdapter(list[Person])"
PERSON_SCHEMA = REPO_ROOT / "schema" / "people.surql"


def person_data(n: int) -> dict[str, Any]:
    """Person n: every optional part present on some rows and absent on others."""
    from surreal_gen.runtime import GeometryPoint, RecordID

    data: dict[str, Any] = {
        "name": f"Person {n}",
        "email": f"Person{n}@Example.com",
        "balance": Decimal(f"{n}.25"),
        "status": ["active", "banned", "pending"][n % 3],
        "level": n % 3 + 1,
        "tags": [f"tag{n % 7}", f"tag{n % 11}"],
        "preferences": {"theme": "dark", "n": n},
    }
    if n % 2:
        data["age"] = n % 90
        data["nickname"] = f"p{n}"
        data["address"] = {
            "street": f"{n} Main St",
            "city": "Springfield",
            "location": GeometryPoint(n / 1000, 1.5),
            "country": {"code": "FR", "name": "France"},
        }
    if n % 3 == 0:
        data["class"] = "premium"
        data["json"] = True
        data["best_friend"] = RecordID("person", (n + 1) % DISTINCT_ROWS)
    return data


async def read_rows(count: int) -> list[dict[str, Any]]:
    """`count` decoded person rows: DISTINCT_ROWS read from the engine, repeated with new ids."""
    from surreal_gen.runtime import RecordID

    async with runtime_client("mem://", "hydrate") as client:
        await client.run(PERSON_SCHEMA.read_text(encoding="utf-8"))
        for n in range(DISTINCT_ROWS):
            await client.rows(
                "CREATE $id CONTENT $data", {"id": RecordID("person", n), "data": person_data(n)}
            )
        rows = await client.rows("SELECT * FROM person ORDER BY id", {})
    if len(rows) != DISTINCT_ROWS:
        raise AssertionError(f"read {len(rows)} person rows, wrote {DISTINCT_ROWS}")
    return [dict(rows[i % DISTINCT_ROWS], id=RecordID("person", i)) for i in range(count)]


def person_model(work: Path) -> Any:
    """The Person model generated from schema/ (fresh, into a temporary package)."""
    sg_api.generate_from_surql(REPO_ROOT / "schema", work / "hydrate_models")
    sys.path.insert(0, str(work))
    module = importlib.import_module("hydrate_models")
    return module.Person


def timed(run: Callable[[], list[Any]], *, with_gc: bool) -> tuple[float, list[Any]]:
    """One run from a collected heap, so no way pays for garbage another way left."""
    gc.collect()
    if not with_gc:
        gc.disable()
    try:
        start = time.perf_counter()
        models = run()
        return time.perf_counter() - start, models
    finally:
        gc.enable()


def check(name: str, models: list[Any], count: int, reference: list[Any]) -> None:
    """All rows hydrated, and a spread sample dumps exactly as the reference way's does."""
    dumped = [m.model_dump() for m in models[:: max(1, count // 500)]]
    if len(models) != count or dumped != reference:
        raise AssertionError(f"{name}: {len(models)} models, or values differ from TypeAdapter's")


def main() -> None:
    parser = argparse.ArgumentParser(description="hydrating rows into generated models")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    args = parser.parse_args()
    count = args.rows or (50_000 if args.quick else 100_000)
    repeats = 3 if args.quick else 5
    missing = runtime_missing() or sg_api.missing_reason()
    if missing:
        print(f"hydrate: not measured ({missing})")
        return
    from pydantic import TypeAdapter

    with tempfile.TemporaryDirectory(prefix="bench-hydrate-") as tmp:
        person = person_model(Path(tmp))
        rows = asyncio.run(read_rows(count))
        adapter: TypeAdapter[list[Any]] = TypeAdapter(list[person])  # type: ignore[valid-type]
        person.from_db_many(rows[:10])  # build the runtime's own cached adapter
        ways: dict[str, Callable[[], list[Any]]] = {
            "runtime from_db_many": lambda: person.from_db_many(rows),
            LIMIT: lambda: adapter.validate_python(rows),
            "Person(**row) per row": lambda: [person(**row) for row in rows],
        }
        reference = [m.model_dump() for m in adapter.validate_python(rows[:: max(1, count // 500)])]
        timings = {name: float("inf") for name in ways}
        with_gc: dict[str, float] = {}
        names = list(ways)
        for repeat in range(repeats + 1):
            for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
                seconds, models = timed(ways[name], with_gc=repeat == repeats)
                check(name, models, count, reference)
                if repeat == repeats:
                    with_gc[name] = seconds
                else:
                    timings[name] = min(timings[name], seconds)
                del models
    limit, limit_gc = timings[LIMIT], with_gc[LIMIT]
    print(f"hydrate: {count} person rows ({DISTINCT_ROWS} distinct), best of {repeats}")
    print_table(
        ["way", "seconds", "rows/s", "speed vs limit", "with GC: seconds", "with GC: vs limit"],
        [
            [name, s, count / s, limit / s, with_gc[name], limit_gc / with_gc[name]]
            for name, s in timings.items()
        ],
    )
    ratio = limit / timings["runtime from_db_many"]
    print(f"hydrate: runtime path runs at {ratio:.2f} of the TypeAdapter limit (target >= 0.90)")


if __name__ == "__main__":
    main()
