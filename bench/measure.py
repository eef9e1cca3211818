"""Measurement plumbing: run a child process, read its wall time, peak RSS and its own report.

A child reports in-process figures by printing one line `BENCH_RESULT <json>` (see `report`).

Peak memory: Linux carries a process's `ru_maxrss` across fork and exec, so a child started
from a large parent reports at least the parent's size. A child that reports therefore reads
its own high-water mark (`VmHWM` in /proc/self/status, which starts afresh at exec); for other
children the parent falls back to `ru_maxrss` from `os.wait4`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PYCACHE = Path(tempfile.gettempdir()) / "surreal-gen-bench-pycache"
"""Children keep bytecode caches here (outside the tree), as an installed application would
have them, even where the environment sets PYTHONDONTWRITEBYTECODE."""
RESULT_PREFIX = "BENCH_RESULT "
CLEANUP_RECORD = Path(tempfile.gettempdir()) / "surreal-gen-bench-last-cleanup"
"""When a benchmark's scratch folder was last removed, and how many files it held."""
MANY_FILES = 1000
SETTLE_S = 360.0
"""How long a benchmark that times file creation waits after another's clean-up removed
``MANY_FILES`` or more. On this machine's ext4 (no journal), creating a file steps over
every inode freed in the last 60 s, or 360 s while its inode-table block is dirty, as it is
again as soon as files near it are created (``recently_deleted()`` in fs/ext4/ialloc.c). A
run started right after another's clean-up measured that clean-up: three back-to-back
`bench.codegen` invocations gave 12.3x, 11.3x and 10.3x, the floor going from 0.77 s to 1.23
and 1.21 s; one right after 7,021 files were removed 10.9x. Runs whose first measurement came
105-140 s after a clean-up gave 10.4x to 13.0x (the floors 0.55-0.91 s): hence the kernel's
bound rather than a shorter guess."""


class ChildFailed(RuntimeError):
    """A child exited non-zero or ran out of time; `summary` says which in one line."""

    def __init__(self, command: str, summary: str, stderr: str) -> None:
        super().__init__(f"{command}: {summary}\n{stderr[-3000:]}")
        self.summary = summary


@dataclass(frozen=True)
class ChildRun:
    wall_s: float
    peak_rss_mb: float
    report: dict[str, Any] = field(default_factory=dict)


def own_peak_rss_kb() -> int:
    """This process's peak resident set since exec, in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def report(**values: Any) -> None:
    """Called in a child: hand `values` (and the child's own peak RSS) to the parent."""
    print(RESULT_PREFIX + json.dumps(dict(values, peak_rss_kb=own_peak_rss_kb())), flush=True)


def run_child(argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 900) -> ChildRun:
    """Run `argv`, fail loudly on a non-zero exit, return wall time, peak RSS and the report."""
    pythonpath = os.pathsep.join(p for p in [str(REPO_ROOT), os.environ.get("PYTHONPATH")] if p)
    env = dict(os.environ, PYTHONPATH=pythonpath, PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        killer = threading.Timer(timeout, kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    command = " ".join(argv)
    if timed_out.is_set():
        raise ChildFailed(command, f"did not finish within {timeout:.0f} s", stderr)
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["no error output"])[-1]
        raise ChildFailed(command, f"exited {process.returncode}: {last[:160]}", stderr)
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    child_report = json.loads(lines[-1][len(RESULT_PREFIX) :]) if lines else {}
    peak_kb = child_report.pop("peak_rss_kb", usage.ru_maxrss)
    return ChildRun(wall, peak_kb / 1024, child_report)


def python_child(module: str, *args: str, timeout: float = 900) -> ChildRun:
    """Run `python -m module args...` from the repository root."""
    return run_child([sys.executable, "-m", module, *args], cwd=REPO_ROOT, timeout=timeout)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (fraction in 0..1)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A small Markdown table, so the output can be pasted into BENCHMARKS.md as is."""
    cells = [[str(h) for h in headers]] + [[format_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def format_cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed at the end, however the block ends; a removal of many
    files is recorded for ``settle_file_system`` (unless the record cannot be written: it
    only saves the next run a wait)."""
    files = 0
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            try:
                yield Path(tmp)
            finally:
                files = sum(len(names) for _, _, names in os.walk(tmp))
    finally:
        if files >= MANY_FILES:
            with contextlib.suppress(OSError):
                CLEANUP_RECORD.write_text(f"{time.time()} {files}\n", encoding="ascii")


def settle_file_system(name: str) -> None:
    """Wait until ``SETTLE_S`` have passed since a benchmark's clean-up removed many files,
    saying why on stderr; at once otherwise."""
    try:
        when, files = CLEANUP_RECORD.read_text(encoding="ascii").split()
        wait = float(when) + SETTLE_S - time.time()
    except (OSError, ValueError):
        return
    if wait > 0:
        print(
            f"{name}: waiting {wait:.0f} s: a benchmark removed {files} files "
            f"{SETTLE_S - wait:.0f} s ago, and on some file systems (ext4 without a journal) "
            "creating files stays slower for up to six minutes after that",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(min(wait, SETTLE_S))
