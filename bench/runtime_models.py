"""Hand-written models for the request benchmarks; imported only once the runtime exists."""

from __future__ import annotations

from typing import Literal

from surreal_gen.runtime import BaseSurrealModel, RecordID, SurrealConfigDict


class LiveItem(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="live_item")

    id: RecordID[Literal["live_item"]] | None = None
    text: str
    n: int


class FeedItem(BaseSurrealModel):
    model_config = SurrealConfigDict(table_name="feed_item")

    id: RecordID[Literal["feed_item"]] | None = None
    text: str
    n: int
