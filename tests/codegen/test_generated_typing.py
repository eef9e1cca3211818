"""The checked-in `generated/` package: current, importable, lazy, and typed so that mypy
catches a filter on a missing field or with a wrong value."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from surreal_gen.codegen.emit import render_package
from surreal_gen.runtime.model import BaseSurrealModel
from tests.codegen.reference import GENERATED_DIR, REPO, reference


@pytest.mark.parametrize("engine", ["2.x", "3.x"])
def test_checked_in_package_is_current(engine: str) -> None:
    expected = render_package(reference(engine).schema)
    on_disk = {
        str(p.relative_to(GENERATED_DIR)): p.read_bytes()
        for p in GENERATED_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert on_disk == expected, "generated/ is stale: run surreal-gen"


def test_every_export_imports_and_validates() -> None:
    package = importlib.import_module("generated")
    exported = {name: getattr(package, name) for name in package.__all__}
    models = [
        v for v in exported.values() if isinstance(v, type) and issubclass(v, BaseSurrealModel)
    ]
    assert {m.get_table_name() for m in models} == {t.name for t in reference("2.x").schema.tables}
    for model in models:
        assert model.model_rebuild() is not False
        assert "id" in model.model_fields
    assert package.SCHEMA_FINGERPRINT == reference("2.x").schema.fingerprint


def test_package_import_is_lazy_and_needs_no_generator() -> None:
    probe = textwrap.dedent(
        """
        import sys
        import generated
        before = sorted(m for m in sys.modules if m.startswith("generated"))
        generated.ChatMessage
        after = sorted(m for m in sys.modules if m.startswith("generated"))
        tools = [m for m in ("jinja2", "click", "datamodel_code_generator") if m in sys.modules]
        print(before, after, tools)
        """
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert output == "['generated'] ['generated', 'generated.chat_message'] []"


def _mypy(tmp_path: Path, code: str) -> tuple[str, int]:
    """mypy --strict over generated/ and ``code`` (errors inside the runtime are not ours)."""
    usage = tmp_path / "usage.py"
    usage.write_text(textwrap.dedent(code))
    stdout, stderr, status = mypy_api.run(
        [
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--cache-dir",
            str(REPO / ".mypy_cache"),
            str(GENERATED_DIR),
            str(usage),
        ]
    )
    return stdout + stderr, status


GOOD_USAGE = """
from generated import ChatMessage, Person, Purchase
from generated.person import PersonQuerySet
from surreal_gen.runtime.types import RecordID


async def use() -> None:
    adults: PersonQuerySet = Person.objects().filter(age__gte=18, status="active")
    adults = adults.filter(address__city__startswith="Par", tags__contains="x")
    adults = adults.exclude(best_friend=RecordID("person", 1), nickname=None)
    people: list[Person] = await adults.all()
    ann: Person = await Person.objects().get(name="Ann", age__gte=18)
    for person in people:
        city: str | None = person.address.city if person.address else None
        print(city, person.class_, person.balance + 1, ann.name)
    orders = await Purchase.objects().filter(
        buyer=RecordID("person", "ann"), items__quantity__gt=1, items__note__isnull=False
    ).all()
    orders = await Purchase.objects().exclude(items__product__in=[RecordID("product", 1)]).all()
    print([item.unit_price for order in orders for item in order.items])
    async with ChatMessage.objects().filter(room="general").live(diff=True) as stream:
        async for event in stream:
            message: ChatMessage = event.instance
            print(event.action, message.text.upper())
    async for change in ChatMessage.objects().changes(since=0, sender__in=["ann", "bob"]):
        print(change.instance.sender)
"""


BAD_USAGE = """
from generated import ChatMessage, Person, Purchase

Person.objects().filter(agee=3)
Person.objects().filter(age="old")
Person.objects().filter(status="deleted")
ChatMessage.objects().live(rom="general")
Purchase.objects().filter(items__quantity__contains=1)
Purchase.objects().filter(items__quantity__gt="1")
Person.objects().filter(tags__gt=["a"])
Person.objects().get(nmae="Ann")
"""


def test_bad_filters_fail_mypy_with_the_expected_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    output, status = _mypy(tmp_path, BAD_USAGE)
    assert status == 1
    expected = [
        'usage.py:4: error: Unexpected keyword argument "agee" for "filter" of "PersonQuerySet"',
        (
            'usage.py:5: error: Argument "age" to "filter" of "PersonQuerySet" has incompatible '
            'type "str"; expected "int"'
        ),
        (
            'usage.py:6: error: Argument "status" to "filter" of "PersonQuerySet" has incompatible '
            "type \"Literal['deleted']\"; expected \"Literal['active', 'banned', 'pending']\""
        ),
        'usage.py:7: error: Unexpected keyword argument "rom" for "live" of "ChatMessageQuerySet"',
        # through a list, a key offers the element's lookups (the runtime refuses the rest)
        (
            'usage.py:8: error: Unexpected keyword argument "items__quantity__contains" for '
            '"filter" of "PurchaseQuerySet"'
        ),
        (
            'usage.py:9: error: Argument "items__quantity__gt" to "filter" of "PurchaseQuerySet" '
            'has incompatible type "str"; expected "int"'
        ),
        'usage.py:10: error: Unexpected keyword argument "tags__gt" for "filter" of "PersonQuerySet"',
        'usage.py:11: error: Unexpected keyword argument "nmae" for "get" of "PersonQuerySet"',
    ]
    lines = output.splitlines()
    for message in expected:
        assert any(message in line for line in lines), output


ID_AND_ALIAS_USAGE = """
from generated import AuditLog, Follows, Person, Purchase, Room
from surreal_gen.runtime.types import RecordID


async def use(person: Person, room: Room) -> None:
    assert person.id is not None and room.id is not None
    # a one-table id where a union or any table is expected (RecordID is covariant)
    edge = Follows(in_=person.id, out=room.id)
    peer = Follows(in_=person.id, out=person.id, muted=True)
    anywhere: RecordID = room.id
    await Purchase.objects().filter(context=room.id, buyer=person.id).all()
    await Follows.objects().filter(out__in=[room.id, person.id]).all()
    # database names that are not Python names are written with their Python names
    vip = Person(name="Ann", email="a@b.c", class_="vip", json_=True)
    log = AuditLog(action="seen", schema_="s")
    print(edge.in_, peer.out, anywhere, vip.class_, vip.json_, log.schema_)
"""


@pytest.mark.parametrize(
    "usage", [GOOD_USAGE, ID_AND_ALIAS_USAGE], ids=["filters-and-streams", "ids-and-python-names"]
)
def test_generated_package_passes_mypy_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usage: str
) -> None:
    monkeypatch.chdir(REPO)
    output, status = _mypy(tmp_path, usage)
    assert status == 0, output


WRONG_TABLE_USAGE = """
from generated import Follows, Room


def use(room: Room) -> None:
    assert room.id is not None
    Follows(in_=room.id, out=room.id)
"""


def test_an_id_of_another_table_still_fails_mypy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    output, status = _mypy(tmp_path, WRONG_TABLE_USAGE)
    assert status == 1
    assert (
        'usage.py:7: error: Argument "in_" to "Follows" has incompatible type '
        "\"RecordID[Literal['room']]\"; expected \"RecordID[Literal['person']]\""
    ) in output, output
