"""Maintenance calendars in years mode: recurring planned windows, performed through the core.

A ``maintenance:`` block lists recurring windows, e.g. patching on the first Saturday of each month
from 02:00 for 4 hours at site A, and at site B a week later (``offset_days: 7``). The calendar starts
at :data:`sim.years.engine.CALENDAR_START` (UTC) like the month boundaries of every run.

A window is performed as an operator does it: if the site, the other site or the witness is down when
the window opens, the window is skipped (a change freeze while something is broken; counted as
``maintenance_skipped``). Otherwise the site enters maintenance: years mode adds the pseudo-component
``A@maint`` to the down set, and the message-level replay of the episode turns it into the simulator's
``maintenance`` step (a planned ``Switchover`` to the other site through the witness, then the site
stops) and, at the window's end, a restart: the site rejoins and resynchronises the writes it missed.
Everything else is the core's doing and lands in the usual figures: the seconds of each switchover
(downtime while service moves), the resync, and real outages when the other site or the witness fails
during the window. ``maintenance_downtime_s`` is the downtime of the episodes that contained a window.

A site that fails during its own window stays down until both the window and its repair are over
(a crash while in maintenance changes nothing at message level; the restart happens once neither holds).
The structural rule (:mod:`sim.years.structure`) ignores windows, so its mean stays that of the failure laws.
"""

from __future__ import annotations

import calendar as cal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.story import scenario as S

MAINT = "@maint"
SITES = ("A", "B")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def starts(w: S.MaintenanceWindow, horizon_s: float, start: datetime) -> Iterator[float]:
    """Seconds after ``start`` at which the window opens, in ``[0, horizon_s)``, in order."""
    hh, mm = (int(x) for x in w.start.split(":"))
    wd = _WEEKDAYS.index(w.weekday)
    at = datetime(start.year, start.month, 1, hh, mm, tzinfo=UTC)
    shift = timedelta(days=w.offset_days)
    end = start + timedelta(seconds=horizon_s)
    if w.every == "month":
        y, m = start.year, start.month
        while True:
            first = cal.monthrange(y, m)[0]  # weekday of the 1st
            day = 1 + (wd - first) % 7 + 7 * (w.nth - 1)
            t = datetime(y, m, day, hh, mm, tzinfo=UTC) + shift
            if t - shift >= end:
                return
            if start <= t < end:
                yield (t - start).total_seconds()
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    step = timedelta(days=1 if w.every == "day" else 7)
    if w.every == "week":
        at += timedelta(days=(wd - at.weekday()) % 7)
    while at < end:
        t = at + shift
        if start <= t < end:
            yield (t - start).total_seconds()
        at += step


def window_process(y: Any, w: S.MaintenanceWindow, horizon_s: float, start: datetime) -> Iterator[float]:
    """One recurring window for :class:`sim.years.engine.Years` ``y``: a generator that yields the time at
    which it wants to run next (the years loop resumes it then, with ``y.now`` set) and changes ``y``'s
    down set through ``y._change`` when a window opens and closes."""
    site = w.site
    peer = "B" if site == "A" else "A"
    for t0 in starts(w, horizon_s, start):
        if t0 > y.now:
            yield t0
        if {site, peer, "W", site + MAINT, peer + MAINT} & y.down:
            y.r.maintenance_skipped += 1
            continue
        y.r.maintenance_windows += 1
        y._change(y.down | {site + MAINT})
        yield y.now + min(w.duration, max(0.0, horizon_s - y.now))
        y._change(y.down - {site + MAINT})


def transition(
    prev: frozenset[str], ds: frozenset[str], at: float, fault: Callable[[str, float, bool], Any]
) -> list[Any]:
    """Message-level steps from down set ``prev`` to ``ds``: ``fault`` for plain components; a site is
    down while it failed or is in maintenance, entering maintenance from up is a planned switchover."""
    out: list[Any] = []
    for c in sorted(ds - prev):
        if c.endswith(MAINT):
            site = c.removesuffix(MAINT)
            if site not in prev and site not in ds:
                out.append(S.Maintenance(at=at, do="maintenance", site=site, duration=1e9))
        elif c in SITES and c + MAINT in prev:
            continue  # failed during its window: it is down already
        else:
            out.append(fault(c, at, True))
    restored: set[str] = set()
    for c in sorted(prev - ds):
        site = c.removesuffix(MAINT)
        if site in SITES and (site in ds or site + MAINT in ds or site in restored):
            continue  # still down for the other reason, or restarted already
        if c.endswith(MAINT):
            restored.add(site)
            out.append(S.Restore(at=at, do="restore", node=site))
        else:
            restored.add(c)
            out.append(fault(c, at, False))
    return out
