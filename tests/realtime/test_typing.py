"""mypy sees the model in `event.instance` of live queries and change feeds."""

from __future__ import annotations

from pathlib import Path

from mypy import api

SNIPPET = """
from tests.realtime.models import Item

async def main() -> None:
    async with Item.objects().filter(room="general").live() as stream:
        async for event in stream:
            reveal_type(event.instance)
            reveal_type(event.action)
    feed = Item.objects().changes(since=0)
    async for change in feed:
        reveal_type(change.instance)
    reveal_type(feed.cursor)
"""


def test_event_instance_is_typed_as_the_model(tmp_path: Path) -> None:
    source = tmp_path / "typed_events.py"
    source.write_text(SNIPPET)
    stdout, stderr, _ = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(source)]
    )
    revealed = [
        line.split("Revealed type is ", 1)[1]
        for line in stdout.splitlines()
        if "Revealed type is" in line
    ]
    assert revealed == [
        '"tests.realtime.models.Item"',
        '"surreal_gen.runtime.events.LiveAction"',
        '"tests.realtime.models.Item"',
        '"int | None"',
    ], stdout + stderr
