"""Render the IR into the package's files (Jinja), in memory; ``output`` writes them."""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from surreal_gen import __version__
from surreal_gen.codegen import naming
from surreal_gen.codegen.altmodels import ModelType, alternative_models
from surreal_gen.codegen.ir import Schema, Table, schema_to_json
from surreal_gen.codegen.jsonschema_out import SCHEMA_FILE, DocumentBuilder, dump, json_schema
from surreal_gen.codegen.mapping import FilterField, ModulePlan, plan_module, py_str
from surreal_gen.codegen.output import MARKER
from surreal_gen.runtime.gcpause import gc_paused


def docstring(text: str, indent: int) -> str:
    """A triple-quoted literal holding ``text``: quotes, backslashes and control characters
    are escaped, so no schema text can end the string early or run as code."""
    text = text.strip()
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"""{text}"""'  # nothing to escape: the usual case, kept off the loop below
    pieces: list[str] = []
    for char in text:
        if char == "\\":
            pieces.append("\\\\")
        elif char == '"':
            pieces.append('\\"')
        elif char == "\n":
            pieces.append("\n" + " " * indent)
        elif char.isprintable():
            pieces.append(char)
        else:
            pieces.append(repr(char)[1:-1])
    body = "".join(pieces).replace(" " * indent + "\n", "\n")
    if "\n" in body:
        return f'"""{body}\n{" " * indent}"""'
    return f'"""{body}"""'


def typed_dict_items(filters: Sequence[FilterField], indent: int) -> str:
    """The lines of a filters TypedDict, one per key and lookup (``price__gt: Decimal``).

    Written here rather than as a template loop, which made rendering a module 40% slower:
    a 30-field table has some 250 of these lines.
    """
    pad = " " * indent
    return "\n".join(
        f"{pad}{key}{suffix}: {type_text}"
        for key, lookups in filters
        for suffix, type_text in lookups
    )


LINE_LENGTH = 100
"""The generated code's line length (ruff's setting in this project)."""


def call_statement(arguments: Sequence[str], head: str) -> str:
    """``head(arguments)`` as ruff formats it, ``head`` holding the line's indentation and
    what precedes the arguments' opening parenthesis: on one line when it fits, else the
    arguments on one line of their own, else one per line with a trailing comma."""
    joined = ", ".join(arguments)
    if len(head) + len(joined) + 2 <= LINE_LENGTH:
        return f"{head}({joined})"
    indent = " " * (len(head) - len(head.lstrip()))
    inner = indent + "    "
    if len(inner) + len(joined) <= LINE_LENGTH:
        return f"{head}(\n{inner}{joined}\n{indent})"
    return f"{head}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent})"


def identifier(name: str) -> str:
    """``name`` unchanged when it is a safe Python identifier; anything else is a bug."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"not a safe Python identifier: {name!r}")
    return name


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("surreal_gen", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py_str"] = py_str
    env.filters["docstring"] = docstring
    env.filters["ident"] = identifier
    env.filters["typed_dict_items"] = typed_dict_items
    env.filters["call_statement"] = call_statement
    return env


@dataclass(frozen=True)
class PackageNames:
    """Collision-free class and module names for every table, in table order."""

    classes: dict[str, str]
    modules: dict[str, str]

    @classmethod
    def for_tables(cls, table_names: Sequence[str]) -> PackageNames:
        return cls(naming.class_names(table_names), naming.module_names(table_names))


def render_package(schema: Schema) -> dict[str, bytes]:
    """Every file of the generated package, by relative path: a module per table, the lazy
    ``__init__.py``, ``py.typed``, ``schema.json`` (JSON Schema 2020-12) and the marker."""
    # Rendering allocates many small, acyclic objects and keeps them all until the end; the
    # cycle collector would only walk them again and again (half the render time for 1,000
    # tables). The CLI pauses it the same way around reading and rendering.
    with gc_paused():
        return PackageRenderer().files(schema)


class PackageRenderer:
    """Renders the package a table at a time (``render_package`` is the one-shot form).

    The introspector hands each table over as soon as it is read (it is an
    ``introspect.TableSink``), so a table's module is rendered while the engine answers the
    next request; ``files`` then renders any table not handed over yet and the files that
    need the whole schema. Either way the bytes are the same.

    ``on_module`` gets each table's module as soon as it is rendered (the CLI hands it to
    ``output.PackageWriter``, which stages it while the next tables are read and rendered).
    """

    def __init__(self, on_module: Callable[[str, bytes], None] | None = None) -> None:
        self._on_module = on_module
        self._env = _environment()
        self._table_template = self._env.get_template("table_module.py.jinja")
        self._expected: list[str] | None = None
        self._names = PackageNames({}, {})
        self._schema_document = DocumentBuilder({})
        self._rendered_count = 0
        self._files: dict[str, bytes] = {}
        self._exports: list[tuple[str, str]] = []

    def expect(self, table_names: Sequence[str]) -> None:
        """All the tables to come, in order: together they decide the class names."""
        self._expected = list(table_names)
        self._names = PackageNames.for_tables(self._expected)
        self._schema_document = DocumentBuilder(self._names.classes)

    def add(self, table: Table) -> None:
        """Render the next table's module and its part of ``schema.json``."""
        expected = self._expected or []
        if self._rendered_count >= len(expected) or expected[self._rendered_count] != table.name:
            raise ValueError(f"table {table.name!r} was not expected next")
        class_name, module_name = self._names.classes[table.name], self._names.modules[table.name]
        plan: ModulePlan = plan_module(table, class_name, module_name)
        text = self._table_template.render(plan=plan, generator_version=__version__)
        path, content = f"{module_name}.py", text.encode("utf-8")
        self._files[path] = content
        if self._on_module is not None:
            self._on_module(path, content)
        self._exports += [(class_name, module_name), (plan.queryset_name, module_name)]
        self._schema_document.add_table(table)
        self._rendered_count += 1

    def files(self, schema: Schema) -> dict[str, bytes]:
        """Every file of the package for ``schema``, whose tables must be the ones expected."""
        names = [table.name for table in schema.tables]
        if self._expected is None:
            self.expect(names)
        elif names != self._expected:
            raise ValueError("the schema's tables are not the ones the renderer expected")
        for table in schema.tables[self._rendered_count :]:
            self.add(table)
        files = dict(self._files)
        exports = sorted(self._exports)
        init = self._env.get_template("package_init.py.jinja").render(
            exports=exports,
            all_names=["GENERATOR_VERSION", "SCHEMA_FINGERPRINT", *(name for name, _ in exports)],
            fingerprint=schema.fingerprint,
            generator_version=__version__,
        )
        files["__init__.py"] = init.encode("utf-8")
        files["py.typed"] = b""
        files[SCHEMA_FILE] = dump(self._schema_document.document(schema.fingerprint))
        files[MARKER] = _marker(schema, sorted(files))
        return files


def render_alternative_package(schema: Schema, model_type: ModelType) -> dict[str, bytes]:
    """A package whose ``__init__.py`` holds datamodel-code-generator's ``model_type`` classes
    (``--output-model-type``), made from the same ``schema.json``; plus py.typed and marker."""
    names = PackageNames.for_tables([table.name for table in schema.tables])
    document = json_schema(schema, names.classes)
    files = {
        "__init__.py": alternative_models(document, model_type).encode("utf-8"),
        "py.typed": b"",
        SCHEMA_FILE: dump(document),
    }
    files[MARKER] = _marker(schema, sorted(files))
    return files


def _marker(schema: Schema, paths: list[str]) -> bytes:
    """The marker: generator, fingerprint, file list and the schema snapshot, one table a line
    (readable diffs, and the fast C JSON encoder rather than the indenting one)."""

    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    snapshot = schema_to_json(schema) | {"engine_version": ""}
    head = {k: v for k, v in snapshot.items() if k != "tables"}
    lines = [
        "{",
        f'  "generator": "surreal-gen",\n  "version": {dumps(__version__)},',
        f'  "fingerprint": {dumps(schema.fingerprint)},',
        f'  "files": {dumps(paths)},',
        f'  "schema": {dumps(head)[:-1]}, "tables": [',
        ",\n".join(f"    {line}" for line in schema.tables_json_lines),
        "  ]}",
        "}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
