"""The benchmark harness works end to end at tiny sizes (correctness only, no timings checked)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import synth
from bench.measure import REPO_ROOT, percentile, run_child


def run_bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_synth_schema_is_accepted_by_the_2x_engine(tmp_path: Path) -> None:
    surql, json_path = synth.write_schema(tmp_path, 4, 30)
    tables, fields = asyncio.run(synth.count_applied(surql.read_text(encoding="utf-8")))
    declared = {path for f in synth.build_tables(4, 30)[0].fields.values() for path, _ in f.defines}
    assert tables == 4
    assert fields >= len(declared)
    schema = json.loads(json_path.read_text(encoding="utf-8"))
    assert sorted(schema["$defs"]) == [synth.table_name(t) for t in range(4)]
    assert len(schema["$defs"]["tbl_0000"]["properties"]) == 31


def test_synth_cycles_through_every_kind() -> None:
    [table] = synth.build_tables(1, 30)
    kinds = {kind for f in table.fields.values() for _, kind in f.defines}
    expected = {
        "string",
        "int",
        "float",
        "bool",
        "decimal",
        "datetime",
        "duration",
        "uuid",
        "number",
        "bytes",
        "option<string>",
        "array<string>",
        "array<float, 5>",
        "set<string>",
        "record<tbl_0000>",
        "'draft' | 'published' | 'archived'",
        "object",
        "array<object>",
        "geometry<point>",
        "object FLEXIBLE",
        "any",
        "option<datetime>",
    }
    assert expected <= kinds
    assert "address_19.city" in {path for f in table.fields.values() for path, _ in f.defines}


def test_record_links_point_at_other_tables() -> None:
    tables = synth.build_tables(5, 30)
    link = tables[2].fields["link_15"].defines[0][1]
    assert link == "record<tbl_0003>"


def test_child_reports_and_peak_memory() -> None:
    code = (
        "import bench.measure as m; block = bytearray(64 * 1024 * 1024); m.report(size=len(block))"
    )
    run = run_child([sys.executable, "-c", code], cwd=REPO_ROOT)
    assert run.report == {"size": 64 * 1024 * 1024}
    assert run.peak_rss_mb >= 64


def test_failing_child_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="exited 3"):
        run_child([sys.executable, "-c", "raise SystemExit(3)"], cwd=REPO_ROOT)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0


def test_codegen_benchmark_tiny() -> None:
    out = run_bench("bench.codegen", "--sizes", "3", "--fields", "30")
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in out.splitlines()]
    for mode in ("dcg", "sg-loaded", "floor"):
        measured = [row for row in rows if row[:2] == ["3", mode]]
        assert measured and float(measured[0][3]) > 0, mode
    assert out.strip().splitlines()[-1].startswith("codegen: ")
    assert "engine and file system alone" in out.strip().splitlines()[-1]


def key_line_or_skip(out: str, prefix: str) -> str:
    """The benchmark's final line; skip when the part it measures has not landed yet."""
    last = out.strip().splitlines()[-1]
    if "not measured" in last:
        pytest.skip(last)
    assert last.startswith(prefix), out
    return last


def test_import_cost_tiny() -> None:
    out = run_bench("bench.import_cost", "--tables", "5", "--samples", "1")
    key_line_or_skip(out, "import_cost: importing the 5-table package")


def test_hydrate_tiny() -> None:
    out = run_bench("bench.hydrate", "--rows", "2000")
    key_line_or_skip(out, "hydrate: runtime path runs at")


def test_crud_tiny() -> None:
    out = run_bench("bench.crud", "--records", "200", "--rounds", "1")
    key_line_or_skip(out, "crud: runtime time vs official SDK")
    assert "| embedded" in out


def test_live_tiny() -> None:
    out = run_bench(
        "bench.live", "--latency-writes", "20", "--burst-writes", "200", "--rounds", "1"
    )
    key_line_or_skip(out, "live: LiveModelStream throughput")


def test_changefeed_tiny() -> None:
    out = run_bench("bench.changefeed", "--changes", "500", "--rounds", "1")
    key_line_or_skip(out, "changefeed: typed stream")
