"""Backward-compatibility check between two JSON Schemas of the same event version."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _resolve(node: Schema, root: Schema) -> Schema:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    return node


def _types(node: Schema, root: Schema) -> set[str]:
    """The JSON types a schema node admits (through refs and anyOf)."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return set().union(*(_types(n, root) for n in node["anyOf"]))
    if "type" in node:
        return {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    if "enum" in node or "const" in node:
        return {"enum"}
    return {"object"} if "properties" in node else {"any"}


def _compare_object(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str) -> list[str]:
    problems: list[str] = []
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in old_props:
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{where}: field removed")
            continue
        old_t, new_t = _types(old_props[name], old_root), _types(new_props[name], new_root)
        if not old_t <= new_t and "any" not in new_t:
            problems.append(f"{where}: type changed from {sorted(old_t)} to {sorted(new_t)}")
        if name not in old_required and name in new_required:
            problems.append(f"{where}: optional field became required")
        problems += _compare_enum(old_props[name], new_props[name], old_root, new_root, where)
        if "object" in old_t and "object" in new_t:
            problems += _compare_object(old_props[name], new_props[name], old_root, new_root, where)
        old_items = _resolve(old_props[name], old_root).get("items")
        new_items = _resolve(new_props[name], new_root).get("items")
        if old_items and new_items:
            problems += _compare_object(old_items, new_items, old_root, new_root, f"{where}[]")
    for name in new_required - old_required - set(old_props):
        problems.append(f"{(path + '.') if path else ''}{name}: new required field")
    return problems


def _allowed(node: Schema) -> set[Any]:
    """Values an enum or const node allows (empty = unrestricted)."""
    if "const" in node:
        return {node["const"]}
    return set(node.get("enum", []))


def _compare_enum(old: Schema, new: Schema, old_root: Schema, new_root: Schema, where: str) -> list[str]:
    old_enum, new_enum = _allowed(_resolve(old, old_root)), _allowed(_resolve(new, new_root))
    removed = old_enum - new_enum if new_enum else set()
    return [f"{where}: allowed values removed {sorted(removed)}"] if removed else []


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What would break a consumer or producer written against `old` (empty = compatible)."""
    return _compare_object(old, new, old, new, "")
