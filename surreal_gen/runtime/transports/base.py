"""The interface every transport implements, the callbacks a connection gives it, and the
URL and network-error helpers the WebSocket and HTTP transports share."""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import SplitResult, urlsplit, urlunsplit

from surreal_gen.runtime.errors import ConfigurationError
from surreal_gen.runtime.rpc import Codec, SessionConfig

__all__ = [
    "NotificationHandler",
    "StateHandler",
    "StateKind",
    "Transport",
    "check_network_url",
    "describe_network_error",
    "redact_url",
    "split_url",
    "with_rpc_path",
]

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
    loop_bound: bool
    """Whether its sockets belong to the event loop that opened it (then only that loop can
    close it); an embedded engine can be closed from any loop."""

    async def open(self, session: SessionConfig) -> None: ...

    async def request(self, method: str, params: list[Any]) -> Any: ...

    async def use(self, namespace: str, database: str) -> None:
        """Select the namespace and database for every later request, also after a
        reconnect."""
        ...

    async def close(self) -> None: ...

    def set_handlers(self, on_notification: NotificationHandler, on_state: StateHandler) -> None:
        """Install the connection's callbacks; transports without push messages ignore them."""
        ...


_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")


def redact_url(url: str) -> str:
    """`url` with the user and password it may carry shown as `***`, for error messages.

    Done on the text, so that even a URL `urlsplit` cannot read is shown safely: everything
    before the last `@`, also when a password holds an unencoded `/`, `?` or `#` (which
    `urlsplit` takes for the end of the host, see `check_network_url`).
    """
    scheme, separator, rest = url.partition("://")
    at = rest.rfind("@")
    return url if not separator or at < 0 else f"{scheme}://***@{rest[at + 1 :]}"


def split_url(url: str) -> SplitResult:
    """`urlsplit`, with a URL it cannot read (`http://[::1`) as a `ConfigurationError`."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise ConfigurationError(f"invalid URL {redact_url(url)}: {exc}") from None


def check_network_url(url: str) -> SplitResult:
    """Split a ws(s)/http(s) URL; one without a host or with a bad port is a `ConfigurationError`.

    The network libraries would report those as a ValueError, an InvalidURL or an
    ExceptionGroup, and only at the first request.
    """
    parts = split_url(url)
    if "@" in url.partition("://")[2] and "@" not in parts.netloc:
        # `ws://root:pa/ss@host`: the host part ends at the `/`, so the password would be
        # taken for a host and port, and shown in the URL of every message.
        raise ConfigurationError(
            f"invalid URL {redact_url(url)}: an '@' after the host: percent-encode '/', '?', "
            "'#' and '@' in a user or password in the URL (%2F, %3F, %23, %40)"
        )
    try:
        _ = parts.port  # raises ValueError unless the port is a number from 0 to 65535
    except ValueError as exc:
        raise ConfigurationError(f"invalid URL {redact_url(url)}: {exc}") from None
    if not parts.hostname:
        raise ConfigurationError(f"invalid URL {redact_url(url)}: no host")
    return parts


def with_rpc_path(url: str) -> str:
    """Append `/rpc` to a URL that has no path, as the official SDKs do (checked first)."""
    parts = check_network_url(url)
    if parts.path in ("", "/"):
        return urlunsplit((parts.scheme, parts.netloc, "/rpc", parts.query, ""))
    return url


def describe_network_error(error: BaseException) -> str:
    """A short reason for a failed network operation: `connection refused`, `timed out`..."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    # asyncio joins the failures of every address of a host ("localhost": ::1 and 127.0.0.1).
    codes = set(_ERRNO_IN_TEXT.findall(str(error)))
    if len(codes) == 1:
        code = int(codes.pop())
        return "connection refused" if code == errno.ECONNREFUSED else os.strerror(code).lower()
    return str(error) or type(error).__name__
