"""What a folder holds, to compare before and after a write."""

from __future__ import annotations

from pathlib import Path


def files_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` by relative path: its bytes and its mtime (ns)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
