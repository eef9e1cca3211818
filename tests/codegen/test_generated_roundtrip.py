"""The generated models against the reference schema on both embedded engines: what they
write is accepted, what the database fills in comes back typed, and typed filters run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal

import pytest

from generated import ChatMessage, Follows, Person, Product, Purchase, Room, RoomStats
from generated.person import PersonAddress, PersonAddressCountry
from generated.purchase import PurchaseItemsItem
from surreal_gen.codegen.introspect import EMBEDDED_URL, apply_files
from surreal_gen.runtime.connection import SurrealDBConnectionManager
from surreal_gen.runtime.errors import ReadOnlyModelError
from surreal_gen.runtime.types import Duration, RecordID
from tests.codegen.reference import reference_files


@pytest.fixture(params=["2", "3"])
async def database(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """The default connection on a fresh embedded engine holding the reference schema."""
    connection = SurrealDBConnectionManager.set_connection(
        f"{EMBEDDED_URL}?engine={request.param}", namespace="test", database="test"
    )
    await apply_files(connection, reference_files())
    yield request.param
    await SurrealDBConnectionManager.close_connection()


async def test_database_fills_defaults_and_computed_fields(database: str) -> None:
    ann = Person(
        name="Ann",
        email="Ann@Example.org",
        address=PersonAddress(
            street="1 Main St", city="Paris", country=PersonAddressCountry(code="FR")
        ),
        **{"class": "vip"},
    )
    await ann.save()
    assert isinstance(ann.id, RecordID) and ann.id.table == "person"
    assert ann.email == "ann@example.org"  # VALUE string::lowercase($value)
    assert ann.balance == Decimal(0) and ann.session_ttl == Duration.parse("1h30m")
    assert isinstance(ann.created_at, datetime) and ann.created_at.tzinfo is not None
    assert ann.status == "pending" and ann.class_ == "vip" and ann.tags is None

    message = ChatMessage(text="hi", sender="ann")
    await message.save()
    assert message.room == "general"


async def test_collections_records_and_nested_lists_round_trip(database: str) -> None:
    lamp = Product(
        sku="L1",
        title="Lamp",
        price=Decimal("9.99"),
        labels=frozenset({"home", "light"}),
        dimensions=[1.0, 2.0, 3.0],
    )
    await lamp.save()
    assert lamp.labels == frozenset({"home", "light"})
    ann = Person(name="Ann", email="a@b.c")
    await ann.save()
    assert ann.id is not None and lamp.id is not None
    order = Purchase(
        buyer=ann.id,
        items=[PurchaseItemsItem(product=lamp.id, quantity=2, unit_price=Decimal("9.99"))],
        delivery_window=Duration.parse("2d"),
    )
    await order.save()
    [again] = await Purchase.objects().filter(buyer=ann.id).all()
    assert again.items == order.items
    assert again.delivery_window == Duration.parse("2d")
    assert again.updated_at is not None


async def test_relations_views_and_typed_filters(database: str) -> None:
    ann = Person(
        name="Ann",
        email="a@b.c",
        address={"street": "s", "city": "Paris", "country": {"code": "FR"}},
    )
    await ann.save()
    hall = Room(name="hall", owner=ann.id)
    await hall.save()
    assert ann.id is not None and hall.id is not None
    edge = Follows(in_=ann.id, out=hall.id)
    await edge.save()
    assert edge.muted is False and edge.since is not None
    for text in ("one", "two"):
        await ChatMessage(text=text, sender="ann").save()

    found = await Person.objects().filter(address__city__startswith="Par").all()
    assert [p.id for p in found] == [ann.id]
    assert await ChatMessage.objects().filter(room="general", text__in=["one"]).count() == 1
    [stats] = await RoomStats.objects().all()
    assert stats.model_extra == {"room": "general", "total": 2}


async def test_a_view_refuses_every_write(database: str) -> None:
    await ChatMessage(text="one", sender="ann").save()
    [stats] = await RoomStats.objects().all()

    with pytest.raises(ReadOnlyModelError, match=r"RoomStats.save\(\): room_stats is a view"):
        await stats.save()
    with pytest.raises(ReadOnlyModelError, match="read-only"):
        await RoomStats(total=5).save()  # type: ignore[call-arg]
    with pytest.raises(ReadOnlyModelError, match=r"RoomStats.delete\(\)"):
        await stats.delete()
    with pytest.raises(ReadOnlyModelError, match=r"objects\(\).update\(\)"):
        await RoomStats.objects().update(total=3)
    with pytest.raises(ReadOnlyModelError, match=r"objects\(\).delete\(\)"):
        await RoomStats.objects().delete()
    with pytest.raises(ReadOnlyModelError, match=r"objects\(\).delete_table\(\)"):
        await RoomStats.objects().delete_table()

    [again] = await RoomStats.objects().all()
    assert again.id == stats.id and again.model_extra == {"room": "general", "total": 1}
