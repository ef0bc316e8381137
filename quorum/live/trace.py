"""Agent traces: every input the agent feeds the core, with ``now`` and the actions the core returned.

Line 1: ``{"init": {"config", "site", "now", "durable"}}``; then one line per call:
``{"now": t, "event": <encoded input> | null (a timer call), "actions": [<encoded action>, ...]}``.
``replay`` feeds the same inputs to a fresh ``SiteMachine`` and lists every call whose actions differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
    problems: list[str] = field(default_factory=list)  # why the trace cannot be trusted as a whole


class TraceError(Exception):
    """A trace that cannot be replayed as a whole (empty, truncated, not a trace): one line."""


def replay(path: Path | str, *, strict: bool = False) -> ReplayReport:
    """Replay a trace (one or more agent runs appended: each ``init`` line starts a fresh machine).

    A line that is not a trace record is a *problem*: an empty file, a line cut short (a trace copied
    while written, or truncated), a record that does not decode. With ``strict`` the first problem
    raises :class:`TraceError` (``quorum replay``); without, problems are listed in the report and
    the last line alone may be torn (an agent killed by ``kill -9`` mid-write) without being one.
    """
    from quorum.inputs import show

    machine: SiteMachine | None = None
    calls = segments = 0
    diffs: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except UnicodeDecodeError as e:
        raise TraceError(f"{path}: not UTF-8 text (byte at offset {e.start}): not a trace") from None
    except OSError as e:
        raise TraceError(f"{path}: cannot read: {e.strerror}") from None

    def problem(text: str) -> None:
        if strict:
            raise TraceError(f"{path}: {text}")
        problems.append(text)

    last = max((i for i, ln in enumerate(lines, 1) if ln.strip()), default=0)
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            if lineno == last and not strict:
                continue  # an agent killed mid-write may leave its last line torn
            problem(f"line {lineno} is not a complete trace record (a truncated or damaged trace?)")
            continue
        try:
            if not isinstance(rec, dict):
                raise TypeError(f"a {type(rec).__name__}, not a record")
            if "init" in rec:
                i = rec["init"]
                durable = decode(i["durable"]) if i["durable"] is not None else None
                machine = SiteMachine(
                    QuorumConfig.model_validate(i["config"]), Site(i["site"]), i["now"], durable
                )
                segments += 1
                continue
            if machine is None:
                problem(f"line {lineno}: a call before any init line (the start of the trace is missing)")
                continue
            now = float(rec["now"])
            ev = decode(rec["event"]) if rec["event"] is not None else None
            recorded = rec["actions"]
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            problem(f"line {lineno}: not a trace record ({type(e).__name__}: {show(str(e))})")
            continue
        try:
            acts = machine.handle_timer(now) if ev is None else machine.handle(now, ev)
        except Exception as e:  # a damaged record the core cannot take: the trace is not usable
            problem(
                f"line {lineno}: the recorded input cannot be replayed ({type(e).__name__}: {show(str(e))})"
            )
            continue
        calls += 1
        got = [encode(a) for a in acts]
        if got != recorded:
            diffs.append({"line": lineno, "now": now, "recorded": recorded, "replayed": got})
    if segments == 0:
        problem("empty trace: no init line, nothing to replay")
    return ReplayReport(calls, segments, diffs, problems)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
