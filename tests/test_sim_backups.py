"""Backups and logical corruption in years mode: restore points, RPO, restore time, total loss."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim.story import scenario as S
from sim.years.backups import account, restore_point
from sim.years.engine import CALENDAR_START, YearsResult, run_years

SCN = Path(__file__).parent.parent / "scenarios" / "backups-corruption.yaml"
H = 3600.0
D = 86400.0


def _t(y: int, m: int, d: int, hh: int = 0) -> float:
    return (datetime(y, m, d, hh, tzinfo=UTC) - CALENDAR_START).total_seconds()


BK = S.Backups(
    restore_throughput=1e9
)  # the source scheme: daily incr, weekly full (Sunday), monthly kept a year


def test_newest_point_before_the_corruption_that_retention_holds() -> None:
    c = _t(2027, 3, 17, 12)  # a Wednesday noon
    assert restore_point(BK, c, c + H, CALENDAR_START) == _t(2027, 3, 17, 1)  # that morning's incremental
    # 40 days later incrementals and weekly fulls are gone: the month's first full (Sunday 7 March) is left
    assert restore_point(BK, c, c + 40 * D, CALENDAR_START) == _t(2027, 3, 7, 1)
    assert restore_point(BK, c, c + 400 * D, CALENDAR_START) is None  # beyond every retention
    # an incremental whose base full has expired is no restore point
    short = BK.model_copy(update={"keep_full_days": 7.0})
    s = _t(2027, 3, 20, 12)  # Saturday; its base full (Sunday 14 March) is 16 days old at detection
    # Saturday 13 March's incremental still stands on Sunday 7 March, the month's full, kept a year
    assert restore_point(short, s, s + 10 * D, CALENDAR_START) == _t(2027, 3, 13, 1)
    no_monthly = short.model_copy(update={"keep_monthly_days": 0.0})
    assert restore_point(no_monthly, s, s + 10 * D, CALENDAR_START) is None


def test_years_reports_rpo_restore_and_losses() -> None:
    sc = S.load_scenario(SCN)
    out = run_years(sc, 60, seed=4)
    assert out["corruptions"] > 30
    size = sum(v.size for v in sc.volumes)
    assert out["restore_s"]["mean"] == pytest.approx(size / 5e8)
    assert out["rpo_s"]["n"] + out["corruptions_unrecoverable"] == out["corruptions"]
    assert 0 < out["rpo_s"]["p50"] <= out["rpo_s"]["p95"] <= out["rpo_s"]["max"] <= 366 * D
    assert out["corruption_data_lost_bytes"] <= out["data_lost_bytes"]
    assert out["corruption_downtime_s"] <= out["downtime_s"]
    assert run_years(sc.model_copy(update={"corruption": None}), 60, seed=4)["corruptions"] == 0


def test_detected_after_retention_loses_everything_and_is_counted() -> None:
    sc = S.load_scenario(SCN)
    late = sc.model_copy(
        update={"corruption": S.Corruption(every=S.Law(mean=3e7), detect=S.Law(kind="fixed", mean=400 * D))}
    )
    out = run_years(late, 30, seed=1)
    size = sum(v.size for v in sc.volumes)
    assert out["corruptions"] > 5
    assert out["corruptions_unrecoverable"] == out["corruptions"]
    assert out["corruption_data_lost_bytes"] == pytest.approx(out["corruptions"] * size)
    nobackup = run_years(sc.model_copy(update={"backups": None}), 30, seed=1)
    assert nobackup["corruptions_unrecoverable"] == nobackup["corruptions"] > 5


def test_restore_inside_another_outage_is_not_counted_twice() -> None:
    """A corruption at 20,000 s found at 20,010 s: its restore (20,000 s) runs to the horizon at
    25,000 s; an outage already covers 100 s of it, so 4,890 s are added, once."""
    law = S.Corruption(every=S.Law(kind="fixed", mean=20000.0), detect=S.Law(kind="fixed", mean=10.0))
    sc = S.load_scenario(SCN).model_copy(update={"corruption": law})
    r = YearsResult("x", "0", 1.0)
    y = SimpleNamespace(sc=sc, seed="0", r=r, outages=[(21000.0, 21100.0)])
    account(y, 25000.0, CALENDAR_START, np.random.default_rng(0))  # fixed laws: any stream
    assert r.corruptions == 1
    assert r.corruption_downtime_s == pytest.approx(25000.0 - 20010.0 - 100.0)
    assert sorted(y.outages) == [(20010.0, 21000.0), (21000.0, 21100.0), (21100.0, 25000.0)]


@pytest.mark.parametrize(
    ("block", "where", "text"),
    [
        (
            "backups: {restore_throughput: -5}",
            "f.yaml:2: field 'backups.restore_throughput'",
            "greater than 0",
        ),
        (
            "backups: {restore_throughput: 5, keep_full_days: 3}",
            "f.yaml:2: field 'backups.keep_full_days'",
            "shorter than the backup interval",
        ),
        (
            "backups: {restore_throughput: 5, keep_monthly_days: 20}",
            "f.yaml:2: field 'backups.keep_monthly_days'",
            "shorter",
        ),
        (
            "corruption: {every: {mean: 1e7}, detect: {mean: -1}}",
            "f.yaml:2: field 'corruption.detect.mean'",
            "greater than 0",
        ),
    ],
)
def test_bad_block_is_one_clear_error(block: str, where: str, text: str) -> None:
    with pytest.raises(S.ScenarioError) as e:
        S.parse_scenario(f"name: x\n{block}\n", "f.yaml")
    assert str(e.value).startswith(where) and text in str(e.value), str(e.value)
