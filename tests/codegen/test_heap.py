"""``blocks_merged_as_freed``: glibc keeps no freed block in a fast bin inside it, and does
again after it (read back with ``mallinfo2``, whose ``fsmblks`` counts the bytes in them)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
from collections.abc import Iterator

import pytest

from surreal_gen.codegen import introspect
from surreal_gen.codegen.heap import blocks_merged_as_freed
from surreal_gen.codegen.introspect import SchemaFile, read_schema
from surreal_gen.runtime.connection import Connection, ConnectionConfig


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _fast_bin_bytes_gained_by_freeing_small_blocks() -> int:
    """How many bytes the fast bins of all arenas gain when 2,000 blocks of 48 bytes are
    freed (other threads' arenas may hold some from before)."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = _MallInfo2
    blocks = [libc.malloc(48) for _ in range(2000)]
    before = libc.mallinfo2().fsmblks
    for block in blocks:
        libc.free(block)
    return int(libc.mallinfo2().fsmblks) - int(before)


@pytest.mark.skipif(not _glibc(), reason="glibc's allocator only")
def test_freed_small_blocks_skip_the_fast_bins_only_inside_the_block() -> None:
    with blocks_merged_as_freed():
        inside = _fast_bin_bytes_gained_by_freeing_small_blocks()
    after = _fast_bin_bytes_gained_by_freeing_small_blocks()
    assert inside <= 0
    assert after >= 1000 * 48  # all but the few the thread's cache keeps


@pytest.mark.parametrize("missing", ["glibc", "its symbols"])
def test_it_is_a_plain_block_where_there_is_no_glibc(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    def refuse(name: object) -> object:
        raise (ValueError if missing == "glibc" else OSError)(f"no {name}")

    if missing == "glibc":
        monkeypatch.setattr(os, "confstr", refuse)
    else:
        monkeypatch.setattr(os, "confstr", lambda name: "glibc 2.36")
        monkeypatch.setattr(ctypes, "CDLL", refuse)
    ran = []
    with blocks_merged_as_freed():
        ran.append(True)
    assert ran == [True]


def test_the_schema_reader_closes_its_connection_with_blocks_merged_as_freed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []
    real_close = Connection.close

    async def close(self: Connection) -> None:
        events.append("close")
        await real_close(self)

    @contextlib.contextmanager
    def recording() -> Iterator[None]:
        events.append("enter")
        yield
        events.append("exit")

    monkeypatch.setattr(Connection, "close", close)
    monkeypatch.setattr(introspect, "blocks_merged_as_freed", recording)
    config = ConnectionConfig(url="mem://", namespace="t", database="t")
    asyncio.run(read_schema(config, files=[SchemaFile("a.surql", "DEFINE TABLE a;")]))
    assert events == ["enter", "close", "exit"]
