"""Create a package's files in a staging folder from a helper process (``stage_worker.py``),
so the file system's work overlaps the rendering of the next files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from surreal_gen.codegen.stage_worker import HEADER, create_file

WORKER = Path(__file__).with_name("stage_worker.py")


class Stager:
    """Creates files in ``folder`` (which exists and is empty): in a helper process when one
    can be started, else in this process. ``finish`` waits for them all; ``abort`` gives up."""

    def __init__(self, folder: Path) -> None:
        self._folder = str(folder)
        self._folders = {self._folder}
        self._process = _start_worker(self._folder)

    @property
    def in_helper_process(self) -> bool:
        return self._process is not None

    def write(self, path: str, content: bytes) -> None:
        """Create ``folder/path`` holding ``content`` (soon, when a helper process writes)."""
        if self._process is None:
            create_file(self._folder, path, content, self._folders)
            return
        assert self._process.stdin is not None
        encoded = path.encode()
        try:
            self._process.stdin.write(HEADER.pack(len(encoded), len(content)) + encoded)
            self._process.stdin.write(content)
        except BrokenPipeError:
            pass  # the helper stopped on an error, which finish() reports

    def finish(self) -> None:
        """Wait until every file is written; ``OSError`` with the helper's message if not."""
        if self._process is None:
            return
        _, errors = self._process.communicate()
        if self._process.returncode != 0:
            message = errors.decode(errors="replace").strip()
            raise OSError(message or f"the staging process exited with {self._process.returncode}")

    def abort(self) -> None:
        """Stop the helper process, whatever it has not written yet."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.kill()
        self._process.communicate()


def _start_worker(folder: str) -> subprocess.Popen[bytes] | None:
    """The helper process, or None where none can run: a frozen application's
    ``sys.executable`` is the application itself, and a zipped install has no worker file."""
    if getattr(sys, "frozen", False) or not sys.executable or not WORKER.is_file():
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", str(WORKER), folder],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError:
        return None
