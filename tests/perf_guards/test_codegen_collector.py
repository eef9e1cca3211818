"""Reading and rendering a schema runs no cycle collection: every table's IR and files stay
alive until the package is written, so each collection would walk them all again for nothing
(about a tenth of a 1,000-table run, bench/codegen.py). The collector is restored after."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from types import FrameType

from surreal_gen.codegen.cli import load_and_render, resolve_settings
from surreal_gen.codegen.emit import render_package

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


def _inside_load_and_render() -> bool:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is load_and_render.__code__:
            return True
        frame = frame.f_back
    return False


def test_no_collection_while_the_schema_is_read_and_rendered() -> None:
    settings = resolve_settings({}, {}, {"schema": (SCHEMA_DIR,)})
    collected_inside: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and _inside_load_and_render():
            collected_inside.append(info["generation"])

    was_enabled = gc.isenabled()
    gc.enable()
    gc.callbacks.append(record)
    try:
        result, files = load_and_render(settings)
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(record)
        if not was_enabled:
            gc.disable()
    assert collected_inside == []
    assert files == render_package(result.schema)
