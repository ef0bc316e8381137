"""The scenario reference, from the scenario JSON Schema (``quorum sim schema``): one table per object.

Called by cog in ``docs/reference/scenario.md`` (``make docs`` regenerates it, ``make test`` runs
``cog --check``), so the reference cannot drift from the program.
"""

from __future__ import annotations

from typing import Any

from sim.story.scenario import json_schema


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if "oneOf" in spec:
        return " or ".join(_type(s) for s in spec["oneOf"])
    if "enum" in spec:
        return " | ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    t = spec.get("type", "any")
    if t == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if t == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"mapping to {_type(spec['additionalProperties'])}"
    return str(t)


def _bounds(spec: dict[str, Any]) -> str:
    parts = []
    for key, sign in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in spec:
            parts.append(f"{sign} {spec[key]}")
    for sub in spec.get("anyOf", []):
        if sub.get("type") != "null":
            parts.extend(x for x in [_bounds(sub)] if x)
    return ", ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(name: str, spec: dict[str, Any]) -> list[str]:
    out = [f"### {name}", ""]
    if spec.get("description"):
        out += [_cell(spec["description"]), ""]
    if "enum" in spec:
        return [*out, "One of: " + ", ".join(f"`{v}`" for v in spec["enum"]), ""]
    props = spec.get("properties", {})
    if not props:
        return [*out, f"Type: {_type(spec)}", ""]
    required = set(spec.get("required", []))
    out += ["| field | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    for field, p in props.items():
        default = "required" if field in required else f"`{p['default']!r}`" if "default" in p else ""
        out.append(
            f"| `{field}` | {_cell(_type(p))} | {_cell(default)} | {_cell(_bounds(p))} |"
            f" {_cell(p.get('description', ''))} |"
        )
    return [*out, ""]


def tables() -> str:
    schema = json_schema()
    lines = _table("Scenario", {**schema, "description": "The top level of a scenario file."})
    for name, spec in sorted(schema.get("$defs", {}).items()):
        lines += _table(name, spec)
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables())
