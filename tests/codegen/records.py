"""Real records of the reference schema, and their JSON form, for the schema.json tests."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from surreal_gen.codegen.introspect import EMBEDDED_URL, apply_files
from surreal_gen.runtime.connection import Connection, ConnectionConfig
from surreal_gen.runtime.types import Duration, Geometry, GeometryPoint, RecordID
from tests.codegen.reference import reference_files


def as_json(value: Any) -> Any:
    """A value decoded from the database, as SurrealDB writes it in JSON."""
    match value:
        case RecordID() | Duration() | uuid.UUID():
            return str(value)
        case datetime():
            return value.isoformat()
        case Geometry():
            return value.to_geojson()
        case bytes():
            return base64.b64encode(value).decode("ascii")
        case Mapping():
            return {key: as_json(item) for key, item in value.items()}
        case list() | tuple() | set() | frozenset():
            return [as_json(item) for item in value]
        case _:
            return value


async def reference_database(engine: str) -> Connection:
    """A fresh embedded engine (``"2"`` or ``"3"``) holding the reference schema and a record
    in every table; the caller closes it."""
    url = f"{EMBEDDED_URL}?engine={engine}"
    connection = Connection(ConnectionConfig(url=url, namespace="test", database="test"))
    await apply_files(connection, reference_files())
    ann, hall, lamp = RecordID("person", "ann"), RecordID("room", "hall"), RecordID("product", 1)
    await connection.query(
        "CREATE $ann CONTENT $person; CREATE $hall CONTENT $room; CREATE $lamp CONTENT $product;"
        "CREATE chat_message CONTENT { text: 'hi', sender: 'ann', room: 'hall' };"
        "RELATE $ann->follows->$hall;"
        "CREATE audit_log CONTENT { action: 'login', extra: [1, 'two'] };",
        {
            "ann": ann,
            "hall": hall,
            "lamp": lamp,
            "person": {
                "name": "Ann",
                "email": "Ann@Example.org",
                "age": 31,
                "address": {
                    "street": "1 Main St",
                    "city": "Paris",
                    "location": GeometryPoint(2.35, 48.85),
                    "country": {"code": "FR"},
                },
                "tags": [f"t{i}" for i in range(10)],  # 3.x: array<T, 10> holds exactly 10
                "class": "first",
                "best_friend": ann,
            },
            "room": {"name": "Hall", "owner": ann},
            "product": {
                "sku": "L-1",
                "title": "Lamp",
                "price": Decimal("19.90"),
                "labels": frozenset({"light"}),
                "dimensions": [1.0, 2.0, 3.5],
                "ref": uuid.UUID(int=7),
                "thumbnail": b"\x89PNG",
                "attributes": {"finish": "matte", "bulbs": [2, 3]},  # FLEXIBLE: any key
            },
        },
    )
    purchase = {
        "buyer": ann,
        "items": [{"product": lamp, "quantity": 2, "unit_price": Decimal("19.90")}],
        "delivery_window": Duration.parse("2d"),
        "context": hall,
        "scores": [[1, 2], [3]],
    }
    await connection.query("CREATE purchase CONTENT $purchase", {"purchase": purchase})
    return connection


async def all_records(connection: Connection, table: str) -> list[dict[str, Any]]:
    [rows] = await connection.query("SELECT * FROM type::table($table)", {"table": table})
    return list(rows)
