"""Reading and rendering a schema runs no cycle collection: every table's IR and files stay
alive until the package is written, so each collection would walk them all again for nothing
(about a tenth of a 1,000-table run, bench/codegen.py). The collector is restored after."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType
from typing import TypeVar

from surreal_gen.codegen.cli import load_and_render, resolve_settings
from surreal_gen.codegen.emit import render_package
from tests.codegen.reference import reference

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
T = TypeVar("T")


def _running(code: CodeType) -> bool:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def collections_inside(function: Callable[[], T], code: CodeType) -> tuple[T, list[int]]:
    """``function()``, and the generations collected while ``code`` was running in it."""
    collected: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and _running(code):
            collected.append(info["generation"])

    was_enabled = gc.isenabled()
    gc.enable()
    gc.callbacks.append(record)
    try:
        result = function()
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(record)
        if not was_enabled:
            gc.disable()
    return result, collected


def test_no_collection_while_the_cli_reads_and_renders_a_schema() -> None:
    settings = resolve_settings({}, {}, {"schema": (SCHEMA_DIR,)})
    (result, files), collected = collections_inside(
        lambda: load_and_render(settings), load_and_render.__code__
    )
    assert collected == []
    assert files == render_package(result.schema)


def test_no_collection_while_a_package_is_rendered() -> None:
    schema = reference("2.x").schema
    files, collected = collections_inside(lambda: render_package(schema), render_package.__code__)
    assert collected == []
    assert "__init__.py" in files
