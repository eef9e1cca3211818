"""Signal dispatch: order, sync and async receivers, sender filtering, failure isolation."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.signals import (
    Signal,
    post_delete,
    post_save,
    pre_delete,
    pre_save,
)
from tests.runtime.orm_connections import OrmTarget


class Base:
    pass


class Child(Base):
    pass


class Other:
    pass


async def test_receivers_run_in_registration_order_mixing_sync_and_async() -> None:
    signal = Signal("test")
    calls: list[str] = []

    @signal.connect()
    async def first(sender: type[Any], **kwargs: Any) -> None:
        calls.append(f"first:{kwargs['value']}")

    @signal.connect()
    def second(sender: type[Any], **kwargs: Any) -> None:
        calls.append(f"second:{kwargs['value']}")

    async def third(sender: type[Any], **kwargs: Any) -> None:
        calls.append(f"third:{kwargs['value']}")

    signal.connect(third)
    await signal.send(Base, value=1)
    assert calls == ["first:1", "second:1", "third:1"]


async def test_async_receivers_are_awaited_before_send_returns() -> None:
    signal = Signal("test")
    finished: list[bool] = []

    @signal.connect(Base)
    async def slow(sender: type[Any], **kwargs: Any) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        finished.append(True)

    await signal.send(Base)
    assert finished == [True]


async def test_sender_filter_includes_subclasses_and_excludes_others() -> None:
    signal = Signal("test")
    seen: list[str] = []

    @signal.connect(Base)
    def on_base(sender: type[Any], **kwargs: Any) -> None:
        seen.append(sender.__name__)

    await signal.send(Base)
    await signal.send(Child)
    await signal.send(Other)
    assert seen == ["Base", "Child"]


async def test_failing_receiver_is_logged_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = Signal("test")
    calls: list[str] = []

    @signal.connect()
    def broken(sender: type[Any], **kwargs: Any) -> None:
        raise RuntimeError("receiver exploded")

    @signal.connect()
    async def broken_async(sender: type[Any], **kwargs: Any) -> None:
        raise ValueError("async receiver exploded")

    @signal.connect()
    def healthy(sender: type[Any], **kwargs: Any) -> None:
        calls.append("healthy")

    with caplog.at_level(logging.ERROR, logger="surreal_gen.runtime.signals"):
        await signal.send(Base)

    assert calls == ["healthy"]
    messages = [record.getMessage() for record in caplog.records]
    assert any("broken" in message and "Base" in message for message in messages)
    tracebacks = [record.exc_text or "" for record in caplog.records]
    assert any("receiver exploded" in text for text in tracebacks)
    assert any("async receiver exploded" in text for text in tracebacks)


async def test_decorator_with_a_sender_keyword_filters_like_a_positional_one() -> None:
    """`@signal.connect(sender=Model)` (Django's spelling) must not receive every sender."""
    signal = Signal("test")
    seen: list[str] = []

    @signal.connect(sender=Base)
    def on_base(sender: type[Any], **kwargs: Any) -> None:
        seen.append(sender.__name__)

    await signal.send(Child)
    await signal.send(Other)
    assert seen == ["Child"]
    assert signal.disconnect(on_base, sender=Base) is True


async def test_disconnect_and_duplicate_connect() -> None:
    signal = Signal("test")
    calls: list[str] = []

    def receiver(sender: type[Any], **kwargs: Any) -> None:
        calls.append(sender.__name__)

    signal.connect(receiver, sender=Base)
    signal.connect(receiver, sender=Base)
    await signal.send(Base)
    assert calls == ["Base"]

    assert signal.disconnect(receiver, sender=Base) is True
    assert signal.disconnect(receiver, sender=Base) is False
    await signal.send(Base)
    assert calls == ["Base"]


async def test_receiver_may_take_named_parameters_like_the_notebook() -> None:
    signal = Signal("post_live_change")
    got: list[tuple[Any, ...]] = []

    @signal.connect(Base)
    async def on_change(
        sender: type[Any], instance: Any, action: str, record_id: str, **kwargs: Any
    ) -> None:
        got.append((sender, instance, action, record_id, kwargs))

    await signal.send(Child, instance="obj", action="CREATE", record_id="t:1", extra=1)
    assert got == [(Child, "obj", "CREATE", "t:1", {"extra": 1})]


def test_connect_rejects_a_non_callable_receiver() -> None:
    signal = Signal("test")
    with pytest.raises(TypeError, match="not callable"):
        signal.connect(42)  # type: ignore[call-overload]


# -- signals around save and delete, on every transport -------------------------------------------


class Note(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="note")

    id: str | None = None
    text: str
    sender: str
    room: str = "general"


async def test_save_and_delete_send_signals_in_order(orm: OrmTarget) -> None:
    seen: list[tuple[str, str, Any]] = []

    async def on_pre_save(sender: type[Any], instance: Note) -> None:
        instance.text = instance.text.strip()  # receivers may adjust what gets written
        seen.append(("pre_save", sender.__name__, instance.id is None))

    def on_post_save(sender: type[Any], instance: Note, created: bool) -> None:
        seen.append(("post_save", sender.__name__, (created, instance.id is not None)))

    def on_delete(sender: type[Any], instance: Note) -> None:
        seen.append(("delete", sender.__name__, instance.text))

    pre_save.connect(on_pre_save, sender=Note)
    post_save.connect(on_post_save, sender=BaseSurrealModel)
    pre_delete.connect(on_delete, sender=Note)
    post_delete.connect(on_delete, sender=Note)
    try:
        message = await Note(text="  padded  ", sender="Ann").save()
        message.room = "dev"
        await message.save()
        await message.delete()
    finally:
        pre_save.disconnect(on_pre_save, sender=Note)
        post_save.disconnect(on_post_save, sender=BaseSurrealModel)
        pre_delete.disconnect(on_delete, sender=Note)
        post_delete.disconnect(on_delete, sender=Note)

    assert message.text == "padded"
    assert seen == [
        ("pre_save", "Note", True),
        ("post_save", "Note", (True, True)),
        ("pre_save", "Note", False),
        ("post_save", "Note", (False, True)),
        ("delete", "Note", "padded"),
        ("delete", "Note", "padded"),
    ]


async def test_a_failing_receiver_does_not_stop_the_save(
    orm: OrmTarget, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: type[Any], **kwargs: Any) -> None:
        raise RuntimeError("audit service down")

    pre_save.connect(broken, sender=Note)
    try:
        with caplog.at_level(logging.ERROR, logger="surreal_gen.runtime.signals"):
            note = await Note(text="kept", sender="Ann").save()
    finally:
        pre_save.disconnect(broken, sender=Note)
    assert (await Note.get(note.id)).text == "kept"
    assert any("audit service down" in (record.exc_text or "") for record in caplog.records)
