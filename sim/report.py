"""Outcomes of a run: expectations checked, the JSON object, the summary text and the timeline plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.runner import Runner


def check_expect(r: Runner) -> list[dict[str, Any]]:
    """Every expectation of the scenario with its actual value and pass/fail."""
    e = r.sc.expect
    m = r.metrics
    out: list[dict[str, Any]] = []

    def add(name: str, expected: Any, actual: Any, ok: bool) -> None:
        out.append({"name": name, "expected": expected, "actual": actual, "pass": bool(ok)})

    for want, got in r.checks:
        add(f"serving@{want.at:g}", sorted(want.sites), list(got), sorted(want.sites) == list(got))
    if e.no_split_brain is not None:
        add(
            "no_split_brain",
            e.no_split_brain,
            m.split_brain_s == 0,
            (m.split_brain_s == 0) == e.no_split_brain,
        )
    if e.max_split_brain_s is not None:
        add("max_split_brain_s", e.max_split_brain_s, m.split_brain_s, m.split_brain_s <= e.max_split_brain_s)
    if e.min_split_brain_s is not None:
        add("min_split_brain_s", e.min_split_brain_s, m.split_brain_s, m.split_brain_s >= e.min_split_brain_s)
    if e.max_downtime_s is not None:
        add("max_downtime_s", e.max_downtime_s, m.downtime_s, m.downtime_s <= e.max_downtime_s)
    if e.min_downtime_s is not None:
        add("min_downtime_s", e.min_downtime_s, m.downtime_s, m.downtime_s >= e.min_downtime_s)
    if e.data_lost_bytes is not None:
        add("data_lost_bytes", e.data_lost_bytes, m.data_lost_bytes, m.data_lost_bytes == e.data_lost_bytes)
    if e.min_data_lost_bytes is not None:
        add(
            "min_data_lost_bytes",
            e.min_data_lost_bytes,
            m.data_lost_bytes,
            m.data_lost_bytes >= e.min_data_lost_bytes,
        )
    if e.failovers is not None:
        add("failovers", e.failovers, m.failovers, m.failovers == e.failovers)
    if e.min_failovers is not None:
        add("min_failovers", e.min_failovers, m.failovers, m.failovers >= e.min_failovers)
    if e.max_failovers is not None:
        add("max_failovers", e.max_failovers, m.failovers, m.failovers <= e.max_failovers)
    if e.min_stale_writes_rejected is not None:
        add(
            "min_stale_writes_rejected",
            e.min_stale_writes_rejected,
            m.stale_writes_rejected,
            m.stale_writes_rejected >= e.min_stale_writes_rejected,
        )
    if e.witness_alarm is not None:
        add(
            "witness_alarm",
            e.witness_alarm,
            m.witness_alarm_s > 0,
            (m.witness_alarm_s > 0) == e.witness_alarm,
        )
    if e.min_resync_s is not None:
        add("min_resync_s", e.min_resync_s, m.resync_s, m.resync_s >= e.min_resync_s)
    if e.redundant_at_end is not None:
        add(
            "redundant_at_end",
            e.redundant_at_end,
            r.redundant_at_end,
            r.redundant_at_end == e.redundant_at_end,
        )
    if e.max_disconnections is not None:
        add(
            "max_disconnections",
            e.max_disconnections,
            m.disconnections,
            m.disconnections <= e.max_disconnections,
        )
    return out


def as_json(r: Runner, seed: int) -> dict[str, Any]:
    m = r.metrics
    return {
        "scenario": r.sc.name,
        "policy": r.cfg.policy.value,
        "seed": seed,
        "duration_s": m.duration_s,
        "availability": m.availability,
        "downtime_s": m.downtime_s,
        "failovers": m.failovers,
        "split_brain_s": m.split_brain_s,
        "data_lost_bytes": m.data_lost_bytes,
        "resync_s": round(m.resync_s, 6),
        "resyncs": m.resyncs,
        "disconnections": m.disconnections,
        "user_outage_s": m.user_outage_s,
        "stale_writes_rejected": m.stale_writes_rejected,
        "witness_alarm_s": m.witness_alarm_s,
        "one_copy_s": m.one_copy_s,
        "redundant_at_end": r.redundant_at_end,
        "expect": check_expect(r),
        "timeline": [{"t": e.t, "kind": e.kind, "node": e.node, "text": e.text} for e in r.timeline],
    }


def summary(r: Runner, seed: int) -> str:
    m = r.metrics
    rows = [
        ("scenario", r.sc.name),
        ("policy", r.cfg.policy.value),
        ("simulated", f"{m.duration_s:g} s (seed {seed})"),
        ("availability", f"{m.availability:.6%}"),
        ("downtime", f"{m.downtime_s:g} s"),
        ("failovers", str(m.failovers)),
        ("split-brain", f"{m.split_brain_s:g} s"),
        ("data lost", f"{m.data_lost_bytes:.0f} bytes"),
        ("resync", f"{m.resync_s:.1f} s in {m.resyncs} resync(s)"),
        ("one good copy", f"{m.one_copy_s:g} s"),
        ("disconnections", str(m.disconnections)),
        ("stale writes rejected", str(m.stale_writes_rejected)),
        ("witness alarm", f"{m.witness_alarm_s:g} s"),
        ("redundant at end", "yes" if r.redundant_at_end else "no"),
    ]
    lines = [f"{k:<22} {v}" for k, v in rows]
    lines.append("timeline:")
    lines += [f"  {e.t:10.3f}s  {e.kind:<8} {e.node:<3} {e.text}" for e in r.timeline]
    exp = check_expect(r)
    if exp:
        lines.append("expectations:")
        lines += [
            f"  {'PASS' if x['pass'] else 'FAIL'}  {x['name']}: expected {x['expected']}, got {x['actual']}"
            for x in exp
        ]
    return "\n".join(lines)


def plot(r: Runner, path: Path) -> None:
    """One lane per site, witness, link and volume copy: who served, what was up, which copy was stale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lanes = ["site A", "site B", "witness", *[f"link {k}" for k in r.links], "copy A", "copy B"]
    fig, ax = plt.subplots(figsize=(11, 0.5 * len(lanes) + 1.5))
    dt = r.sc.write_interval
    for s in r.samples:
        t0 = s.t - dt
        for i, lane in enumerate(lanes):
            color = None
            if lane.startswith("site "):
                n = lane[-1]
                color = "tab:green" if n in s.serving else ("tab:orange" if n in s.up else "tab:red")
            elif lane == "witness":
                color = "tab:green" if "W" in s.up else "tab:red"
            elif lane.startswith("link "):
                color = "tab:green" if lane[5:] in s.links else "tab:red"
            else:
                color = "tab:orange" if lane[-1] in s.stale else "tab:green"
            ax.broken_barh([(t0, dt)], (i - 0.4, 0.8), color=color)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title(f"{r.sc.name} ({r.cfg.policy.value}): green serving/up/current, orange idle/stale, red down")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
