"""The compiled-template cache: used when it is there, never in the way when it is not."""

from __future__ import annotations

import io
import marshal
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

from surreal_gen.codegen import emit
from surreal_gen.codegen.mapping import plan_module
from tests.codegen.reference import reference

TEMPLATES = ("table_module.py.jinja", "package_init.py.jinja")


def _module_text(env: jinja2.Environment) -> str:
    """The first reference table's module, rendered with ``env``'s template."""
    table = reference("2.x").schema.tables[0]
    plan = plan_module(table, "First", "first")
    return env.get_template(TEMPLATES[0]).render(plan=plan, generator_version="0")


def _cached_environment(directory: Path) -> jinja2.Environment:
    cache = emit.template_cache(str(directory))
    assert cache is not None
    return emit._environment(cache)


@pytest.fixture
def bytecode_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where Python writes bytecode (this test run is told not to)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


@pytest.mark.usefixtures("bytecode_written")
def test_a_second_run_loads_the_templates_instead_of_compiling_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _module_text(emit._environment())
    assert _module_text(_cached_environment(tmp_path)) == expected
    assert len(list(tmp_path.iterdir())) == 1

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled a template the cache holds")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert _module_text(_cached_environment(tmp_path)) == expected


def _checksum_end(entry: bytes) -> int:
    """Where the marshalled code starts: after Jinja's header and the pickled checksum."""
    stream = io.BytesIO(entry[len(jinja2.bccache.bc_magic) :])
    pickle.load(stream)
    return len(jinja2.bccache.bc_magic) + stream.tell()


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda entry: b"\x00garbage",
    "cut in the header": lambda entry: entry[:5] + b"\x00garbage",
    "cut in the checksum": lambda entry: entry[:40] + b"\x00garbage",
    "cut in the code": lambda entry: entry[:-200] + b"\x00garbage",
    "a byte of the checksum changed": lambda entry: (
        entry[: len(jinja2.bccache.bc_magic)] + b"\x8d" + entry[len(jinja2.bccache.bc_magic) + 1 :]
    ),
    "marshalled, but no code": lambda entry: entry[: _checksum_end(entry)] + marshal.dumps(1),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.usefixtures("bytecode_written")
def test_a_damaged_cache_entry_is_compiled_afresh(tmp_path: Path, damage: str) -> None:
    """Whatever reading a damaged entry raises (Jinja lets unpickling errors through, a
    changed length byte gives a MemoryError, marshalled data that is no code fails only
    when the template is built), the template is compiled, and compiled again next time."""
    expected = _module_text(emit._environment())
    _module_text(_cached_environment(tmp_path))
    [entry] = tmp_path.iterdir()
    entry.write_bytes(DAMAGES[damage](entry.read_bytes()))
    assert _module_text(_cached_environment(tmp_path)) == expected
    assert _module_text(_cached_environment(tmp_path)) == expected


@pytest.mark.usefixtures("bytecode_written")
def test_templates_compiled_with_other_options_are_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _module_text(_cached_environment(tmp_path))
    monkeypatch.setitem(emit._ENVIRONMENT_OPTIONS, "trim_blocks", False)
    expected = _module_text(emit._environment())
    assert _module_text(_cached_environment(tmp_path)) == expected
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.usefixtures("bytecode_written")
def test_a_cache_that_cannot_be_written_only_costs_the_compiling(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    expected = _module_text(emit._environment())
    assert _module_text(_cached_environment(blocker / "cache")) == expected


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="Jinja's folder is per user on POSIX")
@pytest.mark.usefixtures("bytecode_written")
def test_the_generator_keeps_its_templates_in_jinjas_folder_for_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    emit._templates.__wrapped__()
    folder = tmp_path / f"_jinja2-cache-{os.getuid()}"
    assert len(list(folder.iterdir())) == len(TEMPLATES)
    assert folder.stat().st_mode & 0o777 == 0o700


def test_no_cache_where_python_is_told_not_to_write_bytecode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert emit.template_cache(str(tmp_path)) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="Jinja's folder is per user on POSIX")
@pytest.mark.usefixtures("bytecode_written")
def test_no_cache_where_jinja_finds_no_safe_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / f"_jinja2-cache-{os.getuid()}"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)  # cannot make it private
    shared.chmod(0o777)
    assert emit.template_cache() is None
