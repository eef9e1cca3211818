"""runtime.types against the real engines: record id text, durations, escaping, validation."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from surreal_gen.runtime.connection import Connection
from surreal_gen.runtime.types import (
    _KEYWORDS,
    NONE,
    Bound,
    Duration,
    Geometry,
    GeometryCollection,
    GeometryLine,
    GeometryMultiPoint,
    GeometryPoint,
    GeometryPolygon,
    Range,
    RecordID,
    Table,
    escape_ident,
    surql_literal,
)

RECORD_KEYS: list[Any] = [
    "abc",
    "x y",
    "123",
    "1abc",
    "1e3",
    "a-b",
    "",
    "é",
    "_x",
    "x`y",
    "x\\y",
    "x⟩y",
    "a'b",
    "select",
    "NONE",
    1,
    -5,
    [1, "x", {"b": 2}],
    {"x": 1, "y z": 2},
    uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a"),
]


@pytest.mark.parametrize("key", RECORD_KEYS, ids=repr)
async def test_record_id_text_is_what_the_engine_parses(engine: Connection, key: Any) -> None:
    rid = RecordID("person", key)
    # The point of this test is the escaping itself, so the text goes into the query.
    [parsed, printed] = await engine.query(f"RETURN {rid}; RETURN <string> $rid", {"rid": rid})
    assert parsed == rid
    if engine.engine_major == 3:
        assert printed == str(rid)
    assert RecordID.parse(printed) == rid


@pytest.mark.parametrize("table", ["person", "a b", "select", "1a", "12", "é", "a`b"])
async def test_record_id_table_escaping(engine: Connection, table: str) -> None:
    rid = RecordID(table, "k")
    [parsed] = await engine.query(f"RETURN {rid}")
    assert parsed == rid
    assert RecordID.parse(str(rid)) == rid


@pytest.mark.parametrize("name", ["person", "a b", "select", "1a", "é", "a`b", "a\\b", "value"])
async def test_escape_ident_defines_the_table_it_names(engine: Connection, name: str) -> None:
    await engine.query(f"DEFINE TABLE {escape_ident(name)} SCHEMALESS")
    [info] = await engine.query("INFO FOR DB")
    assert name in info["tables"]
    [created] = await engine.query(f"CREATE {escape_ident(name)}:one SET {escape_ident(name)} = 1")
    assert created[0][name] == 1


async def test_escaped_keywords_work_as_tables_and_fields(engine: Connection) -> None:
    # Not DEFINEd: 3.x stores some keyword-named definitions in a form it cannot read back.
    for word in sorted(_KEYWORDS | {"room", "plain_name"}):
        name = escape_ident(word)
        results = await engine.query(
            f"CREATE {name} SET {name} = 1; "
            f"SELECT {name} FROM {name} WHERE {name} = 1 ORDER BY {name}"
        )
        assert results[-1] == [{word: 1}], word


def test_escape_ident_leaves_plain_names_and_refuses_empty() -> None:
    assert escape_ident("chat_message") == "chat_message"
    assert escape_ident("SELECT") == "`SELECT`"
    assert escape_ident("a-b") == "`a-b`"
    with pytest.raises(ValueError, match="must not be empty"):
        escape_ident("")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user:abc", RecordID("user", "abc")),
        ("user:42", RecordID("user", 42)),
        ("user:-42", RecordID("user", -42)),
        ("user:`42`", RecordID("user", "42")),
        ("user:⟨a b⟩", RecordID("user", "a b")),
        ("user:`a\\`b`", RecordID("user", "a`b")),
        ("`a b`:k", RecordID("a b", "k")),
        (
            "user:u'0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a'",
            RecordID("user", uuid.UUID("0190e6c6-7e44-7c6f-9d0c-2b0e7d2c0c1a")),
        ),
    ],
)
def test_record_id_parse(text: str, expected: RecordID[str]) -> None:
    assert RecordID.parse(text) == expected


@pytest.mark.parametrize("text", ["user", "user:", ":abc", "user:a b", "a b:k", "user:`open"])
def test_record_id_parse_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="invalid record id"):
        RecordID.parse(text)


def test_record_id_is_immutable_hashable_and_typed_by_key() -> None:
    rid = RecordID("user", 1)
    with pytest.raises(AttributeError):
        rid.table = "other"
    assert RecordID("user", 1) != RecordID("user", "1")
    assert len({RecordID("user", [1, 2]), RecordID("user", [1, 2])}) == 1


class Post(BaseModel):
    author: RecordID[Literal["user", "bot"]]
    any_link: RecordID | None = None


def test_record_id_validation_limits_tables() -> None:
    post = Post.model_validate({"author": "user:ann", "any_link": RecordID("x", 1)})
    assert post.author == RecordID("user", "ann")
    assert Post(author=RecordID("bot", 7)).author.id == 7
    with pytest.raises(ValidationError, match="must point to table bot, user"):
        Post.model_validate({"author": "post:1"})
    with pytest.raises(ValidationError, match="expected a record id"):
        Post.model_validate({"author": 5})
    assert Post.model_validate({"author": "user:ann"}).model_dump(mode="json") == {
        "author": "user:ann",
        "any_link": None,
    }
    assert Post.model_validate({"author": "user:ann"}).model_dump()["author"] == RecordID(
        "user", "ann"
    )


def test_json_schema_of_every_type() -> None:
    class Everything(BaseModel):
        author: RecordID[Literal["user", "a b", "select"]]
        link: RecordID | None = None
        ttl: Duration
        at: GeometryPoint
        area: Geometry
        table: Table
        span: Range | None = None

    for mode in ("validation", "serialization"):
        properties = Everything.model_json_schema(mode=mode)["properties"]
        assert properties["ttl"]["format"] == "surrealdb-duration"
        assert properties["area"]["format"] == "geojson"
    pattern = re.compile(properties["author"]["pattern"])
    for table in ("user", "a b", "select"):
        assert pattern.match(str(RecordID(table, "k")))
    assert not pattern.match("post:1")
    assert not pattern.match("a b:1")


DURATION_TEXTS = [
    "1h30m",
    "1y2w3d4h5m6s7ms8µs9ns",
    "0ns",
    "1m30s",
    "1s500ms",
    "1y5w",
    "1w",
    "2d1h",
    "1µs",
]


@pytest.mark.parametrize("text", DURATION_TEXTS)
async def test_duration_text_matches_the_engine(engine: Connection, text: str) -> None:
    [printed, value] = await engine.query(f"RETURN <string> {text}; RETURN {text}")
    assert str(Duration.parse(text)) == printed
    assert value == Duration.parse(text)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 999_999_999))
def test_duration_text_round_trips(seconds: int, nanos: int) -> None:
    duration = Duration(seconds, nanos)
    assert Duration.parse(str(duration)) == duration
    assert (duration.seconds, duration.nanoseconds) == (seconds, nanos)


def test_duration_conversions_and_errors() -> None:
    assert Duration.from_timedelta(timedelta(days=1, microseconds=5)) == Duration(86_400, 5_000)
    assert Duration(1, 1_500).to_timedelta() == timedelta(seconds=1, microseconds=1)
    assert Duration(0, 1_500_000_000) == Duration(1, 500_000_000)
    assert Duration.parse("1us") == Duration.parse("1µs") < Duration.parse("1ms")
    for bad in ["", "1", "h", "1x", "1h 2m", "-1s"]:
        with pytest.raises(ValueError, match="invalid duration"):
            Duration.parse(bad)
    with pytest.raises(ValueError, match="cannot be negative"):
        Duration.from_timedelta(timedelta(seconds=-1))


class Timing(BaseModel):
    ttl: Duration


def test_duration_validation_accepts_text_timedelta_and_duration() -> None:
    assert Timing(ttl="1h").ttl == Duration(3_600)  # type: ignore[arg-type]
    assert Timing(ttl=timedelta(minutes=1)).ttl == Duration(60)  # type: ignore[arg-type]
    assert Timing(ttl=Duration(5)).model_dump(mode="json") == {"ttl": "5s"}
    with pytest.raises(ValidationError, match="expected a duration"):
        Timing(ttl=5)  # type: ignore[arg-type]


GEOJSON: list[dict[str, Any]] = [
    {"type": "Point", "coordinates": [1.5, 2.0]},
    {"type": "LineString", "coordinates": [[1.0, 2.0], [3.0, 4.0]]},
    {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]},
    {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]},
    {"type": "MultiLineString", "coordinates": [[[1.0, 2.0], [3.0, 4.0]]]},
    {"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]]},
    {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.0, 2.0]}]},
]


@pytest.mark.parametrize("geojson", GEOJSON, ids=lambda g: g["type"])
async def test_geometry_matches_the_engine_geojson(
    engine: Connection, geojson: dict[str, Any]
) -> None:
    geometry = Geometry.from_geojson(geojson)
    assert geometry.to_geojson() == geojson
    # The engine casts a GeoJSON literal (not a bound object) to a geometry.
    [from_engine, sent_back] = await engine.query(
        f"RETURN <geometry> {surql_literal(geojson)}; RETURN $geometry", {"geometry": geometry}
    )
    assert from_engine == geometry
    assert sent_back == geometry


class Place(BaseModel):
    at: GeometryPoint
    area: Geometry | None = None


def test_geometry_validation() -> None:
    place = Place.model_validate({"at": {"type": "Point", "coordinates": [1, 2]}})
    assert place.at == GeometryPoint(1.0, 2.0)
    with pytest.raises(ValidationError, match="expected GeoJSON type 'Point'"):
        Place.model_validate({"at": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}})
    square = GeometryPolygon(
        (GeometryLine((GeometryPoint(0, 0), GeometryPoint(1, 0), GeometryPoint(0, 0))),)
    )
    dumped = Place(at=GeometryPoint(0, 0), area=square).model_dump(mode="json")
    assert dumped["area"]["type"] == "Polygon"
    assert isinstance(Geometry.from_geojson(GEOJSON[-1]), GeometryCollection)
    assert GeometryMultiPoint((GeometryPoint(1, 2),)).to_geojson()["type"] == "MultiPoint"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Range(Bound(1), Bound(5, inclusive=False)), "1..5"),
        (Range(Bound(1, inclusive=False), Bound(5)), "1>..=5"),
        (Range(None, Bound(5, inclusive=False)), "..5"),
        (Range(Bound(1), None), "1.."),
    ],
)
async def test_range_text_and_round_trip(engine: Connection, value: Range, text: str) -> None:
    [printed, echoed] = await engine.query("RETURN <string> $r; RETURN $r", {"r": value})
    assert printed == text == str(value)
    assert echoed == value


def test_table_and_none() -> None:
    assert Table("user") == "user"
    assert repr(Table("user")) == "Table('user')"
    assert not NONE
    assert repr(NONE) == "NONE"
