"""How the benchmarks drive surreal-gen: through its public CLI and codegen functions only."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

REQUIRED_MODULES = [
    "surreal_gen.codegen.cli",
    "surreal_gen.codegen.emit",
    "surreal_gen.codegen.introspect",
]


def missing_reason() -> str:
    """Why surreal-gen cannot be measured yet, or '' when it can."""
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    return f"{', '.join(missing)} not landed" if missing else ""


def available() -> bool:
    return not missing_reason()


def run_cli(*args: str) -> None:
    """Run the `surreal-gen` click command in this process; a non-zero exit is an error."""
    from surreal_gen.codegen.cli import main

    try:
        main.main(list(args), standalone_mode=False)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise RuntimeError(f"surreal-gen {' '.join(args)} exited {exit_.code}") from None


def generate_from_surql(surql: Path, out: Path) -> None:
    run_cli("generate", "--schema", str(surql), "--out", str(out), "--quiet")


def generate_from_url(url: str, out: Path) -> None:
    run_cli(
        "generate", "--url", url, "--ns", "bench", "--db", "bench", "--out", str(out), "--quiet"
    )


def introspect_surql(surql: Path) -> Any:
    raise NotImplementedError


def render_and_write(schema: Any, out: Path) -> None:
    raise NotImplementedError


def check_output(out: Path, tables: list[str]) -> None:
    """Every table got a module under `out` that parses."""
    raise NotImplementedError
