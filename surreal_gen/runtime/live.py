"""Live queries: `Model.objects().filter(...).live()`, a stream of typed change events.

The stream runs ``LIVE SELECT [DIFF] * FROM table [WHERE ...]`` on the model's WebSocket
connection (filters become the WHERE clause, values bound as parameters) and turns each
notification into a ``ModelChangeEvent[T]``.

Staying alive (``auto_resubscribe=True``, the default): when the socket drops, the
connection reconnects with backoff, signs in and re-issues ``use`` (runtime.connection);
this stream then re-issues its live query and follows the new id. The server forgets a
socket's live queries, so changes made while the socket was down never arrive as
notifications. When the table has a CHANGEFEED, the stream reads what happened during the
gap from the feed and hands it out as ``backfilled`` events, with duplicates of what was
already delivered removed: no change is lost. (One exception: a record deleted in the gap
that the stream never saw, when the feed holds only its id, cannot be checked against a
filter; a filtered stream leaves that DELETE out.) Without a feed the gap is reported. Either
way every gap is counted in ``gaps`` and passed to ``on_gap``. When the connection gives up
(its retry budget is spent) the error is raised out of ``async for``; it never hangs.

Slow consumers: notifications wait in a buffer of at most ``max_buffer`` items. When it is
full, further notifications are dropped and the stream treats the drop as a gap (recovered
from the change feed when there is one, reported otherwise), so memory stays bounded and
the socket keeps being read.

Memory: in DIFF mode, and when gaps are recovered from a change feed, the stream keeps the
last state of each record in its view (deleted records are forgotten), plus a few recent
states per record changed since the last gap; past 50,000 such records it moves its feed
position on (a checkpoint) and forgets them.

Deduplication after a gap compares record states: a record that changed during the gap and
changed back to a state delivered just before the gap is taken as unchanged.

Order: events come in the order the server sends notifications. The 3.x engine may send
the notifications of separate transactions out of order, even for one record.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from surreal_gen.runtime.changes import (
    ChangeFeedReader,
    ChangeSet,
    FeedInfo,
    change_record_id,
    classify_change,
    passing_filter,
)
from surreal_gen.runtime.errors import (
    ChangeFeedError,
    CursorExpiredError,
    LiveQueryError,
    LiveQueryKilled,
    SurrealConnectionError,
    SurrealGenError,
)
from surreal_gen.runtime.events import LiveAction, ModelChangeEvent, StreamGap, build_event
from surreal_gen.runtime.patch import PatchConflict, PatchResult, apply_diff
from surreal_gen.runtime.signals import post_live_change
from surreal_gen.runtime.types import RecordID, escape_ident

if TYPE_CHECKING:
    from surreal_gen.runtime.connection import Connection, ConnectionEvent, LiveNotifications
    from surreal_gen.runtime.model import BaseSurrealModel
    from surreal_gen.runtime.queryset import QuerySet

__all__ = ["LiveModelStream"]

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound="BaseSurrealModel")
GapCallback = Callable[[StreamGap], object]

_ACTIONS = {action.value: action for action in LiveAction}


@dataclass
class _GapMarker:
    """Queued where the notifications stopped; the consumer recovers the gap when it gets here."""

    reason: str
    reconnect: int
    live_ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: BaseException | None = None
    checkpoint: bool = False
    """Not a gap: the stream moves its feed position on to bound what it remembers."""


@dataclass
class _Failure:
    """Queued when the stream cannot go on; the consumer raises ``error`` when it gets here."""

    error: SurrealConnectionError | LiveQueryError

    def fresh_error(self) -> SurrealConnectionError | LiveQueryError:
        """A new exception like ``error``, caused by it. ``error`` may be shared (the
        connection hands one error to every listener) and raising one object again and
        again would grow its traceback with each raiser's frames."""
        fresh = type(self.error)(str(self.error))
        fresh.__cause__ = self.error
        return fresh


class _Closed:
    """Queued when the stream ends: by ``aclose()``, to wake a consumer waiting in another
    task, or when the connection is closed (its live notifications end); the loop ends."""


class LiveModelStream(Generic[ModelT]):
    """An async context manager and async iterator of ``ModelChangeEvent[T]``.

    ::

        async with ChatMessage.objects().filter(room="general").live() as stream:
            async for event in stream:
                print(event.action, event.instance.text)

    - ``diff=True`` asks for DIFF notifications: ``changed_fields`` holds each changed field
      and its new value, and ``instance`` is still the whole record (the stream keeps the
      last state of each record and applies the patch; a record it has not seen is read).
    - ``reconnects``: how many times the live query was re-issued after a reconnect.
    - ``dropped``: notifications dropped because the buffer was full (each drop is a gap).
    - ``gaps``: every gap so far (``StreamGap``); ``on_gap`` is called with each one.
    - A server-side KILL (or REMOVE TABLE, 3.x) raises LiveQueryKilled out of the loop.
    """

    def __init__(
        self,
        query: QuerySet[ModelT],
        *,
        diff: bool = False,
        auto_resubscribe: bool = True,
        on_gap: GapCallback | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        if max_buffer < 1:
            raise ValueError(f"live(max_buffer={max_buffer}): must be at least 1")
        self.model = query.model
        self.table = self.model.get_table_name()
        self.diff = diff
        self.auto_resubscribe = auto_resubscribe
        self.on_gap = on_gap
        self.max_buffer = max_buffer
        self.reconnects = 0
        self.dropped = 0
        self.gaps: list[StreamGap] = []
        self._query = query
        self._where, self._variables = query._where_clause()
        self._connection: Connection | None = None
        self._subscription: LiveNotifications | None = None
        self._buffer: asyncio.Queue[Mapping[str, Any] | _GapMarker | _Failure | _Closed] = (
            asyncio.Queue()
        )
        self._ready: deque[ModelChangeEvent[ModelT]] = deque()
        self._states: dict[RecordID[str], dict[str, Any] | None] = {}
        self._delivered: dict[RecordID[str], deque[dict[str, Any] | None]] = {}
        self._recent: dict[RecordID[str], tuple[dict[str, Any] | None, list[Any]]] = {}
        self._feed: ChangeFeedReader | None = None
        self._feed_info: FeedInfo | None = None
        self._original = False
        """The feed's INCLUDE ORIGINAL setting at ``_feed_since``: as described when the
        stream started, then as each DEFINE TABLE in the feed (3.x) sets it."""
        self._feed_since: int | None = None
        self._overflowing = False
        self._checkpoint_queued = False
        self._pump: asyncio.Task[None] | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._started = False
        self._entered = False
        self._closed = False
        self._socket_lost = False
        """The live query's socket dropped and no new one is up: the server forgot the query."""

    @property
    def live_id(self) -> uuid.UUID | None:
        """The server's id of the live query now running (it changes on resubscribe)."""
        return self._subscription.live_id if self._subscription is not None else None

    @property
    def gap_free(self) -> bool:
        """Whether gaps are recovered from the table's change feed."""
        return self._feed is not None

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._entered = True
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[ModelChangeEvent[ModelT]]:
        """Inside ``async with`` the block owns the stream: a loop may stop and start again.
        Without it the loop does: leaving it (``break``, ``return``, an error) ends the stream
        and kills the live query, as leaving a loop over an async generator closes it."""
        return self if self._entered else self._owned_by_loop()

    async def _owned_by_loop(self) -> AsyncIterator[ModelChangeEvent[ModelT]]:
        try:
            while True:
                try:
                    event = await self.__anext__()
                except StopAsyncIteration:
                    return
                yield event
        finally:
            await self.aclose()

    async def _start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            await self._subscribe()
        except BaseException:
            await self._shutdown(kill=True)
            raise

    async def _subscribe(self) -> None:
        connection = self._query._connection()
        if not connection.supports_live:
            raise LiveQueryError(
                f"{self.model.__name__}.objects().live() needs a WebSocket connection "
                f"(ws:// or wss://), not {connection.url}"
            )
        await connection.connect()
        self._connection = connection
        self._subscription = connection.live_notifications(await self._issue_live())
        self._remove_listener = connection.add_listener(self._on_connection_event)
        self._pump = asyncio.create_task(self._pump_notifications(self._subscription))
        if self.auto_resubscribe:
            await self._find_feed_position()

    async def aclose(self) -> None:
        """Kill the live query and stop; safe to call twice."""
        await self._shutdown(kill=True)

    async def _shutdown(self, *, kill: bool) -> None:
        """Stop; ``kill=False`` when the connection is gone (a KILL would only wait). No KILL
        either while the socket is down: the server forgot the query with the socket."""
        if self._closed:
            return
        self._closed = True
        self._buffer.put_nowait(_Closed())
        if self._remove_listener is not None:
            self._remove_listener()
        subscription, connection = self._subscription, self._connection
        if subscription is not None:
            subscription.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if kill and not self._socket_lost and subscription is not None and connection is not None:
            with contextlib.suppress(SurrealGenError):
                await connection.query("KILL $id", {"id": subscription.live_id})

    async def _issue_live(self) -> uuid.UUID:
        assert self._connection is not None
        what = "DIFF" if self.diff else "*"
        where = f" WHERE {self._where}" if self._where else ""
        sql = f"LIVE SELECT {what} FROM {escape_ident(self.table)}{where}"
        (live_id,) = await self._connection.query(sql, self._variables)
        if not isinstance(live_id, uuid.UUID):
            raise LiveQueryError(f"LIVE SELECT on {self.table!r} returned {live_id!r}, not an id")
        return live_id

    async def _find_feed_position(self) -> None:
        """Note where the change feed ends now, if the table has one (gaps start there)."""
        assert self._connection is not None
        reader = ChangeFeedReader(self._connection.http_companion(), self.table)
        try:
            self._feed_info = await reader.describe()
            self._original = self._feed_info.original
            self._feed = reader
            self._feed_since = await reader.head()
        except ChangeFeedError:
            self._feed = None
        except SurrealGenError as exc:
            self._feed = None
            logger.warning(
                "live query on %r: cannot read the change feed (%s); gaps will be reported, "
                "not recovered",
                self.table,
                exc,
            )

    # -- receiving -----------------------------------------------------------------------------

    async def _pump_notifications(self, subscription: LiveNotifications) -> None:
        """Move notifications into the bounded buffer; a full buffer becomes a gap."""
        try:
            async for notification in subscription:
                if self._buffer.qsize() < self.max_buffer:
                    self._buffer.put_nowait(notification)
                    continue
                self.dropped += 1
                if not self._overflowing:
                    self._overflowing = True
                    marker = _GapMarker("the consumer fell behind", self.reconnects)
                    marker.live_ready.set()
                    self._buffer.put_nowait(marker)
        except SurrealConnectionError as exc:
            self._buffer.put_nowait(_Failure(exc))
        else:
            self._buffer.put_nowait(_Closed())

    async def _on_connection_event(self, event: ConnectionEvent) -> None:
        if self._closed:
            return
        # A KILL while the socket is down would wait for the reconnect budget to run out.
        self._socket_lost = event.kind != "reconnected"
        if event.kind == "gave_up":
            error = event.error
            if not isinstance(error, SurrealConnectionError):
                error = LiveQueryError(f"the connection gave up reconnecting: {error}")
            self._buffer.put_nowait(_Failure(error))
        elif event.kind == "disconnected" and not self.auto_resubscribe:
            self._buffer.put_nowait(
                _Failure(
                    LiveQueryError(
                        f"live query on {self.table!r} lost its connection "
                        f"(auto_resubscribe is off): {event.error}"
                    )
                )
            )
        elif event.kind == "reconnected" and self.auto_resubscribe:
            await self._resubscribe()

    async def _resubscribe(self) -> None:
        """Re-issue the live query on the new socket; the gap is recovered by the consumer."""
        self.reconnects += 1
        marker = _GapMarker("the connection dropped", self.reconnects)
        self._buffer.put_nowait(marker)
        try:
            new_id = await self._issue_live()
        except SurrealConnectionError:
            pass  # the socket dropped again: the next reconnect re-issues the query
        except SurrealGenError as exc:
            marker.error = exc
        else:
            assert self._subscription is not None
            self._subscription.retarget(new_id)
        marker.live_ready.set()

    async def __anext__(self) -> ModelChangeEvent[ModelT]:
        if self._closed:
            raise StopAsyncIteration
        await self._start()
        while not self._ready:
            item = await self._buffer.get()
            if self._closed:
                raise StopAsyncIteration
            if isinstance(item, _Closed):
                await self._shutdown(kill=False)
                raise StopAsyncIteration
            if isinstance(item, _Failure):
                await self._shutdown(kill=False)
                raise item.fresh_error()
            if isinstance(item, _GapMarker):
                await self._recover(item)
                continue
            event = await self._from_notification(item)
            if event is not None:
                self._ready.append(event)
        event = self._ready.popleft()
        await post_live_change.send(
            self.model,
            instance=event.instance,
            action=event.action,
            record_id=event.record_id,
            changed_fields=event.changed_fields,
            event=event,
        )
        return event

    # -- notifications -------------------------------------------------------------------------

    async def _from_notification(
        self, notification: Mapping[str, Any]
    ) -> ModelChangeEvent[ModelT] | None:
        action_text = notification.get("action")
        if action_text == "KILLED":
            await self.aclose()
            raise LiveQueryKilled(
                f"the server ended the live query on {self.table!r} (KILL, or the table "
                "was removed)"
            )
        action = _ACTIONS.get(str(action_text))
        record_id = notification.get("record")
        if action is None or not isinstance(record_id, RecordID):
            logger.warning("ignoring a live notification without action/record: %r", notification)
            return None
        payload = notification.get("result")
        if self.diff and isinstance(payload, list):
            return await self._from_diff(action, record_id, payload)
        document = payload if isinstance(payload, dict) else None
        if self._is_duplicate(record_id, action, document):
            return None
        return self._record_event(action, record_id, document, payload, changed_fields=None)

    async def _from_diff(
        self, action: LiveAction, record_id: RecordID[str], ops: Sequence[Mapping[str, Any]]
    ) -> ModelChangeEvent[ModelT] | None:
        assert self._connection is not None
        major = self._connection.engine_major
        if action == LiveAction.DELETE:
            if self._is_duplicate(record_id, action, None):
                return None
            before = self._states.get(record_id)
            return self._record_event(action, record_id, before, ops, changed_fields=None)
        if self._diff_is_duplicate(record_id, ops, major):
            return None
        base = self._states.get(record_id)
        try:
            if base is None and action == LiveAction.UPDATE:
                raise PatchConflict("the record's earlier state is unknown")
            result = apply_diff(base, ops, engine_major=major)
        except PatchConflict:
            # Read the record: it is at least as new as this notification.
            current = await self._read_record(record_id)
            result = PatchResult(current, _top_level_keys(ops, current), replaced_root=False)
        document = result.document if isinstance(result.document, dict) else None
        return self._record_event(
            action, record_id, document, ops, changed_fields=result.changed_fields()
        )

    def _record_event(
        self,
        action: LiveAction,
        record_id: RecordID[str],
        document: dict[str, Any] | None,
        raw: Any,
        *,
        changed_fields: dict[str, Any] | None,
        backfilled: bool = False,
    ) -> ModelChangeEvent[ModelT]:
        """Remember the record's new state (needed for DIFF and for gaps) and build its event."""
        state = None if action == LiveAction.DELETE else document
        known = state is not None or action == LiveAction.DELETE  # else: could not be read
        if known and (self.diff or self._feed is not None):
            if state is None:
                self._states.pop(record_id, None)
            else:
                self._states[record_id] = state
        if known and self._feed is not None:
            delivered = self._delivered.setdefault(record_id, deque(maxlen=_DELIVERED_KEPT))
            delivered.append(state)
            if len(self._delivered) > _DELIVERED_RECORDS_MAX and not self._checkpoint_queued:
                self._checkpoint_queued = True
                marker = _GapMarker("checkpoint", self.reconnects, checkpoint=True)
                marker.live_ready.set()
                self._buffer.put_nowait(marker)
        return build_event(
            self.model,
            action,
            record_id,
            document,
            raw,
            changed_fields=changed_fields,
            backfilled=backfilled,
        )

    async def _read_record(self, record_id: RecordID[str]) -> dict[str, Any] | None:
        """The record as stored now; None if it is gone or cannot be read at the moment."""
        assert self._connection is not None
        try:
            (rows,) = await self._connection.query("SELECT * FROM $id", {"id": record_id})
        except SurrealConnectionError as exc:
            logger.warning("live query on %r: cannot read %s: %s", self.table, record_id, exc)
            return None
        return rows[0] if rows else None

    # -- gaps ----------------------------------------------------------------------------------

    async def _recover(self, marker: _GapMarker) -> None:
        """Hand out what happened during a gap from the change feed, or report the gap."""
        await marker.live_ready.wait()
        self._overflowing = False
        if marker.error is not None:
            await self.aclose()
            raise LiveQueryError(
                f"could not re-issue the live query on {self.table!r} after a reconnect: "
                f"{marker.error}"
            ) from marker.error
        if marker.checkpoint:
            self._checkpoint_queued = False
        if self._feed is None or self._feed_since is None or self._feed_info is None:
            self._report_gap(marker, recovered=False, backfilled=0, detail="no change feed")
            return
        try:
            if not marker.checkpoint:
                # The feed may be gone: the table redefined without one, or a server back
                # without its data and schema. Reading an absent feed finds nothing, which
                # would pass for a gap recovered with nothing missed.
                self._feed_info = await self._feed.describe()
            change_sets, head = await self._feed.read_to_head(
                self._feed_since, retention=self._feed_info.retention
            )
            events = await self._backfill(change_sets)
        except CursorExpiredError as exc:
            with contextlib.suppress(SurrealGenError):
                self._feed_since = await self._feed.head()
            self._report_gap(marker, recovered=False, backfilled=0, detail=str(exc))
            return
        except ChangeFeedError as exc:
            # Keep the position: should the feed come back, the next gap reads from it.
            self._report_gap(marker, recovered=False, backfilled=0, detail=f"no change feed: {exc}")
            return
        except SurrealGenError as exc:
            # Keep the position: the next gap's recovery reads this one's changes too.
            detail = f"could not read the change feed: {exc}"
            self._report_gap(marker, recovered=False, backfilled=0, detail=detail)
            return
        self._feed_since = head
        self._ready.extend(events)
        self._report_gap(marker, recovered=True, backfilled=len(events), detail="")

    async def _backfill(self, change_sets: Sequence[ChangeSet]) -> list[ModelChangeEvent[ModelT]]:
        """Events for the feed's changes that this stream has not delivered yet."""
        assert self._connection is not None
        changes: list[tuple[Mapping[str, Any], bool]] = []  # with the setting of their time
        for change_set in change_sets:
            if change_set.original is not None:
                self._original = change_set.original
            changes += [(change, self._original) for change in change_set.changes]
        documents = [classify_change(change, original=False)[1] for change, _ in changes]
        passing = await passing_filter(self._connection, self._where, self._variables, documents)
        history: dict[RecordID[str], list[tuple[Mapping[str, Any], dict[str, Any] | None]]] = {}
        in_feed_order: list[
            tuple[RecordID[str], Mapping[str, Any], dict[str, Any] | None, bool]
        ] = []
        for (change, original), document, keep in zip(changes, documents, passing, strict=True):
            record_id = change_record_id(change)
            if record_id is not None and (keep or "delete" in change):
                state = None if "delete" in change else dict(document or {})
                history.setdefault(record_id, []).append((change, state))
                in_feed_order.append((record_id, change, state, original))
        self._recent = {
            record_id: (self._states.get(record_id), [state for _, state in steps])
            for record_id, steps in history.items()
        }
        missed = {
            id(change)
            for record_id, steps in history.items()
            for change, _ in _undelivered(steps, self._delivered.get(record_id))
        }
        self._delivered.clear()
        # Handed out in the feed's order (commit order), not grouped by record.
        events: list[ModelChangeEvent[ModelT]] = []
        for record_id, change, state, original in in_feed_order:
            if id(change) in missed:
                event = self._backfilled_event(record_id, change, state, original)
                if event is not None:
                    events.append(event)
        return events

    def _backfilled_event(
        self,
        record_id: RecordID[str],
        change: Mapping[str, Any],
        state: dict[str, Any] | None,
        original: bool,
    ) -> ModelChangeEvent[ModelT] | None:
        action, _ = classify_change(change, original=original)
        if action == LiveAction.DELETE:
            before = self._states.get(record_id)
            if before is None and self._where:
                # Never seen whole: whether it matched the filter cannot be told.
                return None
            return self._record_event(
                action, record_id, before, change, changed_fields=None, backfilled=True
            )
        changed = _changed_fields(self._states.get(record_id), state) if self.diff else None
        return self._record_event(
            action, record_id, state, change, changed_fields=changed, backfilled=True
        )

    def _is_duplicate(
        self, record_id: RecordID[str], action: LiveAction, document: dict[str, Any] | None
    ) -> bool:
        """After a backfill: is this notification one the feed already handed out?"""
        recent = self._recent.get(record_id)
        if recent is None:
            return False
        state = None if action == LiveAction.DELETE else document
        if state in recent[1]:
            return True
        del self._recent[record_id]
        return False

    def _diff_is_duplicate(
        self, record_id: RecordID[str], ops: Sequence[Mapping[str, Any]], major: int
    ) -> bool:
        """A DIFF notification is a duplicate if it turns one backfilled state into the next."""
        recent = self._recent.get(record_id)
        if recent is None:
            return False
        before_gap, states = recent
        for before, after in itertools.pairwise([before_gap, *states]):
            with contextlib.suppress(PatchConflict):
                if (
                    after is not None
                    and apply_diff(before, ops, engine_major=major).document == after
                ):
                    return True
        del self._recent[record_id]
        return False

    def _report_gap(
        self, marker: _GapMarker, *, recovered: bool, backfilled: int, detail: str
    ) -> None:
        if marker.checkpoint:
            return  # nothing was missed: only the feed position moved (or could not)
        reason = marker.reason + (f": {detail}" if detail else "")
        gap = StreamGap(marker.reconnect, recovered, backfilled, reason)
        self.gaps.append(gap)
        if not recovered:
            logger.warning("live query on %r may have missed changes: %s", self.table, reason)
        if self.on_gap is not None:
            try:
                self.on_gap(gap)
            except Exception:
                logger.exception("on_gap callback failed for %r", gap)


_DELIVERED_KEPT = 8
"""Recent states kept per record to match a gap's feed entries against (out-of-order safe)."""
_DELIVERED_RECORDS_MAX = 50_000
"""Records remembered between gaps before the stream moves its feed position on."""


def _undelivered(
    steps: list[tuple[Mapping[str, Any], dict[str, Any] | None]],
    delivered: deque[dict[str, Any] | None] | None,
) -> list[tuple[Mapping[str, Any], dict[str, Any] | None]]:
    """The steps after the latest one whose state was delivered since the last gap.

    Notifications can arrive out of order, so any recently delivered state counts, not
    only the last one.
    """
    if not delivered:
        return steps
    for index in range(len(steps) - 1, -1, -1):
        if steps[index][1] in delivered:
            return steps[index + 1 :]
    return steps


def _changed_fields(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, Any] | None:
    if after is None:
        return None
    before = before or {}
    keys = sorted(set(before) | set(after))
    return {key: after.get(key) for key in keys if before.get(key) != after.get(key)}


def _top_level_keys(ops: Sequence[Mapping[str, Any]], document: Any) -> frozenset[str]:
    """Best-effort top-level keys of ops whose paths could not be applied (for changed_fields)."""
    keys: set[str] = set()
    for op in ops:
        path = op.get("path")
        if isinstance(path, str) and path.strip("/"):
            first = path.lstrip("/").split("/", 1)[0].strip("`")
            if isinstance(document, dict) and first in document:
                keys.add(first)
    return frozenset(keys)
