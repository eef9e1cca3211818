"""Figures for the README table: each hardening test records what it tried, and
`python -m tests.hardening.report` runs the tests and sums the records up.

A record is one JSON line in the file named by SURREAL_GEN_FIGURES (nothing is written when
the variable is unset, as in a plain pytest run)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

FIGURES_ENV = "SURREAL_GEN_FIGURES"


@dataclass(frozen=True)
class Figure:
    """What one test did. ``lost`` and ``duplicated`` are None where they do not apply."""

    area: str
    inputs: int
    faults: int = 0
    lost: int | None = None
    duplicated: int | None = None


def record(figure: Figure) -> None:
    """Append ``figure`` to the figures file, when one is being collected."""
    path = os.environ.get(FIGURES_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(figure)) + "\n")
