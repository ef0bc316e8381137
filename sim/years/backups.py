"""Backups and logical corruption in years mode.

Mirroring copies a logical corruption (a bad batch job, ransomware) to both sites at once: no failover
helps, only a backup does. The ``corruption:`` block gives two laws: the time between corruptions and
the time until one is detected. The ``backups:`` block gives the scheme of the source documents: a full
backup every week (``full_weekday``), an incremental every other day, all at ``at`` (UTC, the calendar of
:data:`sim.years.engine.CALENDAR_START`); incrementals kept ``keep_incremental_days``, weekly fulls
``keep_full_days``, and the first full of each month kept ``keep_monthly_days`` as the monthly backup.

At detection the service is restored from the newest restore point taken *before* the corruption that
retention still holds at detection (an incremental needs its base full to be held too):

* the restore time, the size of every volume over ``restore_throughput``, is downtime (added to the
  outages where no other outage already covers it, so it is not counted twice);
* every write since that restore point, up to detection, is lost: ``rpo_s`` (seconds of writes lost)
  and ``write_rate * rpo_s`` bytes, added to ``data_lost_bytes``;
* when no restore point is held (the corruption is older than every retention, or there are no backups)
  everything is lost: ``corruptions_unrecoverable`` counts it, the whole data set (every volume's size)
  is added to the bytes lost, and the service is down for a full restore's time (rebuilt from nothing).

Corruptions are drawn from their own numpy stream (a child of the run's seed), independent of every failure.
Years output: ``corruptions``, ``corruptions_unrecoverable``, ``corruption_downtime_s``,
``corruption_data_lost_bytes``, and the distributions of ``rpo_s`` and ``restore_s`` (mean, p50, p95, max).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from sim.story import scenario as S
from sim.years.laws import draw_many

DAY = 86400.0
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class RestoreEvent:
    corrupted_at: float
    detected_at: float
    point: float | None  # the restore point used (None: nothing held, everything lost)
    restore_s: float
    lost_bytes: float

    @property
    def rpo_s(self) -> float | None:
        return None if self.point is None else self.detected_at - self.point


def _kind(bk: S.Backups, t: datetime) -> str:
    """``monthly``, ``full`` or ``incremental`` for the backup taken on ``t``'s day."""
    if t.weekday() == _WEEKDAYS.index(bk.full_weekday):
        return "monthly" if bk.keep_monthly_days > 0 and t.day <= 7 else "full"
    return "incremental"


def restore_point(bk: S.Backups, corrupted_at: float, detected_at: float, start: datetime) -> float | None:
    """Seconds (since ``start``) of the newest backup before ``corrupted_at`` still held at ``detected_at``."""
    hh, mm = (int(x) for x in bk.at.split(":"))
    t0 = start + timedelta(seconds=corrupted_at)
    day = datetime(t0.year, t0.month, t0.day, hh, mm, tzinfo=UTC)
    if day >= t0:
        day -= timedelta(days=1)
    keep = {
        "incremental": bk.keep_incremental_days,
        "full": bk.keep_full_days,
        "monthly": bk.keep_monthly_days,
    }
    oldest = max(keep.values())
    while True:
        t = (day - start).total_seconds()
        if t < 0 or detected_at - t > oldest * DAY:
            return None
        kind = _kind(bk, day)
        held = detected_at - t <= keep[kind] * DAY
        if kind == "incremental" and held and bk.incremental:
            base = day - timedelta(days=(day.weekday() - _WEEKDAYS.index(bk.full_weekday)) % 7)
            tb = (base - start).total_seconds()
            if tb >= 0 and detected_at - tb <= keep[_kind(bk, base)] * DAY:
                return t
        elif kind != "incremental" and held:
            return t
        day -= timedelta(days=1)


def corruption_events(
    sc: S.Scenario, horizon_s: float, gen: np.random.Generator | None, start: datetime
) -> list[RestoreEvent]:
    """Every corruption detected within the horizon, with the restore it costs (times drawn from ``gen``,
    the run's corruption stream, needed only when the scenario has a ``corruption:`` block)."""

    cor = sc.corruption
    if cor is None:
        return []
    if gen is None:
        raise ValueError(f"{sc.name}: a corruption block needs the run's corruption stream")
    size = sum(v.size for v in sc.volumes)
    rate = sum(v.write_rate for v in sc.volumes)
    bk = sc.backups
    full_restore = size / bk.restore_throughput if bk is not None else 0.0
    out: list[RestoreEvent] = []
    t = 0.0
    free_at = 0.0  # a corruption detected during a restore is handled once that restore is over
    while True:
        t += float(draw_many(cor.every, 1, gen)[0])
        found = t + float(draw_many(cor.detect, 1, gen)[0])
        if t >= horizon_s or found >= horizon_s:
            return out
        found = max(found, free_at)
        point = restore_point(bk, t, found, start) if bk is not None else None
        lost = rate * (found - point) if point is not None else size
        restore = full_restore if bk is not None else 0.0
        out.append(RestoreEvent(t, found, point, restore, lost))
        free_at = found + restore


def account(y: Any, horizon_s: float, start: datetime, gen: np.random.Generator | None) -> None:
    """Add the corruptions of a :class:`sim.years.engine.Years` run to its result ``y.r`` (before
    ``_finish``); ``gen``: the run's corruption stream."""
    events = corruption_events(y.sc, horizon_s, gen, start)
    r = y.r
    covered = sorted(y.outages)
    starts = [a for a, _ in covered]
    for ev in events:
        a, b = ev.detected_at, min(horizon_s, ev.detected_at + ev.restore_s)
        # the pieces of [a, b) no outage already covers: downtime, and outages for the monthly figures
        pieces: list[tuple[float, float]] = []
        at = a
        i = max(0, bisect.bisect_right(starts, a) - 1)
        while i < len(covered) and covered[i][0] < b:
            lo, hi = covered[i]
            if hi > at:
                if lo > at:
                    pieces.append((at, lo))
                at = max(at, hi)
            i += 1
        if at < b:
            pieces.append((at, b))
        y.outages.extend(pieces)
        free = sum(hi - lo for lo, hi in pieces)
        r.downtime_s += free
        r.corruption_downtime_s += free
        if free > 0:
            r.downtime_by_cause_s["corruption_restores"] = (
                r.downtime_by_cause_s.get("corruption_restores", 0.0) + free
            )
        r.data_lost_bytes += ev.lost_bytes
        r.corruption_data_lost_bytes += ev.lost_bytes
        r.corruptions += 1
        r.restore_s.append(ev.restore_s)
        if ev.point is None:
            r.corruptions_unrecoverable += 1
        else:
            r.rpo_s.append(ev.detected_at - ev.point)


def distribution(xs: list[float]) -> dict[str, float | None]:
    """Mean, median, 95th percentile and maximum (nearest rank) of a list of seconds."""
    if not xs:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "max": None}
    s = sorted(xs)

    def q(p: float) -> float:
        return s[min(len(s) - 1, max(0, int(-(-p * len(s) // 1)) - 1))]

    return {"n": len(s), "mean": sum(s) / len(s), "p50": q(0.5), "p95": q(0.95), "max": s[-1]}
