"""The exception hierarchy, and the mapping of SurrealDB error replies onto it.

SurrealDB 2.x replies `{code, message}`; 3.x replies `{code, message, kind, details}` and its
numeric codes changed meaning. `error_from_reply` therefore branches on `kind`/`details` and,
for 2.x, on the message text, never on the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AlreadyExistsError",
    "AuthenticationError",
    "ChangeFeedError",
    "ConfigurationError",
    "CursorExpiredError",
    "DoesNotExist",
    "InvalidQueryError",
    "LiveQueryError",
    "LiveQueryKilled",
    "MultipleObjectsReturned",
    "NotFoundError",
    "PermissionDeniedError",
    "QueryError",
    "ReadOnlyModelError",
    "RequestTimeoutError",
    "RpcError",
    "SurrealConnectionError",
    "SurrealGenError",
    "ValidationFailed",
    "error_from_reply",
    "query_error",
]


class SurrealGenError(Exception):
    """Root of every error surreal-gen raises."""


class ConfigurationError(SurrealGenError):
    """Bad URL scheme, missing connection, or another setup mistake."""


class SurrealConnectionError(SurrealGenError):
    """The server cannot be reached, or the connection dropped."""


class RequestTimeoutError(SurrealConnectionError):
    """No reply within the connection's timeout."""


class AuthenticationError(SurrealGenError):
    """The server refused the credentials or the token."""


class RpcError(SurrealGenError):
    """The server answered a request with an error.

    `kind` is the 3.x error kind (`NotFound`, `AlreadyExists`, `NotAllowed`, `Validation`, ...),
    inferred from the message on 2.x and for 3.x's `Internal`; `code` is informational only.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "Internal",
        code: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.details = details


class NotFoundError(RpcError):
    """Something the request names does not exist (record, table, namespace, method...)."""


class AlreadyExistsError(RpcError):
    """The record (or other resource) already exists."""


class PermissionDeniedError(RpcError):
    """The session is not allowed to do this."""


class QueryError(RpcError):
    """A statement of a `query` returned ERR. `statement` is its 0-based index."""

    def __init__(
        self,
        message: str,
        *,
        statement: int,
        kind: str = "Internal",
        details: Any = None,
    ) -> None:
        super().__init__(f"statement {statement}: {message}", kind=kind, details=details)
        self.message = message
        self.statement = statement


class QueryNotFoundError(QueryError, NotFoundError):
    """A statement failed because something it names does not exist."""


class QueryAlreadyExistsError(QueryError, AlreadyExistsError):
    """A statement failed because the record already exists."""


class QueryPermissionDeniedError(QueryError, PermissionDeniedError):
    """A statement failed because the session is not allowed to run it."""


class ValidationFailed(SurrealGenError):
    """A record read from the database does not fit its model."""

    def __init__(self, record_id: object, field: str | None, message: str) -> None:
        where = f"record {record_id}" + (f" field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")
        self.record_id = record_id
        self.field = field
        self.message = message


class InvalidQueryError(SurrealGenError):
    """A query built from bad input (unknown field or lookup, wrong value type); never sent."""


class ReadOnlyModelError(SurrealGenError):
    """A write to a model of a view (``read_only=True``): refused before anything is sent.
    SurrealDB itself lets a query write to a view's table, and the next write to the tables
    it selects from would overwrite what was written."""


class DoesNotExist(SurrealGenError):
    """`QuerySet.get` found no record."""


class MultipleObjectsReturned(SurrealGenError):
    """`QuerySet.get` found more than one record."""


class LiveQueryError(SurrealGenError):
    """A live query could not be started or kept alive."""


class LiveQueryKilled(LiveQueryError):
    """The server ended the live query (KILL, or the table was removed)."""


class ChangeFeedError(SurrealGenError):
    """A change feed could not be read."""


class CursorExpiredError(ChangeFeedError):
    """The cursor is older than the change feed's retention; changes were lost."""


_KIND_TO_CLASS: dict[str, type[RpcError]] = {
    "NotFound": NotFoundError,
    "AlreadyExists": AlreadyExistsError,
    "NotAllowed": PermissionDeniedError,
}
_KIND_TO_QUERY_CLASS: dict[str, type[QueryError]] = {
    "NotFound": QueryNotFoundError,
    "AlreadyExists": QueryAlreadyExistsError,
    "NotAllowed": QueryPermissionDeniedError,
}

# 2.x carries no kind: infer it from the message. Checked in order; lower-case substrings.
_MESSAGE_KINDS: tuple[tuple[str, str], ...] = (
    ("problem with authentication", "NotAllowed"),
    ("not allowed", "NotAllowed"),
    ("permission", "NotAllowed"),
    ("already exists", "AlreadyExists"),
    ("does not exist", "NotFound"),
    ("not found", "NotFound"),
    ("parse error", "Validation"),
    ("invalid", "Validation"),
)


def _normalized_kind(message: str, kind: Any = None) -> str:
    """The 3.x error kind, taken from the reply or inferred from the message.

    2.x sends no kind; 3.x files some errors 2.x would call NotFound under "Internal"
    (`run` of a missing function), so "Internal" is inferred from the message too.
    """
    if isinstance(kind, str) and kind and kind != "Internal":
        return kind
    lowered = message.lower()
    for needle, inferred in _MESSAGE_KINDS:
        if needle in lowered:
            return inferred
    return "Internal"


# 2.x messages (and 3.x ones without details) that mean "not signed in or bad credentials".
_AUTH_MESSAGES = (
    "problem with authentication",
    "problem with signing up",
    "username or password was not provided",
    "invalidtoken",
    "token has expired",
    "anonymous access not allowed",
)


def _is_auth_failure(details: Any, message: str) -> bool:
    """True when the error means "wrong or missing credentials/token" on either engine.

    3.x says so in `details: {kind: "Auth", details: {kind: ...}}`; its inner kind
    `NotAllowed` is a signed-in user lacking a permission, unless the actor is anonymous.
    """
    lowered = message.lower()
    if isinstance(details, Mapping) and details.get("kind") == "Auth":
        inner = details.get("details")
        inner_kind = inner.get("kind") if isinstance(inner, Mapping) else None
        return inner_kind != "NotAllowed" or "anonymous" in lowered
    return any(needle in lowered for needle in _AUTH_MESSAGES)


def error_from_reply(error: Any) -> SurrealGenError:
    """Turn an RPC `error` member (2.x or 3.x shape, or a bare message) into an exception."""
    if isinstance(error, Mapping):
        message = str(error.get("message", "unknown error"))
        code = error.get("code")
        details = error.get("details")
        kind = _normalized_kind(message, error.get("kind"))
    else:
        message, code, details = str(error), None, None
        kind = _normalized_kind(message)
    if _is_auth_failure(details, message):
        return AuthenticationError(message)
    cls = _KIND_TO_CLASS.get(kind, RpcError)
    return cls(message, kind=kind, code=code if isinstance(code, int) else None, details=details)


def query_error(entry: Mapping[str, Any], statement: int) -> QueryError:
    """The exception for one ERR entry of a `query` result (3.x adds kind/details)."""
    message = str(entry.get("result", "unknown error"))
    kind = _normalized_kind(message, entry.get("kind"))
    cls = _KIND_TO_QUERY_CLASS.get(kind, QueryError)
    return cls(message, statement=statement, kind=kind, details=entry.get("details"))
