"""Render part of a package in a forked copy of this process while this one renders the rest.

Generating a large package is bound by CPU: while the schema is read, the engine's threads
answer and this process decodes the replies and builds the IR; rendering the modules and
``schema.json`` after that is as much work again. A thread cannot take a share (the GIL),
and a fresh interpreter would first have to import the generator and be sent the IR. A fork
starts with both, its pages shared with this process until written. The copy sends back
each file as it is done, through a pipe, and this process hands them on to the writer
between its own.

Only on Linux. The copy has just the forking thread, so a lock that another thread held at
the fork stays locked in it; none is taken there: the copy runs our rendering code alone
(the templates are loaded before), writes to its pipe and leaves with ``os._exit``,
running no cleanup of the parent's objects. The GIL, the import lock and the C library's
locks are reset by the fork itself. Whatever goes wrong in the copy, it sends no more
files, and the caller renders what did not arrive itself, where any error is raised as
usual; a copy that stops using CPU without ending (stuck all the same) is stopped
(``STALL_CHECK_S``). So is a copy whose remaining work the caller no longer needs.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import NoReturn

from surreal_gen.codegen.stage_worker import HEADER, write_frame
from surreal_gen.codegen.stager import PIPE_SIZE

Render = Callable[[], Iterable[tuple[str, bytes]]]
"""Yields the files to make, as ``(path, content)``."""


def can_fork() -> bool:
    """Whether ``ForkedRender`` forks here (it does nothing otherwise)."""
    return sys.platform == "linux"


class ForkedRender:
    """Runs ``render`` in a forked copy of this process, started at once. ``ready`` gives
    the files done so far, ``next_files`` waits for more; ``close`` stops the copy,
    whatever it has not done."""

    def __init__(self, render: Render) -> None:
        self._pid: int | None = None
        self._pipe: int | None = None
        self._received = bytearray()
        if not can_fork():
            return
        read_end, write_end = os.pipe()
        with contextlib.suppress(ImportError, AttributeError, OSError):
            import fcntl

            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        # Ctrl-C and SIGTERM wait until both sides are set up: in the copy, until it is
        # inside the block that always leaves with os._exit (raised before, they would run
        # the parent's cleanup there); here, until the copy's pid is kept, to be reaped.
        interrupts = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        parent = os.getpid()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about forking while other threads run (the embedded
                # engine's, at least); the module docstring says why that is safe here.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:
            _render_and_exit(render, write_end, read_end, interrupts, parent)
        self._pid, self._pipe = pid, read_end
        os.close(write_end)
        os.set_blocking(read_end, False)
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)  # a pending one is raised
        except BaseException:
            self.close()
            raise

    def ready(self) -> list[tuple[str, bytes]]:
        """The files the copy has sent so far and not given out yet (the copy is reaped
        once its end of the pipe is closed)."""
        if self._pipe is None:
            return []
        try:
            while chunk := os.read(self._pipe, PIPE_SIZE):
                self._received += chunk
        except BlockingIOError:
            pass
        else:  # the end of the pipe: the copy is done
            self._reap()
        return _take_files(self._received)

    def next_files(self) -> list[tuple[str, bytes]]:
        """Wait for the copy to send more files; the files it sent and ``ready`` did not
        give out. None are left once it has ended: done, failed, or stopped as stuck
        (``STALL_CHECK_S``)."""
        if self._pipe is None or self._pid is None:
            return self.ready()
        cpu_time = _cpu_time(self._pid)
        pipe_events = select.poll()
        pipe_events.register(self._pipe, select.POLLIN)
        while True:
            files = self.ready()
            if files or self._pid is None:
                return files
            if pipe_events.poll(STALL_CHECK_S * 1000):
                continue
            now = _cpu_time(self._pid)
            if now is not None and now == cpu_time:
                self.close()
                return []
            cpu_time = now

    def _reap(self) -> None:
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def close(self) -> None:
        if self._pid is not None:
            os.kill(self._pid, signal.SIGKILL)
            self._reap()
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None


STALL_CHECK_S = 10.0
"""While nothing arrives, ``next_files`` looks this often at the copy's CPU time: a copy that
used none since the last look is stuck (on a lock no thread of its own will release, say)
and is stopped; the caller renders what it did not send. A copy that is slow, but working,
is waited for."""


def _cpu_time(pid: int) -> int | None:
    """The CPU time process ``pid`` has used so far, in clock ticks (None when unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime and stime, the 14th and 15th fields


def _take_files(received: bytearray) -> list[tuple[str, bytes]]:
    """Remove the complete frames (``stage_worker.write_frame``) from the start of
    ``received``; return their files."""
    files: list[tuple[str, bytes]] = []
    start = 0
    while len(received) - start >= HEADER.size:
        path_size, content_size = HEADER.unpack_from(received, start)
        path_start = start + HEADER.size
        end = path_start + path_size + content_size
        if end > len(received):
            break
        path = received[path_start : path_start + path_size].decode()
        files.append((path, bytes(received[path_start + path_size : end])))
        start = end
    del received[:start]
    return files


def _render_and_exit(
    render: Render,
    pipe: int,
    parent_end: int,
    interrupts: set[int | signal.Signals],
    parent: int,
) -> NoReturn:
    """In the copy: write the frames of ``render``'s files to ``pipe``, and leave (status 0
    when all were written) without running the parent's cleanup: no ``finally`` blocks or
    ``atexit`` handlers of the code that forked, no flushing of its buffered output.
    ``interrupts`` is the signal mask to restore once that is sure; ``parent`` the process
    that forked it."""
    status = 1
    try:
        _end_with(parent)
        signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
        os.close(parent_end)
        with open(pipe, "wb") as output:
            for path, content in render():
                write_frame(output, path, content)
        status = 0
    finally:
        os._exit(status)


PR_SET_PDEATHSIG = 1
"""``prctl``'s option for the signal a process gets when its parent ends (``<sys/prctl.h>``)."""


def _end_with(parent: int) -> None:
    """Have the kernel kill this copy when the thread that forked it ends. A copy stuck on a
    lock would otherwise outlive a parent killed outright, keeping the files it inherited
    open (the staging folder's lock among them) for good."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)
