"""Table- and field-level differences between two schemas, for ``diff`` and ``--check``."""

from __future__ import annotations

from surreal_gen.codegen import naming
from surreal_gen.codegen.ir import Field, Schema, Table, field_to_json, table_to_json
from surreal_gen.codegen.kinds import render_kind
from surreal_gen.codegen.mapping import ModelPlan, plan_module


def describe_changes(old: Schema, new: Schema) -> list[str]:
    """One line per change: ``+ table t``, ``- t.f``, ``~ t.f: kind int -> string`` ...,
    and ``~ table t: class 'AB' -> 'AB_2'`` when a table kept in the schema gets another
    class or module name (a table added or removed beside it whose name gives the same one,
    ``aB`` beside ``a_b``): code importing the old name gets another table's model."""
    lines: list[str] = []
    old_tables = {t.name: t for t in old.tables}
    new_tables = {t.name: t for t in new.tables}
    old_classes, new_classes = naming.class_names(old_tables), naming.class_names(new_tables)
    old_modules, new_modules = naming.module_names(old_tables), naming.module_names(new_tables)
    for name in sorted(old_tables.keys() | new_tables.keys()):
        before, after = old_tables.get(name), new_tables.get(name)
        if before is None:
            lines.append(f"+ table {name}")
        elif after is None:
            lines.append(f"- table {name}")
        else:
            for key, was, now in (
                ("class", old_classes[name], new_classes[name]),
                ("module", old_modules[name], new_modules[name]),
            ):
                if was != now:
                    lines.append(f"~ table {name}: {key} {was!r} -> {now!r}")
            changes = _table_changes(before, after)
            if changes:
                was_named = _attributes(before, old_classes[name], old_modules[name])
                now_named = _attributes(after, new_classes[name], new_modules[name])
                changes += [
                    f"~ {name}.{path}: attribute {was_named[path]!r} -> {now_named[path]!r}"
                    for path in sorted(was_named.keys() & now_named.keys())
                    if was_named[path] != now_named[path]
                ]
            lines.extend(changes)
    return lines


def _attributes(table: Table, class_name: str, module_name: str) -> dict[str, str]:
    """The Python attribute name of each field of the generated models, by database path
    (``items.*.sku``). A field added beside another can take its attribute name: ``class_``
    beside ``class``, which was ``class_`` and becomes ``class__2``."""
    plan = plan_module(table, class_name, module_name)
    nested = {model.class_name: model for model in plan.nested}
    names: dict[str, str] = {}

    def walk(model: ModelPlan, prefix: str) -> None:
        for field in model.fields:
            path = prefix + (field.alias or field.name)
            names[path] = field.name
            if field.nested_model in nested:
                walk(nested[field.nested_model], path + ".")
            elif field.item_model in nested:
                walk(nested[field.item_model], path + ".*.")

    walk(plan.model, "")
    return names


def _table_changes(before: Table, after: Table) -> list[str]:
    lines: list[str] = []
    settings_before = _table_settings(before)
    settings_after = _table_settings(after)
    for key in sorted(settings_before.keys() | settings_after.keys()):
        if settings_before.get(key) != settings_after.get(key):
            lines.append(
                f"~ table {after.name}: {key} {settings_before.get(key)!r} -> "
                f"{settings_after.get(key)!r}"
            )
    fields_before = {f.path: f for f in before.fields}
    fields_after = {f.path: f for f in after.fields}
    for path in sorted(fields_before.keys() | fields_after.keys()):
        old, new = fields_before.get(path), fields_after.get(path)
        where = f"{after.name}.{path}"
        if old is None and new is not None:
            lines.append(f"+ {where}: {render_kind(new.kind)}")
        elif new is None and old is not None:
            lines.append(f"- {where}")
        elif old is not None and new is not None and old != new:
            lines.append(f"~ {where}: {_field_change(old, new)}")
    return lines


def _table_settings(table: Table) -> dict[str, object]:
    data = table_to_json(table)
    return {k: v for k, v in data.items() if k not in ("name", "fields")}


def _field_change(old: Field, new: Field) -> str:
    """``default None -> 'x'``, ``readonly True -> None``: the JSON form leaves unset clauses
    out, so a clause added or removed is a key on one side only (None on the other)."""
    before, after = field_to_json(old), field_to_json(new)
    keys = [*before, *(k for k in after if k not in before)]
    return ", ".join(
        f"{k} {before.get(k)!r} -> {after.get(k)!r}" for k in keys if before.get(k) != after.get(k)
    )
