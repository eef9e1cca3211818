"""Which staging folders beside an output are abandoned, and their removal.

A run killed outright (SIGKILL, a power cut) cannot remove its staging folder: it stayed
beside the output for good, and showed in ``git status``. So each writer holds a lock on a
file in its staging folder for as long as it uses the folder (``hold``); the kernel drops
the lock when the process ends, however it ends. The next run for the same output removes
each staging folder whose lock it can take (``remove_abandoned``): no live run owns it. A
folder without the lock file is never touched, be it another program's or one a failed
rollback left for the user (``give_up``).

Where the system has no ``flock`` (Windows), nothing is locked and nothing removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]

OWNER_LOCK = "owner.lock"
"""The file in a staging folder that its writer keeps locked."""


def hold(staging: Path) -> int | None:
    """Lock ``staging`` for this process: the descriptor to keep open (``release`` closes
    it), or None where it cannot be locked. The lock file appears already locked (made
    under another name, locked, then renamed), so no run ever finds it free early."""
    if fcntl is None:
        return None
    descriptor, name = tempfile.mkstemp(dir=staging, prefix=f".{OWNER_LOCK}.")
    locked = False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(name, staging / OWNER_LOCK)
        locked = True
    except OSError:
        pass
    finally:
        if not locked:
            os.close(descriptor)
            with contextlib.suppress(OSError):
                os.unlink(name)
    return descriptor if locked else None


def release(descriptor: int | None) -> None:
    """Drop the lock ``hold`` took (after the folder is gone, or given up)."""
    if descriptor is not None:
        os.close(descriptor)


def give_up(staging: Path, descriptor: int | None) -> None:
    """Leave ``staging`` to the user for good (it holds the only copies of some files):
    without its lock file, no later run removes it."""
    with contextlib.suppress(OSError):
        (staging / OWNER_LOCK).unlink()
    release(descriptor)


def remove_abandoned(parent: Path, prefix: str) -> None:
    """Remove the folders in ``parent`` named ``prefix``... whose lock file no process
    holds."""
    if fcntl is None:
        return
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(prefix)]
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            descriptor = os.open(os.path.join(entry.path, OWNER_LOCK), os.O_RDONLY)
        except OSError:  # no lock file: not a staging folder, or not one to remove
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            abandoned = _same_file(descriptor, os.path.join(entry.path, OWNER_LOCK))
        except OSError:  # a live run's
            abandoned = False
        if abandoned:
            shutil.rmtree(entry.path, ignore_errors=True)
        os.close(descriptor)


def _same_file(descriptor: int, path: str) -> bool:
    """Whether ``path`` still names the file open as ``descriptor``: a run that gave its
    folder up (``give_up``) between our open and our lock removed the file, and its lock
    went with it."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
