"""The RPC layer the transports share: request envelopes, replies, signin parameters.

A transport moves bytes; this module decides what goes in them and what a reply means.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from surreal_gen.runtime import cbor
from surreal_gen.runtime.errors import (
    AuthenticationError,
    InvalidQueryError,
    NotFoundError,
    SurrealConnectionError,
    SurrealGenError,
    error_from_reply,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "AuthLevel",
    "Codec",
    "Reply",
    "SessionConfig",
    "engine_major_from_version",
    "signin_failed",
    "signin_params",
    "unknown_namespace_error",
]

AuthLevel = Literal["root", "namespace", "database"]

# Methods that may be sent again after the socket dropped mid-request: they change nothing.
IDEMPOTENT_METHODS = frozenset({"ping", "version", "info", "select", "use", "authenticate"})


@dataclass(frozen=True)
class SessionConfig:
    """What a session needs: where to `use`, and how to sign in (if at all)."""

    namespace: str | None
    database: str | None
    user: str | None = None
    password: str | None = None
    auth_level: AuthLevel = "root"
    token: str | None = None


def signin_params(session: SessionConfig) -> dict[str, str] | None:
    """The `signin` parameter map for a system user, or None when there is nothing to send.

    The namespace (and database) of a namespace or database user are checked by
    `ConnectionConfig`, so they are present here.
    """
    if session.user is None or session.password is None:
        return None
    params = {"user": session.user, "pass": session.password}
    if session.auth_level in ("namespace", "database") and session.namespace is not None:
        params["NS"] = session.namespace
    if session.auth_level == "database" and session.database is not None:
        params["DB"] = session.database
    return params


def signin_failed(
    url: str, session: SessionConfig, error: AuthenticationError
) -> AuthenticationError:
    """Say who tried to sign in where, for a refused signin or token."""
    if session.token is not None:
        return AuthenticationError(f"authentication to {url} with the given token failed: {error}")
    who = f"{session.auth_level} user {session.user!r}"
    if session.auth_level == "namespace":
        who += f" of namespace {session.namespace!r}"
    elif session.auth_level == "database":
        who += f" of database {session.namespace!r}/{session.database!r}"
    hint = (
        ""
        if session.auth_level == "root"
        else f" (does that {session.auth_level} exist and define the user?)"
    )
    return AuthenticationError(f"signin to {url} as {who} failed: {error}{hint}")


def engine_major_from_version(version: Any) -> int:
    """`surrealdb-2.3.10` -> 2. Unknown text is treated as the newest engine (3)."""
    text = str(version).removeprefix("surrealdb-")
    head = text.split(".", 1)[0]
    return int(head) if head.isdigit() else 3


def unknown_namespace_error(error: SurrealGenError, session: SessionConfig) -> SurrealGenError:
    """Name the namespace/database when the server says one of them does not exist."""
    if isinstance(error, NotFoundError):
        text = error.message.lower()
        if "namespace" in text:
            return NotFoundError(
                f"unknown namespace {session.namespace!r}: {error.message}", kind=error.kind
            )
        if "database" in text:
            return NotFoundError(
                f"unknown database {session.database!r} in namespace {session.namespace!r}: "
                f"{error.message}",
                kind=error.kind,
            )
    return error


@dataclass(frozen=True, slots=True)
class Reply:
    """One decoded message: a reply (`id` set), or a live notification (`id` None)."""

    id: Any
    result: Any
    error: SurrealGenError | None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class Codec:
    """Encodes requests and decodes replies for one connection.

    `engine_major` starts at 3 and is set once `version` has answered; it only changes how
    Python sets are sent (tag 56 on 3.x, arrays on 2.x).
    """

    def __init__(self) -> None:
        self.engine_major = 3
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def request(self, method: str, params: list[Any], request_id: int | None = None) -> bytes:
        envelope: dict[str, Any] = {"method": method, "params": params}
        if request_id is not None:
            envelope["id"] = request_id
        try:
            return cbor.encode(envelope, self.engine_major)
        except (TypeError, ValueError) as exc:
            raise InvalidQueryError(f"cannot send the {method} parameters: {exc}") from None

    def reply(self, data: bytes) -> Reply:
        """Decode one message. Raises `SurrealConnectionError` only for bytes that are not CBOR.

        A message holding a value Python cannot represent (a datetime in year 0, say) becomes
        a failed reply to its own request, so the caller learns why at once.
        """
        try:
            message = cbor.decode(data)
        except cbor.CborError as exc:
            return _undecodable(data, exc)
        if not isinstance(message, Mapping):
            raise SurrealConnectionError(f"the server sent an unexpected message: {message!r}")
        error = message.get("error")
        return Reply(
            id=message.get("id"),
            result=message.get("result"),
            error=error_from_reply(error) if error is not None else None,
        )


def _undecodable(data: bytes, error: cbor.CborError) -> Reply:
    reason = f"{error}: {error.__cause__}" if error.__cause__ is not None else str(error)
    try:
        request_id = cbor.message_id(data)
    except cbor.CborError:
        raise SurrealConnectionError(f"the server sent an unreadable message: {reason}") from error
    failure = SurrealConnectionError(f"the server sent a value this client cannot decode: {reason}")
    return Reply(id=request_id, result=None, error=failure)
