"""Create a package's files in a staging folder from a helper process (``stage_worker.py``),
so the file system's work overlaps the rendering of the next files."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from surreal_gen.codegen.stage_worker import FILE_ERROR, Staging, write_frame

WORKER = Path(__file__).with_name("stage_worker.py")
PIPE_SIZE = 1 << 20
"""The helper's input pipe, where the system lets us size it (Linux; 1 MiB is the most an
unprivileged process may ask by default). With the default 64 KiB (three or four modules),
rendering waited on the helper whenever the engine's threads held the other core: 0.09-0.17 s
of the main thread's time at 1,000 tables. Medians over 24 alternating runs: 1.90 and 1.95 s
-> 1.83 and 1.80 s. (Not waiting at all, with the rest queued in this process, gained
nothing more: 1.75 s and 1.78 s over 12.)"""


class HelperUnavailable(Exception):
    """The helper process stopped without writing the files, for a reason of its own (an
    interpreter that cannot run it): stage them in this process instead."""


class Stager:
    """Creates files in ``folder`` (which exists and is empty): in a helper process when
    ``helper`` is true and one can be started, else in this process. ``finish`` waits for
    them all; ``abort`` gives up.

    With ``blanks`` (a folder to be made beside ``folder``), a helper started before the
    paths are known makes empty files there until the first path arrives, then renames them
    into place (``stage_worker.Staging.make_blanks``), when it has a core of its own."""

    def __init__(self, folder: Path, *, helper: bool = True, blanks: Path | None = None) -> None:
        ahead = [str(blanks)] if blanks is not None and _spare_core() else []
        self._process = _start_worker([str(folder), *ahead]) if helper else None
        self._here = Staging(str(folder)) if self._process is None else None

    @property
    def in_helper_process(self) -> bool:
        return self._process is not None

    def reserve(self, path: str) -> None:
        """Create ``folder/path`` empty (soon); ``write`` fills it."""
        if self._here is not None:
            self._here.reserve(path)
        else:
            self._send(path, None)

    def write(self, path: str, content: bytes) -> None:
        """Create (or fill) ``folder/path`` holding ``content`` (soon)."""
        if self._here is not None:
            self._here.write(path, content)
        else:
            self._send(path, content)

    def _send(self, path: str, content: bytes | None) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            write_frame(self._process.stdin, path, content)
            self._process.stdin.flush()
        except OSError:
            pass  # the helper has stopped (EPIPE; EINVAL on Windows): finish() says why

    def finish(self) -> None:
        """Wait until every file is written. ``OSError`` with the helper's one-line message
        when a file could not be; ``HelperUnavailable`` when the helper failed otherwise."""
        if self._process is None:
            return
        _, errors = self._process.communicate()
        status = self._process.returncode
        if status == FILE_ERROR:
            raise OSError(errors.decode(errors="replace").strip())
        if status != 0:
            raise HelperUnavailable(f"the staging process exited with status {status}")

    def abort(self) -> None:
        """Stop the helper process, whatever it has not written yet."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.kill()
        self._process.communicate()


def _spare_core() -> bool:
    """Whether making files ahead can use a core of its own: more than one is ours, and the
    helper can poll its input pipe (``select`` takes pipes on POSIX systems only)."""
    if os.name != "posix":
        return False
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) > 1
    return (os.cpu_count() or 1) > 1


def _start_worker(arguments: list[str]) -> subprocess.Popen[bytes] | None:
    """The helper process, or None where none can run: a frozen application's
    ``sys.executable`` is the application itself, and a zipped install has no worker file."""
    if getattr(sys, "frozen", False) or not sys.executable or not WORKER.is_file():
        return None
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-X", "utf8", str(WORKER), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError:
        return None
    assert process.stdin is not None
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(process.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    return process
