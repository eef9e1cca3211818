"""Generated models with runtime value types, read from each engine and transport: their dumps
(Python, JSON, by alias) validate back, and copies equal the original."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal

from pydantic import TypeAdapter

from generated import Follows, Person, Product
from generated.person import PersonAddress, PersonAddressCountry
from surreal_gen.runtime.types import GeometryPoint, RecordID
from tests.runtime.orm_connections import OrmTarget
from tests.runtime.test_model import apply_reference_schema


async def test_models_read_from_the_engine_dump_and_validate_back(orm: OrmTarget) -> None:
    await apply_reference_schema(orm)
    ann = Person(
        name="Ann",
        email="ANN@x.io",
        balance=Decimal("12.50"),
        address=PersonAddress(
            street="s",
            city="c",
            country=PersonAddressCountry(code="NZ"),
            location=GeometryPoint(174.7, -36.8),
        ),
        class_="k",
        json_=True,
    )
    await ann.save()
    bob = Person(name="Bob", email="bob@x.io", best_friend=ann.id)
    await bob.save()
    await Follows.model_validate({"in": bob.id, "out": ann.id}).save()
    for model in (Person, Follows, Product):
        rows = await model.objects().all()
        for row in rows:
            assert type(row).model_validate(row.model_dump()) == row
            # JSON prints datetimes to the microsecond (NanoDatetime's docstring), so the JSON
            # round trips compare as JSON.
            as_json = row.model_dump(mode="json")
            back = type(row).model_validate_json(row.model_dump_json())
            assert back.model_dump(mode="json") == as_json
            back = type(row).model_validate_json(row.model_dump_json(by_alias=True))
            assert back.model_dump(mode="json") == as_json
            assert pickle.loads(pickle.dumps(row)) == row
            assert copy.deepcopy(row) == row
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
        assert adapter.dump_json(adapter.validate_json(adapter.dump_json(rows))) == (
            adapter.dump_json(rows)
        )
    [read] = await Person.objects().filter(name="Bob").all()
    assert read.best_friend == ann.id and isinstance(read.best_friend, RecordID)
