"""Run every benchmark, each in its own process, and print their key lines at the end.

python -m bench            # full suite (< 15 minutes on 2 cores)
python -m bench --quick    # quick suite (< 2 minutes)
python -m bench --only codegen,crud
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version

from bench.measure import REPO_ROOT

BENCHMARKS = ["codegen", "import_cost", "hydrate", "crud", "live", "changefeed"]


def node_engine_version() -> str:
    package = (
        REPO_ROOT
        / "tests"
        / "surreal_server"
        / "node_modules"
        / "@surrealdb"
        / "node"
        / "package.json"
    )
    return (
        json.loads(package.read_text(encoding="utf-8"))["version"]
        if package.is_file()
        else "not installed"
    )


def describe_machine() -> str:
    """Cores, memory, CPU and the versions of everything measured."""
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    with open("/proc/cpuinfo", encoding="ascii") as cpuinfo:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            "?",
        )
    node = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    packages = [
        "surreal-gen",
        "pydantic",
        "pydantic-core",
        "datamodel-code-generator",
        "surrealdb",
        "cbor2",
        "httpx",
        "websockets",
    ]
    lines = [
        f"machine: {os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB memory, Linux {platform.release()}",
        (
            f"python {platform.python_version()}, node {node or 'absent'}, "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)"
        ),
        ", ".join(f"{name} {version(name)}" for name in packages),
        (
            "engines: embedded core 2.3.10 (inside the surrealdb 2.0.0 wheel); "
            f"test server, @surrealdb/node {node_engine_version()}"
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="surreal-gen benchmarks")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    print(describe_machine(), flush=True)
    key_lines = []
    suite_start = time.perf_counter()
    for name in names:
        command = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if args.quick else [])
        print(f"\n## {name}\n\n$ {' '.join(['python', *command[1:]])}", flush=True)
        start = time.perf_counter()
        completed = subprocess.run(
            command, check=False, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
        )
        print(completed.stdout, end="", flush=True)
        lines = completed.stdout.strip().splitlines()
        if completed.returncode != 0:
            key_lines.append(f"{name}: FAILED (exit {completed.returncode})")
        else:
            key_lines.append(lines[-1] if lines else f"{name}: no output")
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n## summary ({time.perf_counter() - suite_start:.0f} s, load average now {load})\n")
    for line in key_lines:
        print(line)
    if any("FAILED" in line for line in key_lines):
        sys.exit(1)


if __name__ == "__main__":
    main()
