"""Signals: hooks that run around saves, deletes and live-query events.

Receivers are called as ``receiver(sender, **kwargs)`` in the order they were connected.
Async receivers are awaited one after the other (never fire-and-forget), sync receivers are
called directly. A receiver that raises is logged with its traceback and the remaining
receivers still run. A receiver connected for a class also receives senders that subclass it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = [
    "Signal",
    "post_delete",
    "post_live_change",
    "post_save",
    "pre_delete",
    "pre_save",
]

logger = logging.getLogger(__name__)

Receiver = Callable[..., Any]
ReceiverT = TypeVar("ReceiverT", bound=Receiver)


class Signal:
    """A named hook; ``send`` calls every receiver whose sender filter matches."""

    __slots__ = ("_receivers", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[tuple[Receiver, type[Any] | None]] = []

    def __repr__(self) -> str:
        return f"Signal({self.name!r})"

    @overload
    def connect(self, sender: type[Any] | None = None, /) -> Callable[[ReceiverT], ReceiverT]: ...

    @overload
    def connect(self, *, sender: type[Any] | None) -> Callable[[ReceiverT], ReceiverT]: ...

    @overload
    def connect(self, receiver: ReceiverT, /, sender: type[Any] | None = None) -> ReceiverT: ...

    def connect(self, target: Any = None, sender: type[Any] | None = None) -> Any:
        """Connect a receiver, either as ``@signal.connect(Model)`` or ``connect(fn, sender=Model)``.

        With no argument, or a class (positional or ``sender=``), ``connect`` returns a
        decorator; with a function it connects that function at once. ``sender=None`` receives
        every sender. Connecting the same receiver for the same sender twice keeps one
        registration.
        """
        if target is None or isinstance(target, type):
            wanted = sender if target is None else target

            def decorator(receiver: ReceiverT) -> ReceiverT:
                self._add(receiver, wanted)
                return receiver

            return decorator
        if not callable(target):
            raise TypeError(f"{self.name}.connect: receiver {target!r} is not callable")
        self._add(target, sender)
        return target

    def disconnect(self, receiver: Receiver, sender: type[Any] | None = None) -> bool:
        """Remove a receiver registered for ``sender``; return whether one was removed."""
        entry = (receiver, sender)
        if entry in self._receivers:
            self._receivers.remove(entry)
            return True
        return False

    def receivers_for(self, sender: type[Any]) -> list[Receiver]:
        """The receivers ``send(sender, ...)`` would call, in registration order."""
        return [
            receiver
            for receiver, wanted in self._receivers
            if wanted is None or (isinstance(sender, type) and issubclass(sender, wanted))
        ]

    async def send(self, sender: type[Any], **kwargs: Any) -> None:
        """Call every matching receiver in order; log and skip the ones that raise."""
        if not self._receivers:
            return
        for receiver in self.receivers_for(sender):
            try:
                result = receiver(sender, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception(
                    "%s receiver %s failed for sender %s",
                    self.name,
                    getattr(receiver, "__qualname__", repr(receiver)),
                    getattr(sender, "__name__", repr(sender)),
                )

    def _add(self, receiver: Receiver, sender: type[Any] | None) -> None:
        entry = (receiver, sender)
        if entry not in self._receivers:
            self._receivers.append(entry)


pre_save = Signal("pre_save")
"""Sent before a model is written: ``(sender, instance)``."""
post_save = Signal("post_save")
"""Sent after a model is written and refreshed from the result: ``(sender, instance, created)``."""
pre_delete = Signal("pre_delete")
"""Sent before a model is deleted: ``(sender, instance)``."""
post_delete = Signal("post_delete")
"""Sent after a model is deleted: ``(sender, instance)``."""
post_live_change = Signal("post_live_change")
"""Sent for each live-query event: ``(sender, instance, action, record_id, **kwargs)``."""
