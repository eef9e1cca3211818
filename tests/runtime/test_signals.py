"""Signal dispatch: order, sync and async receivers, sender filtering, failure isolation."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from surreal_gen.runtime.signals import Signal


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
