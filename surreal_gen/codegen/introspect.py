"""Read a database's schema into the IR: ``INFO FOR DB STRUCTURE``, then one
``INFO FOR TABLE t STRUCTURE`` per table (a few tables per request, four requests at a time,
each reply turned into IR while the engine answers the next), normalised across SurrealDB
2.x and 3.x (surrealdb-notes.md sections 1.5 and 6).

The database is the authority: ``.surql`` files are applied to a fresh embedded engine and
read back exactly like a live server. We never parse DEFINE statements; we only split a file
on top-level ``;`` to say where a failing statement starts.
"""

from __future__ import annotations

import asyncio
import bisect
import codecs
import dataclasses
import fnmatch
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from surreal_gen.codegen.heap import blocks_merged_as_freed
from surreal_gen.codegen.ir import (
    ELEMENT,
    Changefeed,
    Event,
    Field,
    Index,
    Schema,
    Table,
    TableType,
    join_path,
    split_path,
)
from surreal_gen.codegen.kinds import (
    AnyKind,
    Kind,
    KindSyntaxError,
    Option,
    Scalar,
    Union,
    parse_kind,
    parse_kind_lenient,
)
from surreal_gen.runtime.connection import Connection, ConnectionConfig, surrealkv_path
from surreal_gen.runtime.errors import RpcError, SurrealGenError
from surreal_gen.runtime.types import Duration, escape_ident


class QueryRunner(Protocol):
    """What the introspector needs from a connection (runtime ``Connection`` provides it)."""

    async def query(self, sql: str, vars: dict[str, Any] | None = None) -> list[Any]: ...

    async def rpc(self, method: str, params: list[Any]) -> Any: ...


@dataclass(frozen=True, repr=False)
class Introspection:
    """The schema read from a database, and the warnings about kinds we could not read."""

    schema: Schema
    warnings: tuple[str, ...]

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run() formats the repr of its task's result (CPython
        # 3.11 signal handling), which for a full schema took half a second.
        tables, warnings = len(self.schema.tables), len(self.warnings)
        return f"<Introspection {tables} tables, {warnings} warnings>"


class SchemaSourceError(Exception):
    """A schema source the user gave us is wrong; the message is one line, ready to print."""


@dataclass(frozen=True)
class TableFilter:
    """``--include`` / ``--exclude`` globs over table names."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def accepts(self, name: str) -> bool:
        """True when ``name`` matches an include glob (or there are none) and no exclude glob."""
        if self.include and not any(fnmatch.fnmatchcase(name, g) for g in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, g) for g in self.exclude)


class TableSink(Protocol):
    """Takes the tables as they are read, in schema order (``emit.PackageRenderer`` renders
    each one while the engine answers the next request)."""

    def expect(self, table_names: Sequence[str]) -> None: ...

    def add(self, table: Table) -> None: ...


async def introspect(
    runner: QueryRunner,
    *,
    strict: bool = False,
    tables: TableFilter = TableFilter(),
    sink: TableSink | None = None,
) -> Introspection:
    """Read every (non-DROP) table accepted by ``tables`` into a ``Schema``; ``sink`` gets
    the table names first, then each table as soon as it is read."""
    version = str(await runner.rpc("version", []))
    [db_info] = await runner.query("INFO FOR DB STRUCTURE")
    entries = sorted(
        (t for t in db_info["tables"] if not t.get("drop") and tables.accepts(str(t["name"]))),
        key=lambda t: str(t["name"]),
    )
    batches = [entries[i : i + TABLES_PER_QUERY] for i in range(0, len(entries), TABLES_PER_QUERY)]
    in_flight = asyncio.Semaphore(REQUESTS_IN_FLIGHT)
    replies = deque(
        asyncio.ensure_future(_table_infos(runner, batch, in_flight)) for batch in batches
    )
    built: list[Table] = []
    reader = _Reader(strict)
    try:
        if sink is not None:
            # The first requests go out first (a turn of the loop), so the engine answers
            # them while the sink names the tables and reserves their files (16-28 ms).
            await asyncio.sleep(0)
            sink.expect([str(entry["name"]) for entry in entries])
        for batch in batches:
            for entry, info in zip(batch, await replies[0], strict=True):
                built.append(reader.table(entry, info))
                if sink is not None:
                    sink.add(built[-1])
            # Drop the finished request, and with it its decoded reply: kept until the end,
            # the replies of 1,000 tables came to 50 MB.
            replies.popleft()
    finally:
        for reply in replies:
            reply.cancel()
        await asyncio.gather(*replies, return_exceptions=True)
    return Introspection(
        Schema(tables=tuple(built), engine_version=version), tuple(reader.warnings)
    )


TABLES_PER_QUERY = 10
"""``INFO FOR TABLE`` statements per request. The 2.x engine answers one query of 1,000 such
statements two to three times slower than 100 queries of 10."""
REQUESTS_IN_FLIGHT = 4
"""Requests sent at a time: the engine answers them on its own threads while the replies
before them are turned into IR. Its store hands each read to a thread pool and waits, so
one request keeps a core only partly busy: the 2.x engine alone answered 1,000 tables in
0.33-0.36 s with four requests of 10 in flight, 0.43-0.62 s with two of 25."""


async def _table_infos(
    runner: QueryRunner, entries: list[dict[str, Any]], in_flight: asyncio.Semaphore
) -> list[dict[str, Any]]:
    """``INFO FOR TABLE`` of each of ``entries``, in one request."""
    statements = ";\n".join(
        f"INFO FOR TABLE {escape_ident(str(entry['name']))} STRUCTURE" for entry in entries
    )
    async with in_flight:
        return await runner.query(statements)


_TABLE_TYPES: dict[str, TableType] = {"NORMAL": "normal", "RELATION": "relation", "ANY": "any"}


class _Reader:
    """Turns the INFO replies of one introspection into IR, collecting the warnings.

    Each field definition is read once: tables of a large schema repeat them (``created_at``,
    ``owner``, ``name``), and a ``Field`` is immutable, so the tables share it. For the
    benchmark's 1,000 tables (which repeat all but three definitions of each), building the IR
    took 177-320 ms and takes 112-189 ms (five runs each)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.warnings: list[str] = []
        self._fields: dict[tuple[Any, ...], Field] = {}

    def table(self, entry: dict[str, Any], info: dict[str, Any]) -> Table:
        name = str(entry["name"])
        kind_info: dict[str, Any] = entry.get("kind") or {"kind": "ANY"}
        changefeed = entry.get("changefeed")
        table = Table(
            name=name,
            type=_TABLE_TYPES.get(str(kind_info["kind"]), "any"),
            schemafull=bool(entry.get("full", entry.get("schemafull", False))),
            changefeed=(
                None
                if changefeed is None
                else Changefeed(_duration_text(changefeed["expiry"]), bool(changefeed["original"]))
            ),
            view=_optional_text(entry.get("view")),
            relation_in=tuple(str(t) for t in kind_info.get("in") or ()),
            relation_out=tuple(str(t) for t in kind_info.get("out") or ()),
            fields=tuple(
                sorted(  # by segments: 2.x `a[*]` and 3.x `a.*` sort differently as text
                    self.fields(name, info["fields"]), key=lambda f: f.segments
                )
            ),
            indexes=tuple(_index(i) for i in info["indexes"]),
            events=tuple(_event(e) for e in info["events"]),
            comment=_optional_text(entry.get("comment")),
        )
        if table.schemafull:
            self.warnings.extend(_keyless_objects(table))
        return table

    def fields(self, table: str, entries: list[dict[str, Any]]) -> list[Field]:
        """The fields we can place; a path we do not understand is left out with a warning."""
        fields: list[Field] = []
        seen = self._fields
        for entry in entries:
            key = tuple(map(entry.get, _FIELD_KEYS))
            try:
                found, keep = seen.get(key), True
            except TypeError:  # an unhashable value (the engines send text and flags)
                found, keep = None, False
            if found is not None:
                fields.append(found)
                continue
            try:
                path = join_path(split_path(str(entry["name"])))
            except ValueError as exc:
                self.warnings.append(f"{table}: field left out: {exc}")
                continue
            warnings = len(self.warnings)
            fields.append(_field(table, path, entry, self.strict, self.warnings))
            if keep and len(self.warnings) == warnings:  # a warning names its table.field
                seen[key] = fields[-1]
        return fields


_FIELD_KEYS = (
    "name",
    "kind",
    "default",
    "value",
    "computed",
    "assert",
    "readonly",
    "flex",
    "flexible",
    "comment",
)
"""Every key of an INFO field entry that ``_field`` reads (2.x and 3.x names): entries equal
on these give equal fields, which ``_Reader`` shares. A key ``_field`` starts reading
belongs here too."""


def _keyless_objects(table: Table) -> list[str]:
    """Warnings for the objects of a SCHEMAFULL table that can keep no key: not FLEXIBLE and
    with no field defined under them. The 2.x engine stores such an object as ``{}`` (the
    keys are lost without an error), 3.x refuses a record that has a key there; either way
    the ``dict[str, Any]`` we generate promises keys the database will not keep.

    Only a field's own kind is looked at (``object``, ``option<object>``, ``object | T``):
    both engines define the elements of ``array<object>`` and ``set<object>`` as fields of
    their own (``items.*``, FLEXIBLE when the array is), checked like any other. Literal
    objects (``{ a: int }``) keep their keys and ``any`` is not an object.
    """
    found: list[str] = []
    children = table.tree.children
    for f in table.fields:
        if f.flexible or not _holds_object(f.kind) or f.segments in children:
            continue
        owner = list(f.segments)
        while owner[-1] == ELEMENT:  # the elements take FLEXIBLE from their array
            owner.pop()
        found.append(
            f"{table.name}.{f.path}: an object in a SCHEMAFULL table keeps only the fields "
            f"defined under it, and none are; add FLEXIBLE to {join_path(tuple(owner))} to "
            "keep any key"
        )
    return found


def _holds_object(kind: Kind) -> bool:
    """True when a value of ``kind`` may be an ``object`` itself (not an element of one)."""
    if isinstance(kind, Option):
        return _holds_object(kind.inner)
    if isinstance(kind, Union):
        return any(_holds_object(member) for member in kind.members)
    return kind == _OBJECT


def _field(
    table: str, path: str, entry: dict[str, Any], strict: bool, warnings: list[str]
) -> Field:
    kind_text = entry.get("kind")
    kind: Kind = _ANY
    if kind_text is not None:
        text = str(kind_text).strip()
        try:
            kind = parse_kind(text)
        except KindSyntaxError:
            kind, warning = parse_kind_lenient(text, f"{table}.{path}", strict=strict)
            if warning is not None:
                warnings.append(warning)
    return Field(
        path=path,
        kind=kind,
        default=_optional_text(entry.get("default")),
        value=_optional_text(entry.get("value", entry.get("computed"))),
        assert_=_optional_text(entry.get("assert")),
        readonly=bool(entry.get("readonly", False)),
        flexible=bool(entry.get("flex", entry.get("flexible", False))),
        comment=_optional_text(entry.get("comment")),
    )


_ANY = AnyKind()
_OBJECT = Scalar("object")


def _index(entry: dict[str, Any]) -> Index:
    columns = entry["cols"]
    if isinstance(columns, str):  # 2.x: "age, name"; 3.x: ["age", "name"]
        columns = [c for c in columns.split(", ") if c]
    return Index(
        name=str(entry["name"]),
        columns=tuple(_column_text(str(c)) for c in columns),
        clause=str(entry["index"]),
        comment=_optional_text(entry.get("comment")),
    )


def _column_text(column: str) -> str:
    """Index columns are idioms as the engine prints them; 2.x writes ``[*]`` where 3.x
    writes ``.*``."""
    return column.replace("[*]", ".*")


def _event(entry: dict[str, Any]) -> Event:
    return Event(
        name=str(entry["name"]),
        when=str(entry["when"]),
        then=tuple(str(t) for t in entry["then"]),
        comment=_optional_text(entry.get("comment")),
    )


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _duration_text(value: Any) -> str:
    """2.x prints a changefeed expiry as text, 3.x sends a ``Duration``; both print the same."""
    return str(Duration.parse(value) if isinstance(value, str) else value)


# --- applying .surql files -----------------------------------------------------------------


BOM = "\ufeff"
"""A byte-order mark: editors on Windows start UTF-8 files with it; engines reject it."""


@dataclass(frozen=True)
class SchemaFile:
    """A ``.surql`` file to apply: ``display`` is the path shown in error messages."""

    display: str
    text: str

    def __post_init__(self) -> None:
        # A byte-order mark is not part of the schema (the engines reject it as a token).
        object.__setattr__(self, "text", self.text.removeprefix(BOM))

    @classmethod
    def read(cls, path: Path, display: str) -> SchemaFile:
        """Read ``path`` as UTF-8; bytes that are not UTF-8 raise ``SchemaSourceError``
        naming the line and column where they start."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SchemaSourceError(f"{display}: cannot read: {exc.strerror or exc}") from None
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise SchemaSourceError(
                f"{display}: UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8"
            )
        try:
            return cls(display, data.decode())
        except UnicodeDecodeError as exc:
            before = data[: exc.start].decode().removeprefix(BOM)
            line, column = _line_column(_line_starts(before, _EDITOR_LINE_BREAK), len(before))
            raise SchemaSourceError(f"{display}:{line}:{column}: not valid UTF-8") from None


_ENGINE_POSITION = re.compile(r"-->\s*\[(\d+):(\d+)\]")
_ENGINE_PREFIX = "There was a problem with the database: "


def engine_error_location(message: str) -> tuple[int, int] | None:
    """The ``(line, column)`` of an engine parse error (`` --> [12:5]``), or None."""
    match = _ENGINE_POSITION.search(message)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def engine_error_summary(message: str) -> str:
    """An engine error on one line, without the 2.x wrapper text.

    A parse error (one with a position) is its first line: a copy of the line and a caret
    follow. Only a newline ends that line: ``splitlines`` also splits at a line separator
    the engine quotes (``Invalid token `\\u2028```). Other errors are shown whole (``THROW``
    text may hold newlines). Characters a terminal would not show, newlines too, are
    escaped."""
    text = message.strip().removeprefix(_ENGINE_PREFIX)
    if _ENGINE_POSITION.search(text):
        text = text.split("\n", 1)[0].strip()
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return shown or "unknown error"


class Statement(NamedTuple):
    """Where a top-level statement starts (1-based, and ``offset`` in the text) and its
    first word, upper-cased."""

    line: int
    column: int
    keyword: str
    offset: int


_KEYWORD = re.compile(r"[A-Za-z_]+")
_TRANSACTION_KEYWORDS = frozenset({"BEGIN", "COMMIT", "CANCEL"})
_SCHEMA_KEYWORDS = frozenset({"DEFINE", "REMOVE", "ALTER"})
"""The statements of a file ``apply_files`` may send inside one transaction of its own."""
_OPERAND_KEYWORDS = frozenset(
    {
        *("ASSERT", "VALUE", "DEFAULT", "COMPUTED", "RETURN", "THEN", "ELSE", "WHEN", "WHERE"),
        *("IF", "AND", "OR", "NOT", "IS", "IN", "INSIDE", "NOTINSIDE", "ALLINSIDE", "ANYINSIDE"),
        *("NONEINSIDE", "OUTSIDE", "INTERSECTS", "CONTAINS", "CONTAINSNOT", "CONTAINSALL"),
        *("CONTAINSANY", "CONTAINSNONE"),
    }
)
"""Words after which an operand comes: a ``/`` right after them opens a regex literal."""


def statements(text: str) -> list[Statement]:
    """The top-level statements of ``text``.

    Statements end at a ``;`` outside strings, identifiers in backticks or ``⟨⟩``, regex
    literals, comments and brackets. Stretches that hold only whitespace and comments are
    not statements.

    SurrealQL reads a ``/`` as a regex literal (``/a;b/``, up to the next ``/`` not after a
    backslash) where the parser expects an operand, and as division after one. Without a
    parser we go by the token before it: an operator, an opening bracket, a comma, the start
    of the statement or a keyword such as ``ASSERT`` make it a regex; a name, a number, a
    string or a closing bracket make it division.
    """
    found: list[Statement] = []
    line_starts = _line_starts(text, _EDITOR_LINE_BREAK)
    depth = 0
    inside = False
    operand = True  # an operand may start here: a `/` opens a regex
    # Words, spaces and operators are taken a run at a time (38,000 statements: 0.1 s, not
    # 0.36 s a character at a time), so the token before a `/` is only looked for when a
    # `/` comes: `last_run` is the run that decides `operand` until another character does.
    last_run: tuple[int, int] | None = None
    i = 0
    while i < len(text):
        plain = _PLAIN_RUN.match(text, i)
        if plain is not None:  # words, spaces and operators: taken as one run
            visible = _NOT_SPACE.search(text, i, plain.end())
            if visible is not None:
                if not inside:
                    inside = True
                    found.append(_statement_at(text, visible.start(), line_starts))
                last_run = (i, plain.end())
            i = plain.end()
            continue
        char = text[i]
        if char in "-/#" and (char == "#" or text.startswith(("--", "//"), i)):
            end = _LINE_END.search(text, i)
            i = len(text) if end is None else end.end()
            continue
        if text.startswith("/*", i):
            i = _skip_until(text, i + 2, "*/") + 1
            continue
        if last_run is not None:
            if char == "/":  # every other character below sets `operand` itself
                operand = _operand_after(text, *last_run)
            last_run = None
        if char == ";" and depth == 0:
            inside = False
            operand = True
            i += 1
            continue
        if not inside:
            inside = True
            found.append(_statement_at(text, i, line_starts))
        if char in "'\"`⟨":
            i = _skip_quoted(text, i)
            operand = False
            continue
        if char == "/" and operand:
            i = _skip_regex(text, i)
            operand = False
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        operand = char not in ")]}"
        i += 1
    return found


_PLAIN_RUN = re.compile(r"[^;'\"`⟨/\-#()\[\]{}]+")
"""A run of text with nothing the scanner must look at one character at a time."""
_NOT_SPACE = re.compile(r"\S")
_LINE_END = re.compile("[\n\r\x85\u2028\u2029]")
"""What ends a line comment in both engines: a file with CR line endings is not one comment."""
_LAST_TOKEN = re.compile(r"(?:(\$?\w+)|[^\w\s$]|\$)\s*\Z")
"""The last token of a plain run: a word (group 1), or one other character."""


def _operand_after(text: str, start: int, end: int) -> bool:
    """Whether an operand may follow the plain run ``text[start:end]`` (not all spaces):
    after an operator or a keyword such as ``ASSERT``, not after a name or a number.
    Asked only when a ``/`` (not a comment) follows the run."""
    last = _LAST_TOKEN.search(text, start, end)
    assert last is not None
    word = last.group(1)
    # `$value` and `a.value` are names, not the VALUE keyword
    return word is None or (
        word.upper() in _OPERAND_KEYWORDS and text[last.start() - 1 : last.start()] != "."
    )


def _statement_at(text: str, start: int, line_starts: list[int]) -> Statement:
    keyword = _KEYWORD.match(text, start)
    line, column = _line_column(line_starts, start)
    return Statement(line, column, keyword.group().upper() if keyword else "", start)


def _skip_until(text: str, start: int, terminator: str) -> int:
    end = text.find(terminator, start)
    return len(text) if end < 0 else end + 1


def _skip_quoted(text: str, start: int) -> int:
    closing = "⟩" if text[start] == "⟨" else text[start]
    i = start + 1
    while i < len(text) and text[i] != closing:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _skip_regex(text: str, start: int) -> int:
    """The end of the regex literal at ``start``: the 2.x lexer ends it at the first ``/``
    that does not follow a backslash (3.x also ends ``/a\\\\/`` at its last ``/``, where 2.x
    reads on; such a regex is rare, and we follow the default engine)."""
    i = start + 1
    while i < len(text) and text[i] != "/":
        i += 2 if text.startswith("\\/", i) else 1
    return i + 1


_EDITOR_LINE_BREAK = re.compile("\r\n?|\n")
"""Where editors break lines: a lone CR too (a file saved with old Mac line endings)."""
_ENGINE_LINE_BREAK = re.compile("\n")
"""Where both engines break lines when they say where an error is."""


def _line_starts(text: str, line_break: re.Pattern[str]) -> list[int]:
    return [0, *(match.end() for match in line_break.finditer(text))]


def _editor_position(text: str, line: int, column: int) -> tuple[int, int]:
    """The engine's ``line:column`` of ``text`` as an editor counts it."""
    if "\r" not in text:
        return line, column
    engine_starts = _line_starts(text, _ENGINE_LINE_BREAK)
    offset = engine_starts[min(line, len(engine_starts)) - 1] + column - 1
    return _line_column(_line_starts(text, _EDITOR_LINE_BREAK), offset)


def _line_column(line_starts: list[int], offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, given the offsets where lines start."""
    line = bisect.bisect_right(line_starts, offset)
    return line, offset - line_starts[line - 1] + 1


def located_error(file: SchemaFile, message: str, statement: Statement | None) -> SchemaSourceError:
    """``schema/chat.surql:12:5: <engine message>`` for a parse error or a failing statement."""
    position = engine_error_location(message)
    if position is not None:
        position = _editor_position(file.text, *position)
    elif statement is not None:
        position = (statement.line, statement.column)
    where = file.display if position is None else f"{file.display}:{position[0]}:{position[1]}"
    return SchemaSourceError(f"{where}: {engine_error_summary(message)}")


async def apply_files(
    runner: QueryRunner, files: Iterable[SchemaFile], *, database: tuple[str, str] | None = None
) -> None:
    """Run each file as one query, in order; the first failure raises ``SchemaSourceError``.

    A file of DEFINE, REMOVE and ALTER statements only (a schema) is first sent as one
    transaction, which both engines apply about twice as fast as statement by statement
    (38,000 DEFINE statements: 3.5 s against 6.9-8.1 s on 2.x). If that fails, the engine
    has applied none of it, and the file is sent again as it is, so the error reported, and
    where, is the one a plain run gives. Any other file is only ever sent as it is: inside
    our transaction a top-level ``RETURN`` would end it early without an error, ``USE`` or
    ``BEGIN`` would outlive or nest in it, and 3.x builds an index defined after data written
    in the same transaction without that data.

    The raw ``query`` result is read so that the statement that really failed is reported,
    not one that a failed transaction merely skipped.

    With ``database`` (the namespace and database that are read afterwards), a ``USE`` of
    another one is refused: the statements after it would be applied where nothing reads them.
    """
    for file in files:
        found = statements(file.text)
        if not found:
            continue  # an empty query is an engine error, and there is nothing to apply
        if database is not None:
            await _refuse_use_elsewhere(runner, file, found, database)
        schema_only = all(s.keyword in _SCHEMA_KEYWORDS for s in found)
        if schema_only and await _applied_in_one_transaction(runner, file.text):
            continue
        try:
            results = await runner.rpc("query", [file.text, {}])
        except RpcError as exc:
            raise located_error(file, exc.message, None) from None
        failed = [(i, r) for i, r in enumerate(results) if r.get("status") == "ERR"]
        if failed:
            index, result = next(((i, r) for i, r in failed if not _skipped(r)), failed[0])
            statement = _statement_for_result(found, index, len(results))
            raise located_error(file, str(result.get("result")), statement)


_SESSION = "RETURN [session::ns(), session::db()];"


async def _refuse_use_elsewhere(
    runner: QueryRunner, file: SchemaFile, found: list[Statement], database: tuple[str, str]
) -> None:
    """Raise ``SchemaSourceError`` at the first ``USE`` in ``found`` that leaves ``database``.

    The engine reads the names: the file's ``USE`` statements are run alone, in order, each
    followed by a look at the session (a ``USE`` lasts for the query it is in)."""
    ends = [s.offset for s in found[1:]] + [len(file.text)]
    uses = [(s, end) for s, end in zip(found, ends, strict=True) if s.keyword == "USE"]
    if not uses:
        return
    query = "".join(f"{file.text[s.offset : end]}\n;{_SESSION}\n" for s, end in uses)
    try:
        results = await runner.rpc("query", [query, {}])
    except RpcError:
        return  # a USE the engine cannot read: running the file reports it, where it is
    for (use, _), result in zip(uses, results[1::2], strict=False):
        if result.get("status") != "OK":
            return
        namespace, name = result.get("result")
        if (namespace, name) != database:
            raise SchemaSourceError(
                f"{file.display}:{use.line}:{use.column}: USE switches to namespace "
                f"{namespace}, database {name}, which is not read: leave USE out of schema "
                "files (they are applied to one database)"
            )


async def _applied_in_one_transaction(runner: QueryRunner, text: str) -> bool:
    """Run ``text`` inside one transaction; False (and nothing applied) when it failed."""
    # The newline ends a trailing line comment, the `;` a last statement without one.
    wrapped = f"BEGIN TRANSACTION;\n{text}\n;COMMIT TRANSACTION;"
    try:
        results = await runner.rpc("query", [wrapped, {}])
    except RpcError:
        return False
    return all(result.get("status") == "OK" for result in results)


def _skipped(result: dict[str, Any]) -> bool:
    """A statement that did not run because an earlier one in its transaction failed."""
    details = result.get("details")
    if isinstance(details, dict) and details.get("kind") == "NotExecuted":
        return True
    return str(result.get("result", "")).startswith("The query was not executed")


def _statement_for_result(found: list[Statement], index: int, count: int) -> Statement | None:
    """The statement behind result ``index``; 2.x gives BEGIN / COMMIT / CANCEL no result."""
    if count == len(found):
        return found[index]
    executed = [s for s in found if s.keyword not in _TRANSACTION_KEYWORDS]
    return executed[index] if count == len(executed) else None


EMBEDDED_URL = "mem://"
"""A fresh in-memory engine (2.x; ``SURREAL_GEN_EMBEDDED=3`` or ``mem://?engine=3`` for 3.x)."""


async def read_schema(
    config: ConnectionConfig,
    *,
    files: Sequence[SchemaFile] = (),
    strict: bool = False,
    tables: TableFilter = TableFilter(),
    sink: TableSink | None = None,
) -> Introspection:
    """Connect with ``config``, apply ``files`` (in order), and introspect (handing the
    tables to ``sink`` as they are read).

    Files are meant for a fresh embedded engine; a live database is only read, and its
    namespace and database must exist (see ``check_target_exists``). Connection problems
    become ``SchemaSourceError`` naming the URL.
    """
    if not files and config.scheme == "surrealkv" and not Path(surrealkv_path(config.url)).exists():
        # Opening it would create the folders, for a store that can hold no schema anyway.
        raise SchemaSourceError(f"{config.url}: no such store: {surrealkv_path(config.url)}")
    checked = not files and _can_check_target(config)
    try:
        connection = Connection(
            dataclasses.replace(config, namespace=None, database=None) if checked else config
        )
    except SurrealGenError as exc:
        raise SchemaSourceError(str(exc)) from None
    try:
        if checked:
            assert config.namespace is not None and config.database is not None
            await check_target_exists(connection, config.namespace, config.database)
            await connection.use(config.namespace, config.database)
        read = None
        if config.namespace is not None and config.database is not None:
            read = (config.namespace, config.database)
        await apply_files(connection, files, database=read)
        return await introspect(connection, strict=strict, tables=tables, sink=sink)
    except SurrealGenError as exc:
        raise SchemaSourceError(f"{config.url}: {exc}") from None
    finally:
        # An embedded engine's store is freed here, merged as it goes (heap.py); the runtime's
        # close leaves the allocator alone, as it runs inside users' programs.
        with blocks_merged_as_freed():
            await connection.close()


def _can_check_target(config: ConnectionConfig) -> bool:
    """Only a root user may list namespaces and databases (others skip the check)."""
    return (
        config.auth_level == "root"
        and config.token is None
        and config.namespace is not None
        and config.database is not None
    )


async def check_target_exists(root: Connection, namespace: str, database: str) -> None:
    """Refuse a namespace or database that does not exist, before anything selects it.

    3.x creates a missing namespace and database as soon as a root session selects them, and
    an empty database introspects as an empty schema: a typo in ``--ns`` would then generate
    an empty package (and delete the modules of an existing one). So the names are checked
    first, by ``root`` before it selects anything: ``INFO FOR ROOT``, then ``USE NS x; INFO
    FOR NS`` once x is known to exist (a ``USE`` inside a query lasts for that query only).
    """
    where = f"{root.url}: namespace {namespace!r}"
    namespaces = await _names(root, "INFO FOR ROOT STRUCTURE", "namespaces")
    if namespaces is not None and namespace not in namespaces:
        raise SchemaSourceError(f"{where} does not exist")
    use = f"USE NS {escape_ident(namespace)}"
    databases = await _names(root, f"{use}; INFO FOR NS STRUCTURE", "databases")
    if databases is not None and database not in databases:
        raise SchemaSourceError(f"{where} has no database {database!r}")


async def _names(connection: Connection, query: str, key: str) -> set[str] | None:
    """The names the last statement of ``query`` lists under ``key``; None when the user may
    not look."""
    try:
        info = (await connection.query(query))[-1]
    except RpcError:
        return None
    return {str(entry["name"]) for entry in info[key]}
