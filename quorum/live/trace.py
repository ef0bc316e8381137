"""Agent traces: every input the agent feeds the core, with ``now`` and the actions the core returned.

Line 1: ``{"init": {"config", "site", "now", "durable"}}``; then one line per call:
``{"now": t, "event": <encoded input> | null (a timer call), "actions": [<encoded action>, ...]}``.
``replay`` feeds the same inputs to a fresh ``SiteMachine`` and lists every call whose actions differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from quorum.core import Action, Input, QuorumConfig, Site, SiteDurable, SiteMachine
from quorum.live.codec import decode, encode


class TraceWriter:
    def __init__(self, path: Path | str) -> None:
        self.f: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def init(self, config: QuorumConfig, site: Site, now: float, durable: SiteDurable | None) -> None:
        head = {
            "init": {
                "config": config.model_dump(mode="json"),
                "site": site.value,
                "now": now,
                "durable": encode(durable) if durable is not None else None,
            }
        }
        self._line(head)

    def call(self, now: float, event: Input | None, actions: list[Action]) -> None:
        self._line(
            {
                "now": now,
                "event": encode(event) if event is not None else None,
                "actions": [encode(a) for a in actions],
            }
        )

    def _line(self, obj: dict[str, Any]) -> None:
        self.f.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()


@dataclass
class ReplayReport:
    calls: int
    segments: int
    differences: list[dict[str, Any]]


def replay(path: Path | str) -> ReplayReport:
    """Replay a trace (one or more agent runs appended: each ``init`` line starts a fresh machine)."""
    machine: SiteMachine | None = None
    calls = segments = 0
    diffs: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for lineno, line in enumerate(lines, 1):
        if True:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                # the last line of an agent killed mid-write may be torn; anything else is an error
                if lineno != len(lines):
                    diffs.append({"line": lineno, "problem": "unreadable line"})
                continue
            if "init" in rec:
                i = rec["init"]
                durable = decode(i["durable"]) if i["durable"] is not None else None
                machine = SiteMachine(
                    QuorumConfig.model_validate(i["config"]), Site(i["site"]), i["now"], durable
                )
                segments += 1
                continue
            if machine is None:
                diffs.append({"line": lineno, "problem": "call before init"})
                continue
            now = float(rec["now"])
            ev = decode(rec["event"]) if rec["event"] is not None else None
            acts = machine.handle_timer(now) if ev is None else machine.handle(now, ev)
            calls += 1
            got = [encode(a) for a in acts]
            if got != rec["actions"]:
                diffs.append({"line": lineno, "now": now, "recorded": rec["actions"], "replayed": got})
    return ReplayReport(calls, segments, diffs)
