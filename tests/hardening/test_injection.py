"""Injection: hostile values are bound as parameters and come back verbatim; hostile field
names are refused before anything is sent; nothing read from a record reaches SurrealQL text.

Runs on both embedded engines and over WebSocket and HTTP on the loopback test server. A spy
on `Connection.rpc` records every SurrealQL text we send, so the tests can also check that no
value ever appears in it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.errors import InvalidQueryError
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import RecordID
from tests.fixtures.server import SurrealDatabase
from tests.hardening.figures import Figure, record
from tests.hardening.models import Message, named_connection

HOSTILE = [
    "it's",
    'say "hi"',
    "'; DELETE message; --",
    '"; REMOVE TABLE message; --',
    "x' OR true OR 'y",
    "$p0",
    "$auth.id",
    "⟨closing⟩; DELETE message; ⟨",
    "`tick`; DELETE message; `",
    "RETURN 'pwned'; DELETE sentinel",
    "NONE",
    "null",
    "back\\slash\\",
    "/* comment */ -- line",
    "{{ template }} {% block %}",
    "\u202eright-to-left \u2028 separator",  # NUL: the 2.x engine cannot serialise it
    "multi\nline;\r\nDELETE message;",
    "",
]
"""Filter and field values; each must be written and read back exactly."""

HOSTILE_NAMES = [
    "text; DELETE message",
    "text`",
    "text -- comment",
    "`text`",
    "⟨text⟩",
    "text)",
    "text OR 1",
    "$text",
    "text.",
    "",
]
"""Field names a caller might pass through from user input: all must be refused."""

SENTINEL = RecordID("sentinel", "alive")
INJECTION = "injection: hostile values, keys, names (x4 transports)"


@pytest.fixture(params=["embedded-2", "embedded-3", "ws", "http"])
async def target(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Connection]]:
    """A named connection on one of the four transports, with a sentinel record."""
    if request.param.startswith("embedded"):
        url = f"mem://?engine={request.param[-1]}"
        options: dict[str, Any] = {"namespace": "n", "database": "d"}
    else:
        database: SurrealDatabase = request.getfixturevalue("surreal_database")
        server = database.server
        url = server.ws_url if request.param == "ws" else server.http_url
        options = {
            "user": server.user,
            "password": server.password,
            "namespace": database.namespace,
            "database": database.database,
        }
    async with named_connection(url, **options) as (name, connection):
        await connection.query(
            "DEFINE TABLE message SCHEMALESS; CREATE $sentinel SET ok = true",
            {"sentinel": SENTINEL},
        )
        yield name, connection


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SurrealQL text sent through `Connection.rpc` during the test."""
    texts: list[str] = []
    original = Connection.rpc

    async def spy(self: Connection, method: str, params: Iterable[Any] = ()) -> Any:
        params = list(params)
        if method == "query":
            texts.append(str(params[0]))
        return await original(self, method, params)

    monkeypatch.setattr(Connection, "rpc", spy)
    return texts


async def _intact(connection: Connection, expected_messages: int) -> None:
    [sentinel] = await connection.query("SELECT * FROM ONLY $s", {"s": SENTINEL})
    assert sentinel == {"id": SENTINEL, "ok": True}
    [rows] = await connection.query("SELECT count() AS n FROM message GROUP ALL")
    assert rows == [{"n": expected_messages}]


async def test_values_are_bound_and_read_back_verbatim(
    target: tuple[str, Connection], sent_sql: list[str]
) -> None:
    name, connection = target
    saved = [await Message(text=value, room=value).save(using=name) for value in HOSTILE]
    await _intact(connection, len(HOSTILE))
    objects = Message.objects().using(name)
    for message, value in zip(saved, HOSTILE, strict=True):
        assert message.id is not None
        loaded = await Message.get(message.id, using=name)
        assert (loaded.text, loaded.room) == (value, value)
        assert [m.id for m in await objects.filter(text=value).all()] == [message.id]
        assert await objects.filter(text__in=[value], room=value).count() == 1
        if value:
            assert message.id in [m.id for m in await objects.filter(text__contains=value).all()]
            assert await objects.filter(text__startswith=value).exists()
            assert await objects.exclude(text=value).count() == len(HOSTILE) - 1
    await _intact(connection, len(HOSTILE))
    _assert_no_value_in(sent_sql)


async def test_updates_and_deletes_bind_their_values(
    target: tuple[str, Connection], sent_sql: list[str]
) -> None:
    name, connection = target
    objects = Message.objects().using(name)
    message = await Message(text="plain").save(using=name)
    for value in HOSTILE:
        assert await objects.filter(id=message.id).update(text=value, room=value) == 1
        await message.refresh(using=name)
        assert message.text == value
        message.room = value
        await message.save(using=name)
        assert (await Message.get(message.id, using=name)).room == value
        assert await objects.filter(text=value).delete() == 1
        message = await Message(text=value).save(using=name)
    await _intact(connection, 1)
    _assert_no_value_in(sent_sql)


async def test_hostile_record_keys(target: tuple[str, Connection], sent_sql: list[str]) -> None:
    name, connection = target
    keys = [v for v in HOSTILE if v]
    for key in keys:
        rid = RecordID("message", key)
        saved = await Message.model_validate({"id": rid, "text": key}).save(using=name)
        assert saved.id == rid
        assert (await Message.get(rid, using=name)).text == key
        assert (await Message.get(key, using=name)).id == rid
        assert (await Message.get(str(rid), using=name)).id == rid
    await _intact(connection, len(keys))
    _assert_no_value_in([s for s in sent_sql])


async def test_record_contents_never_reach_query_text(
    target: tuple[str, Connection], sent_sql: list[str]
) -> None:
    """A record written by someone else, full of SurrealQL, is read, edited and saved back."""
    name, connection = target
    rid = RecordID("message", "peer")
    await connection.query(
        "CREATE $rid CONTENT { text: $v, room: $v, n: 1 }", {"rid": rid, "v": HOSTILE[2]}
    )
    sent_sql.clear()
    loaded = await Message.get(rid, using=name)
    loaded.n = 2
    await loaded.save(using=name)
    assert await Message.objects().using(name).filter(room=loaded.room).count() == 1
    await loaded.delete(using=name)
    await _intact(connection, 0)
    _assert_no_value_in(sent_sql)


@pytest.mark.parametrize("field", HOSTILE_NAMES)
async def test_hostile_field_names_are_refused_before_sending(
    target: tuple[str, Connection], sent_sql: list[str], field: str
) -> None:
    name, connection = target
    objects = Message.objects().using(name)
    sent_sql.clear()
    with pytest.raises(InvalidQueryError):
        objects.filter(**{field: "x"})
    with pytest.raises(InvalidQueryError):
        objects.exclude(**{f"{field}__contains": "x"})
    with pytest.raises(InvalidQueryError):
        objects.order_by(field)
    with pytest.raises(InvalidQueryError):
        objects.order_by(f"-{field}")
    with pytest.raises((InvalidQueryError, ValueError)):
        await objects.update(**{field: "x"})
    assert sent_sql == []
    await _intact(connection, 0)
    record(Figure(INJECTION, 1))


def _assert_no_value_in(texts: list[str]) -> None:
    assert texts, "the spy saw no query"
    record(Figure(INJECTION, len(HOSTILE)))
    for text in texts:
        for value in HOSTILE:
            if len(value) > 4:
                assert value not in text, f"{value!r} was spliced into {text!r}"


class Weird(BaseSurrealModel):
    """A model whose table name needs escaping (SurrealDB allows any table name)."""

    model_config = SurrealConfigDict(table_name="weird`; DELETE sentinel; --⟩")

    id: RecordID[str] | None = None
    text: str


async def test_table_names_are_escaped(target: tuple[str, Connection]) -> None:
    name, connection = target
    saved = await Weird(text=HOSTILE[2]).save(using=name)
    assert saved.id is not None and saved.id.table == Weird.get_table_name()
    assert (await Weird.get(saved.id, using=name)).text == HOSTILE[2]
    assert await Weird.objects().using(name).filter(text=HOSTILE[2]).count() == 1
    [tables] = await connection.query("INFO FOR DB")
    assert Weird.get_table_name() in tables["tables"]
    await _intact(connection, 0)
    record(Figure(INJECTION, 1))
