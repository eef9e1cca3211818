"""How the benchmarks drive surreal-gen: through its CLI and its public codegen functions."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
from pathlib import Path
from typing import Any

from bench.engines import DATABASE, NAMESPACE

REQUIRED_MODULES = [
    "surreal_gen.codegen.cli",
    "surreal_gen.codegen.emit",
    "surreal_gen.codegen.introspect",
]


def missing_reason() -> str:
    """Why surreal-gen cannot be measured yet, or '' when it can."""
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    return f"{', '.join(missing)} not landed" if missing else ""


def available() -> bool:
    return not missing_reason()


def import_cli() -> None:
    """Import the CLI's module (click, Jinja and the generator's modules), as the baseline's
    child imports datamodel-code-generator's package before starting its clock."""
    import surreal_gen.codegen.cli  # noqa: F401


def run_cli(*args: str) -> None:
    """Run the `surreal-gen` click command in this process; a non-zero exit is an error."""
    from surreal_gen.codegen.cli import main

    try:
        main.main(list(args), prog_name="surreal-gen", standalone_mode=False)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise RuntimeError(f"surreal-gen {' '.join(args)} exited {exit_.code}") from None


def generate_from_surql(surql: Path, out: Path) -> None:
    """`surreal-gen generate --schema SURQL --out OUT`: apply, introspect, render, write."""
    run_cli("generate", "--schema", str(surql), "--out", str(out), "--quiet")


def generate_from_url(url: str, out: Path) -> None:
    """`surreal-gen generate --url URL`: introspect an already-loaded database, render, write."""
    run_cli(
        "generate", "--url", url, "--ns", NAMESPACE, "--db", DATABASE, "--out", str(out), "--quiet"
    )


def introspect_url(url: str) -> Any:
    """The schema IR of an already-loaded database, read the way the CLI reads it."""
    from surreal_gen.codegen.introspect import read_schema
    from surreal_gen.runtime.connection import ConnectionConfig

    config = ConnectionConfig(url=url, namespace=NAMESPACE, database=DATABASE)
    return asyncio.run(read_schema(config)).schema


def render_and_write(schema: Any, out: Path) -> None:
    """Render as the CLI does (from 100 tables, part of it in a forked copy) and write the
    package."""
    from surreal_gen.codegen.emit import render_package
    from surreal_gen.codegen.output import write_package

    write_package(out, render_package(schema, parallel=True))


def render(schema: Any) -> dict[str, bytes]:
    from surreal_gen.codegen.emit import render_package

    return render_package(schema)


async def engine_answers(store: Path) -> list[bytes]:
    """Open the store in the 2.x engine and have it answer the INFO requests the introspector
    sends (same batches, same requests in flight), as raw CBOR replies: no decoding, no IR."""
    import cbor2

    from surreal_gen.codegen.introspect import REQUESTS_IN_FLIGHT, TABLES_PER_QUERY
    from surreal_gen.runtime.transports.embedded import engine_module

    db = engine_module("2").AsyncEmbeddedDB(f"surrealkv://{store}")
    await db.connect()
    try:

        async def ask(sql: str) -> bytes:
            request = {"id": 1, "method": "query", "params": [sql, {}]}
            reply: bytes = await db.execute(cbor2.dumps(request))
            return reply

        await db.execute(cbor2.dumps({"id": 0, "method": "use", "params": [NAMESPACE, DATABASE]}))
        [db_info] = cbor2.loads(await ask("INFO FOR DB STRUCTURE"))["result"]
        names = sorted(table["name"] for table in db_info["result"]["tables"])
        batches = [
            ";\n".join(
                f"INFO FOR TABLE {name} STRUCTURE" for name in names[i : i + TABLES_PER_QUERY]
            )
            for i in range(0, len(names), TABLES_PER_QUERY)
        ]
        in_flight = asyncio.Semaphore(REQUESTS_IN_FLIGHT)

        async def answer(sql: str) -> bytes:
            async with in_flight:
                return await ask(sql)

        return await asyncio.gather(*(answer(sql) for sql in batches))
    finally:
        await db.close()


def write_files(out: Path, files: dict[str, bytes]) -> None:
    """The package's bytes into the (empty) folder ``out``, one plain write per file."""
    for path, content in files.items():
        (out / path).write_bytes(content)


def check_output(out: Path, tables: list[str]) -> None:
    """Every table got exactly one parseable module whose model names that table."""
    named: list[str] = []
    for module in sorted(out.glob("*.py")):
        source = module.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "table_name"
                and isinstance(node.value, ast.Constant)
            ):
                named.append(str(node.value.value))
    if sorted(named) != sorted(tables):
        extra, lacking = set(named) - set(tables), set(tables) - set(named)
        raise SystemExit(
            f"{out}: {len(named)} table models for {len(tables)} tables "
            f"(unexpected {sorted(extra)[:3]}, missing {sorted(lacking)[:3]})"
        )
    if not (out / "__init__.py").is_file():
        raise SystemExit(f"{out}: no __init__.py")
