"""Defining and using a generated model without a query loads no transport: the connection,
the CBOR codec, the socket and HTTP clients and asyncio come in with the first query only.

Each probe runs in a fresh interpreter, so nothing imported by pytest or other tests counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TRANSPORT_MODULES = (
    "surreal_gen.runtime.connection",
    "surreal_gen.runtime.rpc",
    "surreal_gen.runtime.cbor",
    "surreal_gen.runtime.transports",
    "cbor2",
    "websockets",
    "httpx",
    "asyncio",
)


def loaded_after(statements: str) -> list[str]:
    """The modules of TRANSPORT_MODULES that a fresh interpreter holds after `statements`."""
    probe = textwrap.dedent(statements) + textwrap.dedent(
        f"""
            import json, sys
            print(json.dumps([m for m in {TRANSPORT_MODULES!r} if m in sys.modules]))
            """
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


def test_touching_a_generated_model_loads_no_transport() -> None:
    loaded = loaded_after(
        """
        from generated import ChatMessage

        message = ChatMessage.model_validate({"id": "chat_message:1", "room": "r", "sender": "ann", "text": "hi"})
        assert message.model_dump()["text"] == "hi"
        query = ChatMessage.objects().filter(room="r", text__startswith="h").order_by("-text")
        assert query._where_clause()[0]
        """
    )
    assert loaded == []


def test_the_first_query_loads_the_transport() -> None:
    """The counterpart: the modules named above are the ones a query really needs."""
    loaded = loaded_after(
        """
        import asyncio

        from generated import ChatMessage
        from surreal_gen.runtime.connection import SurrealDBConnectionManager

        SurrealDBConnectionManager.set_connection("mem://", namespace="guard", database="guard")
        assert asyncio.run(ChatMessage.objects().count()) == 0
        """
    )
    assert {
        "surreal_gen.runtime.connection",
        "surreal_gen.runtime.cbor",
        "cbor2",
        "asyncio",
    } <= set(loaded)


def test_the_code_generator_loads_no_model_library() -> None:
    """The CLI and the introspector use the runtime's value types and connection, not its
    models: pydantic stays out until generated code is imported."""
    probe = textwrap.dedent(
        """
        import json, sys
        import surreal_gen.codegen.cli, surreal_gen.codegen.introspect
        print(json.dumps([m for m in ("pydantic", "surreal_gen.runtime.model") if m in sys.modules]))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []
