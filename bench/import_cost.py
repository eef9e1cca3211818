"""Import cost of a generated package of 1,000 tables (F = 30), in fresh interpreters.

- floor: import bench/floor_model.py (table tbl_0000 written by hand, nothing else) and
  validate one row;
- one model: import the generated package, touch `Tbl0000` (lazy export) and validate the
  same row;
- every model: import the package and every one of its models (no validation).
Each sample is a new `python` process timing its own import (interpreter start excluded);
peak RSS is the process's own. Medians over the samples. Bytecode caches are written by an
untimed first round and used by the samples, as in an installed application.

    python -m bench.import_cost            # N = 1,000, 11 samples
    python -m bench.import_cost --quick    # N = 100, 5 samples
"""

from __future__ import annotations

import argparse
import ast
import asyncio
from pathlib import Path

from bench import sg_api
from bench.codegen import load_store
from bench.measure import ChildRun, median, print_table, python_child, scratch_folder
from bench.synth import write_schema

PACKAGE = "synth_models"
TOUCHED_TABLE = "tbl_0000"
CASES = ["floor", "one model", "every model"]


def model_class_name(module: Path) -> str:
    """The class in a generated table module that subclasses BaseSurrealModel."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id == "BaseSurrealModel" for b in node.bases
        ):
            return node.name
    raise SystemExit(f"no BaseSurrealModel class in {module}")


def build_package(work: Path, n_tables: int) -> Path:
    """Generate the synthetic package into work/synth_models; return work.

    The schema goes into a surrealkv:// store first and surreal-gen reads it from there
    (the same package as from the .surql file, and quicker to produce).
    """
    surql, _ = write_schema(work / "schema", n_tables, 30)
    store = work / "store"
    asyncio.run(load_store(surql, store))
    sg_api.generate_from_url(f"surrealkv://{store}", work / PACKAGE)
    sg_api.check_output(work / PACKAGE, [f"tbl_{t:04d}" for t in range(n_tables)])
    return work


def sample(case: str, work: Path) -> ChildRun:
    class_name = model_class_name(work / PACKAGE / f"{TOUCHED_TABLE}.py")
    return python_child("bench.import_child", case, str(work), PACKAGE, class_name)


def main() -> None:
    parser = argparse.ArgumentParser(description="import cost of a generated package")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tables", type=int)
    parser.add_argument("--samples", type=int)
    args = parser.parse_args()
    n_tables = args.tables or (100 if args.quick else 1000)
    samples = args.samples or (5 if args.quick else 11)
    if not sg_api.available():
        print(f"import_cost: not measured ({sg_api.missing_reason()})")
        return
    with scratch_folder("bench-import-") as tmp:
        work = build_package(tmp, n_tables)
        for case in CASES:  # untimed: compile the bytecode caches, as after an install
            sample(case, work)
        runs: dict[str, list[ChildRun]] = {case: [] for case in CASES}
        for index in range(samples):
            # Importing every model takes seconds; a few samples are plenty.
            for case in CASES if index % 4 == 0 else CASES[:2]:
                runs[case].append(sample(case, work))
    times = {case: median([r.report["import_s"] for r in rs]) for case, rs in runs.items()}
    rss = {case: median([r.peak_rss_mb for r in rs]) for case, rs in runs.items()}
    print(
        f"import_cost: package of {n_tables} tables x 30 fields, median of {samples} fresh "
        f"processes ({len(runs['every model'])} for every model)"
    )
    print_table(
        ["case", "import + touch ms", "peak RSS MB", "time vs floor"],
        [[case, times[case] * 1000, rss[case], times[case] / times["floor"]] for case in CASES],
    )
    ratio = times["one model"] / times["floor"]
    print(
        f"import_cost: importing the {n_tables}-table package and touching one model costs "
        f"{ratio:.2f}x the hand-written floor (target <= 1.2x)"
    )


if __name__ == "__main__":
    main()
