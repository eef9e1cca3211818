"""What mypy sees: QuerySet and model methods keep the model type of a hand-written model."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from mypy import api

SNIPPET = textwrap.dedent(
    """
    from surreal_gen.runtime import BaseSurrealModel, SurrealConfigDict


    class ChatMessage(BaseSurrealModel):
        model_config = SurrealConfigDict(table_name="chat_message")

        id: str | None = None
        text: str
        sender: str
        room: str = "general"


    async def main() -> None:
        query = ChatMessage.objects().filter(room="general")
        reveal_type(query)
        reveal_type(query.exclude(sender="Bob").order_by("-text").limit(3))
        reveal_type(await query.first())
        reveal_type(await query.all())
        reveal_type(await query.get(sender="Alice"))
        reveal_type(await ChatMessage.get("chat_message:1"))
        reveal_type(await ChatMessage(text="hi", sender="Ann").save())
        reveal_type(await query.count())
    """
)

MISUSE = textwrap.dedent(
    """
    from surreal_gen.runtime import BaseSurrealModel, SurrealConfigDict


    class ChatMessage(BaseSurrealModel):
        model_config = SurrealConfigDict(table_name="chat_message")

        id: str | None = None
        text: str


    async def main() -> str:
        first = await ChatMessage.objects().first()
        return first.text
    """
)


def run_mypy(tmp_path: Path, source: str) -> list[str]:
    """Type-check `source` with --strict; return the report lines about it."""
    module = tmp_path / "snippet.py"
    module.write_text(source)
    stdout, stderr, _ = api.run(
        [
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(module),
        ]
    )
    assert stderr == ""
    return [line for line in stdout.splitlines() if line.startswith(str(module))]


def revealed(lines: list[str]) -> list[str]:
    found = [re.search(r'Revealed type is "(.*)"', line) for line in lines]
    return [match.group(1) for match in found if match]


def optional(name: str) -> set[str]:
    """The spellings mypy versions use for `name | None`."""
    return {f"{name} | None", f"Union[{name}, None]"}


def test_queryset_and_model_methods_keep_the_model_type(tmp_path: Path) -> None:
    lines = run_mypy(tmp_path, SNIPPET)
    assert not [line for line in lines if ": error:" in line], lines
    types = revealed(lines)
    model = "snippet.ChatMessage"
    assert types[0] == f"surreal_gen.runtime.queryset.QuerySet[{model}]"
    assert types[1] == f"surreal_gen.runtime.queryset.QuerySet[{model}]"
    assert types[2] in optional(model)
    assert types[3] in {f"list[{model}]", f"builtins.list[{model}]"}
    assert types[4] == model
    assert types[5] == model
    assert types[6] == model
    assert types[7] in {"int", "builtins.int"}


def test_first_must_be_checked_for_none(tmp_path: Path) -> None:
    lines = run_mypy(tmp_path, MISUSE)
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1
    assert 'Item "None" of "ChatMessage | None" has no attribute "text"' in errors[0] or (
        'Item "None" of "Optional[ChatMessage]" has no attribute "text"' in errors[0]
    )
