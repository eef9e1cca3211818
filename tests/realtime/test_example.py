"""examples/realtime.py, the seed notebook run for real, against the test server."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from surreal_gen.runtime.connection import Connection
from tests.fixtures.server import SurrealDatabase

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "realtime.py"


async def _create_a_message_without_a_feed(database: SurrealDatabase) -> None:
    connection = Connection(database.ws_config())
    try:
        await connection.query("CREATE chat_message SET text = 'earlier', sender = 'Zed'")
    finally:
        await connection.close()


@pytest.mark.parametrize("table_before", [False, True], ids=["fresh", "table-without-feed"])
def test_the_walkthrough_runs_every_cell(
    surreal_database: SurrealDatabase, table_before: bool
) -> None:
    """Also where an earlier program made `chat_message` without a change feed (the README's
    example, run against the same database first, does)."""
    server = surreal_database.server
    if table_before:
        asyncio.run(_create_a_message_without_a_feed(surreal_database))
    env = {
        **os.environ,
        "SURREALDB_URL": server.ws_url,
        "SURREALDB_USER": server.user,
        "SURREALDB_PASS": server.password,
        "SURREALDB_NAMESPACE": surreal_database.namespace,
        "SURREALDB_DATABASE": surreal_database.database,
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = set(out.splitlines())
    for expected in [
        "Saved: [general] Alice: Hello everyone!",
        "Saved: [general] Bob: Hey Alice!",
        "Saved: [dev] Charlie: Working on the API",
        "  [live] New message from Dave: Anyone up for lunch?",
        "  [live] Message edited: Anyone up for lunch at noon?",
        "  [live] New message from Frank: Wrong room, sorry",
        "  [diff] Changed fields: {'text': 'Meeting at 3pm'}",
        "  [diff] Full record: Alice: Meeting at 3pm",
        "  [live] New message from Grace: Back online (reconnects so far: 1)",
        "  [signal] broadcast new_message from Ivan: Signals work",
        "Cleanup complete.",
    ]:
        assert expected in lines, f"missing {expected!r} in:\n{out}"
    assert re.search(r"^  \[live\] Message deleted: chat_message:\w+$", out, re.MULTILINE)
    assert "Eve" not in "".join(line for line in lines if "[live]" in line)
    assert re.search(r"^  Dropped [1-9]\d* WebSocket\(s\)$", out, re.MULTILINE)
    assert "  [gap] after reconnect 1: recovered from the change feed" in out
    counts = re.search(
        r"^  3 \+ (\d+) changes == full read of (\d+): no loss, no repeat$", out, re.MULTILINE
    )
    assert counts is not None, out
    assert 3 + int(counts.group(1)) == int(counts.group(2))
    feed_lines = re.findall(
        r"^    chat\.(create|update|delete) chat_message:\w+$", out, re.MULTILINE
    )
    assert len(feed_lines) == int(counts.group(2))
    assert {"create", "update", "delete"} <= set(feed_lines)
