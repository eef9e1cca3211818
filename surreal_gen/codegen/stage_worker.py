"""Write the files a surreal-gen process sends on stdin into a staging folder (``argv[1]``).

``stager.Stager`` runs this file as ``python -I -S stage_worker.py FOLDER [BLANKS]``:
creating a package's files (a thousand of them take from 0.05 s to most of a second of
kernel time, depending on the file system) then happens on another core while the package
is still being rendered, as ``git checkout`` does with its checkout workers. A thread cannot do it: each
of its system calls would wait for the rendering thread to hand back the GIL.

Standard library only, and no import of surreal_gen, so it starts in milliseconds. Each file
arrives as a frame: a header (``HEADER``: path length, content length), the UTF-8 path
relative to the folder, then the content. A frame whose content length is ``RESERVE`` has
no content: it reserves the path, which is created empty at once and filled by a later
frame. A file that cannot be created is one line on stderr and exit status ``FILE_ERROR``.

Given a second folder (``argv[2]``), the worker first makes empty files there until the
first frame arrives (``Staging.make_blanks``): started before the database is opened, which
keeps one core busy, it does most of the creating on the other, and each file is then a
rename away.
"""

from __future__ import annotations

import errno
import os
import select
import struct
import sys
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO

HEADER = struct.Struct("<II")
"""A frame's header: the byte length of the path, then of the content."""
RESERVE = 0xFFFF_FFFF
"""The content length of a frame that reserves its path (``Staging.reserve``)."""
FILE_ERROR = 3
"""The exit status for a file that could not be created (not one Python itself uses)."""
MAX_BLANKS = 1024
"""The most empty files ``Staging.make_blanks`` makes ahead. Where creating a file is cheap,
the helper makes this many while the database opens; a surplus is removed with the staging
folder once the package is in place, 10 us each on this machine's ext4 (4,096 blanks left
3,092 over for 1,000 tables: 31 ms)."""


class Staging:
    """Creates files under ``folder`` (which exists), making each folder once.

    A path can be reserved before its content is known: the file is created empty then,
    and ``write`` fills it. Creating a file is what costs (0.03 to 0.7 ms here, against
    0.02 ms to fill one), so a writer that knows the paths early creates them while it
    waits for something else."""

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self._folders = {folder}
        self._reserved: set[str] = set()
        self._blanks: deque[str] = deque()

    def make_blanks(self, folder: str, done: Callable[[], bool]) -> None:
        """Make empty files in ``folder`` (a new folder on the same file system) until
        ``done()`` or ``MAX_BLANKS``; each file created after that is one of them, renamed.
        On ext4 here, creating a file took 0.03-0.6 ms of kernel time, as the file system
        went, and renaming one 0.02 ms. They only save time: one that cannot be made ends
        the making, and a real failure is reported where a file of the package fails."""
        try:
            os.mkdir(folder)
            while len(self._blanks) < MAX_BLANKS and not done():
                blank = os.path.join(folder, str(len(self._blanks)))
                os.close(os.open(blank, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                self._blanks.append(blank)
        except OSError:
            return

    def reserve(self, path: str) -> None:
        self._create(path, b"")
        self._reserved.add(path)

    def write(self, path: str, content: bytes) -> None:
        if path not in self._reserved:
            self._create(path, content)
            return
        self._reserved.remove(path)
        self._fill(os.path.join(self._folder, path), content)

    def _create(self, path: str, content: bytes) -> None:
        target = os.path.join(self._folder, path)
        parent = os.path.dirname(target)
        if parent not in self._folders:
            os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)
        if not self._blanks:
            _write(os.open(target, os.O_CREAT | os.O_EXCL | _WRITE_ONLY, 0o666), content)
            return
        if os.path.lexists(target):  # as "xb" refuses it (a rename would replace it)
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target)
        os.rename(self._blanks.popleft(), target)
        if content:
            self._fill(target, content)

    @staticmethod
    def _fill(target: str, content: bytes) -> None:
        _write(os.open(target, _WRITE_ONLY), content)


_WRITE_ONLY = os.O_WRONLY | getattr(os, "O_BINARY", 0)
"""Bytes as they are: on Windows a descriptor opens in text mode unless told otherwise, and
``os.write`` would then turn each ``\n`` into ``\r\n``."""


def _write(descriptor: int, content: bytes) -> None:
    """Write ``content`` to the open file ``descriptor``, then close it. The bare system
    calls: a Python file object adds a few of its own to each file (3 of 8), and this runs
    for each file of the package (1,000 files: 63-83 -> 43-47 ms of CPU)."""
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def stage_files(folder: str, source: IO[bytes], blanks: str | None = None) -> None:
    """Create each file the frames of ``source`` hold under ``folder`` (which exists);
    with ``blanks``, first make empty files there until ``source`` has something to read."""
    staging = Staging(folder)
    if blanks is not None:
        staging.make_blanks(blanks, lambda: bool(select.select([source], [], [], 0)[0]))
    for path, content in read_frames(source):
        if content is None:
            staging.reserve(path)
        else:
            staging.write(path, content)


def write_frame(target: IO[bytes], path: str, content: bytes | None) -> None:
    """Write one file as a frame (``None``: reserve the path)."""
    encoded = path.encode()
    target.write(HEADER.pack(len(encoded), RESERVE if content is None else len(content)) + encoded)
    if content is not None:
        target.write(content)


def read_frames(source: IO[bytes]) -> Iterator[tuple[str, bytes | None]]:
    """The files that the frames of ``source`` hold, as ``(path, content)`` (``None`` for
    a reserved path)."""
    while header := source.read(HEADER.size):
        path_size, content_size = HEADER.unpack(_exactly(source, header, HEADER.size))
        path = _exactly(source, source.read(path_size), path_size).decode()
        if content_size == RESERVE:
            yield path, None
        else:
            yield path, _exactly(source, source.read(content_size), content_size)


def _exactly(source: IO[bytes], data: bytes, size: int) -> bytes:
    """``data`` topped up to ``size`` bytes; EOFError when the sender stopped mid-frame."""
    while len(data) < size:
        more = source.read(size - len(data))
        if not more:
            raise EOFError("the sender stopped in the middle of a file")
        data += more
    return data


def main() -> int:
    try:
        stage_files(sys.argv[1], sys.stdin.buffer, *sys.argv[2:3])
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = getattr(exc, "filename", None)
        print(f"{where}: {detail}" if where else detail, file=sys.stderr)
        return FILE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
