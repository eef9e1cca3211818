"""The interface every transport implements, and the callbacks a connection gives it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

from surreal_gen.runtime.rpc import Codec, SessionConfig

__all__ = ["NotificationHandler", "StateHandler", "StateKind", "Transport"]

NotificationHandler = Callable[[Mapping[str, Any]], None]
"""Receives each live notification map: `{id, action, record, result, session?}`."""

StateKind = Literal["disconnected", "reconnected", "gave_up"]
StateHandler = Callable[[StateKind, BaseException | None], Awaitable[None]]
"""Receives a state change of the transport, with the error if any."""


class Transport(Protocol):
    """Carries RPC requests to one server (or embedded engine) and brings back the results.

    `open(session)` connects and sets the session up (signin, `use`); `request` returns the
    result or raises a `SurrealGenError` subclass. Transports that keep a socket re-open the
    session themselves after a reconnect, then call the state handler.
    """

    url: str
    codec: Codec
    supports_live: bool

    async def open(self, session: SessionConfig) -> None: ...

    async def request(self, method: str, params: list[Any]) -> Any: ...

    async def close(self) -> None: ...

    def set_handlers(self, on_notification: NotificationHandler, on_state: StateHandler) -> None:
        """Install the connection's callbacks; transports without push messages ignore them."""
        ...
