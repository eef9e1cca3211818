"""A benchmark that times file creation waits out another's removal of many files."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bench import measure


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "last-cleanup"
    monkeypatch.setattr(measure, "CLEANUP_RECORD", path)
    monkeypatch.setattr(measure, "MANY_FILES", 5)
    return path


def make_files(folder: Path, count: int) -> None:
    (folder / "sub").mkdir()
    for index in range(count):
        (folder / "sub" / f"m{index}.py").write_bytes(b"")


def test_removing_many_files_is_recorded(record: Path) -> None:
    with measure.scratch_folder("settle-test-") as folder:
        make_files(folder, 5)
    assert not folder.exists()
    when, files = record.read_text(encoding="ascii").split()
    assert files == "5"
    assert time.time() - float(when) < 60


def test_a_removal_after_a_failure_is_recorded_too(record: Path) -> None:
    with pytest.raises(KeyboardInterrupt), measure.scratch_folder("settle-test-") as folder:
        make_files(folder, 6)
        raise KeyboardInterrupt
    assert not folder.exists()
    assert record.read_text(encoding="ascii").split()[1] == "6"


def test_a_record_that_cannot_be_written_is_skipped(record: Path) -> None:
    record.mkdir()  # writing a file there fails
    with measure.scratch_folder("settle-test-") as folder:
        make_files(folder, 5)
    assert not folder.exists()


def test_removing_a_few_files_is_not(record: Path) -> None:
    with measure.scratch_folder("settle-test-") as folder:
        make_files(folder, 4)
    assert not folder.exists()
    assert not record.exists()


def test_the_next_run_waits_out_the_rest(
    record: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    record.write_text(f"{time.time() - 20} 7021\n", encoding="ascii")
    measure.settle_file_system("codegen")
    assert len(slept) == 1
    assert measure.SETTLE_S - 21 < slept[0] <= measure.SETTLE_S - 20
    assert re.search(r"removed 7021 files 2[01] s ago", capsys.readouterr().err)


@pytest.mark.parametrize("content", [None, "not a record", f"{time.time() - 600} 7021"])
def test_no_wait_without_a_recent_record(
    record: Path, monkeypatch: pytest.MonkeyPatch, content: str | None
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    if content is not None:
        record.write_text(content, encoding="ascii")
    measure.settle_file_system("codegen")
    assert slept == []
