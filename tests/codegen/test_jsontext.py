"""The JSON text of jsontext.json_encoder is json.dumps's, with and without the C encoder."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surreal_gen.codegen import jsontext

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities included
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@pytest.fixture(params=["C encoder", "without it"])
def encoders(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "without it":
        monkeypatch.setattr(jsontext, "_make_c_encoder", None)
    else:
        assert jsontext._make_c_encoder is not None, "this interpreter has the C encoder"
    return str(request.param)


@given(value=json_values)
def test_the_text_is_json_dumps(value: Any) -> None:
    for make in ("C encoder", "without it"):
        with pytest.MonkeyPatch.context() as patch:
            if make == "without it":
                patch.setattr(jsontext, "_make_c_encoder", None)
            encode = jsontext.json_encoder(allow_nan=True)
            assert encode(value) == json.dumps(value, ensure_ascii=False)


def test_unicode_stays_as_it_is(encoders: str) -> None:
    text = jsontext.json_encoder(allow_nan=False)({"名前": 'a "quoted" é\n\u2028'})
    assert text == '{"名前": "a \\"quoted\\" é\\n\u2028"}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1.0, -float("inf")]])
def test_nan_and_infinities_only_where_allowed(encoders: str, value: Any) -> None:
    assert jsontext.json_encoder(allow_nan=True)(value) == json.dumps(value)
    with pytest.raises(ValueError, match="not JSON compliant"):
        jsontext.json_encoder(allow_nan=False)(value)


def test_anything_else_is_refused(encoders: str) -> None:
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        jsontext.json_encoder(allow_nan=True)({"amount": Decimal("1.5")})
