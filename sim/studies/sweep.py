"""Sensitivity sweeps: a grid of scenario variants, each point through the availability engine.

``--vary PATH=V1,V2,...`` names a field of the scenario by its dotted path in the scenario's JSON form
(``quorum.heartbeat_interval``, ``topology.components.W.fail.mean``, ``topology.sites.A.tier``); a list
element is selected by its index or, for named elements such as links and volumes, by its name
(``topology.links.ab.fail.mean``). The grid is the product of every ``--vary``; each point is validated
like a scenario file and evaluated by :func:`sim.studies.evaluate.evaluate` with the same seed (common random
numbers: differences between points are not seed noise). The result is tidy: one row per point, the
varied values, then each figure's mean, low, high and method.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sim.story import scenario as S
from sim.studies.evaluate import columns, evaluate_each


class SweepError(ValueError):
    """A bad --vary (one line naming the path or the value)."""


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    path, eq, values = spec.partition("=")
    if not eq or not path or not values:
        raise SweepError(f"--vary {spec!r}: expected PATH=V1,V2,...")
    out: list[Any] = []
    for v in values.split(","):
        v = v.strip()
        if not v:
            raise SweepError(f"--vary {spec!r}: empty value")
        try:
            out.append(json.loads(v))
        except json.JSONDecodeError:
            out.append(v)
    return path.strip(), out


def _step(node: Any, part: str, path: str, done: list[str]) -> tuple[Any, Any]:
    """The container and key of ``part`` under ``node`` (KeyError-free: SweepError naming the path)."""
    where = ".".join(done) or "(top level)"
    if isinstance(node, dict):
        if part not in node:
            known = ", ".join(sorted(map(str, node))) or "none"
            raise SweepError(f"--vary {path}: unknown field {part!r} under {where} (known: {known})")
        return node, part
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return node, int(part)
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get("name") == part:
                return node, i
        raise SweepError(f"--vary {path}: no element {part!r} in {where} ({len(node)} elements)")
    raise SweepError(f"--vary {path}: {where} is a value, not a group of fields")


def apply(base: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = base
    done: list[str] = []
    for part in parts[:-1]:
        container, key = _step(node, part, path, done)
        node = container[key]
        done.append(part)
    container, key = _step(node, parts[-1], path, done)
    container[key] = value


def variant(sc: S.Scenario, point: dict[str, Any]) -> S.Scenario:
    data = json.loads(sc.model_dump_json())
    for path, value in point.items():
        apply(data, path, value)
    try:
        return S.Scenario.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in point.items())
        raise SweepError(
            f"--vary {shown}: field '{field}': {first['msg'].removeprefix('Value error, ')}"
        ) from None


def grid(sc: S.Scenario, varies: list[tuple[str, list[Any]]]) -> list[tuple[dict[str, Any], S.Scenario]]:
    """Every point of the grid with its scenario; every path is checked before anything runs."""
    paths = [p for p, _ in varies]
    if len(set(paths)) != len(paths):
        raise SweepError(f"--vary: a path is given twice ({', '.join(paths)})")
    out = []
    for combo in itertools.product(*(vals for _, vals in varies)):
        point = dict(zip(paths, combo, strict=True))
        out.append((point, variant(sc, point)))
    return out


def sweep(
    sc: S.Scenario,
    varies: list[tuple[str, list[Any]]],
    *,
    progress: Callable[[int, int], None] | None = None,
    **kw: Any,
) -> list[dict[str, Any]]:
    """Every point of the grid evaluated (tidy rows: the point's values, then :func:`columns`);
    ``progress(done, total)`` after each point."""
    done = evaluate_each([(point, v) for point, v in grid(sc, varies)], progress=progress, **kw)
    return [{"scenario": sc.name, **point, **columns(figs)} for point, _, figs in done]
