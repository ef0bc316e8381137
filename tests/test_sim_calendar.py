"""Maintenance calendars in years mode: planned windows performed through the core."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from sim.story import scenario as S
from sim.years.calendar import MAINT, starts, transition
from sim.years.engine import CALENDAR_START, Years, run_years

PATCH = Path(__file__).parent.parent / "scenarios" / "patch-calendar.yaml"


def test_first_saturday_then_a_week_later() -> None:
    a = S.MaintenanceWindow(site="A", duration=14400)
    b = S.MaintenanceWindow(site="B", duration=14400, offset_days=7)
    days = [CALENDAR_START + timedelta(seconds=s) for s in starts(a, 365 * 86400, CALENDAR_START)]
    assert len(days) == 12
    assert all(d.weekday() == 5 and d.day <= 7 and (d.hour, d.minute) == (2, 0) for d in days)
    later = [CALENDAR_START + timedelta(seconds=s) for s in starts(b, 365 * 86400, CALENDAR_START)]
    assert [d - x for d, x in zip(later, days, strict=False)] == [timedelta(days=7)] * len(later)
    weekly = S.MaintenanceWindow(site="A", every="week", weekday="sunday", duration=3600)
    ws = list(starts(weekly, 28 * 86400, CALENDAR_START))
    assert len(ws) == 4 and all(y - x == 7 * 86400 for x, y in itertools.pairwise(ws))


def test_transition_keeps_a_site_down_for_either_reason() -> None:
    def plain(c: str, at: float, down: bool) -> str:
        return f"{'down' if down else 'up'} {c}"

    m = "A" + MAINT
    (step,) = transition(frozenset(), frozenset({m}), 1.0, plain)
    assert isinstance(step, S.Maintenance) and step.site == "A"  # planned: switchover, then down
    assert transition(frozenset({m}), frozenset({m, "A"}), 2.0, plain) == []  # failed in its window
    assert transition(frozenset({m, "A"}), frozenset({"A"}), 3.0, plain) == []  # window over, still broken
    (up,) = transition(frozenset({"A"}), frozenset(), 4.0, plain)
    assert up == "up A"
    (back,) = transition(
        frozenset({m, "A"}), frozenset(), 5.0, lambda c, at, d: S.Restore(at=at, do="restore", node=c)
    )  # type: ignore[arg-type]
    assert isinstance(back, S.Restore) and back.node == "A"  # one restart, not two
    assert transition(frozenset(), frozenset({"W", "ab#0"}), 1.0, plain) == ["down W", "down ab#0"]


def test_windows_cost_switchover_seconds_in_the_figures() -> None:
    """Ten years of the source calendar (240 windows), eight seeds: a calm window costs nothing (the site
    goes down once the other serves alone: no freeze, issue 14 item 7), a window during which the other
    site fails is an outage; the same design without the calendar, on the same failure draws (windows
    draw nothing), has none of that downtime: the calendar adds at most the downtime of its episodes.
    Whether a failure falls in a window in ten years is a draw (about one seed in four), hence eight
    seeds (one used to be pinned)."""
    sc = S.load_scenario(PATCH)
    windows = maint = 0.0
    extra = []
    for seed in range(1, 9):
        with_cal = run_years(sc, 10, seed=seed)
        without = run_years(sc.model_copy(update={"maintenance": ()}), 10, seed=seed)
        assert with_cal["maintenance_windows"] + with_cal["maintenance_skipped"] == 240
        assert with_cal["maintenance_windows"] >= 230
        windows += with_cal["maintenance_windows"]
        maint += with_cal["maintenance_downtime_s"]
        each = with_cal["maintenance_episode_downtime_s"]  # the seconds each window cost
        assert 0 < each["n"] <= with_cal["maintenance_windows"]
        assert each["p50"] == 0 <= each["p95"] <= each["max"]
        assert without["maintenance_windows"] == 0 and without["maintenance_downtime_s"] == 0
        extra.append(with_cal["downtime_s"] - without["downtime_s"])
        assert -1e-6 <= extra[-1] <= with_cal["maintenance_downtime_s"] + 1e-6
        assert with_cal["split_brain_s"] == 0 and with_cal["data_lost_bytes"] == 0
    assert 0 <= maint / windows < 60
    assert max(extra) > 0, extra


def test_other_site_failing_during_a_window_is_an_outage() -> None:
    """A in its window, B fails for half an hour: nothing serves for about that half hour."""
    sc = S.load_scenario(PATCH)
    m = "A" + MAINT
    r = Years(sc, 1, 0).replay(
        [(frozenset({m}), 3600.0), (frozenset({m, "B"}), 1800.0), (frozenset({m}), 1800.0)]
    )
    assert 1800 <= r.downtime_s < 1800 + 120
    assert r.maintenance_downtime_s == r.downtime_s
    calm = Years(sc, 1, 0).replay([(frozenset({m}), 7200.0)])
    assert calm.downtime_s == 0  # a planned window alone costs nothing (issue 14 item 7)


@pytest.mark.parametrize(
    ("block", "field", "text"),
    [
        (
            "  - {site: A, every: week, duration: 700000}",
            "maintenance.0.duration",
            "not shorter than its period",
        ),
        ("  - {site: A, start: '25:00', duration: 3600}", "maintenance.0.start", "pattern"),
        ("  - {site: C, duration: 3600}", "maintenance.0.site", "Input should be"),
    ],
)
def test_bad_window_is_one_clear_error(block: str, field: str, text: str) -> None:
    with pytest.raises(S.ScenarioError) as e:
        S.parse_scenario(f"name: x\nmaintenance:\n{block}\n", "f.yaml")
    msg = str(e.value)
    assert msg.startswith(f"f.yaml:3: field '{field}'") and text in msg, msg
