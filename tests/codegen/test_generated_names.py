"""Generated fields whose database name is not a Python name (`in`, `class`, `json`,
`schema`) are built with their Python names and stored under their database names, on both
embedded engines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from generated import AuditLog, Follows, Person, Room
from surreal_gen.codegen.introspect import EMBEDDED_URL, apply_files
from surreal_gen.runtime.connection import Connection, SurrealDBConnectionManager
from tests.codegen.reference import reference_files


@pytest.fixture(params=["2", "3"])
async def connection(request: pytest.FixtureRequest) -> AsyncIterator[Connection]:
    """The default connection on a fresh embedded engine holding the reference schema."""
    connection = SurrealDBConnectionManager.set_connection(
        f"{EMBEDDED_URL}?engine={request.param}", namespace="test", database="test"
    )
    await apply_files(connection, reference_files())
    yield connection
    await SurrealDBConnectionManager.close_connection()


async def _row(connection: Connection, record: object) -> dict[str, object]:
    [rows] = await connection.query("SELECT * FROM $record", {"record": record})
    [row] = rows
    assert isinstance(row, dict)
    return row


async def test_python_names_save_and_read_back_under_database_names(
    connection: Connection,
) -> None:
    ann = await Person(name="Ann", email="a@b.c", class_="vip", json_=True).save()
    hall = await Room(name="hall", owner=ann.id).save()
    assert ann.id is not None and hall.id is not None
    edge = await Follows(in_=ann.id, out=hall.id).save()
    log = await AuditLog(action="seen", schema_="v1").save()

    person_row = await _row(connection, ann.id)
    assert person_row["class"] == "vip" and person_row["json"] is True
    assert "class_" not in person_row and "json_" not in person_row
    edge_row = await _row(connection, edge.id)
    assert edge_row["in"] == ann.id and edge_row["out"] == hall.id and "in_" not in edge_row
    log_row = await _row(connection, log.id)
    assert log_row["schema"] == "v1" and "schema_" not in log_row

    [again] = await Follows.objects().filter(in_=ann.id).all()
    assert (again.id, again.in_, again.out) == (edge.id, ann.id, hall.id)
    assert again.model_dump(by_alias=True)["in"] == ann.id
    [vip] = await Person.objects().filter(class_="vip", json_=True).all()
    assert (vip.id, vip.class_, vip.json_) == (ann.id, "vip", True)
    [found] = await AuditLog.objects().filter(schema_="v1").all()
    assert found.schema_ == "v1" and found.model_extra == {}
