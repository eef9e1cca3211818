"""Rendering part of a package in a forked copy of the process (``forked.ForkedRender``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from bench.synth import build_tables, to_surql
from surreal_gen.codegen import cli, emit, forked
from surreal_gen.codegen.emit import PACKAGE_FILES, PackageRenderer, render_package
from surreal_gen.codegen.forked import ForkedRender
from surreal_gen.codegen.introspect import Introspection, SchemaFile
from surreal_gen.codegen.ir import Schema, Table, schema_from_json, schema_to_json
from surreal_gen.codegen.output import MARKER
from surreal_gen.codegen.stager import PIPE_SIZE
from tests.codegen.reference import read_files, reference


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the copies forked during the test."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


@contextlib.contextmanager
def held_by_another_thread(lock: threading.Lock | None = None) -> Iterator[threading.Lock]:
    """``lock`` (a new one by default) held by another thread inside the block: in a copy
    forked meanwhile, it stays held for ever."""
    held, release = lock or threading.Lock(), threading.Event()
    taken = threading.Event()

    def hold() -> None:
        with held:
            taken.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait()
    try:
        yield held
    finally:
        release.set()
        holder.join()


def render_streaming(schema: Schema) -> tuple[dict[str, bytes], list[tuple[str, bytes]]]:
    """Render as the CLI does (``parallel``, tables handed over as read): the files, and
    the modules in the order ``on_module`` got them."""
    modules: list[tuple[str, bytes]] = []
    renderer = PackageRenderer(lambda path, content: modules.append((path, content)), parallel=True)
    renderer.expect([t.name for t in schema.tables])
    for table in schema.tables:
        renderer.add(table)
    return renderer.files(schema), modules


def test_the_copy_renders_the_package_files_and_the_bytes_are_the_same(
    monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    parent = os.getpid()
    made_here: list[Schema] = []
    real_package_files = PackageRenderer._package_files

    def package_files(self: PackageRenderer, schema: Schema) -> dict[str, bytes]:
        if os.getpid() == parent:
            made_here.append(schema)
        return real_package_files(self, schema)

    monkeypatch.setattr(PackageRenderer, "_package_files", package_files)
    schema = reference("2.x").schema
    files, modules = render_streaming(schema)
    assert len(forks) == 1
    assert made_here == []  # the copy made them
    monkeypatch.undo()
    assert files == render_package(schema)
    assert list(files) == [p for p, _ in modules] + [p for p in files if p in PACKAGE_FILES]
    assert dict(modules) == {p: c for p, c in files.items() if p not in PACKAGE_FILES}
    assert len(modules) == len(schema.tables)  # each handed on once


@pytest.mark.parametrize("slow", ["here", "in the copy"])
def test_the_modules_are_shared_by_how_fast_each_side_goes(
    monkeypatch: pytest.MonkeyPatch, forks: list[int], slow: str
) -> None:
    """This process makes them from the first, the copy from the last, until they meet;
    the copy is stopped then, whatever it was making."""
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    parent = os.getpid()
    made_here: list[str] = []
    real_module, real_package_files = PackageRenderer._module, PackageRenderer._package_files

    def module(self: PackageRenderer, table: Table) -> tuple[str, bytes]:
        if os.getpid() == parent:
            made_here.append(table.name)
            if slow == "here":
                time.sleep(0.3)
        return real_module(self, table)

    def package_files(self: PackageRenderer, schema: Schema) -> dict[str, bytes]:
        assert os.getpid() != parent, "the copy makes them"
        if slow == "in the copy":
            time.sleep(0.5)
        return real_package_files(self, schema)

    monkeypatch.setattr(PackageRenderer, "_module", module)
    monkeypatch.setattr(PackageRenderer, "_package_files", package_files)
    schema = reference("2.x").schema
    tables = [t.name for t in schema.tables]
    files, modules = render_streaming(schema)
    if slow == "here":
        assert 1 <= len(made_here) < len(tables)
        assert made_here == tables[: len(made_here)]  # from the first
    else:
        assert made_here == tables
    with pytest.raises(ChildProcessError):  # stopped and reaped
        os.waitpid(forks[0], os.WNOHANG)
    monkeypatch.undo()
    assert files == render_package(schema)
    assert sorted(p for p, _ in modules) == sorted(p for p in files if p not in PACKAGE_FILES)


def test_render_package_can_fork_too(monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    schema = reference("2.x").schema
    assert render_package(schema, parallel=True) == render_package(schema)
    assert len(forks) == 1


def test_below_the_threshold_nothing_is_forked(forks: list[int]) -> None:
    schema = reference("2.x").schema
    assert len(schema.tables) < emit.PARALLEL_FROM
    files, _ = render_streaming(schema)
    assert forks == [] and files == render_package(schema)


def test_a_lock_another_thread_holds_does_not_stop_the_copy(
    monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    schema = reference("2.x").schema
    with held_by_another_thread():
        files, modules = render_streaming(schema)
    assert len(forks) == 1
    assert files == render_package(schema) and len(modules) == len(schema.tables)


@pytest.mark.parametrize("failure", ["exception", "killed", "stuck"])
@pytest.mark.parametrize("failing", ["third module", "package files"])
def test_what_the_copy_did_not_send_is_rendered_here(
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
    tmp_path: Path,
    failure: str,
    failing: str,
) -> None:
    """Whether the copy raises, is killed, or waits for ever on a lock that another thread
    held at the fork (stopped once its CPU time stands still for ``STALL_CHECK_S``)."""
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    monkeypatch.setattr(forked, "STALL_CHECK_S", 0.2)
    parent = os.getpid()
    rendered_in_copy = {"n": 0}
    real_module, real_package_files = PackageRenderer._module, PackageRenderer._package_files
    held = threading.Lock()
    failed = tmp_path / "the copy failed"

    def fail() -> None:
        failed.touch()
        if failure == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if failure == "stuck":
            held.acquire()
        raise RuntimeError("the copy failed")

    def module(self: PackageRenderer, table: Table) -> tuple[str, bytes]:
        if os.getpid() == parent:
            time.sleep(0.05)  # so that the copy gets to its third module before they meet
        else:
            rendered_in_copy["n"] += 1
            if failing == "third module" and rendered_in_copy["n"] == 3:  # after two sent
                fail()
        return real_module(self, table)

    def package_files(self: PackageRenderer, schema: Schema) -> dict[str, bytes]:
        if os.getpid() != parent and failing == "package files":  # before anything is sent
            fail()
        return real_package_files(self, schema)

    monkeypatch.setattr(PackageRenderer, "_module", module)
    monkeypatch.setattr(PackageRenderer, "_package_files", package_files)
    schema = reference("2.x").schema
    with held_by_another_thread(held):
        files, modules = render_streaming(schema)
    assert len(forks) == 1
    assert files == render_package(schema)
    assert sorted(p for p, _ in modules) == sorted(p for p in files if p not in PACKAGE_FILES)
    assert failed.exists()
    with pytest.raises(ChildProcessError):  # reaped
        os.waitpid(forks[0], os.WNOHANG)


def test_a_copy_whose_modules_are_all_made_here_is_stopped_not_waited_for(
    monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    parent = os.getpid()
    real_module = PackageRenderer._module

    def module(self: PackageRenderer, table: Table) -> tuple[str, bytes]:
        if os.getpid() != parent:
            time.sleep(30)  # each; it would take minutes to end on its own
        return real_module(self, table)

    monkeypatch.setattr(PackageRenderer, "_module", module)
    schema = reference("2.x").schema
    started = time.monotonic()
    files, modules = render_streaming(schema)
    assert time.monotonic() - started < 15
    assert len(forks) == 1 and len(modules) == len(schema.tables)
    with pytest.raises(ChildProcessError):  # reaped
        os.waitpid(forks[0], os.WNOHANG)
    monkeypatch.undo()
    assert files == render_package(schema)


_PARENT_KILLED_WHILE_ITS_COPY_IS_STUCK = """
import os, signal, sys, threading
from surreal_gen.codegen.forked import ForkedRender
held = threading.Lock()
held.acquire()  # in the copy too: never released there

def render():
    held.acquire()
    yield "never.py", b""

copy = ForkedRender(render)
print(copy._pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not forked.can_fork(), reason="forked rendering is Linux-only")
def test_a_stuck_copy_does_not_outlive_a_parent_killed_outright() -> None:
    """It would keep the files it inherited open, the staging folder's lock among them, so
    no later run could remove that folder."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT_KILLED_WHILE_ITS_COPY_IS_STUCK],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    copy = int(parent.stdout.readline())  # not read to its end: the copy shares the pipe
    assert parent.wait(timeout=60) == -signal.SIGKILL
    try:
        deadline = time.monotonic() + 10
        while _running(copy) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(copy)
    finally:
        if _running(copy):
            os.kill(copy, signal.SIGKILL)
        parent.stdout.close()


def test_a_copy_that_works_long_without_sending_is_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forked, "STALL_CHECK_S", 0.05)

    def render() -> Iterator[tuple[str, bytes]]:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:  # busy, sending nothing, for ten checks
            pass
        yield "late.py", b"x = 1\n"

    copy = ForkedRender(render)
    try:
        assert copy.next_files() == [("late.py", b"x = 1\n")]
        assert copy.next_files() == []  # it has ended
    finally:
        copy.close()


def test_a_ctrl_c_reaching_the_copy_at_once_runs_none_of_the_parents_cleanup_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    parent = os.getpid()
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGINT)  # before the copy has done anything
        return pid

    monkeypatch.setattr(os, "fork", fork)
    schema = reference("2.x").schema
    try:
        files, modules = render_streaming(schema)
    finally:
        if os.getpid() != parent:  # the interrupt unwound the copy through this test
            (tmp_path / "cleanup ran in the copy").touch()
            os._exit(0)
    assert list(tmp_path.iterdir()) == []
    assert files == render_package(schema) and len(modules) == len(schema.tables)


def test_a_failure_here_stops_the_copy(monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    monkeypatch.setattr(emit, "PARALLEL_FROM", 2)
    schema = reference("2.x").schema

    def on_module(path: str, content: bytes) -> None:
        if forks:
            raise OSError("disk full")

    renderer = PackageRenderer(on_module, parallel=True)
    renderer.expect([t.name for t in schema.tables])
    for table in schema.tables:
        renderer.add(table)
    with pytest.raises(OSError, match="disk full"):
        renderer.files(schema)
    [pid] = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped already: no zombie left behind


def test_files_larger_than_the_pipe_arrive_whole(forks: list[int]) -> None:
    sent = [(f"big{n}.py", os.urandom(1) * (PIPE_SIZE + n)) for n in range(3)]
    sent.append(("empty.py", b""))

    def render() -> Iterator[tuple[str, bytes]]:
        yield from sent

    copy = ForkedRender(render)
    try:
        received = copy.ready()
        while more := copy.next_files():
            received += more
    finally:
        copy.close()
    assert len(forks) == 1
    assert received == sent


@cache
def synthetic(n_tables: int) -> Introspection:
    """``n_tables`` tables of 30 fields cycling through every kind (``bench.synth``), read
    back from the embedded engine."""
    return read_files([SchemaFile("synth.surql", to_surql(build_tables(n_tables, 30)))])


def test_the_cli_forks_for_a_large_schema_and_writes_only_what_changed(
    tmp_path: Path, forks: list[int]
) -> None:
    snapshot = schema_to_json(synthetic(emit.PARALLEL_FROM).schema)
    source, out = tmp_path / "schema.json", tmp_path / "models"
    settings = cli.resolve_settings({}, {}, {"from_json": source, "out": out})

    def generate() -> dict[str, tuple[bytes, int]]:
        source.write_text(json.dumps(snapshot), encoding="utf-8")
        cli.write_generated(settings, out, quiet=True, verbose=False)
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}

    first = generate()
    assert len(forks) == 1
    expected = render_package(schema_from_json(snapshot))
    assert {name: content for name, (content, _) in first.items()} == expected
    assert generate() == first and len(forks) == 2

    # the last table, the first the copy gets to: its module alone changes, with the
    # package files
    last = snapshot["tables"][-1]
    [field] = [f for f in last["fields"] if f["path"] == "text_00"]
    field["kind"] = "int"
    third = generate()
    changed = {name for name in first if third[name] != first[name]}
    module = f"{last['name']}.py"
    assert changed == {module, "__init__.py", "schema.json", MARKER}
    assert b"text_00: int" in third[module][0]


_FORK_WHILE_ANOTHER_THREAD_COMPUTES = """
import os
import threading
import time
from surreal_gen.codegen import emit, ir
from surreal_gen.codegen.emit import render_package
from tests.codegen.reference import reference

emit.PARALLEL_FROM = 2
schema = reference("2.x").schema
other = ir.Schema(tables=schema.tables[:1])
computing, done = threading.Event(), threading.Event()
real_table_json_line = ir.table_json_line

def slow_table_json_line(table, field_line):
    if threading.current_thread() is not threading.main_thread():
        computing.set()
        done.wait()
    return real_table_json_line(table, field_line)

ir.table_json_line = slow_table_json_line
worker = threading.Thread(target=lambda: other.fingerprint)
worker.start()
computing.wait()
real_fork = os.fork

def fork():
    pid = real_fork()
    if pid:
        done.set()  # the other thread finishes only once the copy exists
    return pid

os.fork = fork
files = render_package(schema, parallel=True)
worker.join()
ir.table_json_line = real_table_json_line
assert files == render_package(schema)
print("rendered")
"""


def test_a_copy_forked_while_another_thread_computes_a_cached_value_finishes() -> None:
    """The copy computes the schema's fingerprint; Python 3.11's ``cached_property`` locks
    while it computes one, and a lock another thread held at the fork stays locked in the
    copy forever."""
    process = subprocess.Popen(
        [sys.executable, "-c", _FORK_WHILE_ANOTHER_THREAD_COMPUTES],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
        start_new_session=True,  # a stuck copy is killed with it
    )
    try:
        out, errors = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, errors = process.communicate()
    assert (process.returncode, out.strip()) == (0, "rendered"), errors[-2000:]
