"""Defects found by using the models and QuerySet against real engines, each failing before.

Every test that takes `orm` runs on the embedded 2.x and 3.x engines and over WebSocket and
HTTP against the loopback test server.
"""

from __future__ import annotations

from typing import Any, Literal

from generated import Person
from generated.person import PersonAddress, PersonAddressCountry
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import RecordID
from tests.runtime.orm_connections import OrmTarget
from tests.runtime.test_model import apply_reference_schema, raw_record


async def test_saving_a_replaced_object_value_drops_the_keys_it_no_longer_has(
    orm: OrmTarget,
) -> None:
    """save() used MERGE, which merges objects key by key: a FLEXIBLE dict saved without a
    key, or a nested object saved without an optional sub-field, kept the old key."""
    await apply_reference_schema(orm)
    person = Person.model_validate(
        {
            "name": "Ada",
            "email": "ada@example.com",
            "preferences": {"theme": "dark", "lang": "en"},
            "address": {
                "street": "1 rue",
                "city": "Köln",
                "country": {"code": "DE", "name": "Germany"},
            },
        }
    )
    await person.save()
    assert person.address is not None
    person.preferences = {"theme": "light"}
    person.address = PersonAddress(
        street="1 rue", city="Paris", country=PersonAddressCountry(code="FR")
    )
    await person.save()

    assert person.preferences == {"theme": "light"}
    assert person.address.country == PersonAddressCountry(code="FR")
    raw = await raw_record(orm, person.id)
    assert raw is not None
    assert raw["preferences"] == {"theme": "light"}
    assert raw["address"]["country"] == {"code": "FR"}


async def test_bulk_update_replaces_object_values(orm: OrmTarget) -> None:
    """QuerySet.update(field=value) sets the field to that value, as it does for scalars."""
    await apply_reference_schema(orm)
    person = Person(name="Bo", email="bo@example.com", preferences={"theme": "dark"})
    await person.save()

    updated = await Person.objects().filter(name="Bo").update(preferences={"lang": "fr"})

    assert updated == 1
    raw: dict[str, Any] | None = await raw_record(orm, person.id)
    assert raw is not None and raw["preferences"] == {"lang": "fr"}


class Log(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="review_log", extra="allow")

    id: RecordID[Literal["review_log"]] | None = None
    action: str


HOSTILE_KEYS = ["a`b", "a\\b", "x`; DELETE review_log; --", "$v", "a.b", "⟩x⟨", "tab\t\n", "select"]


async def test_written_keys_are_escaped_in_the_set_clause(orm: OrmTarget) -> None:
    """save() and update() now name each written key in the query text (SET): the hostile
    keys of a schemaless record are written and read back verbatim, nothing else runs."""
    log = Log(action="a")
    await log.save()
    assert log.model_extra is not None
    log.model_extra.update({key: f"saved {key}" for key in HOSTILE_KEYS})
    await log.save()
    raw = await raw_record(orm, log.id)
    assert raw is not None
    assert {key: raw.get(key) for key in HOSTILE_KEYS} == {k: f"saved {k}" for k in HOSTILE_KEYS}

    assert await Log.objects().update(**{key: f"updated {key}" for key in HOSTILE_KEYS}) == 1
    raw = await raw_record(orm, log.id)
    assert raw is not None
    assert {key: raw.get(key) for key in HOSTILE_KEYS} == {k: f"updated {k}" for k in HOSTILE_KEYS}
