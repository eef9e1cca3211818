"""BaseSurrealModel against real engines: CRUD, NONE semantics, defaults, hydration, peers.

Every test that takes `orm` runs on the embedded 2.x and 3.x engines and over WebSocket and
HTTP against the loopback test server.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from generated import Follows, Product
from generated import Person as GeneratedPerson
from generated.person import PersonAddress, PersonAddressCountry
from surreal_gen.runtime.connection import SurrealDBConnectionManager
from surreal_gen.runtime.errors import (
    ConfigurationError,
    DoesNotExist,
    QueryError,
    ValidationFailed,
)
from surreal_gen.runtime.model import (
    DB_DEFAULT,
    BaseSurrealModel,
    Computed,
    Nullable,
    ReadOnly,
    SurrealConfigDict,
    db_default,
    write_plan,
)
from surreal_gen.runtime.signals import post_save
from surreal_gen.runtime.types import (
    Duration,
    GeometryLine,
    GeometryPoint,
    GeometryPolygon,
    RecordID,
)
from tests.runtime.orm_connections import OrmTarget


class ChatMessage(BaseSurrealModel):
    """The notebook's hand-written model, verbatim."""

    model_config = SurrealConfigDict(table_name="chat_message")

    id: str | None = None
    text: str
    sender: str
    room: str = "general"


class Address(BaseModel):
    city: str
    zip: str | None = None
    geocoded_at: datetime = db_default()


class Person(BaseSurrealModel):
    """Shaped like a generated model: typed id, markers, database defaults, an alias, a
    sub-model."""

    model_config = SurrealConfigDict(table_name="person")

    id: RecordID[Literal["person"]] | None = None
    name: str
    age: int | None = None
    nickname: Annotated[str | None, Nullable] = None
    code: Annotated[str, ReadOnly]
    created_at: Annotated[datetime, Computed] = db_default()
    score: int = db_default()
    address: Address | None = None
    tags: list[str] = Field(default_factory=list)
    source: str | None = Field(default=None, alias="in")


PERSON_SCHEMA = """
DEFINE TABLE person SCHEMAFULL;
DEFINE FIELD name ON person TYPE string;
DEFINE FIELD age ON person TYPE option<int>;
DEFINE FIELD nickname ON person TYPE option<string | null>;
DEFINE FIELD code ON person TYPE string READONLY;
DEFINE FIELD created_at ON person VALUE time::now() READONLY;
DEFINE FIELD score ON person TYPE int DEFAULT 5;
DEFINE FIELD address ON person TYPE option<object>;
DEFINE FIELD address.city ON person TYPE string;
DEFINE FIELD address.zip ON person TYPE option<string>;
DEFINE FIELD tags ON person TYPE array<string> DEFAULT [];
DEFINE FIELD in ON person TYPE option<string>;
"""


async def raw_record(orm: OrmTarget, rid: Any) -> dict[str, Any] | None:
    """The record exactly as the database holds it (no model in between)."""
    rows = (await orm.connection.query("SELECT * FROM $id", {"id": rid}))[0]
    return rows[0] if rows else None


# -- the notebook's model -------------------------------------------------------------------------


async def test_notebook_model_saves_reads_and_cleans_up(orm: OrmTarget) -> None:
    messages = [
        ChatMessage(text="Hello everyone!", sender="Alice", room="general"),
        ChatMessage(text="Hey Alice!", sender="Bob", room="general"),
        ChatMessage(text="Working on the API", sender="Charlie", room="dev"),
    ]
    for message in messages:
        assert await message.save() is message
        assert isinstance(message.id, str)
        assert message.id.startswith("chat_message:")

    again = await ChatMessage.get(messages[0].id)
    assert again == messages[0]
    general = await ChatMessage.objects().filter(room="general").order_by("sender").all()
    assert [m.sender for m in general] == ["Alice", "Bob"]

    await ChatMessage.objects().delete_table()
    assert await ChatMessage.objects().count() == 0


async def test_python_default_is_written(orm: OrmTarget) -> None:
    message = await ChatMessage(text="hi", sender="Ann").save()
    raw = await raw_record(orm, ChatMessage.to_record_id(message.id))
    assert raw is not None and raw["room"] == "general"


# -- NONE semantics, defaults, computed and read-only fields -------------------------------------


async def test_create_leaves_out_unset_fields_and_takes_back_database_values(
    orm: OrmTarget,
) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    person = Person.model_validate(
        {"name": "Ann", "code": "A-1", "address": {"city": "Montréal"}, "in": "web"}
    )
    assert person.created_at is DB_DEFAULT

    await person.save()

    assert isinstance(person.id, RecordID) and person.id.table == "person"
    assert person.score == 5  # DEFAULT filled by the database
    assert isinstance(person.created_at, datetime)  # VALUE computed by the database
    assert person.source == "web"
    raw = await raw_record(orm, person.id)
    assert raw is not None
    assert "age" not in raw and "nickname" not in raw  # unset optionals were left out
    assert "zip" not in raw["address"]
    assert raw["in"] == "web"


async def test_none_is_written_as_none_and_null_only_for_nullable_fields(orm: OrmTarget) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    person = await Person(name="Ann", code="A", age=30, nickname="annie").save()

    person.age = None  # option<int>: NONE removes the field
    person.nickname = None  # option<string | null>: NULL is kept as a value
    await person.save()

    raw = await raw_record(orm, person.id)
    assert raw is not None
    assert "age" not in raw
    assert "nickname" in raw and raw["nickname"] is None
    assert person.age is None and person.nickname is None


async def test_update_merges_and_keeps_fields_the_object_does_not_set(orm: OrmTarget) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    await orm.connection.query(
        "CREATE person:keep SET name = 'Old', code = 'K', score = 42, age = 7, tags = ['x']"
    )
    partial = Person(id=RecordID("person", "keep"), name="New", code="K")

    await partial.save()

    assert partial.name == "New"
    assert partial.score == 42  # not wiped back to the DEFAULT
    assert partial.age == 7
    assert partial.tags == []  # a Python default is part of the object's state: written
    raw = await raw_record(orm, RecordID("person", "keep"))
    assert raw is not None and raw["score"] == 42 and raw["age"] == 7


async def test_read_only_field_is_written_on_create_and_never_on_update(orm: OrmTarget) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    person = await Person(name="Ann", code="FIRST").save()
    created_at = person.created_at

    loaded = await Person.get(person.id)
    loaded.code = "CHANGED"  # would be refused by the database if it were sent
    loaded.name = "Anna"
    await loaded.save()

    assert loaded.code == "FIRST"  # the record the database returned wins
    assert loaded.name == "Anna"
    assert loaded.created_at == created_at  # computed READONLY value is untouched


async def test_object_built_with_an_id_is_created_with_its_read_only_fields(
    orm: OrmTarget,
) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    person = await Person.model_validate(
        {"id": "person:chosen", "name": "Ann", "code": "RO"}
    ).save()
    assert person.id == RecordID("person", "chosen")
    raw = await raw_record(orm, person.id)
    assert raw is not None and raw["code"] == "RO" and raw["score"] == 5


async def test_computed_fields_are_never_written() -> None:
    plan = write_plan(Person)
    created = {entry.name for entry in plan.on_create}
    updated = {entry.name for entry in plan.on_update}
    assert "created_at" not in created and "created_at" not in updated
    assert "code" in created and "code" not in updated
    assert "id" not in created
    assert write_plan(Person) is plan  # computed once per class


async def test_save_with_an_id_reports_whether_it_created(orm: OrmTarget) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    outcomes: list[bool] = []

    def on_post_save(sender: type[Any], instance: Any, created: bool) -> None:
        outcomes.append(created)

    post_save.connect(on_post_save)
    try:
        person = await Person(
            id=RecordID("person", "x"), name="Ann", code="A"
        ).save()  # UPDATE finds nothing, then CREATE
        await person.save()  # UPDATE
        message = await ChatMessage(id="chat_message:x", text="t", sender="s").save()
        await message.save()
        await ChatMessage(text="t", sender="s").save()  # CREATE
    finally:
        post_save.disconnect(on_post_save)
    assert outcomes == [True, False, True, False, True]


async def test_database_refusal_is_a_query_error(orm: OrmTarget) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    person = await Person(name="Ann", code="A").save()
    with pytest.raises(QueryError, match="readonly"):
        await orm.connection.query("UPDATE $id SET code = 'B'", {"id": person.id})


# -- get / refresh / delete ------------------------------------------------------------------------


async def test_get_refresh_and_delete(orm: OrmTarget) -> None:
    await orm.connection.query(PERSON_SCHEMA)
    person = await Person(name="Ann", code="A").save()
    assert person.id is not None
    key = person.id.id

    for form in (person.id, str(person.id), key):
        assert (await Person.get(form)).name == "Ann"

    await orm.connection.query("UPDATE $id SET name = 'Changed'", {"id": person.id})
    assert (await person.refresh()).name == "Changed"

    await person.delete()
    with pytest.raises(DoesNotExist, match="does not exist"):
        await Person.get(person.id)
    with pytest.raises(DoesNotExist):
        await person.refresh()

    await person.save()  # a deleted object can be saved again: it is created anew
    assert (await Person.get(person.id)).name == "Changed"
    assert person.code == "A"  # ReadOnly fields are written when the record is created


async def test_get_refuses_an_id_of_another_table() -> None:
    with pytest.raises(ValueError, match="not in table 'person'"):
        Person.to_record_id("user:1")
    with pytest.raises(ValueError, match="not a record id"):
        Person.to_record_id(None)


async def test_delete_and_refresh_need_an_id() -> None:
    person = Person(name="Ann", code="A")
    with pytest.raises(ValueError, match="has no id"):
        await person.delete()
    with pytest.raises(ValueError, match="has no id"):
        await person.refresh()


def test_missing_table_name_is_a_configuration_error() -> None:
    class Nameless(BaseSurrealModel):
        text: str

    with pytest.raises(ConfigurationError, match="Nameless has no table"):
        Nameless.get_table_name()


# -- hydration -------------------------------------------------------------------------------------


async def test_many_rows_hydrate_in_one_batch(orm: OrmTarget) -> None:
    rows = [
        {"id": RecordID("chat_message", i), "text": str(i), "sender": "bulk"} for i in range(1, 251)
    ]
    await orm.connection.query("INSERT INTO chat_message $rows", {"rows": rows})
    messages = await ChatMessage.objects().order_by("id").all()
    assert len(messages) == 250
    assert all(isinstance(message, ChatMessage) for message in messages)
    assert messages[0].id == "chat_message:1" and messages[0].text == "1"
    assert {message.room for message in messages} == {"general"}


async def test_invalid_record_names_the_record_and_the_field(orm: OrmTarget) -> None:
    await orm.connection.query(
        "CREATE chat_message:good SET text = 'ok', sender = 'a'; "
        "CREATE chat_message:bad SET text = 'no sender';"
    )
    with pytest.raises(ValidationFailed) as caught:
        await ChatMessage.objects().all()
    error = caught.value
    assert error.field == "sender"
    assert str(error.record_id) == "chat_message:bad"
    assert "chat_message:bad" in str(error) and "'sender'" in str(error)
    assert "\n" not in str(error)


def test_from_db_many_uses_the_same_validation() -> None:
    rows = [{"id": RecordID("chat_message", 1), "text": "t", "sender": "s"}]
    (message,) = ChatMessage.from_db_many(rows)
    assert message.id == "chat_message:1"
    with pytest.raises(ValidationFailed, match="field 'text'"):
        ChatMessage.from_db({"id": RecordID("chat_message", 2), "sender": "s"})


# -- extra keys ------------------------------------------------------------------------------------


class Flexible(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="flexible", extra="allow")

    id: RecordID[Literal["flexible"]] | None = None
    name: str


async def test_models_that_allow_extra_keys_write_and_read_them(orm: OrmTarget) -> None:
    item = await Flexible.model_validate({"name": "x", "colour": "red", "gone": None}).save()
    raw = await raw_record(orm, item.id)
    assert raw is not None and raw["colour"] == "red" and "gone" not in raw
    loaded = await Flexible.get(item.id)
    assert loaded.model_extra == {"colour": "red"}


# -- named connections ----------------------------------------------------------------------------


class AuditEntry(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="audit", connection="audit")

    id: RecordID[Literal["audit"]] | None = None
    what: str


@pytest.mark.parametrize("engine", ["2", "3"])
async def test_named_connections_per_model_and_per_call(engine: str) -> None:
    url = f"mem://?engine={engine}"
    SurrealDBConnectionManager.set_connection(url, "root", "root", "main", "main")
    SurrealDBConnectionManager.set_connection(url, "root", "root", "audit", "audit", name="audit")
    try:
        await AuditEntry(what="model-level").save()  # model_config connection="audit"
        await ChatMessage(text="t", sender="s").save()  # default connection
        await ChatMessage(text="elsewhere", sender="s").save(using="audit")

        assert await AuditEntry.objects().count() == 1
        assert await AuditEntry.objects().using("default").count() == 0
        assert [m.text for m in await ChatMessage.objects().all()] == ["t"]
        assert [m.text for m in await ChatMessage.objects().using("audit").all()] == ["elsewhere"]
    finally:
        await SurrealDBConnectionManager.close_connection("audit")
        await SurrealDBConnectionManager.close_connection()


def test_unknown_connection_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no SurrealDB connection named 'nowhere'"):
        ChatMessage.get_connection("nowhere")


# -- peer check with the official SDK --------------------------------------------------------------


class PeerNote(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="peer_note")

    id: RecordID[Literal["peer_note"]] | None = None
    title: str
    stars: int
    when: datetime
    labels: list[str]
    extra: dict[str, Any] = Field(default_factory=dict)


@pytest.mark.parametrize("orm", ["ws", "http"], indirect=True)
async def test_records_cross_between_us_and_the_official_sdk(orm: OrmTarget) -> None:
    """The SDK and we share the database through the server (embedded engines are private)."""
    assert orm.server is not None
    from surrealdb import AsyncSurreal
    from surrealdb import RecordID as SdkRecordID

    sdk = AsyncSurreal(orm.server.ws_url)
    await sdk.connect(orm.server.ws_url)
    try:
        await sdk.signin({"username": orm.user, "password": orm.password})
        await sdk.use(orm.namespace, orm.database)
        when = datetime.fromisoformat("2026-03-04T05:06:07.123456+00:00")

        await sdk.create(
            SdkRecordID("peer_note", "from_sdk"),
            cast(Any, {"title": "by sdk", "stars": 4, "when": when, "labels": ["a", "b"]}),
        )
        mine = await PeerNote.get("peer_note:from_sdk")
        assert (mine.title, mine.stars, mine.when, mine.labels) == ("by sdk", 4, when, ["a", "b"])

        ours = await PeerNote(
            title="by us", stars=5, when=when, labels=["c"], extra={"k": [1, None]}
        ).save()
        assert ours.id is not None
        selected = await sdk.select(SdkRecordID("peer_note", ours.id.id))
        theirs = selected[0] if isinstance(selected, list) else selected
        assert isinstance(theirs, dict)
        assert theirs["title"] == "by us" and theirs["stars"] == 5
        assert theirs["when"] == when and theirs["labels"] == ["c"]
        assert theirs["extra"] == {"k": [1, None]}
    finally:
        await sdk.close()


# -- pydantic behaviour the runtime relies on -----------------------------------------------------


def test_config_keeps_table_name_and_base_settings() -> None:
    config: dict[str, Any] = dict(Person.model_config)
    assert config["table_name"] == "person"
    assert config["populate_by_name"] is True
    assert config["defer_build"] is True


def test_assignments_are_validated() -> None:
    message = ChatMessage(text="hi", sender="Ann")
    with pytest.raises(ValidationError, match="text"):
        message.text = 5  # type: ignore[assignment]
    person = Person(name="Ann", code="A")
    person.id = "person:9"  # type: ignore[assignment]
    assert person.id == RecordID("person", 9)
    with pytest.raises(ValidationError, match="must point to table person"):
        person.id = "user:9"  # type: ignore[assignment]
    address = PersonAddress(
        street="1 Main St", city="Oslo", country=PersonAddressCountry(code="NO")
    )
    with pytest.raises(ValidationError, match="city"):
        address.city = 5  # type: ignore[assignment]


def test_unsaved_objects_dump_without_their_pending_database_defaults() -> None:
    person = Person(name="Ann", code="A", address=Address(city="Oslo"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dumped = person.model_dump()
        as_json = json.loads(person.model_dump_json(exclude={"age"}))
    assert "created_at" not in dumped and "score" not in dumped
    assert dumped["name"] == "Ann" and dumped["address"] == {"city": "Oslo", "zip": None}
    assert "created_at" not in as_json and "age" not in as_json and as_json["code"] == "A"
    person.score = 3
    assert person.model_dump(include={"score"}) == {"score": 3}


def test_pending_database_defaults_are_left_out_of_every_dump() -> None:
    """Not only the model's own ``model_dump``: a ``TypeAdapter`` (FastAPI's responses), or
    a model holding this one, serializes it with pydantic-core directly. They raised
    "Unable to serialize unknown type" in JSON, and warned in Python mode."""

    class Envelope(BaseModel):
        people: list[Person]

    person = Person(name="Ann", code="A", address=Address(city="Oslo"))
    expected = {"id": None, "name": "Ann", "age": None, "nickname": None, "code": "A"}
    expected |= {"address": {"city": "Oslo", "zip": None}, "tags": [], "source": None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert json.loads(TypeAdapter(Person).dump_json(person)) == expected
        assert TypeAdapter(Person).dump_python(person) == expected
        assert json.loads(Envelope(people=[person]).model_dump_json()) == {"people": [expected]}
        assert Envelope(people=[person]).model_dump() == {"people": [expected]}
    assert person.created_at is DB_DEFAULT and person.address is not None
    assert person.address.geocoded_at is DB_DEFAULT


def test_alias_or_name_both_populate() -> None:
    by_alias = Person.model_validate({"name": "a", "code": "c", "in": "x"})
    by_name = Person.model_validate({"name": "a", "code": "c", "source": "x"})
    assert by_alias.source == by_name.source == "x"


def test_plain_base_models_inside_are_not_table_models() -> None:
    class Inner(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: int

    plan = write_plan(Inner)
    assert [entry.key for entry in plan.on_create] == ["value"]


# -- the generated package (generated/, from schema/) ---------------------------------------------

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
TEN_TAGS = [f"t{i}" for i in range(10)]


async def apply_reference_schema(orm: OrmTarget) -> None:
    for path in sorted(SCHEMA_DIR.glob("*.surql")):
        await orm.connection.query(path.read_text())


async def test_generated_person_round_trips_every_kind_of_field(orm: OrmTarget) -> None:
    await apply_reference_schema(orm)
    person = GeneratedPerson.model_validate(
        {
            "name": "Zoë",
            "email": "Zoe@Example.COM",
            "class": "mage",
            "nickname": None,
            "tags": TEN_TAGS,  # array<string, 10>: at most 10 on 2.x, exactly 10 on 3.x
            "address": {"street": "1 rue", "city": "Montréal", "country": {"code": "CA"}},
        }
    )
    await person.save()

    assert person.email == "zoe@example.com"  # the field's VALUE ran in the database
    assert person.balance == Decimal(0)
    assert person.session_ttl == Duration.parse("1h30m")
    assert person.preferences == {}
    assert person.status == "pending" and person.level == 1
    assert isinstance(person.created_at, datetime) and isinstance(person.updated_at, datetime)
    assert person.address == PersonAddress(
        street="1 rue", city="Montréal", country=PersonAddressCountry(code="CA")
    )
    raw = await raw_record(orm, person.id)
    assert raw is not None and raw["nickname"] is None and "age" not in raw

    created_at = person.created_at
    person.age = 33
    person.tags = [*TEN_TAGS[:9], "b"]
    await person.save()  # READONLY created_at (nanoseconds in the database) is not re-sent
    assert person.created_at == created_at and person.age == 33

    found = (
        await GeneratedPerson.objects()
        .filter(address__country__code="CA", class_="mage", level__in=[1, 2], tags__contains="b")
        .all()
    )
    assert [p.id for p in found] == [person.id]
    assert await GeneratedPerson.objects().filter(age__gt=40).count() == 0

    assert person.id is not None
    only_ann = GeneratedPerson.objects().filter(id=person.id)
    assert await only_ann.update(nickname="zo", age=34) == 1
    assert await only_ann.update(nickname=None, age=None) == 1  # NULL for `string | null`
    raw = await raw_record(orm, person.id)
    assert raw is not None and raw["nickname"] is None and "age" not in raw


async def test_geometries_are_written_as_geometries(orm: OrmTarget) -> None:
    await apply_reference_schema(orm)
    depot = GeometryPoint(-73.57, 45.5)
    yard = GeometryPolygon(
        (GeometryLine((GeometryPoint(0, 0), GeometryPoint(1, 0), GeometryPoint(0, 0))),)
    )
    product = Product(sku="g-1", title="Map", price=Decimal(1), labels={"x"}, warehouse=depot)
    await product.save()  # create

    raw = await raw_record(orm, product.id)
    assert raw is not None and raw["warehouse"] == depot
    assert product.warehouse == depot
    found = await Product.objects().filter(warehouse=depot).all()
    assert [p.id for p in found] == [product.id]

    product.warehouse = yard
    await product.save()  # merge
    assert (await Product.get(product.id)).warehouse == yard
    assert await Product.objects().filter(id=product.id).update(warehouse=depot) == 1
    assert (await Product.get(product.id)).warehouse == depot

    person = GeneratedPerson.model_validate(
        {
            "name": "Geo",
            "email": "geo@example.com",
            "class": "scout",
            "tags": TEN_TAGS,
            "address": {
                "street": "2 rue",
                "city": "Lyon",
                "country": {"code": "FR"},
                "location": depot.to_geojson(),
            },
        }
    )
    await person.save()  # a geometry inside a nested object
    raw = await raw_record(orm, person.id)
    assert raw is not None and raw["address"]["location"] == depot


async def test_generated_relation_model_is_written_as_an_edge(orm: OrmTarget) -> None:
    await apply_reference_schema(orm)
    ann = await GeneratedPerson(name="Ann", email="a@x", tags=TEN_TAGS).save()
    bob = await GeneratedPerson(name="Bob", email="b@x", tags=TEN_TAGS).save()
    assert ann.id is not None and bob.id is not None

    edge = await Follows.model_validate({"in": ann.id, "out": bob.id}).save()
    chosen = await Follows.model_validate(
        {"id": "follows:chosen", "in": bob.id, "out": ann.id, "muted": True}
    ).save()
    assert edge.in_ == ann.id and isinstance(edge.since, datetime)
    assert chosen.id == RecordID("follows", "chosen") and chosen.muted is True

    edge.muted = True
    await edge.save()  # an update MERGEs, without the READONLY in/out
    assert await Follows.objects().filter(muted=True).count() == 2
    followed = (
        await orm.connection.query("SELECT VALUE ->follows->person FROM $id", {"id": ann.id})
    )[0]
    assert followed == [[bob.id]] or followed == [bob.id]
    assert [f.out for f in await Follows.objects().filter(in_=ann.id).all()] == [bob.id]
