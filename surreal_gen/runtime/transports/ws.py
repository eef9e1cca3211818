"""RPC over WebSocket (`ws://`, `wss://`) with the CBOR subprotocol.

One socket carries concurrent requests matched by id, and live notifications (messages with
no id). Keepalive pings notice a dead socket. When the socket drops, requests in flight fail
with a clear error (idempotent ones are sent again), and the transport reconnects with
backoff, signs in, re-issues `use`, and then tells the connection (`"reconnected"`), so live
queries can be re-issued. When the retry budget is spent it reports `"gave_up"` and every
waiting request fails: nothing hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from surreal_gen.runtime.errors import (
    AuthenticationError,
    ConfigurationError,
    RequestTimeoutError,
    SurrealConnectionError,
    SurrealGenError,
)
from surreal_gen.runtime.rpc import (
    IDEMPOTENT_METHODS,
    Codec,
    Reply,
    SessionConfig,
    signin_failed,
    signin_params,
    unknown_namespace_error,
)
from surreal_gen.runtime.transports.base import (
    NotificationHandler,
    StateHandler,
    StateKind,
    describe_network_error,
    with_rpc_path,
)

__all__ = ["WebSocketTransport"]

logger = logging.getLogger(__name__)


class _NoFrameDumps(logging.Filter):
    """Drops the frame dumps websockets logs at DEBUG: the signin frame carries the password."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in ("> %s", "< %s")


protocol_logger = logging.getLogger(f"{__name__}.protocol")
"""The websockets library logs through this one (handshake and state, never frame data)."""
protocol_logger.addFilter(_NoFrameDumps())

_FIRST_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 5.0


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[Reply]
    method: str
    data: bytes
    """The encoded request, id included: a resend on the next socket is answered to `future`."""
    resend: bool
    """Send again on the next socket if this one drops (idempotent requests of the caller)."""


class WebSocketTransport:
    supports_live = True
    loop_bound = True

    def __init__(
        self, url: str, *, timeout: float, reconnect_attempts: int, keepalive_interval: float
    ) -> None:
        self.url = url
        self.codec = Codec()
        self._endpoint = with_rpc_path(url)
        self._timeout = timeout
        self._reconnect_attempts = reconnect_attempts
        self._keepalive = keepalive_interval
        self._session = SessionConfig(None, None)
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._reconnecting = False
        self._pending: dict[int, _Pending] = {}
        self._ready = asyncio.Event()
        self._failure: SurrealConnectionError | None = None
        """Why requests fail now (closed, or gave up reconnecting); raised as `_fresh(...)`."""
        self._closing = False
        self._on_notification: NotificationHandler = lambda notification: None
        self._on_state: StateHandler | None = None

    def set_handlers(self, on_notification: NotificationHandler, on_state: StateHandler) -> None:
        self._on_notification = on_notification
        self._on_state = on_state

    # -- opening -------------------------------------------------------------------------------

    async def open(self, session: SessionConfig) -> None:
        self._session = session
        await self._establish()
        self._ready.set()

    async def _establish(self) -> None:
        """Open a socket, start reading, sign in and `use`. Raises a clear error on failure."""
        socket = await self._open_socket()
        self._socket = socket
        self._reader = asyncio.create_task(
            self._read(socket), name=f"surreal-gen reader {self.url}"
        )
        try:
            await self._prepare_session()
        except BaseException:
            self._socket = None
            await socket.close()
            raise

    async def _open_socket(self) -> ClientConnection:
        try:
            return await connect(
                self._endpoint,
                subprotocols=[Subprotocol("cbor")],
                open_timeout=self._timeout,
                ping_interval=self._keepalive,
                ping_timeout=self._keepalive * 2,
                close_timeout=1.0,
                max_size=None,
                compression=None,
                logger=protocol_logger,
            )
        except InvalidURI as exc:
            raise ConfigurationError(f"invalid WebSocket URL {self.url}: {exc}") from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            reason = f"the server answered HTTP {status}, not a WebSocket"
            raise SurrealConnectionError(f"cannot reach {self.url}: {reason}") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            reason = describe_network_error(exc)
            raise SurrealConnectionError(f"cannot reach {self.url}: {reason}") from None

    async def use(self, namespace: str, database: str) -> None:
        self._session = dataclasses.replace(self._session, namespace=namespace, database=database)
        await self.request("use", [namespace, database])

    async def _prepare_session(self) -> None:
        session = self._session
        try:
            if session.token is not None:
                await self._call("authenticate", [session.token])
            elif (params := signin_params(session)) is not None:
                await self._call("signin", [params])
        except AuthenticationError as exc:
            raise signin_failed(self.url, session, exc) from None
        if session.namespace is not None or session.database is not None:
            try:
                await self._call("use", [session.namespace, session.database])
            except SurrealGenError as exc:
                raise unknown_namespace_error(exc, session) from exc

    # -- requests ------------------------------------------------------------------------------

    async def request(self, method: str, params: list[Any]) -> Any:
        if not self._ready.is_set():
            try:
                await asyncio.wait_for(self._ready.wait(), self._timeout)
            except TimeoutError:
                raise RequestTimeoutError(
                    f"{method} on {self.url}: still reconnecting after {self._timeout:g}s"
                ) from None
        if self._failure is not None:
            raise _fresh(self._failure)
        return await self._call(method, params, resend=method in IDEMPOTENT_METHODS)

    async def _call(self, method: str, params: list[Any], *, resend: bool = False) -> Any:
        socket = self._socket
        if socket is None:
            if self._failure is not None:
                raise _fresh(self._failure)
            raise SurrealConnectionError(f"{self.url} is not connected")
        request_id = self.codec.next_id()
        data = self.codec.request(method, params, request_id)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(future, method, data, resend)
        try:
            # A send on a closed socket is left to the reader: it fails or resends the request.
            with contextlib.suppress(ConnectionClosed):
                await socket.send(data)
            async with asyncio.timeout(self._timeout):
                reply = await future
        except TimeoutError:
            raise RequestTimeoutError(
                f"no reply to {method} from {self.url} within {self._timeout:g}s"
            ) from None
        finally:
            self._pending.pop(request_id, None)
        return reply.unwrap()

    async def _read(self, socket: ClientConnection) -> None:
        error: BaseException | None = None
        try:
            async for message in socket:
                if isinstance(message, bytes):
                    self._dispatch(message)
        except ConnectionClosed as exc:
            error = exc
        if socket is self._socket and not self._closing:
            self._lost(error)

    def _dispatch(self, message: bytes) -> None:
        try:
            reply = self.codec.reply(message)
        except SurrealConnectionError:
            logger.exception("unreadable message from %s", self.url)
            return
        if reply.id is None:
            if reply.error is not None:
                logger.error("dropped a message from %s: %s", self.url, reply.error)
            elif isinstance(reply.result, dict):
                self._on_notification(reply.result)
            return
        pending = self._pending.get(reply.id)
        if pending is not None and not pending.future.done():
            pending.future.set_result(reply)

    # -- losing and regaining the socket -------------------------------------------------------

    def _lost(self, error: BaseException | None) -> None:
        self._socket = None
        self._ready.clear()
        reason = f"connection to {self.url} dropped" + (f" ({error})" if error else "")
        for request_id, pending in list(self._pending.items()):
            if pending.resend:
                continue
            del self._pending[request_id]
            if not pending.future.done():
                pending.future.set_exception(
                    SurrealConnectionError(
                        f"{reason} during {pending.method}; it may or may not have been applied"
                    )
                )
        if not self._reconnecting:  # a socket lost while reconnecting is that loop's business
            self._reconnecting = True
            self._reconnector = asyncio.create_task(
                self._reconnect(SurrealConnectionError(reason)),
                name=f"surreal-gen reconnect {self.url}",
            )

    async def _reconnect(self, cause: SurrealConnectionError) -> None:
        await self._notify("disconnected", cause)
        last_error: SurrealGenError = cause
        delay = _FIRST_BACKOFF_S
        for _ in range(self._reconnect_attempts):
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            if self._closing:  # closed by a "disconnected" listener
                return
            delay = min(delay * 2, _MAX_BACKOFF_S)
            try:
                await self._establish()
                await self._resend_idempotent()
            except AuthenticationError as exc:
                last_error = exc
                break
            except SurrealGenError as exc:
                last_error = exc
                continue
            if self._socket is None:  # it dropped while being set up; `_lost` left that to us
                continue
            self._ready.set()
            self._reconnecting = False
            await self._notify("reconnected", None)
            return
        self._reconnecting = False
        self._give_up(last_error)
        await self._notify("gave_up", self._failure)

    async def _resend_idempotent(self) -> None:
        """Send again the read-only requests that were in flight when the socket dropped.

        Their callers still wait on the same futures, under their own timeouts. If this socket
        drops too, the reader leaves them pending for the next one.
        """
        socket = self._socket
        for pending in list(self._pending.values()):
            if socket is not None and pending.resend and not pending.future.done():
                with contextlib.suppress(ConnectionClosed):
                    await socket.send(pending.data)

    def _give_up(self, last_error: SurrealGenError) -> None:
        self._failure = SurrealConnectionError(
            f"lost the connection to {self.url} and could not reconnect after "
            f"{self._reconnect_attempts} attempts: {last_error}"
        )
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(_fresh(self._failure))
        self._pending.clear()
        self._ready.set()

    async def _notify(self, kind: StateKind, error: BaseException | None) -> None:
        if self._on_state is not None:
            await self._on_state(kind, error)

    # -- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        self._closing = True
        # A listener may close the transport from inside the reconnect task: let that task end
        # on its own, or the listeners after this one would be cancelled, and this close too.
        if self._reconnector is not None and self._reconnector is not asyncio.current_task():
            self._reconnector.cancel()
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close()
        if self._reader is not None:
            self._reader.cancel()
        closed = SurrealConnectionError(f"{self.url} was closed")
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(_fresh(closed))
        self._pending.clear()
        self._failure = closed
        self._ready.set()


def _fresh(error: SurrealConnectionError) -> SurrealConnectionError:
    """A new error with the same message, caused by the stored one: each caller raises its
    own, since raising one object again and again grows its traceback with every raiser's
    frames."""
    fresh = SurrealConnectionError(str(error))
    fresh.__cause__ = error
    return fresh
