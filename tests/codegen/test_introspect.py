"""The introspector against the real engines: 2.x and 3.x give the same IR; errors point
at the file, line and column of the statement that failed."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import re
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from surreal_gen.codegen.introspect import (
    REQUESTS_IN_FLIGHT,
    TABLES_PER_QUERY,
    SchemaFile,
    SchemaSourceError,
    TableFilter,
    apply_files,
    introspect,
    read_schema,
    statements,
)
from surreal_gen.codegen.ir import (
    Changefeed,
    Event,
    Field,
    Index,
    Schema,
    Table,
    join_path,
    schema_from_json,
    schema_to_json,
    split_path,
)
from surreal_gen.codegen.kinds import AnyKind, Array, Option, Record, Scalar, Set
from surreal_gen.runtime.connection import Connection, ConnectionConfig
from tests.codegen.reference import ENGINE_URLS, read_files, reference, reference_files
from tests.fixtures.server import SurrealDatabase


def _without_engine(schema: Schema) -> dict[str, object]:
    data = schema_to_json(schema)
    data.pop("engine_version")
    return data


def test_reference_schema_gives_the_same_ir_on_both_engines() -> None:
    two, three = reference("2.x"), reference("3.x")
    assert two.schema.engine_version != three.schema.engine_version
    assert _without_engine(two.schema) == _without_engine(three.schema)
    assert two.schema == three.schema
    assert two.schema.fingerprint == three.schema.fingerprint
    assert two.warnings == three.warnings == ()


def test_reference_schema_is_read_in_full() -> None:
    schema = reference("3.x").schema
    names = [t.name for t in schema.tables]
    assert names == sorted(names)
    chat = schema.table("chat_message")
    assert chat is not None and chat.schemafull
    assert chat.changefeed == Changefeed("1d", original=False)
    room_field = chat.field("room")
    assert room_field is not None and room_field.default == "'general'"
    person = schema.table("person")
    assert person is not None and person.changefeed == Changefeed("12h", original=True)
    preferences = person.field("preferences")
    assert preferences is not None and preferences.flexible
    follows = schema.table("follows")
    assert follows is not None and follows.type == "relation"
    assert (follows.relation_in, follows.relation_out) == (("person",), ("person", "room"))
    view = schema.table("room_stats")
    assert view is not None and view.view is not None and view.view.startswith("AS SELECT")


def test_element_paths_use_dot_star_on_both_engines() -> None:
    for engine in ENGINE_URLS:
        purchase = reference(engine).schema.table("purchase")
        assert purchase is not None
        paths = [f.path for f in purchase.fields]
        assert "items.*.unit_price" in paths and "scores.*.*" in paths
        assert not any("[" in p for p in paths)


def test_kinds_are_normalised_across_engines() -> None:
    """`option<T>` (2.x) and `none | T` (3.x) are one kind; sets and records keep their shape."""
    for engine in ENGINE_URLS:
        schema = reference(engine).schema
        product = schema.table("product")
        purchase = schema.table("purchase")
        assert product is not None and purchase is not None
        dimensions = product.field("dimensions")
        labels = product.field("labels")
        context = purchase.field("context")
        assert dimensions is not None and labels is not None and context is not None
        assert dimensions.kind == Option(Array(Scalar("float"), 3))
        assert labels.kind == Set(Scalar("string"))
        assert context.kind == Option(Record(("room", "person")))


def test_snapshot_json_round_trips() -> None:
    schema = reference("2.x").schema
    again = schema_from_json(schema_to_json(schema))
    assert again == schema
    assert again.fingerprint == schema.fingerprint


def _odd_schema() -> Schema:
    """Every kind of JSON value a table line holds, with text JSON must escape, and one
    ``Field`` shared by two tables (lines are made once per field)."""
    text = 'a "quoted" \\ back\\slash, ünïcode 日本, tab\t and\nnew line'
    shared = Field(path="created", kind=Option(Scalar("datetime")), comment=text)
    fields = (
        shared,
        Field(path="name", kind=Scalar("string"), default="'x'", assert_="$value != ''"),
        Field(path="total", kind=Scalar("decimal"), value="1dec", readonly=True),
        Field(path="meta", kind=Scalar("object"), flexible=True),
    )
    return Schema(
        tables=(
            Table(name="empty"),
            Table(
                name="likes",
                type="relation",
                schemafull=True,
                changefeed=Changefeed("1d", original=True),
                relation_in=("person",),
                relation_out=("post", "comment"),
                fields=fields,
                indexes=(Index("by_name", ("name", "total"), "UNIQUE", comment=text),),
                events=(Event("audit", "$event = 'CREATE'", ("CREATE log", "RETURN 1"), text),),
                comment=text,
            ),
            Table(name="summary", view="SELECT count() FROM likes GROUP ALL", fields=(shared,)),
        )
    )


@pytest.mark.parametrize("source", ["2.x", "3.x", "odd"])
def test_each_table_line_is_its_snapshot_json_dumped(source: str) -> None:
    """``Schema.tables_json_lines`` (what the fingerprint hashes and the marker holds) is put
    together from per-field lines; it must be the text ``json.dumps`` gives each table."""
    schema = _odd_schema() if source == "odd" else reference(source).schema
    dumped = tuple(json.dumps(table, ensure_ascii=False) for table in schema.tables_json)
    assert schema.tables_json_lines == dumped


def test_snapshot_lists_only_the_clauses_a_field_has() -> None:
    tables = {t["name"]: t for t in schema_to_json(reference("2.x").schema)["tables"]}
    fields = {f["path"]: f for f in tables["chat_message"]["fields"]}
    assert fields["sender"] == {"path": "sender", "kind": "string"}
    assert fields["room"] == {"path": "room", "kind": "string", "default": "'general'"}
    every_field = [f for t in tables.values() for f in t["fields"]]
    assert {key for f in every_field for key in f} == {
        "path",
        "kind",
        "default",
        "value",
        "assert",
        "readonly",
        "flexible",
        "comment",
    }
    assert all(f.get("readonly", True) and f.get("flexible", True) for f in every_field)


def test_live_server_gives_the_same_ir(surreal_database: SurrealDatabase) -> None:
    """A real server over WebSocket (3.0.2), read by the same code as the embedded engines."""
    config = surreal_database.ws_config()

    async def apply_and_read() -> Schema:
        connection = Connection(config)
        try:
            for file in reference_files():
                await connection.query(file.text)
        finally:
            await connection.close()
        return (await read_schema(config)).schema

    live = asyncio.run(apply_and_read())
    assert live == reference("2.x").schema


def test_table_filter_limits_what_is_read() -> None:
    async def read(tables: TableFilter) -> list[str]:
        connection = Connection(
            ConnectionConfig(url=ENGINE_URLS["2.x"], namespace="t", database="t")
        )
        try:
            for file in reference_files():
                await connection.query(file.text)
            result = await introspect(connection, tables=tables)
        finally:
            await connection.close()
        return [t.name for t in result.schema.tables]

    assert asyncio.run(read(TableFilter(include=("room*",)))) == ["room", "room_stats"]
    assert "room" not in asyncio.run(read(TableFilter(exclude=("room*",))))


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_tables_read_in_several_requests_keep_their_own_fields(engine: str) -> None:
    count = 2 * TABLES_PER_QUERY + 3
    text = "".join(
        f"DEFINE TABLE t{i:03d} SCHEMAFULL; DEFINE FIELD f{i:03d} ON t{i:03d} TYPE int;"
        for i in reversed(range(count))
    )
    schema = read_files([SchemaFile("many.surql", text)], engine).schema
    assert [t.name for t in schema.tables] == [f"t{i:03d}" for i in range(count)]
    assert [[f.path for f in t.fields] for t in schema.tables] == [
        [f"f{i:03d}"] for i in range(count)
    ]


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_tables_share_a_field_definition_they_repeat(engine: str) -> None:
    text = "".join(
        f"DEFINE TABLE {t} SCHEMAFULL; DEFINE FIELD at ON {t} TYPE datetime {clause};"
        for t, clause in [("a", ""), ("b", ""), ("c", "COMMENT 'when'")]
    )
    a, b, c = read_files([SchemaFile("t.surql", text)], engine).schema.tables
    assert a.fields[0] is b.fields[0]
    assert c.fields[0] == dataclasses.replace(a.fields[0], comment="when")


class _UnknownKinds:
    """The real connection, with every field's kind ``int`` replaced by one no engine has
    (as a newer engine could send)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def query(self, sql: str, vars: dict[str, Any] | None = None) -> list[Any]:
        reply = await self.connection.query(sql, vars)
        for info in reply if sql.startswith("INFO FOR TABLE") else ():
            for entry in info["fields"]:
                entry["kind"] = entry["kind"].replace("int", "quantum<int>")
        return reply

    async def rpc(self, method: str, params: list[Any]) -> Any:
        return await self.connection.rpc(method, params)


def test_a_kind_we_cannot_read_is_reported_for_every_field_that_has_it() -> None:
    async def scenario() -> tuple[str, ...]:
        connection = Connection(ConnectionConfig(url="mem://", namespace="t", database="t"))
        try:
            await connection.query(
                "".join(f"DEFINE TABLE t{i}; DEFINE FIELD f ON t{i} TYPE int;" for i in range(3))
            )
            return (await introspect(_UnknownKinds(connection))).warnings
        finally:
            await connection.close()

    warnings = asyncio.run(scenario())
    assert [w.split(":")[0] for w in warnings] == ["t0.f", "t1.f", "t2.f"]
    assert all("quantum<int>" in w and "typed as any" in w for w in warnings)


class _RecordingSink:
    """A ``TableSink`` that keeps what it is handed, and can fail on the n-th table."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.expected: list[str] | None = None
        self.added: list[Table] = []
        self.fail_at = fail_at

    def expect(self, table_names: Sequence[str]) -> None:
        assert self.expected is None and not self.added
        self.expected = list(table_names)

    def add(self, table: Table) -> None:
        if len(self.added) == self.fail_at:
            raise RuntimeError("the sink failed")
        self.added.append(table)


def _many_tables(count: int) -> str:
    return "".join(
        f"DEFINE TABLE t{i:03d} SCHEMAFULL; DEFINE FIELD f{i:03d} ON t{i:03d} TYPE int;"
        for i in reversed(range(count))
    )


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_the_sink_gets_every_table_in_schema_order_as_it_is_read(engine: str) -> None:
    sink = _RecordingSink()
    config = ConnectionConfig(url=ENGINE_URLS[engine], namespace="test", database="test")
    files = [SchemaFile("many.surql", _many_tables(3 * TABLES_PER_QUERY + 1))]
    schema = asyncio.run(read_schema(config, files=files, sink=sink)).schema
    assert sink.expected == [t.name for t in schema.tables]
    assert tuple(sink.added) == schema.tables
    assert all(a is b for a, b in zip(sink.added, schema.tables, strict=True))


def test_a_failing_sink_stops_the_reading_and_leaves_no_request_behind() -> None:
    async def scenario() -> set[asyncio.Task[object]]:
        connection = Connection(ConnectionConfig(url="mem://", namespace="t", database="t"))
        try:
            await connection.query(_many_tables(4 * TABLES_PER_QUERY))
            with pytest.raises(RuntimeError, match="the sink failed"):
                await introspect(connection, sink=_RecordingSink(fail_at=TABLES_PER_QUERY + 2))
            return asyncio.all_tasks() - {asyncio.current_task()}
        finally:
            await connection.close()

    assert asyncio.run(scenario()) == set()


def test_the_first_requests_are_out_before_the_sink_names_the_tables() -> None:
    """So the engine answers them while the sink works out class names and reserves files."""
    events: list[str] = []

    class Runner:
        def __init__(self, connection: Connection) -> None:
            self.connection = connection

        async def query(self, sql: str, vars: dict[str, Any] | None = None) -> list[Any]:
            if sql.startswith("INFO FOR TABLE"):
                events.append("request")
            return await self.connection.query(sql, vars)

        async def rpc(self, method: str, params: list[Any]) -> Any:
            return await self.connection.rpc(method, params)

    class Sink(_RecordingSink):
        def expect(self, table_names: Sequence[str]) -> None:
            events.append("expect")
            super().expect(table_names)

    async def scenario() -> None:
        connection = Connection(ConnectionConfig(url="mem://", namespace="t", database="t"))
        try:
            await connection.query(_many_tables(4 * TABLES_PER_QUERY))
            await introspect(Runner(connection), sink=Sink())
        finally:
            await connection.close()

    asyncio.run(scenario())
    assert events.index("expect") == REQUESTS_IN_FLIGHT
    assert events.count("request") == 4


class _Reply(list[Any]):
    """A query's result, as a type that weak references can follow."""


class _WatchedRunner:
    """The real connection, keeping track of which query results are still alive: for each,
    the tables whose INFO it holds (none for INFO FOR DB)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.alive: dict[int, tuple[str, ...]] = {}
        self._keys = itertools.count()

    async def query(self, sql: str, vars: dict[str, Any] | None = None) -> list[Any]:
        reply = _Reply(await self.connection.query(sql, vars))
        key = next(self._keys)
        self.alive[key] = tuple(re.findall(r"INFO FOR TABLE (\w+)", sql))
        weakref.finalize(reply, self.alive.pop, key)
        return reply

    async def rpc(self, method: str, params: list[Any]) -> Any:
        return await self.connection.rpc(method, params)


def test_a_reply_is_let_go_once_its_tables_are_read() -> None:
    """When a table is handed over, at most one reply whose tables were all handed over
    before it is still alive: the one whose arrival resumed the reading (asyncio's wakeup
    holds it until the reading next waits). Keeping them all, 1,000 tables took 50 MB."""
    held_too_long: list[int] = []

    async def scenario() -> int:
        connection = Connection(ConnectionConfig(url="mem://", namespace="t", database="t"))
        try:
            await connection.query(_many_tables(8 * TABLES_PER_QUERY))
            runner = _WatchedRunner(connection)

            class WatchingSink(_RecordingSink):
                def add(self, table: Table) -> None:
                    read = {t.name for t in self.added}
                    finished = [
                        tables
                        for tables in runner.alive.values()
                        if table.name not in tables and set(tables) <= read
                    ]
                    held_too_long.append(len(finished))
                    super().add(table)

            await introspect(runner, sink=WatchingSink())
            return next(runner._keys)
        finally:
            await connection.close()

    queries = asyncio.run(scenario())
    assert queries == 1 + 8  # INFO FOR DB, then a request per TABLES_PER_QUERY tables
    assert len(held_too_long) == 8 * TABLES_PER_QUERY
    assert max(held_too_long) <= 1


@pytest.mark.parametrize("engine", ["2", "3"])
def test_a_missing_namespace_or_database_is_refused_and_not_created(
    engine: str, tmp_path: Path
) -> None:
    url = f"surrealkv://{tmp_path / 'store'}?engine={engine}"

    async def scenario() -> tuple[list[str], list[list[str]]]:
        connection = Connection(ConnectionConfig(url=url, namespace="my-ns", database="d b"))
        await connection.query("DEFINE TABLE t")
        await connection.close()
        read = await read_schema(ConnectionConfig(url=url, namespace="my-ns", database="d b"))
        for namespace, database, message in [
            ("my-ns", "nope", "namespace 'my-ns' has no database 'nope'"),
            ("ghost", "d b", "namespace 'ghost' does not exist"),
        ]:
            with pytest.raises(SchemaSourceError, match=message):
                await read_schema(ConnectionConfig(url=url, namespace=namespace, database=database))
        root = Connection(ConnectionConfig(url=url))
        try:
            names = await root.query(
                "INFO FOR ROOT STRUCTURE; USE NS `my-ns`; INFO FOR NS STRUCTURE"
            )
        finally:
            await root.close()
        existing = [[entry["name"] for entry in names[0]["namespaces"]]]
        existing.append([entry["name"] for entry in names[-1]["databases"]])
        return [t.name for t in read.schema.tables], existing

    tables, existing = asyncio.run(scenario())
    assert tables == ["t"]
    assert existing == [["my-ns"], ["d b"]]


def test_field_without_type_is_any() -> None:
    files = [SchemaFile("t.surql", "DEFINE TABLE t SCHEMAFULL; DEFINE FIELD x ON t VALUE 1;")]
    for engine in ENGINE_URLS:
        table = read_files(files, engine).schema.table("t")
        assert table is not None
        field = table.field("x")
        assert field is not None and field.kind == AnyKind() and field.value == "1"


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_parse_error_names_file_line_and_column(engine: str) -> None:
    good = SchemaFile("schema/a.surql", "DEFINE TABLE a SCHEMAFULL;\n")
    bad = SchemaFile(
        "schema/chat.surql", "DEFINE TABLE b SCHEMAFULL;\n\nDEFINE FIELD x ON b\n    TYPE strin;\n"
    )
    with pytest.raises(SchemaSourceError) as caught:
        read_files([good, bad], engine)
    message = str(caught.value)
    assert message.startswith("schema/chat.surql:4:10: Parse error: ")
    assert "\n" not in message


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_the_statement_that_failed_a_transaction_is_reported(engine: str) -> None:
    text = (
        "BEGIN TRANSACTION;\n"
        "DEFINE TABLE t SCHEMAFULL;\n"
        "DEFINE FIELD tags ON t TYPE array<string>;\n"
        "  DEFINE FIELD tags[*] ON t TYPE string;\n"
        "COMMIT TRANSACTION;\n"
    )
    with pytest.raises(SchemaSourceError) as caught:
        read_files([SchemaFile("schema/t.surql", text)], engine)
    assert str(caught.value).startswith("schema/t.surql:4:3: ")
    assert "already exists" in str(caught.value)


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_failing_statement_is_located_by_its_index(engine: str) -> None:
    text = (
        "DEFINE TABLE t SCHEMAFULL; -- a comment; with a semicolon\n"
        "DEFINE FIELD tags ON t TYPE array<string>;\n"
        "/* ; */ DEFINE FIELD note ON t TYPE string DEFAULT 'a;b';\n"
        "    DEFINE FIELD tags[*] ON t TYPE string;\n"
    )
    with pytest.raises(SchemaSourceError) as caught:
        read_files([SchemaFile("schema/t.surql", text)], engine)
    assert str(caught.value).startswith("schema/t.surql:4:5: ")
    assert "already exists" in str(caught.value)


class SentQueries:
    """A real connection that keeps the text of every query sent through it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sent: list[str] = []

    async def query(self, sql: str, vars: dict[str, Any] | None = None) -> list[Any]:
        self.sent.append(sql)
        return await self.connection.query(sql, vars)

    async def rpc(self, method: str, params: list[Any]) -> Any:
        if method == "query":
            self.sent.append(params[0])
        return await self.connection.rpc(method, params)


def _applied(engine: str, text: str) -> tuple[list[str], list[str], str]:
    """Apply ``text`` to a fresh ``engine``: the queries sent, the tables it then holds, and
    the error reported ('' when none)."""

    async def scenario() -> tuple[list[str], list[str], str]:
        connection = Connection(
            ConnectionConfig(url=ENGINE_URLS[engine], namespace="test", database="test")
        )
        runner = SentQueries(connection)
        error = ""
        try:
            await apply_files(runner, [SchemaFile("schema/t.surql", text)])
        except SchemaSourceError as exc:
            error = str(exc)
        try:
            tables = [t.name for t in (await introspect(connection)).schema.tables]
        finally:
            await connection.close()
        return runner.sent, tables, error

    return asyncio.run(scenario())


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_a_file_is_applied_as_one_transaction(engine: str) -> None:
    text = "DEFINE TABLE a SCHEMAFULL;\nDEFINE FIELD x ON a TYPE int;\nDEFINE TABLE b -- last"
    sent, tables, error = _applied(engine, text)
    assert sent == [f"BEGIN TRANSACTION;\n{text}\n;COMMIT TRANSACTION;"]
    assert (tables, error) == (["a", "b"], "")


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
def test_a_failed_transaction_applies_nothing_and_the_plain_run_reports_the_error(
    engine: str,
) -> None:
    text = "DEFINE TABLE a;\nDEFINE TABLE b;\n  DEFINE TABLE a;\nDEFINE TABLE c;\n"
    sent, tables, error = _applied(engine, text)
    assert sent == [f"BEGIN TRANSACTION;\n{text}\n;COMMIT TRANSACTION;", text]
    assert error.startswith("schema/t.surql:3:3: ") and "already exists" in error
    assert tables == ["a", "b", "c"]  # what the plain run applied, as before the wrapping


@pytest.mark.parametrize("engine", list(ENGINE_URLS))
@pytest.mark.parametrize(
    ("text", "tables", "error"),
    [
        ("BEGIN TRANSACTION;\nDEFINE TABLE a;\nCOMMIT TRANSACTION;\n", ["a"], ""),
        ("DEFINE TABLE a;\nUSE NS test DB test;\nDEFINE TABLE b;\n", ["a", "b"], ""),
        # in our transaction a RETURN would end it there, silently leaving b out
        ("DEFINE TABLE a;\nreturn 1;\nDEFINE TABLE b;\n", ["a", "b"], ""),
        # 3.x would build the index without the records written before it, in the same
        # transaction, and so miss the duplicate
        (
            "CREATE t:1 SET x = 1;\nCREATE t:2 SET x = 1;\nDEFINE INDEX u ON t FIELDS x UNIQUE;\n",
            ["t"],
            "schema/t.surql:3:1: ",
        ),
    ],
)
def test_a_file_that_is_not_only_schema_is_sent_as_it_is(
    engine: str, text: str, tables: list[str], error: str
) -> None:
    sent, found_tables, found_error = _applied(engine, text)
    assert sent == [text]
    assert found_tables == tables
    assert found_error.startswith(error) if error else found_error == ""


def test_statements_skip_comments_strings_and_blocks() -> None:
    text = (
        "-- header; comment\n"
        "DEFINE TABLE a;  # trailing; comment\n"
        'DEFINE FIELD b ON a DEFAULT "x;y";\n'
        "DEFINE EVENT e ON a WHEN true THEN { CREATE x; CREATE y; };\n"
        "DEFINE FIELD `c;d` ON a TYPE int\n"
    )
    assert [(s.line, s.column, s.keyword) for s in statements(text)] == [
        (2, 1, "DEFINE"),
        (3, 1, "DEFINE"),
        (4, 1, "DEFINE"),
        (5, 1, "DEFINE"),
    ]
    assert statements("  -- only a comment;\n/* and ; this */ ;") == []


def test_split_and_join_paths() -> None:
    assert split_path("items[*].sku") == ("items", "*", "sku")
    assert split_path("items.*.sku") == ("items", "*", "sku")
    assert split_path("matrix[*][*]") == ("matrix", "*", "*")
    assert split_path("`my-field`.`a b`") == ("my-field", "a b")
    assert split_path("`a\\`b`") == ("a`b",)
    assert join_path(("my-field", "*", "a b")) == "`my-field`.*.`a b`"
    assert join_path(split_path("items[*].sku")) == "items.*.sku"
    with pytest.raises(ValueError, match="unsupported part"):
        split_path("items[0].sku")
