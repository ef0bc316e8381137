"""Turn a ``quorum check --save`` file (configuration + fault schedule) into a scenario.

So a counterexample the checker found can be replayed in the simulator, with its timeline, metrics
and plot. The file may carry an ``expect`` block (scenario expectations); ``quorum check`` ignores it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quorum.testing.explore import load_replay
from quorum.testing.schedule import (
    Crash,
    Cut,
    Degrade,
    Drift,
    Flap,
    Heal,
    HealAll,
    Isolate,
    Pause,
    Restart,
    ScheduleFileError,
    SwitchoverStep,
    TakeoverStep,
)
from sim.scenario import Expect, Scenario, ScenarioError

LINKS = {frozenset({"A", "B"}): "ab", frozenset({"A", "W"}): "aw", frozenset({"B", "W"}): "bw"}


def _link(a: str, b: str) -> str:
    return LINKS[frozenset({a, b})]


def scenario_from_check(path: Path) -> Scenario:
    try:
        config, schedule = load_replay(path)
    except ScheduleFileError as e:
        raise ScenarioError(str(e)) from None
    raw = json.loads(path.read_text(encoding="utf-8"))
    faults: list[dict[str, Any]] = []
    for s in schedule.sorted_steps():
        at = s.at
        if isinstance(s, Crash | Restart):
            faults.append(
                {"at": at, "action": "crash" if isinstance(s, Crash) else "restore", "target": s.node}
            )
        elif isinstance(s, Cut | Heal):
            if s.src == s.dst:
                continue
            f: dict[str, Any] = {"at": at, "action": s.fault, "target": _link(s.src, s.dst)}
            if s.oneway:
                f["direction"] = s.src
            faults.append(f)
        elif isinstance(s, Isolate):
            faults.append({"at": at, "action": "isolate", "target": s.node})
        elif isinstance(s, HealAll):
            faults.extend({"at": at, "action": "heal", "target": name} for name in LINKS.values())
        elif isinstance(s, Flap):
            if s.src != s.dst:
                faults.append({"at": at, "action": "flap", "target": _link(s.src, s.dst), "period": s.period,
                               "count": s.count})  # fmt: skip
        elif isinstance(s, Degrade):
            if s.src != s.dst:
                faults.append({"at": at, "action": "delay", "target": _link(s.src, s.dst),
                               "extra_ms": 1000 * (s.delay + s.reorder / 2), "loss": s.loss})  # fmt: skip
        elif isinstance(s, Pause):
            faults.append({"at": at, "action": "pause", "target": s.node, "duration": s.duration})
        elif isinstance(s, Drift):
            faults.append({"at": at, "action": "drift", "target": s.node, "rate": s.rate})
        elif isinstance(s, SwitchoverStep):
            faults.append({"at": at, "action": "switchover", "target": s.to})
        elif isinstance(s, TakeoverStep):
            faults.append({"at": at, "action": "takeover", "target": s.to, "fence": s.fence})
    last = max((f["at"] for f in faults), default=0.0)
    try:
        return Scenario.model_validate(
            {
                "name": path.stem,
                "description": f"fault schedule replayed from {path.name} (quorum check --save)",
                "seed": schedule.seed,
                "duration": last + config.liveness_bound() + config.lease_duration,
                "quorum": config.model_dump(mode="json"),
                "faults": faults,
                "expect": Expect.model_validate(raw.get("expect", {})).model_dump(mode="json"),
            }
        )
    except ValidationError as e:
        first = e.errors()[0]
        raise ScenarioError(f"{path}: field '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None
