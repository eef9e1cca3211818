"""Datetimes keep SurrealDB's nanoseconds (`NanoDatetime`): in the codec, in models, and
against the real engines, where `time::now()` fills all nine digits."""

from __future__ import annotations

import copy
import datetime as datetime_module
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

from generated import Person
from surreal_gen.runtime import cbor
from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.model import BaseSurrealModel, SurrealConfigDict
from surreal_gen.runtime.types import NanoDatetime, RecordID, surql_literal
from tests.runtime.orm_connections import OrmTarget
from tests.runtime.test_model import apply_reference_schema

INSTANT = NanoDatetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC, nanosecond=789)
INSTANT_TEXT = "2024-01-02T03:04:05.123456789Z"


# -- the type ---------------------------------------------------------------------------------


def test_the_part_below_the_microsecond_is_kept_beside_it() -> None:
    assert (INSTANT.microsecond, INSTANT.nanosecond) == (123456, 789)
    assert isinstance(INSTANT, datetime)
    assert INSTANT.isoformat() == "2024-01-02T03:04:05.123456789+00:00"
    assert str(INSTANT) == "2024-01-02 03:04:05.123456789+00:00"
    assert INSTANT.isoformat(timespec="microseconds") == "2024-01-02T03:04:05.123456+00:00"
    assert surql_literal(INSTANT) == f"d'{INSTANT_TEXT}'"
    assert (
        eval(repr(INSTANT), {"NanoDatetime": NanoDatetime, "datetime": datetime_module}) == INSTANT
    )
    with pytest.raises(ValueError, match="nanosecond must be in 0..999"):
        NanoDatetime(2024, 1, 1, tzinfo=UTC, nanosecond=1000)


def test_instants_compare_to_the_nanosecond() -> None:
    truncated = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert INSTANT != truncated and truncated != INSTANT
    assert truncated < INSTANT and INSTANT > truncated
    assert truncated <= INSTANT and INSTANT >= truncated
    assert INSTANT < truncated + timedelta(microseconds=1)
    whole = NanoDatetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert whole == truncated and hash(whole) == hash(truncated)
    same = NanoDatetime(
        2024, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)), nanosecond=789
    )
    assert same == INSTANT and hash(same) == hash(INSTANT)
    assert len({INSTANT, same, truncated}) == 2


def test_copies_and_derived_values_keep_the_nanoseconds() -> None:
    assert pickle.loads(pickle.dumps(INSTANT)).nanosecond == 789
    assert copy.copy(INSTANT).nanosecond == copy.deepcopy(INSTANT).nanosecond == 789
    assert INSTANT.replace(year=2025).nanosecond == 789
    assert INSTANT.replace(nanosecond=1).nanosecond == 1
    assert (INSTANT + timedelta(days=1)).nanosecond == 789
    assert (timedelta(days=1) + INSTANT).nanosecond == 789
    assert (INSTANT - timedelta(seconds=1)).nanosecond == 789
    assert INSTANT - INSTANT.replace(nanosecond=0) == timedelta(0)  # timedelta holds microseconds
    shifted = INSTANT.astimezone(timezone(timedelta(hours=2)))
    assert shifted.nanosecond == 789 and shifted == INSTANT


def test_pydantic_fields_keep_the_instance() -> None:
    class Stamped(BaseModel):
        at: AwareDatetime
        maybe: datetime | None = None

    stamped = Stamped(at=INSTANT, maybe=INSTANT)
    assert stamped.at is INSTANT and stamped.maybe is INSTANT
    assert Stamped.model_validate({"at": INSTANT}, strict=True).at is INSTANT


# -- the codec --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(0, 999),
)
def test_nanoseconds_round_trip_through_the_codec(value: datetime, nanosecond: int) -> None:
    precise = NanoDatetime.from_datetime(value, nanosecond)
    decoded = cbor.decode(cbor.encode(precise))
    assert decoded == precise and getattr(decoded, "nanosecond", 0) == nanosecond


def test_whole_microseconds_decode_as_plain_datetimes() -> None:
    decoded = cbor.decode(cbor.encode(datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC)))
    assert type(decoded) is datetime


def test_text_datetimes_keep_their_nanoseconds() -> None:
    """Tag 0, the RFC 3339 text form: nine fraction digits, and any offset."""
    encoded = cbor2.dumps(
        [cbor2.CBORTag(0, INSTANT_TEXT), cbor2.CBORTag(0, "2024-01-02T05:04:05.123456789+02:00")]
    )
    assert cbor.decode(encoded) == [INSTANT, INSTANT]
    assert [value.nanosecond for value in cbor.decode(encoded)] == [789, 789]


# -- the engines ------------------------------------------------------------------------------


async def test_the_engines_read_and_match_what_they_sent(engine: Connection) -> None:
    [value] = await engine.query(f"RETURN d'{INSTANT_TEXT}'")
    assert value == INSTANT and value.nanosecond == 789
    [same, text] = await engine.query(
        f"RETURN $v == d'{INSTANT_TEXT}'; RETURN <string> $v", {"v": value}
    )
    assert same is True and text in (INSTANT_TEXT, f"d'{INSTANT_TEXT}'")


async def test_a_record_is_found_by_the_datetime_read_from_it(orm: OrmTarget) -> None:
    await apply_reference_schema(orm)
    await orm.connection.query(
        f"CREATE person:ann SET name = 'Ann', email = 'ann@example.com', "
        f"created_at = d'{INSTANT_TEXT}'"
    )
    ann = await Person.objects().get(id=RecordID("person", "ann"))
    assert ann.created_at == INSTANT
    people = Person.objects()
    assert await people.filter(created_at=ann.created_at).count() == 1
    assert await people.filter(created_at__gt=ann.created_at).count() == 0  # a cursor moves on
    assert await people.filter(created_at__lte=ann.created_at).count() == 1


class Stamp(BaseModel):
    at: AwareDatetime
    by: str


class Ledger(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="ledger")

    id: RecordID[Literal["ledger"]] | None = None
    note: str
    stamp: Stamp


async def test_a_nested_readonly_datetime_is_written_back_unchanged(orm: OrmTarget) -> None:
    """The whole object is written back on save: a truncated `stamp.at` would be a change
    to a READONLY field, which the engines refuse."""
    await orm.connection.query(
        "DEFINE TABLE ledger SCHEMAFULL;"
        "DEFINE FIELD note ON ledger TYPE string;"
        "DEFINE FIELD stamp ON ledger TYPE object;"
        "DEFINE FIELD stamp.at ON ledger TYPE datetime READONLY;"
        "DEFINE FIELD stamp.by ON ledger TYPE string;"
        f"CREATE ledger:one SET note = 'a', stamp = {{ at: d'{INSTANT_TEXT}', by: 'ann' }};"
    )
    entry = await Ledger.objects().get(id=RecordID("ledger", "one"))
    entry.note = "b"
    await entry.save()
    [[stored]] = await orm.connection.query("SELECT note, stamp.at AS at FROM ledger:one")
    assert stored == {"note": "b", "at": INSTANT}
