"""Query and model API edge cases found by review, against the real engines.

Tests that take `orm` run on the embedded 2.x and 3.x engines and over WebSocket and HTTP
against the loopback test server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import pytest

from surreal_gen.runtime.connection import Connection, ConnectionConfig, SurrealDBConnectionManager
from surreal_gen.runtime.errors import InvalidQueryError, PermissionDeniedError
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import RecordID
from tests.runtime.orm_connections import OrmTarget


class Card(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="card")

    id: RecordID[Literal["card"]] | None = None
    title: str
    amount: Decimal | None = None


NOT_KEYS: list[Any] = [
    Decimal(1),
    datetime(2020, 1, 1, tzinfo=UTC),
    {1, 2},
    b"raw",
    Card(id=RecordID("card", "a"), title="an instance, not its id"),
]


@pytest.mark.parametrize("value", NOT_KEYS, ids=lambda value: type(value).__name__)
async def test_values_that_cannot_be_record_keys_are_refused_before_sending(
    orm: OrmTarget, value: Any
) -> None:
    """Only str, int, UUID, array and object keys exist: anything else was sent as a key and
    failed in the transport or the server ("Failed to decode CBOR request", "Invalid request",
    "cannot send a Card to SurrealDB")."""
    await Card(id=RecordID("card", "a"), title="x").save()
    with pytest.raises(ValueError, match="is not a record id or key"):
        await Card.get(value)
    with pytest.raises(InvalidQueryError, match=r"filter\(id=...\): .*is not a record id or key"):
        Card.objects().filter(id=value)
    with pytest.raises(InvalidQueryError, match="is not a record id or key"):
        Card.objects().filter(id__in=[value])


async def test_decimals_outside_the_engines_range_are_refused_before_sending(
    orm: OrmTarget,
) -> None:
    """SurrealDB decimals hold at most 2**96 - 1 in magnitude. Beyond that the engines refused
    the whole request ("Failed to decode CBOR request", over a network "Invalid request"),
    naming neither the value nor the parameter; integers beyond 64 bits were already refused
    here, before sending."""
    biggest = Decimal(2**96 - 1)
    card = await Card(title="max", amount=biggest).save()
    assert card.amount == biggest
    assert await Card.objects().filter(amount=biggest.copy_negate()).count() == 0
    for value in (Decimal(2**96), Decimal(-(2**96)), Decimal("1e30")):
        with pytest.raises(InvalidQueryError, match="outside SurrealDB's decimal range"):
            await Card.objects().filter(amount__gte=value).count()
        with pytest.raises(InvalidQueryError, match="outside SurrealDB's decimal range"):
            await Card(title="too big", amount=value).save()
    assert await Card.objects().filter(amount=biggest).count() == 1


RECORD_USERS = """
DEFINE ACCESS member ON DATABASE TYPE RECORD
    SIGNUP (CREATE member SET name = $name) SIGNIN (SELECT * FROM member WHERE name = $name)
    DURATION FOR SESSION 1h;
DEFINE TABLE card SCHEMALESS PERMISSIONS FOR select, create FULL, FOR update, delete NONE;
"""


async def test_saving_a_record_the_user_may_not_update_says_so(orm: OrmTarget) -> None:
    """SurrealDB skips records a user may not update without an error, so `save()`'s UPDATE
    returned nothing and its CREATE fallback failed with "Database record `card:a` already
    exists": an error about the wrong thing, for a record the user had just read."""
    if orm.server is None:
        pytest.skip("embedded engines run as root: no record users")
    await orm.connection.query(RECORD_USERS)
    anonymous = Connection(
        ConnectionConfig(orm.url, namespace=orm.namespace, database=orm.database)
    )
    try:
        token = await anonymous.rpc(
            "signup", [{"NS": orm.namespace, "DB": orm.database, "AC": "member", "name": "m"}]
        )
    finally:
        await anonymous.close()
    SurrealDBConnectionManager.set_connection(
        orm.url, namespace=orm.namespace, database=orm.database, token=token, name="member"
    )
    try:
        card = await Card(id=RecordID("card", "a"), title="one").save(using="member")
        card.title = "two"
        with pytest.raises(PermissionDeniedError, match="card:a exists, but UPDATE matched"):
            await card.save(using="member")
        assert (await Card.get("a")).title == "one"
    finally:
        await SurrealDBConnectionManager.close_connection("member")
