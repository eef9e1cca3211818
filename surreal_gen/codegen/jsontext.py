"""One-line JSON text, as ``json.dumps(value, ensure_ascii=False)`` writes it, for the many
small values the generator encodes (a ``$defs`` entry's parts, a table's snapshot line).

``JSONEncoder.encode`` builds a new C encoder at every call, which is most of its cost for a
small dict: for 19,000 of them (1,000 tables' ``schema.json``), 1.6 us a call against 0.7 us
with one encoder made once. ``json.encoder.c_make_encoder`` is the C encoder that
``JSONEncoder`` itself uses; where it is missing (an interpreter without ``_json``), the
encoder's own ``encode`` is used.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Iterable
from typing import Any

_make_c_encoder: Callable[..., Callable[[Any, int], Iterable[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)


def json_encoder(*, allow_nan: bool) -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=False, allow_nan=allow_nan).encode``, made once.

    Values must be JSON data without cycles (they are not looked for); anything else raises
    ``TypeError``, and NaN or an infinity ``ValueError`` unless ``allow_nan``."""
    standard = json.JSONEncoder(ensure_ascii=False, allow_nan=allow_nan)
    if _make_c_encoder is None:
        return standard.encode
    encode = _make_c_encoder(
        None,  # no cycle check
        standard.default,
        json.encoder.encode_basestring,
        None,  # no indent
        standard.key_separator,
        standard.item_separator,
        False,  # sort_keys
        False,  # skipkeys
        allow_nan,
    )
    return lambda value: "".join(encode(value, 0))
