"""Change feeds: `Model.objects().changes(...)`, a resumable stream of typed change events.

How the feed is read (facts in the project's SurrealDB notes, §5):

- Each poll is one ``SHOW CHANGES FOR DATABASE SINCE <int> LIMIT n`` request, filtered to
  the table here. ``LIMIT`` counts raw entries across the whole database, so a per-table
  query can come back short or empty while more changes exist; scanning the database feed
  tells exactly how far a page reached, so the cursor always moves on.
- ``SINCE`` is inclusive and takes only a literal. It is written as an integer built with
  ``int()``, never quoted. 2.x prints versionstamps as ``counter << 16`` but wants the
  counter, so the next ``SINCE`` is ``(vs >> 16) + 1`` on 2.x and ``vs + 1`` on 3.x.
- Over a WebSocket connection the feed is read over HTTP (the connection's HTTP companion);
  ``mem://`` and ``surrealkv://`` read the embedded engine.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from surreal_gen.runtime.errors import (
    ChangeFeedError,
    CursorExpiredError,
    QueryError,
    SurrealConnectionError,
)
from surreal_gen.runtime.events import LiveAction, ModelChangeEvent, build_events
from surreal_gen.runtime.types import Duration, RecordID, escape_ident

if TYPE_CHECKING:
    from surreal_gen.runtime.connection import Connection
    from surreal_gen.runtime.model import BaseSurrealModel
    from surreal_gen.runtime.queryset import QuerySet

__all__ = [
    "ChangeFeedReader",
    "ChangeFeedStream",
    "ChangeSet",
    "FeedInfo",
    "change_record_id",
    "classify_change",
    "parse_since",
    "passing_filter",
]

ModelT = TypeVar("ModelT", bound="BaseSurrealModel")
R = TypeVar("R")

MAX_PAGE = 1000
"""The engine's cap on ``SHOW CHANGES ... LIMIT``."""
MAX_SINCE = 2**64 - 1
_BATCH_CHANGES = 100
"""Changes validated in one pass. A whole page (up to 1,000 change sets) at once kept so
many objects alive that garbage collection cost more than the fewer calls saved."""
_DB_FEED = re.compile(r"\bCHANGEFEED\s+(\S+)(\s+INCLUDE\s+ORIGINAL)?", re.IGNORECASE)
_NO_STAMP_YET = "no versionstamp associated"
_INDEX_KEY = "__surreal_gen_index"


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What the database says about a table's feed.

    ``original`` is True with INCLUDE ORIGINAL (then creates and updates can be told apart);
    ``retention`` is the longest feed duration in the database, which is what the engine's
    garbage collector keeps for every table.
    """

    original: bool
    retention: Duration | None


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """One versionstamp's changes to the table (possibly none: the set is another table's).

    ``next_since`` is the ``SINCE`` value that resumes strictly after this set;
    ``record_ids[i]`` is the record ``changes[i]`` is about. ``original`` is the table's
    INCLUDE ORIGINAL setting when the set (re)defines the table's feed (3.x writes DEFINE
    TABLE into the feed with its settings; 2.x only the name), else None.
    """

    versionstamp: int
    next_since: int
    changes: tuple[Mapping[str, Any], ...]
    record_ids: tuple[RecordID[str], ...]
    original: bool | None = None


class ChangeFeedReader:
    """Reads one table's change feed, page by page, through a connection."""

    def __init__(self, connection: Connection, table: str) -> None:
        self.connection = connection
        self.table = table

    @property
    def engine_major(self) -> int:
        return self.connection.engine_major

    async def describe(self) -> FeedInfo:
        """The table's feed settings; a ChangeFeedError when the table has no change feed."""
        (db_info,) = await self.connection.query("INFO FOR DB STRUCTURE")
        retention: Duration | None = None
        own_feed: Mapping[str, Any] | None = None
        for table in db_info.get("tables", []):
            feed = table.get("changefeed")
            if not feed:
                continue
            retention = _longest(retention, _duration(feed.get("expiry")))
            if table.get("name") == self.table:
                own_feed = feed
        database_feed = await self._database_feed()
        if database_feed is not None:
            retention = _longest(retention, database_feed.retention)
        if own_feed is not None:
            return FeedInfo(bool(own_feed.get("original")), retention)
        if database_feed is not None:
            return FeedInfo(database_feed.original, retention)
        raise ChangeFeedError(
            f"table {self.table!r} has no change feed; define one, e.g. "
            f"`DEFINE TABLE OVERWRITE {escape_ident(self.table)} ... CHANGEFEED 1d` "
            "(add INCLUDE ORIGINAL to tell creates from updates)"
        )

    async def _database_feed(self) -> FeedInfo | None:
        """The database-wide feed from its DEFINE DATABASE text, if this user may read it."""
        try:
            ns_info, database = await self.connection.query("INFO FOR NS; RETURN session::db()")
        except QueryError:
            return None
        definition = ns_info.get("databases", {}).get(database, "")
        match = _DB_FEED.search(definition) if isinstance(definition, str) else None
        if match is None:
            return None
        return FeedInfo(match.group(2) is not None, Duration.parse(match.group(1)))

    async def read(self, since: int | datetime, limit: int) -> tuple[list[ChangeSet], int | None]:
        """The change sets from ``since`` (about ``limit`` raw entries), and the oldest
        ``SINCE`` value the feed still holds (None when the feed is empty).

        The oldest entry is read in the same request, to check a cursor against retention.
        ``LIMIT`` counts one entry per table per versionstamp, so on 3.x (one versionstamp
        per transaction) it can end a page inside a change set, before this table's part.
        Each entry holds at least one change, so a page with fewer changes than ``limit``
        is whole; otherwise its last set is left to the next read, and a page of that one
        set alone is read again with a larger limit (at ``MAX_PAGE`` it is taken as is).
        """
        sql = (
            "SHOW CHANGES FOR DATABASE SINCE 0 LIMIT 1; "
            f"SHOW CHANGES FOR DATABASE SINCE {_since_literal(since)} LIMIT {int(limit)}"
        )
        oldest, page = await self.connection.query(sql)
        oldest_since = self.since_at(oldest[0]["versionstamp"]) if oldest else None
        if sum(len(entry.get("changes", [])) for entry in page) >= limit:
            if len(page) > 1:
                page = page[:-1]
            elif limit < MAX_PAGE:
                return await self.read(since, min(2 * limit, MAX_PAGE))
        return [self._change_set(entry) for entry in page], oldest_since

    async def read_to_head(
        self, since: int, *, retention: Duration | None
    ) -> tuple[list[ChangeSet], int]:
        """Every change set from the exact cursor ``since`` to the end of the feed, and the
        ``SINCE`` after them; CursorExpiredError if changes after ``since`` may have expired.
        """
        change_sets: list[ChangeSet] = []
        while True:
            page, oldest = await self.read(since, MAX_PAGE)
            _check_not_expired(since, oldest, retention)
            if not page:
                return change_sets, since
            change_sets.extend(page)
            since = page[-1].next_since

    async def head(self, start: int = 0) -> int:
        """The ``SINCE`` just after the last entry of the feed now, scanning from ``start``
        (or a later point that is cheap to find)."""
        since = max(await self._head_hint(), start)
        while True:
            page, _ = await self.read(since, MAX_PAGE)
            if not page:
                return since
            since = page[-1].next_since

    async def _head_hint(self) -> int:
        """A ``SINCE`` at or a little before the current end of the feed, cheap to find.

        3.x versionstamps carry the commit time (``unix_ms << 16``), so two seconds before the
        server's clock is close to the end; 2.x stamps are counters, so it is 0 there.
        """
        if self.engine_major < 3:
            return 0
        (now,) = await self.connection.query("RETURN time::millis(time::now()) - 2000")
        return max(int(now), 0) << 16

    def since_at(self, versionstamp: int) -> int:
        """The ``SINCE`` value that starts at (includes) this versionstamp."""
        return versionstamp >> 16 if self.engine_major < 3 else versionstamp

    def since_after(self, versionstamp: int) -> int:
        """The ``SINCE`` value that resumes strictly after this versionstamp."""
        return self.since_at(versionstamp) + 1

    def _change_set(self, entry: Mapping[str, Any]) -> ChangeSet:
        versionstamp = int(entry["versionstamp"])
        changes = []
        record_ids = []
        original: bool | None = None
        for change in entry.get("changes", []):
            definition = change.get("define_table")
            if isinstance(definition, _MAPPINGS) and definition.get("name") == self.table:
                feed = definition.get("changefeed")
                if isinstance(feed, _MAPPINGS):
                    original = bool(feed.get("original"))
            record_id = change_record_id(change)
            if record_id is not None and record_id.table == self.table:
                changes.append(change)
                record_ids.append(record_id)
        return ChangeSet(
            versionstamp,
            self.since_after(versionstamp),
            tuple(changes),
            tuple(record_ids),
            original,
        )


def change_record_id(change: Mapping[str, Any]) -> RecordID[str] | None:
    """The record a feed entry is about; None for entries that are not record changes."""
    if "delete" in change:
        body = change["delete"]
    elif "current" in change:
        body = change["current"]
    elif "update" in change:
        body = change["update"]
    else:
        return None
    record_id = body.get("id") if isinstance(body, _MAPPINGS) else None
    return record_id if isinstance(record_id, RecordID) else None


_MAPPINGS = (dict, Mapping)
"""Decoded maps are dicts: checked first, they skip the slower abstract-class check."""


def classify_change(
    change: Mapping[str, Any], *, original: bool
) -> tuple[LiveAction, Mapping[str, Any] | None]:
    """The action and record data of one feed entry of a record change.

    SurrealDB writes ``{update: record}`` for creates and updates alike. With INCLUDE
    ORIGINAL an update is written as ``{current: record, update: <ops back to the previous
    version>}`` instead, so a plain ``{update: record}`` can only be a create: that is how
    CREATE is told from UPDATE. Without INCLUDE ORIGINAL nothing tells them apart and every
    write is an UPDATE. ``{delete: {id}}`` is a DELETE; 3.2+ adds ``original`` (the record
    as it was) with INCLUDE ORIGINAL, otherwise only the id is known (data None).
    """
    if "delete" in change:
        body = change["delete"]
        before = body.get("original")
        return LiveAction.DELETE, before if isinstance(before, Mapping) else None
    if "current" in change:
        return LiveAction.UPDATE, change["current"]
    return (LiveAction.CREATE if original else LiveAction.UPDATE), change["update"]


def parse_since(since: int | str | date | datetime | None) -> int | datetime:
    """Check a ``since`` argument: an integer cursor, or a date/datetime (or ISO text of one).

    None means 0: everything the feed still holds. Naive datetimes are taken as UTC.
    """
    if since is None:
        return 0
    if isinstance(since, bool):
        raise TypeError(f"changes(since={since!r}): expected an int cursor or a datetime")
    if isinstance(since, int):
        if not 0 <= since <= MAX_SINCE:
            raise ValueError(f"changes(since={since}): a cursor is an integer from 0 to 2**64-1")
        return since
    if isinstance(since, str):
        if since.strip().isdigit():
            raise ValueError(
                f"changes(since={since!r}): pass a cursor as an int, not text "
                f"(since={since.strip()})"
            )
        try:
            since = datetime.fromisoformat(since)
        except ValueError:
            raise ValueError(
                f"changes(since={since!r}): not an ISO date or datetime (e.g. '2026-01-01')"
            ) from None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day, tzinfo=UTC)
    raise TypeError(f"changes(since={since!r}): expected an int cursor or a datetime")


@dataclass(frozen=True, slots=True)
class _Page:
    """One read of the feed: its change sets, the oldest ``SINCE`` kept, and when it came."""

    change_sets: list[ChangeSet]
    oldest: int | None
    read_at: float


_Batch = tuple[list[ModelChangeEvent[ModelT]], list[int | None]]


class ChangeFeedStream(Generic[ModelT]):
    """An async iterator of ``ModelChangeEvent[T]`` from a table's change feed.

    ``cursor`` is the integer to pass as ``since`` to resume: after each event is handed
    to you it already counts that event, so save it once you have handled the event and a
    restart neither repeats nor skips it::

        stream = Model.objects().changes(since=load_checkpoint())
        async for event in stream:
            handle(event)
            save_checkpoint(stream.cursor)

    The unit of resumption is a change set (one versionstamp: a transaction on 3.x, one
    table's part of it on 2.x). When a set holds several changes to the table, the cursor
    moves past the set with its last change; a checkpoint taken in the middle of a set
    replays the set's earlier changes.

    - ``since``: an ``int`` cursor (0, the default, is "everything the feed still holds"),
      or a ``datetime``/``date``/ISO string. Datetimes are coarse: on 3.x they become the
      versionstamp of that millisecond; on 2.x the engine rounds to the second and may
      start earlier (it fails until its first feed cleanup, so reading starts from 0).
      Use integer cursors to resume exactly.
    - A cursor older than what the feed keeps (``retention``, the longest feed duration in
      the database) raises CursorExpiredError rather than silently skipping changes.
    - Pages (``batch_size``, at most 1000 raw entries) are read back to back until one is
      empty (a short page is not the end); then the stream sleeps ``poll_interval``
      seconds. With ``until_caught_up`` the stream stops instead, at the latest once it
      has passed the end the feed had when the stream started (changes arriving while it
      reads do not keep it going). The next page is requested as soon as a page arrives,
      so the server reads it while you handle this one.
    - Connection errors are retried ``retries`` times with exponential backoff, then raised
      as ChangeFeedError.
    - Filters on the QuerySet are evaluated by the database against each changed record.
      A DELETE known only by its id cannot be checked and is always passed on.
    """

    def __init__(
        self,
        query: QuerySet[ModelT],
        *,
        since: int | str | date | datetime | None = None,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        until_caught_up: bool = False,
        retries: int = 5,
    ) -> None:
        start = parse_since(since)
        if not 1 <= batch_size <= MAX_PAGE:
            raise ValueError(f"changes(batch_size={batch_size}): must be from 1 to {MAX_PAGE}")
        if poll_interval <= 0:
            raise ValueError(f"changes(poll_interval={poll_interval}): must be positive")
        if retries < 0:
            raise ValueError(f"changes(retries={retries}): must be 0 or more")
        self.model = query.model
        self._query = query
        self._start = start
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.until_caught_up = until_caught_up
        self.retries = retries
        self._cursor: int | None = start if isinstance(start, int) else None
        self._batches: AsyncGenerator[_Batch[ModelT]] | None = None
        self._ready: deque[ModelChangeEvent[ModelT]] = deque()
        self._cursors: deque[int | None] = deque()
        """The cursor after each ready event: None where it does not move."""
        self._original = False
        """The feed's INCLUDE ORIGINAL setting for the changes being read."""

    @property
    def cursor(self) -> int | None:
        """The ``since`` value that resumes after the last event handed out.

        None only before the first event of a stream started from a datetime on 2.x.
        """
        return self._cursor

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ModelChangeEvent[ModelT]:
        while not self._ready:
            if self._batches is None:
                self._batches = self._read_batches()
            events, cursors = await self._batches.__anext__()
            self._ready.extend(events)
            self._cursors.extend(cursors)
        cursor = self._cursors.popleft()
        if cursor is not None:
            self._cursor = cursor
        return self._ready.popleft()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading; the cursor keeps its value."""
        batches, self._batches = self._batches, _closed()
        self._ready.clear()
        self._cursors.clear()
        if batches is not None:
            await batches.aclose()

    async def _read_batches(self) -> AsyncGenerator[_Batch[ModelT]]:
        """The events of each page, about ``_BATCH_CHANGES`` at a time, with the cursor
        after each.

        While a page's events are consumed, the next page is already being read: the
        request goes out as soon as the page it follows has arrived.
        """
        connection = _feed_connection(self._query._connection())
        reader = ChangeFeedReader(connection, self.model.get_table_name())
        await self._retrying(connection.connect)
        info = await self._retrying(reader.describe)
        self._original = info.original
        since: int | datetime = self._start
        if isinstance(since, datetime) and reader.engine_major >= 3:
            since = max(int(since.timestamp() * 1000), 0) << 16  # before 1970: from 0
            self._cursor = since
        check_expiry = isinstance(self._start, int)
        # "Caught up" is the end of the feed when the stream starts: writes that keep coming
        # must not keep the stream going.
        stop_at: int | None = None
        if self.until_caught_up:
            start = since if isinstance(since, int) else 0
            stop_at = await self._retrying(reader.head, start)
        ahead: asyncio.Task[_Page] | None = None
        try:
            while True:
                try:
                    if ahead is None:
                        page = await self._read_page(reader, since)
                    else:
                        page, ahead = await ahead, None
                except QueryError as exc:
                    if isinstance(since, datetime) and _NO_STAMP_YET in exc.message:
                        since = 0
                        continue
                    raise
                if check_expiry and isinstance(since, int):
                    _check_not_expired(since, page.oldest, info.retention)
                if not page.change_sets:
                    if self.until_caught_up:
                        return
                    await asyncio.sleep(self.poll_interval)
                    since_read = time.monotonic() - page.read_at
                    check_expiry = _may_have_expired(since_read, info.retention)
                    continue
                check_expiry = True
                since = page.change_sets[-1].next_since
                caught_up = stop_at is not None and since >= stop_at
                if not caught_up:
                    ahead = asyncio.ensure_future(self._read_page(reader, since))
                pending = deque(await self._retrying(self._kept, connection, page.change_sets))
                del page  # from here on a change set lives only until its batch is handed out
                while pending:
                    # The consumer may never wait on anything: give the read ahead a turn.
                    await asyncio.sleep(0)
                    batch = self._batch(_take(pending, _BATCH_CHANGES))
                    if batch[0]:
                        yield batch
                if caught_up:
                    return
        finally:
            if ahead is not None:
                await _discard(ahead)

    async def _read_page(self, reader: ChangeFeedReader, since: int | datetime) -> _Page:
        change_sets, oldest = await self._retrying(reader.read, since, self.batch_size)
        return _Page(change_sets, oldest, time.monotonic())

    def _batch(self, change_sets: Sequence[ChangeSet]) -> _Batch[ModelT]:
        """Typed events of change sets, each with the cursor that counts it (None: unchanged).

        The cursor moves past a change set with its last event; sets with no event of
        this table move it with the event before them, or at once when none came before.
        Changes are classified by the feed's INCLUDE ORIGINAL setting of their time: the
        table's description when the stream started, then each redefinition in the feed.
        """
        actions: list[LiveAction] = []
        record_ids: list[RecordID[str]] = []
        documents: list[Mapping[str, Any] | None] = []
        raws: list[Mapping[str, Any]] = []
        stamps: list[int | None] = []
        cursors: list[int | None] = []
        for change_set in change_sets:
            versionstamp = change_set.versionstamp
            if change_set.original is not None:
                self._original = change_set.original
            for record_id, change in zip(change_set.record_ids, change_set.changes, strict=True):
                action, data = classify_change(change, original=self._original)
                actions.append(action)
                record_ids.append(record_id)
                documents.append(data)
                raws.append(change)
                stamps.append(versionstamp)
                cursors.append(None)
            if cursors:
                cursors[-1] = change_set.next_since
            else:
                self._cursor = change_set.next_since
        events = build_events(self.model, actions, record_ids, documents, raws, stamps)
        return events, cursors

    async def _kept(self, connection: Connection, change_sets: list[ChangeSet]) -> list[ChangeSet]:
        """The change sets with only the changes the QuerySet's filter keeps (one query per
        page; the sets themselves when there is no filter)."""
        where, variables = self._query._where_clause()
        if not where:
            return change_sets
        changes = [change for change_set in change_sets for change in change_set.changes]
        documents = [classify_change(change, original=False)[1] for change in changes]
        keep = iter(await passing_filter(connection, where, variables, documents))
        kept = []
        for change_set in change_sets:
            pairs = [
                pair
                for pair in zip(change_set.record_ids, change_set.changes, strict=True)
                if next(keep)
            ]
            kept.append(
                ChangeSet(
                    change_set.versionstamp,
                    change_set.next_since,
                    tuple(change for _, change in pairs),
                    tuple(record_id for record_id, _ in pairs),
                    change_set.original,
                )
            )
        return kept

    async def _retrying(self, request: Callable[..., Awaitable[R]], *args: Any) -> R:
        """Run ``request(*args)``, retrying connection errors with exponential backoff."""
        for attempt in range(self.retries + 1):
            try:
                return await request(*args)
            except SurrealConnectionError as exc:
                if attempt == self.retries:
                    raise ChangeFeedError(
                        f"change feed of {self.model.__name__}: gave up after "
                        f"{self.retries + 1} attempts: {exc}"
                    ) from exc
                await asyncio.sleep(min(0.1 * 2**attempt, 5.0))
        raise AssertionError("unreachable")


async def passing_filter(
    connection: Connection,
    where: str,
    variables: Mapping[str, Any],
    documents: Sequence[Mapping[str, Any] | None],
) -> list[bool]:
    """Whether each document satisfies the condition ``where``, judged by the database.

    The documents are versions of records taken from a change feed, so the condition is
    evaluated against them (``SELECT ... FROM $docs``), not against the stored records.
    A None document (a deletion known only by its id) cannot be judged and passes.
    """
    if not where:
        return [True] * len(documents)
    indexed = [
        {**document, _INDEX_KEY: index}
        for index, document in enumerate(documents)
        if document is not None
    ]
    passing: set[int] = set()
    if indexed:
        sql = f"SELECT VALUE {_INDEX_KEY} FROM $__documents WHERE {where}"
        (found,) = await connection.query(sql, {**variables, "__documents": indexed})
        passing = set(found)
    return [document is None or index in passing for index, document in enumerate(documents)]


def _check_not_expired(since: int, oldest: int | None, retention: Duration | None) -> None:
    """Raise when the feed's oldest change is after the cursor: what lay between is gone."""
    if oldest is None or oldest <= since or since == 0:
        return
    kept = f" (the feed keeps {retention})" if retention is not None else ""
    raise CursorExpiredError(
        f"change-feed cursor {since} is older than the oldest change still kept ({oldest})"
        f"{kept}; changes in between may have expired. Resume from since=0 to read what is kept"
    )


def _may_have_expired(since_last_read: float, retention: Duration | None) -> bool:
    """Whether changes could have come and expired since a read that found nothing new.

    A change made after that read stays in the feed for ``retention``; only a pause that
    long could let one expire unseen.
    """
    if retention is None:
        return True
    return since_last_read >= retention.to_timedelta().total_seconds()


def _since_literal(since: int | datetime) -> str:
    """``SINCE`` accepts only a literal: an integer, or ``d'...'`` for a datetime."""
    if isinstance(since, datetime):
        return "d'" + since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "'"
    value = int(since)
    if not 0 <= value <= MAX_SINCE:
        raise ValueError(f"change-feed cursor {value} is out of range")
    return str(value)


def _duration(value: Any) -> Duration | None:
    if isinstance(value, Duration):
        return value
    if isinstance(value, str):
        return Duration.parse(value)
    return None


def _longest(current: Duration | None, other: Duration | None) -> Duration | None:
    if current is None:
        return other
    if other is None:
        return current
    return max(current, other)


def _feed_connection(connection: Connection) -> Connection:
    """The connection to poll with: the HTTP companion of a WebSocket connection."""
    return connection.http_companion()


def _take(pending: deque[ChangeSet], size: int) -> list[ChangeSet]:
    """Take change sets from the left of ``pending`` until they hold ``size`` changes or
    none are left."""
    taken = []
    count = 0
    while pending and count < size:
        change_set = pending.popleft()
        taken.append(change_set)
        count += len(change_set.changes)
    return taken


async def _discard(task: asyncio.Task[Any]) -> None:
    """Cancel a read whose page nobody will take, and wait for it; its outcome is dropped."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved


async def _closed() -> AsyncGenerator[Any]:
    return
    yield
