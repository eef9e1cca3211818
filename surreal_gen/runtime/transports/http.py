"""RPC over HTTP (`http://`, `https://`): POST /rpc with CBOR, one pooled keep-alive client.

HTTP RPC is stateless on real servers: every request carries the credentials (Basic for a
system user, with `surreal-auth-ns`/`-db` for its level, or Bearer for a token) and the
`surreal-ns`/`surreal-db` headers. There is no `use` and there are no live queries.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import httpx

from surreal_gen.runtime.errors import (
    AuthenticationError,
    ConfigurationError,
    RequestTimeoutError,
    RpcError,
    SurrealConnectionError,
    SurrealGenError,
)
from surreal_gen.runtime.rpc import (
    IDEMPOTENT_METHODS,
    Codec,
    SessionConfig,
    signin_failed,
    unknown_namespace_error,
)
from surreal_gen.runtime.transports.base import (
    NotificationHandler,
    StateHandler,
    describe_network_error,
    with_rpc_path,
)

__all__ = ["HttpTransport", "session_headers"]

_CBOR = "application/cbor"


def session_headers(session: SessionConfig) -> dict[str, str]:
    """The headers that stand in for signin and `use` on every stateless HTTP request."""
    headers = {"Content-Type": _CBOR, "Accept": _CBOR}
    if session.namespace is not None:
        headers["surreal-ns"] = session.namespace
    if session.database is not None:
        headers["surreal-db"] = session.database
    if session.token is not None:
        headers["Authorization"] = f"Bearer {session.token}"
    elif session.user is not None and session.password is not None:
        pair = f"{session.user}:{session.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        if session.auth_level in ("namespace", "database") and session.namespace is not None:
            headers["surreal-auth-ns"] = session.namespace
        if session.auth_level == "database" and session.database is not None:
            headers["surreal-auth-db"] = session.database
    return headers


class HttpTransport:
    supports_live = False
    loop_bound = True

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self.codec = Codec()
        self._endpoint = with_rpc_path(url)
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._session = SessionConfig(None, None)

    def set_handlers(self, on_notification: NotificationHandler, on_state: StateHandler) -> None:
        """HTTP has no push messages and no socket to lose: nothing to report."""

    async def open(self, session: SessionConfig) -> None:
        self._session = session
        self._client = httpx.AsyncClient(
            headers=session_headers(session),
            timeout=self._timeout,
            limits=httpx.Limits(max_keepalive_connections=16, keepalive_expiry=30.0),
        )
        try:
            # Any request checks the credentials and the namespace; `ping` changes nothing.
            await self.request("ping", [])
        except AuthenticationError as exc:
            raise signin_failed(self.url, session, exc) from None
        except SurrealGenError as exc:
            raise unknown_namespace_error(exc, session) from exc

    async def use(self, namespace: str, database: str) -> None:
        """HTTP requests carry the session in headers: the next ones carry the new names."""
        if self._client is None:
            raise SurrealConnectionError(f"{self.url} is closed")
        self._session = dataclasses.replace(self._session, namespace=namespace, database=database)
        self._client.headers = session_headers(self._session)

    async def request(self, method: str, params: list[Any]) -> Any:
        if self._client is None:
            raise SurrealConnectionError(f"{self.url} is closed")
        body = self.codec.request(method, params)
        attempts = 2 if method in IDEMPOTENT_METHODS else 1
        for attempt in range(attempts):
            try:
                response = await self._client.post(self._endpoint, content=body)
                break
            except httpx.TimeoutException:
                raise RequestTimeoutError(
                    f"no reply to {method} from {self.url} within {self._timeout:g}s"
                ) from None
            except httpx.UnsupportedProtocol as exc:
                raise ConfigurationError(f"invalid HTTP URL {self.url}: {exc}") from None
            except httpx.TransportError as exc:
                if attempt + 1 < attempts:
                    continue
                if isinstance(exc, httpx.ConnectError):
                    reason = describe_network_error(_root_cause(exc))
                    raise SurrealConnectionError(f"cannot reach {self.url}: {reason}") from None
                raise SurrealConnectionError(
                    f"connection to {self.url} dropped during {method}; "
                    f"it may or may not have been applied ({exc or type(exc).__name__})"
                ) from None
        return self._reply(response, method)

    def _reply(self, response: httpx.Response, method: str) -> Any:
        content_type = response.headers.get("content-type", "")
        if response.status_code == 200 and content_type.startswith(_CBOR):
            return self.codec.reply(response.content).unwrap()
        message = _http_error_message(response)
        if response.status_code in (401, 403):
            raise AuthenticationError(message)
        raise RpcError(f"{method} on {self.url}: {message}", code=response.status_code)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _root_cause(error: BaseException) -> BaseException:
    """httpx wraps the socket error (ConnectionRefusedError...) a few levels down."""
    while (inner := error.__cause__ or error.__context__) is not None:
        error = inner
    return error


def _http_error_message(response: httpx.Response) -> str:
    """SurrealDB's HTTP error body is JSON `{code, details, description, information}`."""
    try:
        body = json.loads(response.text)
    except ValueError:
        return f"HTTP {response.status_code}: {response.text.strip()[:200]}"
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("details", "information") if body.get(key)]
        if parts:
            return f"HTTP {response.status_code}: " + ": ".join(parts)
    return f"HTTP {response.status_code}: {body}"
