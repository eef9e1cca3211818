"""Apply the patch operations SurrealDB sends for DIFF live queries and INCLUDE ORIGINAL feeds.

SurrealDB's diff (``core/src/val/value/diff.rs``) differs from RFC 6902 in four ways that
this module handles:

- The root path is ``"/"`` on 2.x and ``""`` on 3.x; a root ``replace`` to NONE (``None``)
  means the record is gone (3.x DIFF DELETE).
- Arrays are diffed by position and a shortened array produces ``remove /arr/1``,
  ``remove /arr/2`` in *ascending* order, with indices that refer to the array before the
  removals. A run of removals from one array is therefore applied from the highest index.
- ``change`` is a non-standard op whose value is a diff-match-patch text for a string edit.
  It is applied with the ``diff-match-patch`` library with fuzzy matching switched off, so
  an edit that does not fit the base text exactly is a :class:`PatchConflict`, never a guess.
- Object keys in paths are not RFC-escaped. 2.x writes keys that are not plain identifiers
  in backticks (``/`a/b```); 3.x writes them raw, so a key containing ``/`` is resolved
  against the keys the document has. Empty-string keys cannot be told from the 2.x root.

The input document is never modified: containers on the paths that change are copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diff_match_patch import diff_match_patch  # type: ignore[import-untyped]

__all__ = ["PatchConflict", "PatchResult", "apply_diff"]


class PatchConflict(ValueError):
    """The operations do not fit the document (a path is missing or a text edit misfits)."""


@dataclass(frozen=True, slots=True)
class PatchResult:
    """The patched document and the top-level keys the operations touched.

    ``replaced_root`` is True when an operation replaced the whole document; then every key
    of ``document`` counts as changed.
    """

    document: Any
    touched_keys: frozenset[str]
    replaced_root: bool

    def changed_fields(self) -> dict[str, Any]:
        """Field -> new value for every touched top-level field (a removed field maps to None)."""
        if not isinstance(self.document, dict):
            return {}
        keys: Iterable[str] = self.document if self.replaced_root else sorted(self.touched_keys)
        return {key: self.document.get(key) for key in keys}


def _strict_text_patcher() -> Any:
    patcher = diff_match_patch()
    patcher.Match_Threshold = 0.0
    patcher.Patch_DeleteThreshold = 0.0
    return patcher


_TEXT_PATCHER = _strict_text_patcher()


def apply_diff(
    document: Any, ops: Sequence[Mapping[str, Any]], *, engine_major: int
) -> PatchResult:
    """Apply SurrealDB diff ``ops`` to ``document`` and return the result.

    ``engine_major`` (2 or 3) selects how paths are written. Raises :class:`PatchConflict`
    when an operation does not fit; the caller should then re-read the record.
    """
    state = _PatchState(document, engine_major)
    for index, op in enumerate(_order_removals(ops)):
        try:
            state.apply(op)
        except PatchConflict as exc:
            raise PatchConflict(
                f"diff op {index} ({op.get('op')} {op.get('path')!r}): {exc}"
            ) from None
    return PatchResult(state.document, frozenset(state.touched), state.replaced_root)


def _order_removals(ops: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Reverse each run of consecutive array-index ``remove`` ops that share a parent."""
    ordered: list[Mapping[str, Any]] = []
    run: list[Mapping[str, Any]] = []
    for op in ops:
        parent = _removal_parent(op)
        if run and parent is not None and parent == _removal_parent(run[-1]):
            run.append(op)
            continue
        ordered.extend(reversed(run))
        run = []
        if parent is None:
            ordered.append(op)
        else:
            run.append(op)
    ordered.extend(reversed(run))
    return ordered


def _removal_parent(op: Mapping[str, Any]) -> str | None:
    """The parent path of a ``remove`` whose last segment is an index, else None."""
    path = op.get("path")
    if op.get("op") != "remove" or not isinstance(path, str):
        return None
    parent, _, last = path.rpartition("/")
    return parent if _is_index(last) else None


def _is_index(segment: str) -> bool:
    return segment.isascii() and segment.isdigit()


class _PatchState:
    def __init__(self, document: Any, engine_major: int) -> None:
        self.document = document
        self.engine_major = engine_major
        self.touched: set[str] = set()
        self.replaced_root = False
        self._owned: set[int] = set()

    def apply(self, op: Mapping[str, Any]) -> None:
        kind = op.get("op")
        path = op.get("path")
        if not isinstance(path, str):
            raise PatchConflict("path is not a string")
        if path in ("", "/"):
            self._apply_root(kind, op)
            return
        if kind not in ("add", "remove", "replace", "change"):
            raise PatchConflict(f"unsupported op {kind!r}")
        parent, key = self._resolve(path, creating=kind == "add")
        if kind == "add":
            _add(parent, key, op.get("value"))
        elif kind == "remove":
            _remove(parent, key)
        elif kind == "replace":
            _replace(parent, key, op.get("value"))
        else:
            _change_text(parent, key, op.get("value"))

    def _apply_root(self, kind: Any, op: Mapping[str, Any]) -> None:
        if kind == "remove":
            self.document = None
        elif kind in ("add", "replace"):
            self.document = op.get("value")
        else:
            raise PatchConflict(f"op {kind!r} cannot apply to the whole document")
        self.replaced_root = True
        self._owned.clear()

    def _resolve(self, path: str, *, creating: bool) -> tuple[Any, str | int]:
        """Walk to the container holding the last path segment, copying what will change."""
        segments = _split_quoted(path) if self.engine_major < 3 else path[1:].split("/")
        if not isinstance(self.document, (dict, list)):
            raise PatchConflict("the document is not an object or array")
        self.document = self._own(self.document)
        container: Any = self.document
        position = 0
        first = True
        while True:
            key, position = _next_key(container, segments, position, creating=creating)
            if first and isinstance(key, str):
                self.touched.add(key)
            first = False
            if position == len(segments):
                return container, key
            child = _get(container, key)
            if not isinstance(child, (dict, list)):
                raise PatchConflict(f"{key!r} is not an object or array")
            child = self._own(child)
            container[key] = child
            container = child

    def _own(self, container: Any) -> Any:
        if id(container) in self._owned:
            return container
        copy = dict(container) if isinstance(container, dict) else list(container)
        self._owned.add(id(copy))
        return copy


def _split_quoted(path: str) -> list[str]:
    """Split a 2.x path, where keys that are not identifiers are written in backticks."""
    segments: list[str] = []
    index = 1
    while index <= len(path):
        if index < len(path) and path[index] == "`":
            segment, index = _read_backticked(path, index + 1)
        else:
            end = path.find("/", index)
            end = len(path) if end < 0 else end
            segment, index = path[index:end], end
        segments.append(segment)
        if index < len(path) and path[index] != "/":
            raise PatchConflict("malformed quoted key")
        index += 1
    return segments


def _read_backticked(path: str, index: int) -> tuple[str, int]:
    chars: list[str] = []
    while index < len(path):
        char = path[index]
        if char == "\\" and index + 1 < len(path):
            chars.append(path[index + 1])
            index += 2
        elif char == "`":
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    raise PatchConflict("unterminated quoted key")


def _next_key(
    container: Any, segments: list[str], position: int, *, creating: bool
) -> tuple[str | int, int]:
    """The key for ``segments[position]`` in ``container`` and the next position.

    In an object, a segment that is not a key may be the start of a key containing ``/``
    (3.x writes keys raw), so longer joins are tried; for the last container of an ``add``
    the rest of the path is the new key.
    """
    segment = segments[position]
    if isinstance(container, list):
        if segment == "-":
            return len(container), position + 1
        if not _is_index(segment):
            raise PatchConflict(f"{segment!r} is not an array index")
        return int(segment), position + 1
    if segment in container:
        return segment, position + 1
    for end in range(position + 2, len(segments) + 1):
        joined = "/".join(segments[position:end])
        if joined in container:
            return joined, end
    if creating or position == len(segments) - 1:
        return "/".join(segments[position:]), len(segments)
    raise PatchConflict(f"no key {segment!r}")


def _get(container: Any, key: str | int) -> Any:
    if isinstance(container, list):
        if not isinstance(key, int) or key >= len(container):
            raise PatchConflict(f"index {key} is out of range")
        return container[key]
    if key not in container:
        raise PatchConflict(f"no key {key!r}")
    return container[key]


def _add(container: Any, key: str | int, value: Any) -> None:
    if isinstance(container, list):
        if not isinstance(key, int) or key > len(container):
            raise PatchConflict(f"index {key} is out of range")
        container.insert(key, value)
    else:
        container[key] = value


def _remove(container: Any, key: str | int) -> None:
    _get(container, key)
    del container[key]


def _replace(container: Any, key: str | int, value: Any) -> None:
    if isinstance(container, list):
        _get(container, key)
    container[key] = value


def _change_text(container: Any, key: str | int, patch_text: Any) -> None:
    current = _get(container, key)
    if not isinstance(current, str) or not isinstance(patch_text, str):
        raise PatchConflict("a text change needs a string value and a string patch")
    try:
        patches = _TEXT_PATCHER.patch_fromText(patch_text)
    except ValueError as exc:
        raise PatchConflict(f"unreadable text patch: {exc}") from None
    patched, applied = _TEXT_PATCHER.patch_apply(patches, current)
    if not all(applied):
        raise PatchConflict("the text patch does not fit the current text")
    container[key] = patched
