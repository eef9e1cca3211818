"""Write a rendered package into its folder: all or nothing, and only what changed.

Files that differ from the folder's copies are staged in a temporary folder next to the
output, by a helper process while the rest of the package is still being rendered
(``stager.Stager``), then renamed into place, rolling back if a rename fails; for an output
folder that does not exist yet, the staging folder is renamed into place whole. Unchanged
files are not touched, so they keep their bytes and mtime. A folder is only written to when
it is empty or carries our marker file, and only files the previous marker lists are ever
deleted. A staging folder that a run killed outright left is removed by the next run for
the same output (``staging_owner``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal, Self

from surreal_gen.codegen import staging_owner
from surreal_gen.codegen.stager import HelperUnavailable, Stager

MARKER = ".surreal-gen.json"
"""Marks a folder as ours; holds the file list and the schema snapshot the files came from."""


class OutputError(Exception):
    """The output folder cannot be written (not ours, or a file system error)."""


@dataclass(frozen=True)
class Changes:
    """What writing ``files`` into a folder would do, as relative paths."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def compute_changes(out_dir: Path, files: Mapping[str, bytes]) -> Changes:
    """Compare ``files`` with the folder; raise ``OutputError`` when the folder is not ours
    or cannot be read (so ``--check`` and writing report the same one-line error)."""
    previous = generated_files(out_dir)
    changed = {path: _change_of(out_dir, path, content) for path, content in files.items()}
    return _changes(out_dir, previous, files, changed)


def write_package(out_dir: Path, files: Mapping[str, bytes]) -> Changes:
    """Make ``out_dir`` hold ``files``; all or nothing. Returns what changed."""
    with PackageWriter(out_dir) as writer:
        return writer.commit(files)


Change = Literal["created", "updated"] | None
"""What writing a file does to the folder's copy (None: it is unchanged)."""


class PackageWriter:
    """Writes a package into ``out_dir`` while it is being rendered, all or nothing.

    ``add`` takes each file as soon as it is rendered and, when it differs from the folder's
    copy (compared then), stages it right away; ``commit`` moves the staged files into place
    and deletes the files of tables that are gone. Leaving the ``with`` block without a
    commit, or a failed commit, leaves the folder as it was. Raises ``OutputError`` for a
    folder that is not ours, or one that cannot be read or written.
    """

    def __init__(self, out_dir: Path) -> None:
        self._out_dir = out_dir
        self._previous = generated_files(out_dir)
        self._changed: dict[str, Change] = {}
        self._staging: Path | None = None
        self._staging_lock: int | None = None
        self._stager: Stager | None = None
        self._reserved: set[str] = set()
        self._made_folders: list[Path] = []
        self._end_on_sigterm = False

    def __enter__(self) -> Self:
        self._end_on_sigterm = _raise_on_sigterm()
        if not self._previous:
            # A new package: each of its files will be created. The helper starts now,
            # while the database opens, to make empty files ahead (``Stager``'s blanks).
            # Failing here, it is started (and its error reported) when first needed.
            try:
                with contextlib.suppress(OSError):
                    self._stage(ahead=True)
            except BaseException:  # Ctrl-C: no ``with`` block will call __exit__
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stager is not None:
            self._stager.abort()
        self._remove_staging()
        for folder in reversed(self._made_folders):  # for the staging folder: empty again
            with contextlib.suppress(OSError):
                folder.rmdir()
        if self._end_on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def reserve(self, paths: Iterable[str]) -> None:
        """The package will hold files at ``paths``: those the folder lacks are created
        empty in the staging folder now (``stage_worker.Staging``), and ``add`` fills them.
        The CLI calls it once the table names are known, while the engine still answers."""
        for path in paths:
            if not os.path.lexists(os.path.join(self._out_dir, path)):
                try:
                    self._stage().reserve(path)
                except OSError as exc:
                    raise OutputError(f"could not write {self._out_dir}: {exc}") from None
                self._reserved.add(path)

    def add(self, path: str, content: bytes) -> None:
        """The package holds ``content`` at ``path`` (relative to the folder)."""
        change = _change_of(self._out_dir, path, content)
        self._changed[path] = change
        if change is not None:
            try:
                self._stage().write(path, content)
            except OSError as exc:
                raise OutputError(f"could not write {self._out_dir}: {exc}") from None

    def commit(self, files: Mapping[str, bytes]) -> Changes:
        """Make the folder hold exactly ``files``: those not added yet are added now."""
        for path, content in files.items():
            if path not in self._changed:
                self.add(path, content)
        changes = _changes(self._out_dir, self._previous, files, self._changed)
        if not changes:
            return changes
        try:
            staging = self._stage_folder()
            self._finish_staging(files)
            # A new package, in a new folder, whose staging folder holds just its files: that
            # folder is moved into place whole, rather than each file (1,000 renames took
            # 23-31 ms here).
            new_package = not changes.updated and not changes.deleted
            whole = new_package and self._reserved <= set(changes.created)
            if not (whole and _replace_whole(self._out_dir, staging / "new")):
                _commit(self._out_dir, staging, changes)
        except RollbackFailed as exc:
            # It holds the only copies of the replaced files now: left to the user.
            staging_owner.give_up(staging, self._staging_lock)
            self._staging, self._staging_lock = None, None
            raise OutputError(
                f"could not write {self._out_dir}, nor put its files back ({exc}): the "
                f"replaced and deleted files are in {staging / 'old'}"
            ) from None
        except OSError as exc:
            raise OutputError(f"could not write {self._out_dir}: {exc}") from None
        self._remove_staging()
        return changes

    def _stage(self, *, ahead: bool = False) -> Stager:
        if self._stager is None:
            staging = self._stage_folder()
            self._stager = Stager(staging / "new", blanks=staging / "blanks" if ahead else None)
        return self._stager

    def _stage_folder(self) -> Path:
        """The staging folder, made beside the output (renames stay on one file system)."""
        if self._staging is None:
            parent = self._out_dir.absolute().parent
            _make_folders(parent, [""], self._made_folders)
            prefix = f".{self._out_dir.name}."
            staging_owner.remove_abandoned(parent, prefix)
            self._staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
            self._staging_lock = staging_owner.hold(self._staging)
            (self._staging / "new").mkdir()
        return self._staging

    def _remove_staging(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            staging_owner.release(self._staging_lock)
            self._staging, self._staging_lock = None, None

    def _finish_staging(self, files: Mapping[str, bytes]) -> None:
        if self._stager is None:
            return
        try:
            self._stager.finish()
        except HelperUnavailable:
            # An interpreter that cannot run the helper (embedded, relocated): stage here.
            assert self._staging is not None
            new = self._staging / "new"
            shutil.rmtree(new)
            new.mkdir()
            self._stager = Stager(new, helper=False)
            for path, change in self._changed.items():
                if change is not None:
                    self._stager.write(path, files[path])


def _raise_on_sigterm() -> bool:
    """Make SIGTERM (``kill``, a cancelled CI job, a stopped container) raise
    ``SystemExit(143)``, as Ctrl-C raises KeyboardInterrupt, when it would otherwise end the
    process on the spot (the default action): that left the staging folder beside the
    output and, mid-commit, a package half renamed and without its marker, which the next
    run refuses to write into. Raised, it lets the writer put the previous files back and
    remove its staging folder. Returns whether it did (not when the program handles SIGTERM
    itself, nor outside the main thread, where no handler can be set)."""

    def end(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGTERM, end)
    return True


def _change_of(out_dir: Path, path: str, content: bytes) -> Change:
    target = os.path.join(out_dir, path)
    try:
        with open(target, "rb") as existing:
            return "updated" if existing.read() != content else None
    except (FileNotFoundError, NotADirectoryError):
        return "created"
    except OSError as exc:
        raise OutputError(f"cannot read {target}: {exc.strerror or exc}") from None


def _changes(
    out_dir: Path, previous: set[str], files: Mapping[str, bytes], changed: Mapping[str, Change]
) -> Changes:
    if set(changed) != set(files):
        raise ValueError("the files added are not the package's files")
    created = sorted(path for path, change in changed.items() if change == "created")
    updated = sorted(path for path, change in changed.items() if change == "updated")
    foreign = [path for path in updated if path not in previous and path != MARKER]
    if foreign:
        # The user's own file where a new table's module goes (``helpers.py`` and a table
        # ``helpers``): overwritten, it would be lost, and deleted with the table later.
        raise OutputError(
            f"refusing to overwrite {out_dir / foreign[0]}: surreal-gen did not write it "
            f"(it is not listed in {MARKER}); move it, or exclude the table that needs "
            "this file name"
        )
    deleted = sorted(p for p in previous - set(files) if (out_dir / p).is_file())
    return Changes(tuple(created), tuple(updated), tuple(deleted))


def generated_files(out_dir: Path) -> set[str]:
    """The files the marker of ``out_dir`` lists (none for a missing or empty folder);
    ``OutputError`` when the folder is not one we generated, or cannot be read."""
    try:
        if not out_dir.exists():
            return set()
        if not out_dir.is_dir():
            raise OutputError(f"{out_dir} exists and is not a folder")
        marker = read_marker(out_dir)
        if marker is None:
            if any(out_dir.iterdir()):
                raise OutputError(
                    f"refusing to write into {out_dir}: it is not empty and has no {MARKER} "
                    "(it was not generated by surreal-gen)"
                )
            return set()
    except OSError as exc:
        raise OutputError(f"cannot read {out_dir}: {exc.strerror or exc}") from None
    listed = marker.get("files", [])
    return {p for p in listed if isinstance(p, str) and _is_inside(out_dir, p)}


def _is_inside(out_dir: Path, relative: str) -> bool:
    root = out_dir.resolve()
    return (root / relative).resolve().is_relative_to(root) and relative != ""


def read_marker(out_dir: Path) -> dict[str, Any] | None:
    """The marker of a folder we generated, or None when there is none; ``OutputError`` when
    it is there but unreadable (a corrupt marker is not the same mistake as a missing one)."""
    path = out_dir / MARKER
    fix = f"restore it, or delete {out_dir} and generate again"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(f"{path} is unreadable: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise OutputError(f"{path} is corrupt ({exc}): {fix}") from None
    if not isinstance(data, dict):
        raise OutputError(f"{path} is corrupt (not a JSON object): {fix}")
    return data


class RollbackFailed(Exception):
    """A commit failed, and so did putting the folder's previous files back."""


def _commit(out_dir: Path, staging: Path, changes: Changes) -> None:
    """Move the staged files into place, keeping the replaced ones in ``staging/old`` until
    all moves worked; on any failure (an interrupt too) the folder is put back as it was.

    The order keeps the folder one that a plain re-run repairs, wherever the process is
    killed outright (SIGKILL, a power cut): the files of tables that are gone leave first,
    while the old marker still lists them; then the new marker comes in, listing every file
    that comes after it. So the folder always has a marker listing every generated file in
    it, which is all the next run needs to finish the job. Replaced files (the marker too)
    are kept aside by hard links, so none is ever missing; where the file system has no
    hard links they are moved aside, and each is missing until its replacement lands.
    """
    made: list[Path] = []
    written = [*changes.created, *changes.updated]
    if MARKER in written:
        written.remove(MARKER)
        written.insert(0, MARKER)
    updated = set(changes.updated)
    try:
        _make_folders(staging / "old", [*changes.updated, *changes.deleted], [])
        for path in changes.deleted:
            os.replace(os.path.join(out_dir, path), os.path.join(staging, "old", path))
        _make_folders(out_dir, written, made)
        for path in written:
            target = os.path.join(out_dir, path)
            if path in updated:
                _keep(target, os.path.join(staging, "old", path))
            os.replace(os.path.join(staging, "new", path), target)
    except BaseException:
        try:
            _undo(out_dir, staging, changes)
        except OSError as exc:
            raise RollbackFailed(exc.strerror or str(exc)) from exc
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _replace_whole(out_dir: Path, new: Path) -> bool:
    """Make the folder ``new`` the folder ``out_dir`` in one rename, which is all or nothing
    by itself, where ``out_dir`` does not exist. False, with nothing changed, where it does:
    an empty folder that is there already stays the same folder (for a shell in it, an
    editor watching it, its permissions)."""
    if os.path.lexists(out_dir):
        return False
    try:
        os.rename(new, out_dir)
    except OSError:  # made meanwhile, and not empty (POSIX) or there at all (Windows)
        return False
    return True


def _keep(current: str, backup: str) -> None:
    """Keep a copy of ``current`` at ``backup``: a hard link, so the file stays in place
    until its replacement lands on it; moved where there are no hard links (FAT, some
    network file systems) or no way to link a symlink itself (Windows)."""
    try:
        os.link(current, backup, follow_symlinks=False)
    except (OSError, NotImplementedError):
        os.replace(current, backup)


def _undo(out_dir: Path, staging: Path, changes: Changes) -> None:
    """Put the folder back as it was before ``_commit``, from what is on disk rather than
    from a list of the moves made, which an interrupt landing just after a move returned
    would leave one short: a staged file no longer staged was moved in, and every file in
    ``staging/old`` was kept from the folder."""
    for path in (*changes.created, *changes.updated):
        staged, target = os.path.join(staging, "new", path), os.path.join(out_dir, path)
        if not os.path.lexists(staged) and os.path.lexists(target):
            os.replace(target, staged)
    for path in (*changes.updated, *changes.deleted):
        backup = os.path.join(staging, "old", path)
        if os.path.lexists(backup):
            os.replace(backup, os.path.join(out_dir, path))


def _make_folders(root: Path, paths: Sequence[str], made: list[Path]) -> None:
    """Create the folders of ``paths`` under ``root`` (``root`` and its parents included),
    each once rather than once per file, and add those created to ``made``, outermost
    first."""
    for folder in sorted({os.path.dirname(path) for path in paths}):
        target = root / folder
        missing: list[Path] = []
        while not target.exists():
            missing.append(target)
            target = target.parent
        for created in reversed(missing):
            created.mkdir(exist_ok=True)
            made.append(created)
