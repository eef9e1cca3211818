"""Hypothesis strategies for normalised Kind ASTs (what ``parse_kind`` can return)."""

from __future__ import annotations

from typing import get_args

from hypothesis import strategies as st

from surreal_gen.codegen.kinds import (
    AnyKind,
    Array,
    ArrayLiteral,
    File,
    Geometry,
    GeometryType,
    Kind,
    NoneKind,
    NullKind,
    ObjectLiteral,
    Record,
    References,
    Scalar,
    ScalarName,
    Set,
    TableKind,
    duration_literal,
    literal,
    union_of,
)

names = st.text(min_size=1, max_size=8)
literals = st.one_of(
    st.text(max_size=10).map(literal),
    st.booleans().map(literal),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(literal),
    st.floats().map(literal),
    st.decimals(min_value=-(10**20), max_value=10**20, places=8).map(literal),
    st.integers(min_value=0, max_value=10**20).map(lambda ns: duration_literal(f"{ns}ns")),
)
leaves = st.one_of(
    st.just(AnyKind()),
    st.just(NoneKind()),
    st.just(NullKind()),
    st.sampled_from(get_args(ScalarName)).map(Scalar),
    st.lists(names, unique=True, max_size=3).map(lambda tables: Record(tuple(tables))),
    st.lists(names, unique=True, max_size=3).map(lambda tables: TableKind(tuple(tables))),
    st.lists(names, unique=True, max_size=2).map(lambda buckets: File(tuple(buckets))),
    st.lists(st.sampled_from(get_args(GeometryType)), unique=True).map(
        lambda types: Geometry(tuple(types))
    ),
    st.builds(
        References,
        st.none() | names,
        st.none() | st.from_regex(r"[a-z_]+(\.[a-z_]+|\[\*\])*", fullmatch=True),
    ).filter(lambda ref: ref.table is not None or ref.path is None),
    literals,
)


def compound(children: st.SearchStrategy[Kind]) -> st.SearchStrategy[Kind]:
    max_lens = st.none() | st.integers(min_value=0, max_value=100)
    return st.one_of(
        st.lists(children, min_size=2, max_size=4).map(union_of),
        children.map(lambda inner: union_of([NoneKind(), inner])),
        st.builds(Array, children, max_lens),
        st.builds(Set, children, max_lens),
        st.dictionaries(st.text(max_size=6), children, max_size=4).map(
            lambda fields: ObjectLiteral(tuple(sorted(fields.items())))
        ),
        st.lists(children, max_size=3).map(lambda items: ArrayLiteral(tuple(items))),
    )


kinds = st.recursive(leaves, compound, max_leaves=12)
