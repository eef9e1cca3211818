"""Codegen at scale: surreal-gen vs datamodel-code-generator on the same synthetic schema.

For each N (tables, F fields each) every mode runs in its own subprocess, so each gets a clean
peak RSS; the child also times its own work (excluding interpreter start and imports), then
checks its output (every table has its model; not timed). "process s" is the child's wall
time minus that check: what running the tool as a command costs.

    python -m bench.codegen                 # N = 100, 1000, 3000; F = 30
    python -m bench.codegen --quick         # N = 50, 150

Each run writes a new folder, all removed at the end; from N = 1,000 a run first waits until
another benchmark's removal of many files is some minutes old (``measure.SETTLE_S``: on this
machine's file system, files created right after it are slow to create, and only the
surreal-gen side creates a thousand).

Modes:
  dcg          datamodel-code-generator, JSON Schema -> pydantic v2, builtin formatter
  sg-surql     surreal-gen end to end from .surql: apply, introspect, render, write
  sg-loaded    surreal-gen from an already-loaded database (a surrealkv:// store filled by
               an earlier process): introspect, render, write
  sg-render    surreal-gen render + write alone (the schema is introspected from the store
               first, untimed), rendering as the CLI does (from 100 tables, the package
               files and part of the modules in a forked copy of the process)
  floor        what any tool reading the same store and writing the same package must pay,
               with no code generation at all: open the store, have the engine answer the
               same INFO requests surreal-gen sends (replies left undecoded), and write the
               files surreal-gen made (rendered beforehand, untimed) into a fresh folder.
               dcg / floor bounds the ratio any generator of this package could reach here.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import sg_api
from bench.engines import official, query_all
from bench.measure import (
    ChildFailed,
    ChildRun,
    print_table,
    python_child,
    report,
    scratch_folder,
    settle_file_system,
)
from bench.synth import build_tables, table_name, write_schema

MODES = ["dcg", "sg-surql", "sg-loaded", "sg-render", "floor"]
TIMEOUT_S = {"dcg": 300, "sg-surql": 120, "sg-loaded": 120, "sg-render": 120, "floor": 120}
"""Each mode's budget per size (the full suite has to fit in 15 minutes); the baseline
always gets enough to finish, since every ratio needs it."""


@dataclass(frozen=True)
class Result:
    n: int
    mode: str
    run: ChildRun | None
    skipped: str = ""

    @property
    def work_s(self) -> float:
        return float(self.run.report["work_s"]) if self.run else float("nan")


# --- children: each times its own work and checks its own output -------------------------


def child_dcg(json_path: Path, out: Path, n_tables: int) -> None:
    from datamodel_code_generator import Formatter, InputFileType, PythonVersion, generate
    from datamodel_code_generator.enums import DataModelType

    start = time.perf_counter()
    generate(
        json_path,
        input_file_type=InputFileType.JsonSchema,
        output=out / "models.py",
        output_model_type=DataModelType.PydanticV2BaseModel,
        formatters=[Formatter.BUILTIN],
        target_python_version=PythonVersion.PY_311,
    )
    work = time.perf_counter() - start
    checked = time.perf_counter()
    check_dcg_output(out / "models.py", n_tables)
    report(work_s=work, check_s=time.perf_counter() - checked)


def check_dcg_output(path: Path, n_tables: int) -> None:
    """The module parses and holds one class per table (dcg names `tbl_0001` `Tbl0001`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    missing = [t for t in range(n_tables) if f"Tbl{t:04d}" not in classes]
    if missing:
        raise SystemExit(f"dcg output lacks {len(missing)} table classes, e.g. Tbl{missing[0]:04d}")


def child_sg(mode: str, surql: Path, store: Path, out: Path, n_tables: int) -> None:
    sg_api.import_cli()
    if mode == "sg-surql":
        start = time.perf_counter()
        sg_api.generate_from_surql(surql, out)
        work = time.perf_counter() - start
    elif mode == "sg-loaded":
        start = time.perf_counter()
        sg_api.generate_from_url(f"surrealkv://{store}", out)
        work = time.perf_counter() - start
    elif mode == "floor":
        files = sg_api.render(sg_api.introspect_url(f"surrealkv://{store}"))
        start = time.perf_counter()
        asyncio.run(sg_api.engine_answers(store))
        sg_api.write_files(out, files)
        work = time.perf_counter() - start
    else:
        schema = sg_api.introspect_url(f"surrealkv://{store}")
        start = time.perf_counter()
        sg_api.render_and_write(schema, out)
        work = time.perf_counter() - start
    checked = time.perf_counter()
    sg_api.check_output(out, [table_name(t) for t in range(n_tables)])
    report(work_s=work, check_s=time.perf_counter() - checked)


# --- parent --------------------------------------------------------------------------------


async def load_store(surql: Path, store: Path) -> None:
    """Fill a surrealkv:// store with the schema: the 'already-loaded database'."""
    async with official(f"surrealkv://{store}") as db:
        await query_all(db, surql.read_text(encoding="utf-8"))


def over_budget(n: int, mode: str, earlier: list[Result]) -> str:
    """Why `mode` at size `n` is not worth starting, judged from the largest smaller size."""
    previous = [r for r in earlier if r.mode == mode and r.n < n]
    if not previous:
        return ""
    last = max(previous, key=lambda r: r.n)
    if last.run is None:
        return f"skipped: at N={last.n} it was not measured ({last.skipped})"
    predicted = last.work_s * n / last.n
    if predicted > TIMEOUT_S[mode]:
        return (
            f"skipped: N={last.n} took {last.work_s:.0f} s, so even linear growth "
            f"exceeds the {TIMEOUT_S[mode]} s budget"
        )
    return ""


SETTLE_FROM_N = 1000
"""From this many tables, a run first waits out another benchmark's recent clean-up
(``measure.settle_file_system``); the smoke test's tiny sizes do not wait."""
ROUNDS_UP_TO_N = 1000
"""Sizes up to this one run every mode ``ROUNDS`` times, in alternating order, and report the
median round (the machine is shared); larger sizes run once to fit the suite's budget."""
ROUNDS = 3


def run_size(
    n: int, fields: int, work: Path, modes: list[str], earlier: list[Result]
) -> list[Result]:
    size_dir = work / f"n{n}"
    surql, json_path = write_schema(size_dir, n, fields)
    store = size_dir / "store"
    runs: dict[str, list[ChildRun]] = {}
    skipped: dict[str, str] = {}
    for round_ in range(ROUNDS if n <= ROUNDS_UP_TO_N else 1):
        for mode in modes if round_ % 2 == 0 else modes[::-1]:
            if mode in skipped:
                continue
            skip = over_budget(n, mode, earlier)
            if mode != "dcg" and not sg_api.available():
                skip = f"not measured: {sg_api.missing_reason()}"
            if skip:
                print(f"  N={n} {mode}: {skip}", file=sys.stderr, flush=True)
                skipped[mode] = skip
                continue
            if mode in ("sg-loaded", "sg-render", "floor") and not store.exists():
                asyncio.run(load_store(surql, store))
            try:
                source = surql if mode != "dcg" else json_path
                run = run_mode(n, mode, size_dir, source, store, round_)
            except ChildFailed as failure:
                print(f"  N={n} {mode}: FAILED, {failure.summary}", file=sys.stderr, flush=True)
                skipped[mode] = f"failed: {failure.summary}"
                continue
            print(f"  N={n} {mode}: {run.report['work_s']:.2f} s", file=sys.stderr, flush=True)
            runs.setdefault(mode, []).append(run)
    results = []
    for mode in modes:
        if mode in skipped:
            results.append(Result(n, mode, None, skipped=skipped[mode]))
        else:
            ordered = sorted(runs[mode], key=lambda run: float(run.report["work_s"]))
            results.append(Result(n, mode, ordered[(len(ordered) - 1) // 2]))
    return results


def run_mode(n: int, mode: str, size_dir: Path, source: Path, store: Path, round_: int) -> ChildRun:
    """One child run of ``mode`` into a new output folder. Nothing is removed before the
    suite ends: creating files right after removing many measured the removal
    (``measure.SETTLE_S``)."""
    out = size_dir / f"round{round_}" / f"out_{mode.replace('-', '_')}"
    out.mkdir(parents=True)
    args = [mode, str(source), str(out), str(n)]
    return python_child(
        "bench.codegen", "--child", *args, "--store", str(store), timeout=TIMEOUT_S[mode]
    )


def print_results(results: list[Result]) -> None:
    rows = []
    for r in results:
        if r.run is None:
            rows.append([r.n, r.mode, "-", "-", "-", "-", r.skipped])
            continue
        rows.append(
            [
                r.n,
                r.mode,
                "-" if r.mode in ("sg-render", "floor") else r.run.wall_s - r.run.report["check_s"],
                r.work_s,
                r.run.peak_rss_mb,
                r.work_s / r.n * 1000,
                "",
            ]
        )
    print_table(["N", "mode", "process s", "work s", "peak MB", "work ms/table", "note"], rows)


def print_ratios(results: list[Result]) -> str:
    """Per N: dcg work time / each surreal-gen mode's work time; returns the key line."""
    by_key = {(r.n, r.mode): r.run for r in results if r.run is not None}
    sizes = sorted({r.n for r in results})
    rows = []
    for n in sizes:
        dcg = by_key.get((n, "dcg"))
        row: list[object] = [n]
        for mode in MODES[1:]:
            sg = by_key.get((n, mode))
            if dcg and sg:
                row += [
                    dcg.report["work_s"] / sg.report["work_s"],
                    dcg.peak_rss_mb / sg.peak_rss_mb,
                ]
            else:
                row += ["-", "-"]
        rows.append(row)
    print(
        "ratios, datamodel-code-generator / surreal-gen mode (above 1: surreal-gen is faster or smaller):"
    )
    headers = ["N"]
    for mode in MODES[1:]:
        headers += [f"dcg/{mode} time", f"dcg/{mode} mem"]
    print_table(headers, rows)
    key_n = 1000 if 1000 in sizes else sizes[-1]
    dcg, loaded = by_key.get((key_n, "dcg")), by_key.get((key_n, "sg-loaded"))
    if dcg and loaded:
        ratio = dcg.report["work_s"] / loaded.report["work_s"]
        floor = by_key.get((key_n, "floor"))
        bound = (
            f"; engine and file system alone: {dcg.report['work_s'] / floor.report['work_s']:.1f}x"
            if floor
            else ""
        )
        return (
            f"codegen: from a loaded database surreal-gen is {ratio:.1f}x "
            f"faster than datamodel-code-generator at N={key_n} (target >= 10x{bound})"
        )
    missing = next((r.skipped for r in results if r.n == key_n and r.mode == "sg-loaded"), "")
    return f"codegen: no from-a-loaded-database figure at N={key_n} ({missing or 'dcg missing'})"


def print_growth(results: list[Result]) -> None:
    """Work time per table at each N relative to the smallest N: 1.0 means linear."""
    sizes = sorted({r.n for r in results})
    rows: list[list[object]] = []
    for mode in MODES:
        series = {r.n: r for r in results if r.mode == mode and r.run is not None}
        if sizes[0] not in series:
            continue
        base = series[sizes[0]].work_s / sizes[0]
        rows.append([mode, *(series[n].work_s / n / base if n in series else "-" for n in sizes)])
    print("growth (work time per table, relative to the smallest N; 1.0 = linear):")
    print_table(["mode"] + [f"N={n}" for n in sizes], rows)


def print_phases(results: list[Result]) -> None:
    """surreal-gen's time split by phase, from differences between its modes."""
    by_key = {(r.n, r.mode): r.work_s for r in results if r.run is not None}
    rows = []
    for n in sorted({r.n for r in results}):
        phase_modes = ("sg-surql", "sg-loaded", "sg-render")
        if all((n, m) in by_key for m in phase_modes):
            surql, loaded, render = (by_key[(n, m)] for m in phase_modes)
            rows.append([n, surql - loaded, loaded - render, render])
    if rows:
        print(
            "surreal-gen phases, seconds (apply = sg-surql - sg-loaded; introspect, including "
            "opening the store, = sg-loaded - sg-render):"
        )
        print_table(["N", "apply .surql", "introspect", "render + write"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="surreal-gen vs datamodel-code-generator")
    parser.add_argument("--quick", action="store_true", help="N = 50, 150")
    parser.add_argument("--sizes", help="comma-separated table counts (default 100,1000,3000)")
    parser.add_argument("--fields", type=int, default=30)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", nargs=4, metavar=("MODE", "INPUT", "OUT", "N"))
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    if args.child:
        mode, source, out, n = args.child
        if mode == "dcg":
            child_dcg(Path(source), Path(out), int(n))
        else:
            child_sg(mode, Path(source), args.store, Path(out), int(n))
        return
    sizes = [50, 150] if args.quick else [100, 1000, 3000]
    if args.sizes:
        sizes = list(dict.fromkeys(int(s) for s in args.sizes.split(",")))
    modes = list(dict.fromkeys(args.modes.split(",")))  # a run's folder is named after both
    if max(sizes) >= SETTLE_FROM_N:
        settle_file_system("codegen")
    with scratch_folder("bench-codegen-") as tmp:
        results: list[Result] = []
        for n in sizes:
            results += run_size(n, args.fields, tmp, modes, results)
    print(
        f"codegen, F={args.fields} fields per table ({len(build_tables(1, args.fields)[0].fields)} top-level)"
    )
    print_results(results)
    print_growth(results)
    print_phases(results)
    key_line = print_ratios(results)
    print(key_line)


if __name__ == "__main__":
    main()
