"""Explore many fault schedules against one configuration (what ``quorum check`` runs).

Hypothesis generates the schedules and, when one breaks a property, shrinks it to a minimal
counterexample, which is replayed with a full timeline. Runs are reproducible: the same
configuration, number of schedules and seed give the same report.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quorum.core.config import QuorumConfig
from quorum.testing.run import RunResult, run_schedule
from quorum.testing.schedule import (
    Schedule,
    ScheduleFileError,
    format_validation_error,
    load_json,
)

CHECKED = ("S1", "S2", "S3", "L1")


@dataclass
class CheckReport:
    """The outcome of exploring ``schedules`` fault schedules against one configuration."""

    config: QuorumConfig
    schedules: int
    seed: int
    counterexample: RunResult | None = None
    availability_losses: int = 0
    loss_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def violations(self) -> list[dict[str, object]]:
        if self.counterexample is None:
            return []
        return [v.as_dict() for v in self.counterexample.violations]

    def as_json(self) -> dict[str, Any]:
        ce = self.counterexample
        return {
            "policy": self.config.policy.value,
            "schedules": self.schedules,
            "seed": self.seed,
            "config": self.config.model_dump(mode="json"),
            "violations": self.violations,
            "counterexample": None
            if ce is None
            else {
                "steps": [s.model_dump(mode="json") for s in ce.schedule.sorted_steps()],
                "network_seed": ce.schedule.seed,
                "violation": ce.violations[0].as_dict(),
                "timeline": [{"t": e.t, "kind": e.kind, "node": e.node, "text": e.text} for e in ce.trace],
            },
            "availability_losses": self.availability_losses,
            "availability_loss_reasons": self.loss_reasons,
        }

    def save_counterexample(self, path: Path) -> None:
        """Write a replayable file: configuration plus schedule."""
        if self.counterexample is None:
            raise ValueError("no counterexample to save")
        save_schedule(path, self.config, self.counterexample.schedule)


def save_schedule(path: Path, config: QuorumConfig, schedule: Schedule) -> None:
    doc = {
        "config": config.model_dump(mode="json"),
        "schedule": schedule.model_dump(mode="json"),
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def explore(
    config: QuorumConfig,
    schedules: int,
    seed: int = 0,
    *,
    max_steps: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Run ``schedules`` generated schedules; shrink the first failure to a minimal counterexample."""
    # hypothesis is imported here, not with the module: the simulator and the live agent import this
    # package for its world and checkers, and hypothesis cost them 0.1 s of start-up
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Flaky

    from quorum.testing.strategies import schedules as schedule_strategy

    report = CheckReport(config=config, schedules=0, seed=seed)
    failing: list[RunResult] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=schedules,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(schedule_strategy(config, max_steps=max_steps))
    def probe(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, trace=False)
        if not failing:
            report.schedules += 1
            if progress is not None:
                progress(report.schedules, schedules)
            if result.availability_loss is not None:
                report.availability_losses += 1
                key = result.availability_loss
                report.loss_reasons[key] = report.loss_reasons.get(key, 0) + 1
        bad = [v for v in result.violations if v.property in CHECKED]
        if bad:
            failing.append(result)
            raise AssertionError(bad[0].detail)

    with contextlib.suppress(AssertionError, Flaky):
        probe()
    if failing:
        minimal = failing[-1].schedule
        report.counterexample = run_schedule(config, minimal, trace=True)
    return report


def sample_schedules(
    config: QuorumConfig,
    n: int,
    seed: int = 0,
    *,
    max_steps: int = 8,
    horizon: float = 40.0,
    drift: str = "within",
    operator: bool = True,
) -> list[Schedule]:
    """``n`` schedules drawn by the ``schedules`` strategy, the same ones for the same arguments (for
    notebooks and comparisons that run one set of fault schedules against several policies)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from quorum.testing.strategies import schedules as schedule_strategy

    out: list[Schedule] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(schedule_strategy(config, max_steps=max_steps, horizon=horizon, drift=drift, operator=operator))
    def draw(schedule: Schedule) -> None:
        if len(out) < n:
            out.append(schedule)

    draw()
    return out


def load_replay(path: Path) -> tuple[QuorumConfig, Schedule]:
    """Read a file written by ``--save`` (or by hand). Errors name the bad field and value."""
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise ScheduleFileError(f"{path}: expected a JSON object with 'config' and 'schedule'")
    # expect: used by `quorum sim run` and the regression tests; note: free text (how it was found)
    unknown = set(doc) - {"config", "schedule", "expect", "note"}
    if unknown:
        raise ScheduleFileError(
            f"{path}: unknown field '{sorted(unknown)[0]}' (expected 'config', 'schedule', 'expect', 'note')"
        )
    if not isinstance(doc.get("note", ""), str):
        raise ScheduleFileError(f"{path}: field 'note': expected text")
    try:
        config = QuorumConfig.model_validate(doc.get("config", {}))
    except ValidationError as e:
        raise ScheduleFileError(format_validation_error(e, f"{path}: config")) from None
    try:
        schedule = Schedule.model_validate(doc.get("schedule", {}))
    except ValidationError as e:
        raise ScheduleFileError(format_validation_error(e, f"{path}: schedule")) from None
    return config, schedule


def replay(path: Path) -> RunResult:
    config, schedule = load_replay(path)
    return run_schedule(config, schedule, trace=True)
