"""Run the hardening tests and print the README table of what they tried.

    python -m tests.hardening.report            # all of tests/hardening (a few minutes)
    python -m tests.hardening.report -k faults  # extra arguments go to pytest

Each test records its figures (tests/hardening/figures.py); this command collects them into
one table: inputs tried, faults injected, changes lost, changes duplicated. The exit code is
pytest's, so a failing test is never hidden behind a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.hardening.figures import FIGURES_ENV, Figure

HARDENING = Path(__file__).resolve().parent
REPO = HARDENING.parents[1]


def collect(pytest_args: list[str]) -> tuple[int, list[Figure]]:
    """Run pytest over tests/hardening; return its exit code and the recorded figures."""
    with tempfile.TemporaryDirectory(prefix="surreal-gen-figures-") as folder:
        path = Path(folder) / "figures.jsonl"
        path.touch()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(HARDENING), "-q", "-p", "no:cacheprovider"]
            + pytest_args,
            cwd=REPO,
            env={**os.environ, FIGURES_ENV: str(path)},
            check=False,
        )
        lines = path.read_text(encoding="utf-8").splitlines()
    return done.returncode, [Figure(**json.loads(line)) for line in lines]


def table(figures: list[Figure]) -> str:
    """One row per area (in first-seen order) and a total row, as a Markdown table."""
    rows: dict[str, list[Figure]] = {}
    for figure in figures:
        rows.setdefault(figure.area, []).append(figure)
    lines = [
        "| What | Inputs tried | Faults injected | Lost | Duplicated |",
        "|---|---:|---:|---:|---:|",
    ]
    for area, found in rows.items():
        lines.append(_row(area, found))
    lines.append(_row("**Total**", figures))
    return "\n".join(lines)


def _row(area: str, figures: list[Figure]) -> str:
    inputs = sum(f.inputs for f in figures)
    faults = sum(f.faults for f in figures)
    return (
        f"| {area} | {inputs:,} | {faults:,} | {_optional_sum([f.lost for f in figures])} | "
        f"{_optional_sum([f.duplicated for f in figures])} |"
    )


def _optional_sum(values: list[int | None]) -> str:
    counted = [v for v in values if v is not None]
    return f"{sum(counted):,}" if counted else "n/a"


def main() -> int:
    code, figures = collect(sys.argv[1:])
    print()
    print(table(figures))
    return code


if __name__ == "__main__":
    sys.exit(main())
