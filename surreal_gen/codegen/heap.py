"""Letting go of the embedded engine with each freed block merged at once.

The engine keeps a store in memory as a great many small blocks. glibc's allocator puts
freed blocks of up to 128 bytes in "fast bins" and merges them with their neighbours only at
the next larger allocation. After the engine of a 1,000-table schema was closed, that merge
took 27-42 ms on one core, just before the rendering starts. With fast bins off while the
engine is closed, each block is merged as it is freed: closing and merging took 29 ms
instead of 64-68 ms (medians of 10 runs), and a run took 57-85 ms less (medians of 20
pairs, twice).

Linux with glibc only; elsewhere ``blocks_merged_as_freed`` does nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

__all__ = ["blocks_merged_as_freed"]

M_MXFAST = 1
"""``mallopt``'s parameter for the largest block a fast bin takes (``<malloc.h>``)."""


@contextlib.contextmanager
def blocks_merged_as_freed() -> Iterator[None]:
    """No fast bins inside the block; glibc's default size limit for them again after it
    (a limit set through ``GLIBC_TUNABLES`` is not restored, as glibc cannot be asked for
    it)."""
    mallopt = _glibc_mallopt()
    if mallopt is None:
        yield
        return
    mallopt(M_MXFAST, 0)
    try:
        yield
    finally:
        mallopt(M_MXFAST, _default_fast_bin_limit())


def _glibc_mallopt() -> Callable[[int, int], int] | None:
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):  # not a system that can say
        return None
    if not libc.startswith("glibc"):
        return None
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a Python that cannot load the C library's symbols
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt


def _default_fast_bin_limit() -> int:
    """glibc's ``DEFAULT_MXFAST``: 128 bytes where a pointer takes 8."""
    import ctypes

    return 64 * ctypes.sizeof(ctypes.c_size_t) // 4
