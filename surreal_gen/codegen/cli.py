"""The ``surreal-gen`` command.

``surreal-gen`` (or ``surreal-gen generate``) reads the schema and writes the package;
``introspect`` prints the normalised schema as JSON; ``diff`` compares a generated package
with the schema. Settings come from ``[tool.surreal-gen]`` in pyproject.toml, then the
environment (``SURREALDB_URL``, ``SURREALDB_NAMESPACE``, ``SURREALDB_DATABASE``,
``SURREALDB_USER``, ``SURREALDB_PASS``), then flags.

The schema source is, in order: ``--schema``, ``--url`` or ``--from-json`` when given (only
one of them); else the configured ``schema`` files; else the configured ``from-json``
snapshot; else a live database from the configured or environment URL. Exit codes: 0 ok,
1 ``--check`` / ``diff`` found differences, 2 usage or schema error, 130 interrupted. User
mistakes get a one-line message, never a traceback.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import keyword
import os
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from surreal_gen import __version__
from surreal_gen.codegen.altmodels import MODEL_TYPES, AltModelsError
from surreal_gen.codegen.emit import PackageRenderer, render_alternative_package
from surreal_gen.codegen.introspect import (
    EMBEDDED_URL,
    Introspection,
    SchemaFile,
    SchemaSourceError,
    TableFilter,
    TableSink,
    read_schema,
)
from surreal_gen.codegen.ir import Schema, SnapshotError, schema_from_json, schema_to_json
from surreal_gen.codegen.kinds import KindSyntaxError
from surreal_gen.codegen.output import (
    MARKER,
    Changes,
    OutputError,
    PackageWriter,
    compute_changes,
    generated_files,
    read_marker,
)
from surreal_gen.codegen.schemadiff import describe_changes
from surreal_gen.runtime.connection import EMBEDDED_SCHEMES, ConnectionConfig
from surreal_gen.runtime.errors import SurrealGenError
from surreal_gen.runtime.gcpause import gc_paused
from surreal_gen.runtime.transports.embedded import engine_loaded

F = TypeVar("F", bound=Callable[..., Any])

ENV_KEYS = {
    "url": "SURREALDB_URL",
    "namespace": "SURREALDB_NAMESPACE",
    "database": "SURREALDB_DATABASE",
    "user": "SURREALDB_USER",
    "password": "SURREALDB_PASS",
}


DATABASE_FLAGS = {"namespace": "--ns", "database": "--db", "user": "--user", "password": "--pass"}

CONFIG_KEYS: dict[str, str] = {
    "schema": "strings",
    "out": "string",
    "url": "string",
    "ns": "string",
    "db": "string",
    "user": "string",
    "include": "strings",
    "exclude": "strings",
    "strict": "boolean",
    "from-json": "string",
    "output-model-type": "string",
}
"""Settings ``[tool.surreal-gen]`` may hold, with the TOML type each takes ("strings": a
string or a list of strings). Passwords belong in SURREALDB_PASS, not here."""

OUTPUT_MODEL_TYPES = ("pydantic", *MODEL_TYPES)

TYPE_NAMES = {
    "string": "a string",
    "strings": "a string or a list of strings",
    "boolean": "true or false",
}


class UsageProblem(click.ClickException):
    """A user mistake (bad flag, bad schema, unwritable output): exit code 2, one line."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"surreal-gen: error: {self.message}", err=True)


@dataclass(frozen=True)
class Settings:
    """Everything one run needs, after config, environment and flags are merged."""

    schema: tuple[Path, ...] = ()
    url: str | None = None
    namespace: str | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = None
    from_json: Path | None = None
    out: Path | None = None
    tables: TableFilter = field(default_factory=TableFilter)
    strict: bool = False
    model_type: str = "pydantic"
    explicit_source: str | None = None
    database_flags: tuple[str, ...] = ()
    """The --ns, --db, --user and --pass flags given: they only apply to a live database."""


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start``."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(pyproject: Path | None) -> dict[str, Any]:
    """``[tool.surreal-gen]`` with paths made absolute (relative to pyproject.toml)."""
    if pyproject is None:
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageProblem(f"{pyproject}: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageProblem(f"{pyproject}: tool must be a table, not {tool!r}")
    section = tool.get("surreal-gen", {})
    if not isinstance(section, dict):
        raise UsageProblem(f"{pyproject}: [tool.surreal-gen] must be a table")
    for key, value in section.items():
        if key not in CONFIG_KEYS:
            raise UsageProblem(
                f"{pyproject}: unknown setting {key!r} in [tool.surreal-gen] "
                f"(known: {', '.join(sorted(CONFIG_KEYS))})"
            )
        if not _has_type(value, CONFIG_KEYS[key]):
            raise UsageProblem(
                f"{pyproject}: [tool.surreal-gen] {key} must be "
                f"{TYPE_NAMES[CONFIG_KEYS[key]]}, not {value!r}"
            )
    model_type = section.get("output-model-type", "pydantic")
    if model_type not in OUTPUT_MODEL_TYPES:
        raise UsageProblem(
            f"{pyproject}: [tool.surreal-gen] output-model-type must be one of "
            f"{', '.join(OUTPUT_MODEL_TYPES)}, not {model_type!r}"
        )
    config = dict(section)
    base = pyproject.parent
    for key in ("schema", "include", "exclude"):
        if isinstance(config.get(key), str):
            config[key] = [config[key]]
    if "schema" in config:
        config["schema"] = [base / str(p) for p in config["schema"]]
    for key in ("out", "from-json"):
        if key in config:
            config[key] = base / str(config[key])
    return config


def _has_type(value: Any, toml_type: str) -> bool:
    """Whether a config value has ``toml_type`` (``strict = "false"`` is a string, not a
    boolean: read as Python truth it would mean true)."""
    if toml_type == "boolean":
        return isinstance(value, bool)
    if toml_type == "strings" and isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return isinstance(value, str)


def resolve_settings(
    config: dict[str, Any], env: dict[str, str], flags: dict[str, Any]
) -> Settings:
    """Merge config, environment and flags (later wins) and pick the schema source."""
    given = [k for k in ("schema", "url", "from_json") if flags.get(k)]
    if len(given) > 1:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UsageProblem(f"choose one schema source, not {names}")

    def pick(key: str, config_key: str | None = None) -> Any:
        if flags.get(key) not in (None, ()):
            return flags[key]
        if key in ENV_KEYS and env.get(ENV_KEYS[key]):
            return env[ENV_KEYS[key]]
        return config.get(config_key or key)

    include = tuple(flags.get("include") or config.get("include") or ())
    exclude = tuple(flags.get("exclude") or config.get("exclude") or ())
    out = flags.get("out") or config.get("out")
    return Settings(
        schema=tuple(Path(p) for p in (flags.get("schema") or config.get("schema") or ())),
        url=pick("url"),
        namespace=pick("namespace", "ns"),
        database=pick("database", "db"),
        user=pick("user"),
        password=pick("password"),
        from_json=flags.get("from_json") or config.get("from-json"),
        out=Path(out) if out else None,
        tables=TableFilter(include, exclude),
        strict=bool(
            config.get("strict", False) if flags.get("strict") is None else flags["strict"]
        ),
        model_type=str(flags.get("model_type") or config.get("output-model-type") or "pydantic"),
        explicit_source=given[0] if given else None,
        database_flags=tuple(
            option for key, option in DATABASE_FLAGS.items() if flags.get(key) not in (None, "")
        ),
    )


def source_of(settings: Settings) -> str:
    """``schema`` (files), ``url`` (live database) or ``from_json`` (snapshot)."""
    source = _source_of(settings)
    if source != "url" and settings.database_flags:
        what = "schema files" if source == "schema" else "a snapshot (from-json)"
        raise UsageProblem(
            f"{', '.join(settings.database_flags)}: for a live database only, and the "
            f"schema comes from {what} (pass --url URL to read a database)"
        )
    return source


def _source_of(settings: Settings) -> str:
    if settings.explicit_source is not None:
        return settings.explicit_source
    if settings.schema:
        return "schema"
    if settings.from_json is not None:
        return "from_json"
    if settings.url:
        return "url"
    raise UsageProblem(
        "no schema source: pass --schema PATH, --url URL or --from-json FILE, "
        "or set schema = [...] in [tool.surreal-gen]"
    )


def schema_files(paths: Sequence[Path]) -> list[SchemaFile]:
    """The ``.surql`` files of ``paths`` in order (a folder's files sorted by path). A file
    reached twice (``--schema schema --schema schema/a.surql``) is refused: applied twice, it
    fails on its first DEFINE with an "already exists" that does not say why."""
    files: list[SchemaFile] = []
    given_by: dict[Path, int] = {}
    for index, path in enumerate(paths):
        if path.is_dir():
            found = _surql_files(path)
            if not found:
                raise UsageProblem(f"{_display(path)}: no .surql files in this folder")
        elif path.is_file():
            found = [path]
        else:
            raise UsageProblem(f"{_display(path)}: no such file or folder")
        for file in found:
            first = given_by.setdefault(file.resolve(), index)
            if first != index:
                raise UsageProblem(
                    f"{_display(file)}: in the schema twice (by {_display(paths[first])} and "
                    f"by {_display(path)}), so it would be applied twice"
                )
            try:
                files.append(SchemaFile.read(file, _display(file)))
            except SchemaSourceError as exc:
                raise UsageProblem(str(exc)) from None
    return files


def _surql_files(folder: Path) -> list[Path]:
    """The ``.surql`` files under ``folder``, sorted. A folder so named is no schema, nor a
    dangling symlink: Emacs locks a modified buffer with one, ``.#chat.surql``, which cannot
    be read. (A FIFO is kept: it is read like a file.)"""
    return sorted(p for p in folder.rglob("*.surql") if p.exists() and not p.is_dir())


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_schema(settings: Settings, sink: TableSink | None = None) -> Introspection:
    """Read the schema from the chosen source (a database hands ``sink`` its tables as they
    are read); user mistakes raise ``UsageProblem``."""
    source = source_of(settings)
    tables = _SeenTables(settings.tables.include, settings.tables.exclude)
    result = _read(settings, source, tables, sink)
    for glob in tables.include:
        if not any(fnmatch.fnmatchcase(name, glob) for name in tables.seen):
            names = sorted(tables.seen)
            listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise UsageProblem(
                f"include glob {glob!r} matches no table (a typo?): "
                + (f"the schema's tables are {listed}" if names else "the schema has no tables")
            )
    return result


@dataclass(frozen=True)
class _SeenTables(TableFilter):
    """A ``TableFilter`` that remembers every table name it was asked about, so that an
    include glob matching no table at all can be reported rather than silently generating
    (and writing) a package without those tables."""

    seen: set[str] = field(default_factory=set, compare=False)

    def accepts(self, name: str) -> bool:
        self.seen.add(name)
        return super().accepts(name)


def _read(
    settings: Settings, source: str, tables: TableFilter, sink: TableSink | None
) -> Introspection:
    try:
        if source == "from_json":
            assert settings.from_json is not None
            return _from_snapshot(settings.from_json, tables)
        if source == "schema":
            config = ConnectionConfig(url=EMBEDDED_URL, namespace="surreal_gen", database="schema")
            files = schema_files(settings.schema)
        else:
            assert settings.url is not None
            if not settings.namespace or not settings.database:
                raise UsageProblem(
                    "a live database needs a namespace and a database: pass --ns and --db "
                    "(or set SURREALDB_NAMESPACE and SURREALDB_DATABASE)"
                )
            config = ConnectionConfig(
                url=settings.url,
                user=settings.user,
                password=settings.password,
                namespace=settings.namespace,
                database=settings.database,
            )
            _refuse_half_credentials(config)
            files = []
        return asyncio.run(
            read_schema(config, files=files, strict=settings.strict, tables=tables, sink=sink)
        )
    except (SchemaSourceError, SnapshotError, KindSyntaxError, SurrealGenError) as exc:
        raise UsageProblem(str(exc)) from None


def _refuse_half_credentials(config: ConnectionConfig) -> None:
    """A server needs both a user and a password: with one of them, no signin is sent and
    the server answers "Anonymous access not allowed", which does not say what is missing.
    (The embedded engines take no credentials, so they need neither.)"""
    if config.scheme in EMBEDDED_SCHEMES or (config.user is None) == (config.password is None):
        return
    missing = (
        "a password (--pass or SURREALDB_PASS)"
        if config.password is None
        else "a user (--user, SURREALDB_USER or user = ... in [tool.surreal-gen])"
    )
    given = "a password" if config.user is None else "a user"
    raise UsageProblem(f"{config.url}: {given} is given without {missing}")


def _from_snapshot(path: Path, tables: TableFilter) -> Introspection:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageProblem(f"{_display(path)}: cannot read schema snapshot: {exc}") from None
    try:
        schema = schema_from_json(data)
    except SnapshotError as exc:
        raise UsageProblem(f"{_display(path)}: {exc}") from None
    kept = tuple(t for t in schema.tables if tables.accepts(t.name))
    return Introspection(Schema(tables=kept, engine_version=schema.engine_version), ())


def output_folder(settings: Settings) -> Path:
    """The output folder; its name is the package name, so it must be an identifier."""
    if settings.out is None:
        raise UsageProblem(
            "no output folder: pass --out DIR or set out = ... in [tool.surreal-gen]"
        )
    name = settings.out.resolve().name
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageProblem(
            f"--out {settings.out}: the folder names the package, and {name!r} is not a valid "
            "Python package name"
        )
    return settings.out


# --- commands ------------------------------------------------------------------------------


def _source_options(func: F) -> F:
    options = [
        click.option(
            "--schema",
            "schema",
            multiple=True,
            type=click.Path(path_type=Path),
            help=".surql file or folder, applied in order to a fresh embedded engine.",
        ),
        click.option("--url", help="Live database URL (ws://, http://, mem://, surrealkv://)."),
        click.option("--ns", "namespace", help="Namespace of the live database."),
        click.option("--db", "database", help="Database of the live database."),
        click.option("--user", help="User for the live database."),
        click.option("--pass", "password", help="Password for the live database."),
        click.option(
            "--from-json",
            "from_json",
            type=click.Path(path_type=Path),
            help="A snapshot written by `surreal-gen introspect`.",
        ),
        click.option("--include", multiple=True, help="Only tables matching this glob."),
        click.option("--exclude", multiple=True, help="Leave out tables matching this glob."),
        click.option(
            "--strict/--no-strict",
            default=None,
            help="An unreadable kind is an error (--no-strict: a warning, as the config's "
            "strict = false).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _generate_options(func: F) -> F:
    options = [
        click.option("--out", type=click.Path(path_type=Path), help="Output package folder."),
        click.option(
            "--check", is_flag=True, help="Write nothing; exit 1 when the output would change."
        ),
        click.option("--watch", is_flag=True, help="Regenerate when .surql files change."),
        click.option(
            "--output-model-type",
            "model_type",
            type=click.Choice(OUTPUT_MODEL_TYPES),
            help="pydantic (default: models with typed queries) or plain models made by "
            "datamodel-code-generator from schema.json.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print errors only."),
        click.option("-v", "--verbose", is_flag=True, help="Print every file written."),
    ]
    for option in reversed(options):
        func = option(func)
    return _source_options(func)


def _settings(flags: dict[str, Any]) -> Settings:
    config = load_config(find_pyproject(Path.cwd()))
    return resolve_settings(config, dict(os.environ), flags)


class _Group(click.Group):
    """Click's usage errors (unknown command or option, bad value) as our one-line error:
    click prints usage, a hint and the error on four lines."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # A command's own parse errors (a missing option value) carry no context.
            command = " ".join(filter(None, [ctx.command_path, ctx.invoked_subcommand]))
            raise _one_line(exc, command) from None
        except KeyboardInterrupt:
            raise Interrupted("interrupted: nothing was written") from None


class Interrupted(UsageProblem):
    """Ctrl-C: exit 130 as shells report it, not click's exit 1, which would read as
    ``--check`` finding a stale package. Writing is all or nothing, so nothing was written."""

    exit_code = 130


def _one_line(exc: click.UsageError, command: str = "surreal-gen") -> UsageProblem:
    where = exc.ctx.command_path if exc.ctx is not None else command
    return UsageProblem(f"{exc.format_message()} (try '{where} --help')")


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@_generate_options
@click.version_option(__version__, prog_name="surreal-gen")
@click.pass_context
def main(ctx: click.Context, /, **flags: Any) -> None:
    """Generate a typed Python package from a SurrealDB schema (runs `generate` by default).

    Options go after the command they are for: `surreal-gen --check` and
    `surreal-gen generate --check` both check, `surreal-gen --check diff` is refused."""
    if ctx.invoked_subcommand is None:
        run_generate(flags)
        return
    command = ctx.invoked_subcommand
    for param in ctx.command.params:
        if param.name and ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
            option = max(param.opts, key=len)
            if param.name not in {p.name for p in main.commands[command].params}:
                raise UsageProblem(f"{option} is given before '{command}', which does not take it")
            raise UsageProblem(
                f"{option} is given before '{command}': options go after the command "
                f"(surreal-gen {command} {option} ...)"
            )


@main.command()
@_generate_options
def generate(**flags: Any) -> None:
    """Read the schema and write (or --check) the generated package."""
    run_generate(flags)


@main.command()
@_source_options
def introspect(**flags: Any) -> None:
    """Print the normalised schema as JSON (the input of --from-json)."""
    result = load_schema(_settings(flags))
    _print_warnings(result.warnings, quiet=False)
    click.echo(json.dumps(schema_to_json(result.schema), indent=2, ensure_ascii=False))


@main.command()
@_source_options
@click.option("--out", type=click.Path(path_type=Path), help="Generated package folder.")
def diff(**flags: Any) -> None:
    """Tables and fields added, removed or changed between the package and the schema."""
    settings = _settings(flags)
    out = output_folder(settings)
    marker = _marker_of(out)
    if marker is None:
        raise UsageProblem(f"{out}: not a package generated by surreal-gen")
    try:
        old = schema_from_json(marker.get("schema"))
    except SnapshotError as exc:
        raise UsageProblem(f"{out}: {exc}") from None
    new = load_schema(settings).schema
    lines = describe_changes(old, new)
    if not lines:
        click.echo(f"{_display(out)}: up to date with the schema")
        return
    click.echo("\n".join(lines))
    sys.exit(1)


def run_generate(flags: dict[str, Any]) -> None:
    """The default command: generate once, check, or watch."""
    settings = _settings(flags)
    out = output_folder(settings)
    quiet, verbose = bool(flags.get("quiet")), bool(flags.get("verbose"))
    if quiet and verbose:
        raise UsageProblem("--quiet and --verbose do not go together")
    if flags.get("watch"):
        if flags.get("check"):
            raise UsageProblem("--watch and --check do not go together")
        watch(settings, out, quiet=quiet, verbose=verbose)
        return
    if flags.get("check"):
        check_generated(settings, out, quiet=quiet)
    else:
        write_generated(settings, out, quiet=quiet, verbose=verbose)


def check_generated(settings: Settings, out: Path, *, quiet: bool) -> None:
    """``--check``: exit 1 with a summary when ``out`` is not what generating would write."""
    try:
        generated_files(out)  # a folder that is not ours is refused first, as when writing
    except OutputError as exc:
        raise UsageProblem(str(exc)) from None
    result, files = load_and_render(settings)
    _print_warnings(result.warnings, quiet=quiet)
    _refuse_to_empty(out, settings, result.schema)
    changes = _changes(out, files)
    if changes:
        click.echo(_stale_report(out, result.schema, changes), err=True)
        sys.exit(1)
    if not quiet:
        click.echo(f"{_display(out)}: up to date")


def write_generated(settings: Settings, out: Path, *, quiet: bool, verbose: bool) -> None:
    """Read the schema and write the package into ``out``; each table's module is staged
    as soon as it is rendered, while the next tables are read (``output.PackageWriter``)."""
    try:
        with PackageWriter(out) as writer:
            result, files = load_and_render(settings, on_module=writer.add, on_paths=writer.reserve)
            _print_warnings(result.warnings, quiet=quiet)
            _refuse_to_empty(out, settings, result.schema)
            changes = writer.commit(files)
    except OutputError as exc:
        raise UsageProblem(str(exc)) from None
    _report_written(out, changes, len(files), quiet=quiet, verbose=verbose)


def load_and_render(
    settings: Settings,
    on_module: Callable[[str, bytes], None] | None = None,
    on_paths: Callable[[list[str]], None] | None = None,
) -> tuple[Introspection, dict[str, bytes]]:
    """The schema and its package files. A pydantic package is rendered while the schema is
    read (``PackageRenderer``): ``on_paths`` gets the package's paths once the table names
    are known, ``on_module`` each module as it is done. A schema the model type cannot
    express is a user error."""
    model_type = settings.model_type
    if model_type == "pydantic":
        # Reading and rendering keep every table's IR and files alive until the end, so each
        # cycle collection would walk all of them again, finding nothing to free.
        with gc_paused(promote=True):
            renderer = PackageRenderer(on_module, on_paths=on_paths, parallel=True)
            result = load_schema(settings, renderer)
            return result, renderer.files(result.schema)
    if model_type not in MODEL_TYPES:
        raise UsageProblem(
            f"unknown output-model-type {model_type!r}: use pydantic, {', '.join(MODEL_TYPES)}"
        )
    result = load_schema(settings)
    try:
        return result, render_alternative_package(result.schema, model_type)
    except AltModelsError as exc:
        raise UsageProblem(str(exc)) from None


def _refuse_to_empty(out: Path, settings: Settings, schema: Schema) -> None:
    """Refuse an include/exclude that leaves no table when ``out`` holds generated tables:
    writing would delete every module (a mistyped glob, like a mistyped --ns)."""
    if schema.tables or not (settings.tables.include or settings.tables.exclude):
        return
    previous = (_marker_of(out) or {}).get("schema")
    tables = previous.get("tables") if isinstance(previous, dict) else None
    if isinstance(tables, list) and tables:
        raise UsageProblem(
            f"--include/--exclude leave no table, and {_display(out)} holds {len(tables)} "
            "generated tables: refusing to delete them (check the globs)"
        )


def _marker_of(out: Path) -> dict[str, Any] | None:
    try:
        return read_marker(out)
    except OutputError as exc:
        raise UsageProblem(str(exc)) from None


def _changes(out: Path, files: dict[str, bytes]) -> Changes:
    try:
        return compute_changes(out, files)
    except OutputError as exc:
        raise UsageProblem(str(exc)) from None


def _stale_report(out: Path, schema: Schema, changes: Changes) -> str:
    lines = [f"{_display(out)} is out of date: run surreal-gen to regenerate it"]
    marker = _marker_of(out)
    if marker is not None:
        try:
            lines += [
                "  " + line
                for line in describe_changes(schema_from_json(marker.get("schema")), schema)
            ]
        except SnapshotError as exc:
            lines.append(f"  (no field-level summary: the previous {MARKER} is unreadable: {exc})")
    lines += [f"  created: {p}" for p in changes.created]
    lines += [f"  changed: {p}" for p in changes.updated]
    lines += [f"  deleted: {p}" for p in changes.deleted]
    return "\n".join(lines)


def _report_written(out: Path, changes: Changes, total: int, *, quiet: bool, verbose: bool) -> None:
    if quiet:
        return
    if verbose:
        for label, paths in (
            ("created", changes.created),
            ("changed", changes.updated),
            ("deleted", changes.deleted),
        ):
            for path in paths:
                click.echo(f"{label}: {_display(out / path)}")
    written = len(changes.created) + len(changes.updated)
    click.echo(
        f"{_display(out)}: {written} written, {len(changes.deleted)} deleted, {total - written} unchanged"
    )


def _print_warnings(warnings: Sequence[str], *, quiet: bool) -> None:
    if not quiet:
        for warning in warnings:
            click.echo(f"surreal-gen: warning: {warning}", err=True)


WATCH_INTERVAL_S = 0.5
"""How often ``--watch`` looks at the schema files."""
WATCH_SETTLE_S = 0.1
"""How long the files must stay the same before ``--watch`` regenerates: an editor may save
a file in several writes, and a run on a half-written file reports an error that the next
write makes wrong."""


def watch(settings: Settings, out: Path, *, quiet: bool, verbose: bool) -> None:
    """Regenerate whenever a schema file changes, once the files have settled; errors are
    printed and watching goes on."""
    if source_of(settings) != "schema":
        raise UsageProblem("--watch needs .surql schema files (--schema or schema = [...])")
    seen: Snapshot | None = None
    try:
        while True:
            current = _snapshot_of_files(settings.schema)
            if current != seen:
                seen = _settled(settings.schema, current)
                try:
                    write_generated(settings, out, quiet=quiet, verbose=verbose)
                except UsageProblem as exc:
                    click.echo(f"surreal-gen: error: {exc}", err=True)
            time.sleep(WATCH_INTERVAL_S)
    except KeyboardInterrupt:
        return


Snapshot = tuple[tuple[str, int, int], ...]
"""Each schema file's path, modification time (ns) and size."""


def _settled(paths: Sequence[Path], snapshot: Snapshot) -> Snapshot:
    """The files' snapshot once two taken ``WATCH_SETTLE_S`` apart agree."""
    while True:
        time.sleep(WATCH_SETTLE_S)
        again = _snapshot_of_files(paths)
        if again == snapshot:
            return snapshot
        snapshot = again


def _snapshot_of_files(paths: Sequence[Path]) -> Snapshot:
    entries: list[tuple[str, int, int]] = []
    for path in paths:
        candidates = _surql_files(path) if path.is_dir() else [path]
        for file in candidates:
            try:
                stat = file.stat()
            except OSError:
                continue
            entries.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def entry_point() -> None:
    """The console script: run the CLI, then leave without interpreter teardown when an
    embedded engine was loaded.

    The engines' tokio workers can still be running while Python finalises: about one exit
    in a hundred with the 3.x wheel, and one in fifty after a quick error with the 2.x one,
    then aborted (SIGABRT, exit 134, a Rust panic on stderr) instead of returning the CLI's
    code. Everything we write is flushed and closed before this point, so skipping the
    teardown loses nothing.
    """
    try:
        main(prog_name="surreal-gen")
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    if not engine_loaded():
        sys.exit(code)
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
