"""Render the IR into the package's files (Jinja), in memory; ``output`` writes them."""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import keyword
import re
import sys
import types
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jinja2

from surreal_gen import __version__
from surreal_gen.codegen import naming
from surreal_gen.codegen.altmodels import ModelType, alternative_models
from surreal_gen.codegen.forked import ForkedRender, can_fork
from surreal_gen.codegen.ir import Schema, Table, json_text, snapshot_head
from surreal_gen.codegen.jsonschema_out import SCHEMA_FILE, DocumentBuilder, schema_file
from surreal_gen.codegen.mapping import (
    FieldPlan,
    FilterField,
    ModulePlan,
    plan_module,
    py_str,
    queryset_name,
)
from surreal_gen.codegen.output import MARKER
from surreal_gen.runtime.gcpause import gc_paused


def docstring(text: str, indent: int) -> str:
    """A triple-quoted literal holding ``text``: quotes, backslashes and control characters
    are escaped, so no schema text can end the string early or run as code.

    Laid out as ruff formats it, which re-indents a docstring's lines and strips their
    trailing spaces: the lines after the first lose the indentation they share (as
    ``inspect.cleandoc`` drops it, so the text reads back the same), and a line's last
    trailing space is written ``\\x20`` so that no text is lost."""
    text = text.strip()
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"""{text}"""'  # nothing to escape: the usual case, kept off the loop below
    first, *rest = text.split("\n")
    margin = min((len(line) - len(line.lstrip(" ")) for line in rest if line.strip(" ")), default=0)
    pad = " " * indent
    lines = [_docstring_line(first)]
    lines += [pad + _docstring_line(line[margin:]) if line[margin:] else "" for line in rest]
    body = "\n".join(lines)
    if rest:
        return f'"""{body}\n{pad}"""'
    return f'"""{body}"""'


def _docstring_line(line: str) -> str:
    pieces: list[str] = []
    for char in line:
        if char == "\\":
            pieces.append("\\\\")
        elif char == '"':
            pieces.append('\\"')
        elif char.isprintable():
            pieces.append(char)
        else:
            pieces.append(repr(char)[1:-1])
    if line.endswith(" "):
        pieces[-1] = "\\x20"
    return "".join(pieces)


def typed_dict_items(filters: Sequence[FilterField], indent: int) -> str:
    """The lines of a filters TypedDict, one per key and lookup (``price__gt: Decimal``), laid
    out as ruff formats them.

    Written here rather than as a template loop, which made rendering a module 40% slower:
    a 30-field table has some 250 of these lines.
    """
    return "\n".join([_typed_dict_lines(key, lookups, indent) for key, lookups in filters])


@functools.lru_cache(maxsize=4096)
def _typed_dict_lines(key: str, lookups: tuple[tuple[str, str], ...], indent: int) -> str:
    """The lines of one filter key: made once per key and type, as the tables of a large
    schema repeat their fields (for 1,000 tables, 250,000 lines for 40,000 keys, most of
    them the same few dozen; a key seldom seen just falls out of the cache)."""
    pad = " " * indent
    lines: list[str] = []
    for suffix, type_text in lookups:
        line = f"{pad}{key}{suffix}: {type_text}"
        # ``width``'s ASCII case inline: almost every line is ASCII and fits
        fits = (len(line) if line.isascii() else width(line)) <= LINE_LENGTH
        lines.append(line if fits else annotation_statement(f"{pad}{key}{suffix}", type_text))
    return "\n".join(lines)


LINE_LENGTH = 100
"""The generated code's line length (ruff's setting in this project)."""


def width(text: str) -> int:
    """The columns ``text`` takes as ruff measures a line (the ``unicode-width`` crate's
    width of each character): none for a character that extends the one before it (a
    combining mark, a Hangul vowel or final consonant, a halfwidth sound mark), two for an
    East Asian wide or fullwidth character (``名``), one for any other. Text from the
    schema reaches a line only as identifiers and escaped string literals, so no control
    or format character is ever measured. Python's Unicode tables are the ones of its
    version (14.0 for 3.11): a symbol that a later version made wide counts one column."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me") or _extends_the_previous(char):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2
    return 1


def _extends_the_previous(char: str) -> bool:
    """Zero-width characters that are not combining marks: spacing marks that extend a
    grapheme (Unicode's Other_Grapheme_Extend, which Python does not expose), Hangul
    medial vowels and final consonants, and the Hangul and halfwidth Hangul fillers."""
    code = ord(char)
    return (
        char in _OTHER_GRAPHEME_EXTEND
        or 0x1160 <= code <= 0x11FF
        or 0xD7B0 <= code <= 0xD7FF
        or char in "\u3164\uffa0"
    )


_OTHER_GRAPHEME_EXTEND = frozenset(
    "\u09be\u09d7\u0b3e\u0b57\u0bbe\u0bd7\u0cc2\u0cd5\u0cd6\u0d3e\u0d57\u0dcf\u0ddf"
    "\u1b35\u200c\u302e\u302f\uff9e\uff9f\U0001133e\U00011357\U000114b0\U000114bd"
    "\U000115af\U00011930\U0001d165\U0001d16e\U0001d16f\U0001d170\U0001d171\U0001d172"
)
"""Unicode's Other_Grapheme_Extend characters outside the tag block (PropList.txt)."""


def field_statement(field: FieldPlan, indent: int) -> str:
    """A model field's ``name: annotation = default`` line (``annotation_statement``)."""
    target = " " * indent + identifier(field.name)
    if field.default is None:
        line = f"{target}: {field.annotation}"
    else:
        line = f"{target}: {field.annotation} = {field.default}"
    # ``width``'s ASCII case inline: this runs for every field of every table
    if (len(line) if line.isascii() else width(line)) <= LINE_LENGTH:
        return line
    return annotation_statement(target, field.annotation, field.default)


def annotation_statement(target: str, annotation: str, default: str | None = None) -> str:
    """``target: annotation = default`` as ruff formats it, ``target`` holding the line's
    indentation. On one line when it fits; else the default in parentheses when that makes
    it fit; else the annotation broken: a subscript inside its brackets, a union in
    parentheses with a member a line, as far down as needed (``_lines``).

    Annotations of geometry fields, of records of several long table names or of deeply
    nested fields run past the line length, and ``ruff format --check`` failed on them."""
    assignment = "" if default is None else f" = {default}"
    line = f"{target}: {annotation}{assignment}"
    if width(line) <= LINE_LENGTH:
        return line
    indent = " " * (len(target) - len(target.lstrip()))
    if default is not None and width(f"{target}: {annotation} = (") <= LINE_LENGTH:
        return f"{target}: {annotation} = (\n{indent}    {default}\n{indent})"
    expression = ast.parse(annotation, mode="eval").body
    opened = f"{target}: ("
    if isinstance(expression, ast.Subscript):
        head = f"{target}: {_source(annotation, expression.value)}["
        if width(head) <= LINE_LENGTH or width(opened) > LINE_LENGTH:
            body = _slice_lines(annotation, expression.slice, indent + "    ")
            return "\n".join([head, *body, f"{indent}]{assignment}"])
    if isinstance(expression, ast.BinOp) or width(opened) <= LINE_LENGTH:
        body = _lines(annotation, expression, indent + "    ")
        return "\n".join([opened, *body, f"{indent}){assignment}"])
    return line  # nothing fits: as ruff leaves it


def _source(text: str, node: ast.expr) -> str:
    segment = ast.get_source_segment(text, node)
    assert segment is not None
    return segment


def _lines(text: str, node: ast.expr, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
    """``node`` laid out inside brackets at ``indent``: ``prefix`` before its first line
    (``"| "``), ``suffix`` after its last (``","``)."""
    line = f"{indent}{prefix}{_source(text, node)}{suffix}"
    if width(line) <= LINE_LENGTH:
        return [line]
    if isinstance(node, ast.Subscript):
        head = f"{indent}{prefix}{_source(text, node.value)}["
        body = _slice_lines(text, node.slice, indent + "    ")
        return [head, *body, f"{indent}]{suffix}"]
    if isinstance(node, ast.BinOp):
        members = _union_members(node)
        lines: list[str] = []
        for index, member in enumerate(members):
            last = index == len(members) - 1
            lines += _lines(
                text, member, indent, prefix if index == 0 else "| ", suffix if last else ""
            )
        return lines
    return [line]


def _slice_lines(text: str, node: ast.expr, indent: str) -> list[str]:
    """The lines between a subscript's brackets: a tuple on one line when it fits, else an
    item a line with a trailing comma."""
    if not isinstance(node, ast.Tuple) or not node.elts:
        return _lines(text, node, indent)
    joined = indent + ", ".join(_source(text, item) for item in node.elts)
    if width(joined) <= LINE_LENGTH:
        return [joined]
    return [line for item in node.elts for line in _lines(text, item, indent, suffix=",")]


def _union_members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union_members(node.left), *_union_members(node.right)]
    return [node]


def call_statement(arguments: Sequence[str], head: str, tail: str = "") -> str:
    """``head(arguments)tail`` as ruff formats it, ``head`` holding the line's indentation
    and what precedes the arguments' opening parenthesis (``tail``: the ``:`` of a class
    statement): on one line when it fits, else the arguments on one line of their own, else
    one per line with a trailing comma."""
    joined = ", ".join(arguments)
    if width(head) + width(joined) + 2 + width(tail) <= LINE_LENGTH:
        return f"{head}({joined}){tail}"
    indent = " " * (len(head) - len(head.lstrip()))
    inner = indent + "    "
    if len(inner) + width(joined) <= LINE_LENGTH:
        return f"{head}(\n{inner}{joined}\n{indent}){tail}"
    return f"{head}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent}){tail}"


def reexport(name: str, module: str, indent: int) -> str:
    """``from .module import name as name`` (identifiers checked) as ruff formats it: on one
    line when it fits, else the name on a line of its own in parentheses."""
    pad = " " * indent
    head = f"{pad}from .{identifier(module)} import "
    alias = f"{identifier(name)} as {name}"
    if width(head) + width(alias) <= LINE_LENGTH:
        return head + alias
    return f"{head}(\n{pad}    {alias},\n{pad})"


def identifier(name: str) -> str:
    """``name`` unchanged when it is a safe Python identifier; anything else is a bug."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"not a safe Python identifier: {name!r}")
    return name


class _Templates(NamedTuple):
    table: jinja2.Template
    package_init: jinja2.Template


@functools.lru_cache(maxsize=1)
def _templates() -> _Templates:
    """The templates, loaded once per process."""
    env = _environment(template_cache())
    return _Templates(
        env.get_template("table_module.py.jinja"), env.get_template("package_init.py.jinja")
    )


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates on disk: a run loads them (0.5 ms) instead of compiling them
    (15 ms, a fifth of generating the reference schema). Jinja keys each entry by the
    template's path and checks its source and the Python version; the file names add the
    options the templates are compiled with (``template_cache``). So a changed template,
    option or interpreter compiles afresh. A cache that cannot be written only makes the
    next run compile again, and an entry that cannot be read is compiled afresh."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - whatever a damaged entry raises, compile instead
            bucket.reset()  # (Jinja lets unpickling errors through; a bad length, MemoryError)
        if bucket.code is not None and not isinstance(bucket.code, types.CodeType):
            bucket.reset()  # marshalled, but not code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def template_cache(directory: str | None = None) -> jinja2.BytecodeCache | None:
    """The compiled-template cache in ``directory``, by default the one Jinja keeps for this
    user under the system's temporary folder (private to the user, checked by Jinja). None
    where Python is told not to write bytecode (``PYTHONDONTWRITEBYTECODE``, ``-B``) or no
    safe folder can be had."""
    if sys.dont_write_bytecode:
        return None
    compiled_with = repr([jinja2.__version__, *sorted(_ENVIRONMENT_OPTIONS.items())])
    options = hashlib.sha256(compiled_with.encode()).hexdigest()[:12]
    try:
        return _TemplateCache(directory, f"__surreal_gen_{options}_%s.cache")
    except (OSError, RuntimeError):  # RuntimeError: Jinja found no safe folder
        return None


_ENVIRONMENT_OPTIONS: dict[str, Any] = {
    "autoescape": False,
    "undefined": jinja2.StrictUndefined,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}
"""How the templates are compiled."""


def _environment(cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("surreal_gen", "templates"),
        bytecode_cache=cache,
        **_ENVIRONMENT_OPTIONS,
    )
    env.filters["py_str"] = py_str
    env.filters["docstring"] = docstring
    env.filters["ident"] = identifier
    env.filters["typed_dict_items"] = typed_dict_items
    env.filters["call_statement"] = call_statement
    env.filters["reexport"] = reexport
    env.filters["field_statement"] = field_statement
    return env


@dataclass(frozen=True)
class PackageNames:
    """Collision-free class and module names for every table, in table order."""

    classes: dict[str, str]
    modules: dict[str, str]

    @classmethod
    def for_tables(cls, table_names: Sequence[str]) -> PackageNames:
        return cls(naming.class_names(table_names), naming.module_names(table_names))


def render_package(schema: Schema, *, parallel: bool = False) -> dict[str, bytes]:
    """Every file of the generated package, by relative path: a module per table, the lazy
    ``__init__.py``, ``py.typed``, ``schema.json`` (JSON Schema 2020-12) and the marker.
    ``parallel`` as for ``PackageRenderer``."""
    # Rendering allocates many small, acyclic objects and keeps them all until the end; the
    # cycle collector would only walk them again and again (half the render time for 1,000
    # tables). The CLI pauses it the same way around reading and rendering.
    with gc_paused():
        return PackageRenderer(parallel=parallel).files(schema)


class PackageRenderer:
    """Renders the package a table at a time (``render_package`` is the one-shot form).

    The introspector hands each table over as soon as it is read (it is an
    ``introspect.TableSink``). Below ``PARALLEL_FROM`` tables (or with no ``parallel``), its
    module and its part of ``schema.json`` are made while the engine answers the next
    request; ``files`` then renders what is left and the files that need the whole schema.
    Either way the bytes are the same.

    ``on_module`` gets each table's module as soon as it is rendered (the CLI hands it to
    ``output.PackageWriter``, which stages it while the next tables are read and rendered);
    ``on_paths`` gets the path of every file of the package once the table names are known
    (``PackageWriter.reserve``).

    With ``parallel``, a schema of ``PARALLEL_FROM`` tables or more is rendered once all its
    tables are read: the package files (``schema.json`` above all) and the modules from the
    last by a copy of this process (``forked.ForkedRender``), the modules from the first by
    this one, until they meet. While the tables are read, the engine's threads and this
    process (decoding the replies, building the IR) already keep both cores busy; doing
    more here then only made the reading last longer.
    """

    def __init__(
        self,
        on_module: Callable[[str, bytes], None] | None = None,
        *,
        on_paths: Callable[[list[str]], None] | None = None,
        parallel: bool = False,
    ) -> None:
        self._on_module = on_module
        self._on_paths = on_paths
        self._parallel = parallel
        self._expected: list[str] | None = None
        self._names = PackageNames({}, {})
        self._schema_document = DocumentBuilder({})
        self._rendered_count = 0
        self._deferred: list[Table] | None = None
        self._files: dict[str, bytes] = {}
        self._exports: list[tuple[str, str]] = []

    def expect(self, table_names: Sequence[str]) -> None:
        """All the tables to come, in order: together they decide the class names."""
        # Compiled now, before any fork (the copy only renders): the CLI calls this while the
        # engine answers the first requests, not before the database opens.
        _templates()
        self._expected = list(table_names)
        self._names = PackageNames.for_tables(self._expected)
        self._schema_document = DocumentBuilder(self._names.classes)
        parallel = self._parallel and len(self._expected) >= PARALLEL_FROM and can_fork()
        self._deferred = [] if parallel else None
        if self._on_paths is not None:
            modules = [f"{self._names.modules[name]}.py" for name in self._expected]
            self._on_paths([*modules, *PACKAGE_FILES])

    def add(self, table: Table) -> None:
        """Render the next table's module (or leave it to ``files``) and its part of
        ``schema.json``."""
        expected = self._expected or []
        if self._rendered_count >= len(expected) or expected[self._rendered_count] != table.name:
            raise ValueError(f"table {table.name!r} was not expected next")
        class_name, module_name = self._names.classes[table.name], self._names.modules[table.name]
        if self._deferred is not None:
            self._deferred.append(table)
        else:
            self._keep(*self._module(table))
        self._exports += [(class_name, module_name), (queryset_name(class_name), module_name)]
        if self._deferred is None:
            self._schema_document.add_table(table)
        self._rendered_count += 1

    def _module(self, table: Table) -> tuple[str, bytes]:
        """The path and bytes of ``table``'s module."""
        class_name, module_name = self._names.classes[table.name], self._names.modules[table.name]
        plan: ModulePlan = plan_module(table, class_name, module_name)
        text = _templates().table.render(plan=plan, generator_version=__version__)
        return f"{module_name}.py", text.encode("utf-8")

    def _keep(self, path: str, content: bytes) -> None:
        self._files[path] = content
        if self._on_module is not None:
            self._on_module(path, content)

    def files(self, schema: Schema) -> dict[str, bytes]:
        """Every file of the package for ``schema``, whose tables must be the ones expected."""
        names = [table.name for table in schema.tables]
        if self._expected is None:
            self.expect(names)
        elif names != self._expected:
            raise ValueError("the schema's tables are not the ones the renderer expected")
        for table in schema.tables[self._rendered_count :]:
            self.add(table)
        deferred = self._deferred or []
        package_files: dict[str, bytes] = {}

        def in_copy() -> Iterator[tuple[str, bytes]]:
            yield from self._package_files(schema).items()
            yield from map(self._module, reversed(deferred))

        # The copy makes the package files, then the deferred modules from the last one; this
        # process makes them from the first one, handing on what the copy sends, until they
        # meet: however fast either goes (the machine, the file system, the helper), neither
        # waits for the other.
        copy = ForkedRender(in_copy) if deferred else None
        try:
            theirs = len(deferred)  # the copy has sent deferred[theirs:]
            mine = 0
            while mine < theirs:
                self._keep(*self._module(deferred[mine]))
                mine += 1
                if copy is not None:
                    theirs -= self._take(copy.ready(), package_files)
            while copy is not None and len(package_files) < len(PACKAGE_FILES):
                sent = copy.next_files()
                if not sent:  # it ended without them
                    break
                self._take(sent, package_files)
        finally:
            if copy is not None:
                copy.close()  # it may be making a module this process has made already
        if len(package_files) < len(PACKAGE_FILES):  # no copy, or it did not send them all
            package_files = self._package_files(schema)
        return self._files | package_files

    def _take(self, sent: list[tuple[str, bytes]], package_files: dict[str, bytes]) -> int:
        """Keep the files the copy sent (a module made here too is kept once); return how
        many modules they were."""
        modules = 0
        for path, content in sent:
            if path in PACKAGE_FILES:
                package_files[path] = content
                continue
            modules += 1
            if path not in self._files:
                self._keep(path, content)
        return modules

    def _package_files(self, schema: Schema) -> dict[str, bytes]:
        """``__init__.py``, ``py.typed``, ``schema.json`` and the marker."""
        exports = sorted(self._exports)
        init = _templates().package_init.render(
            exports=exports,
            imports=sorted(exports, key=lambda export: (_natural_key(export[1]), export[0])),
            all_names=["GENERATOR_VERSION", "SCHEMA_FINGERPRINT", *(name for name, _ in exports)],
            fingerprint=schema.fingerprint,
            generator_version=__version__,
        )
        if self._deferred is not None:  # rendering the modules once read left it empty
            for table in schema.tables:
                self._schema_document.add_table(table)
        files = {
            "__init__.py": init.encode("utf-8"),
            "py.typed": b"",
            SCHEMA_FILE: self._schema_document.dump(schema.fingerprint),
        }
        modules = [f"{self._names.modules[table.name]}.py" for table in schema.tables]
        files[MARKER] = _marker(schema, sorted([*modules, *files]))
        return files


PACKAGE_FILES = ("__init__.py", "py.typed", SCHEMA_FILE, MARKER)
"""The files of a package besides its modules."""
PARALLEL_FROM = 100
"""Tables from which ``PackageRenderer(parallel=True)`` forks (below, the fork costs more
than it saves)."""


def _natural_key(module: str) -> list[str | int]:
    """Orders modules as ruff's isort does: case-insensitive, digit runs by their value
    (``t_2`` before ``t_10``), so ``ruff check --select I`` passes on ``__init__.py``."""
    return [
        int(part) if index % 2 else part for index, part in enumerate(_DIGITS.split(module.lower()))
    ]


_DIGITS = re.compile(r"(\d+)")


def render_alternative_package(schema: Schema, model_type: ModelType) -> dict[str, bytes]:
    """A package whose ``__init__.py`` holds datamodel-code-generator's ``model_type`` classes
    (``--output-model-type``), made from the same ``schema.json``; plus py.typed and marker."""
    names = PackageNames.for_tables([table.name for table in schema.tables])
    document = schema_file(schema, names.classes)
    files = {
        "__init__.py": alternative_models(json.loads(document), model_type).encode("utf-8"),
        "py.typed": b"",
        SCHEMA_FILE: document,
    }
    files[MARKER] = _marker(schema, sorted(files))
    return files


def _marker(schema: Schema, paths: list[str]) -> bytes:
    """The marker: generator, fingerprint, file list and the schema snapshot, one table a line
    (readable diffs, and the fast C JSON encoder rather than the indenting one)."""

    head = snapshot_head(schema) | {"engine_version": ""}
    lines = [
        "{",
        f'  "generator": "surreal-gen",\n  "version": {json_text(__version__)},',
        f'  "fingerprint": {json_text(schema.fingerprint)},',
        f'  "files": {json_text(paths)},',
        f'  "schema": {json_text(head)[:-1]}, "tables": [',
        ",\n".join(f"    {line}" for line in schema.tables_json_lines),
        "  ]}",
        "}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
