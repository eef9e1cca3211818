"""The import-cost floor: table `tbl_0000` of the synthetic schema, written by hand.

The same fields and types surreal-gen generates for that table (bench/synth.py, F = 30), in a
single module with nothing else in it. Importing it and validating one row is the least any
package offering this model can cost.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from surreal_gen.runtime import (
    BaseSurrealModel,
    Duration,
    GeometryPoint,
    RecordID,
    SurrealConfigDict,
)


class Address19(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    city: str
    street: str
    zip: str | None = None


class Items20Item(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    price: Decimal
    qty: int
    sku: str


class Meta22(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True, extra="allow")

    source: str


class Tbl0000(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="tbl_0000")

    id: RecordID[Literal["tbl_0000"]] | None = None
    text_00: str
    count_01: int
    ratio_02: float
    flag_03: bool
    amount_04: Decimal
    created_05: datetime
    ttl_06: Duration
    uid_07: UUID
    measure_08: int | float | Decimal
    blob_09: bytes
    note_10: str | None = None
    score_11: int | None = None
    tags_12: list[str]
    vector_13: Annotated[list[float], Field(max_length=5)]
    labels_14: list[str]
    link_15: RecordID[Literal["tbl_0001"]]
    either_16: RecordID[Literal["tbl_0001", "tbl_0003"]] | None = None
    refs_17: list[RecordID[Literal["tbl_0003"]]]
    status_18: Literal["draft", "published", "archived"]
    address_19: Address19
    items_20: list[Items20Item]
    location_21: GeometryPoint
    meta_22: Meta22
    extra_23: dict[str, Any]
    anything_24: Any = None
    seen_25: datetime | None = None
    text_26: str
    count_27: int
    ratio_28: float
    flag_29: bool
