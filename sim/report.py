"""Results of a simulation run: expectations checked, a summary, JSON, and a timeline plot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.runner import MB, Simulation


@dataclass(frozen=True)
class Check:
    name: str
    expected: object
    actual: object
    ok: bool

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "expected": self.expected, "actual": self.actual, "pass": self.ok}


def check_expectations(sim: Simulation) -> list[Check]:
    e = sim.sc.expect
    m = sim.metrics
    out: list[Check] = []
    if e.no_split_brain is not None:
        out.append(
            Check(
                "no_split_brain",
                e.no_split_brain,
                m.split_brain_s == 0,
                (m.split_brain_s == 0) == e.no_split_brain,
            )
        )
    if e.split_brain_min_s is not None:
        out.append(
            Check(
                "split_brain_min_s",
                e.split_brain_min_s,
                round(m.split_brain_s, 3),
                m.split_brain_s >= e.split_brain_min_s,
            )
        )
    for sa in e.serving_at:
        actual = sim.serving_at(sa.at)
        out.append(
            Check(
                f"serving_at {sa.at:g}s", sorted(sa.sites), sorted(actual), sorted(actual) == sorted(sa.sites)
            )
        )
    if e.downtime_max_s is not None:
        out.append(
            Check(
                "downtime_max_s", e.downtime_max_s, round(m.downtime_s, 3), m.downtime_s <= e.downtime_max_s
            )
        )
    if e.downtime_min_s is not None:
        out.append(
            Check(
                "downtime_min_s", e.downtime_min_s, round(m.downtime_s, 3), m.downtime_s >= e.downtime_min_s
            )
        )
    if e.failovers is not None:
        out.append(Check("failovers", e.failovers, m.failovers, m.failovers == e.failovers))
    if e.failovers_max is not None:
        out.append(Check("failovers_max", e.failovers_max, m.failovers, m.failovers <= e.failovers_max))
    if e.data_lost_bytes is not None:
        out.append(
            Check(
                "data_lost_bytes",
                e.data_lost_bytes,
                m.data_lost_bytes,
                abs(m.data_lost_bytes - e.data_lost_bytes) < 1,
            )
        )
    if e.data_lost_min_bytes is not None:
        out.append(
            Check(
                "data_lost_min_bytes",
                e.data_lost_min_bytes,
                m.data_lost_bytes,
                m.data_lost_bytes >= e.data_lost_min_bytes,
            )
        )
    if e.stale_writes_accepted is not None:
        out.append(
            Check(
                "stale_writes_accepted",
                e.stale_writes_accepted,
                m.stale_writes_accepted,
                m.stale_writes_accepted == e.stale_writes_accepted,
            )
        )
    if e.resynced is not None:
        done = m.resyncs_completed > 0 and all(sum(c.lacking.values()) == 0 for c in sim.copies.values())
        out.append(Check("resynced", e.resynced, done, done == e.resynced))
    if e.final_serving is not None:
        actual = sim.serving_at(sim.metrics.duration_s - 1e-9)
        out.append(
            Check(
                "final_serving",
                sorted(e.final_serving),
                sorted(actual),
                sorted(actual) == sorted(e.final_serving),
            )
        )
    return out  # fmt: skip


def as_json(sim: Simulation, checks: list[Check], plot: Path | None) -> dict[str, Any]:
    m = sim.metrics
    return {
        "scenario": sim.sc.name,
        "seed": sim.seed,
        "policy": sim.cfg.policy.value,
        "duration_s": m.duration_s,
        "availability": round(m.availability, 9),
        "downtime_s": round(m.downtime_s, 6),
        "failovers": m.failovers,
        "split_brain_s": round(m.split_brain_s, 6),
        "data_lost_bytes": round(m.data_lost_bytes, 1),
        "resync_s": round(m.resync_s, 6),
        "resyncs_completed": m.resyncs_completed,
        "disconnections": m.disconnections,
        "stale_writes_rejected": m.stale_writes_rejected,
        "stale_writes_accepted": m.stale_writes_accepted,
        "out_of_sync_peak_bytes": round(m.out_of_sync_peak_bytes, 1),
        "expect": [c.as_dict() for c in checks],
        "plot": str(plot) if plot else None,
        "timeline": [{"t": t, "kind": k, "node": n, "text": x} for t, k, n, x in sim.events],
    }


def summary(sim: Simulation, checks: list[Check]) -> str:
    m = sim.metrics
    rows = [
        ("scenario", sim.sc.name),
        ("policy", sim.cfg.policy.value),
        ("simulated", f"{m.duration_s:g} s"),
        ("availability", f"{100 * m.availability:.4f} %"),
        ("downtime", f"{m.downtime_s:.1f} s"),
        ("failovers", str(m.failovers)),
        ("split-brain", f"{m.split_brain_s:.1f} s"),
        ("data lost", f"{m.data_lost_bytes / MB:.1f} MB"),
        ("resync", f"{m.resync_s:.1f} s ({m.resyncs_completed} completed)"),
        ("user disconnections", str(m.disconnections)),
        ("stale-epoch writes", f"{m.stale_writes_rejected} rejected, {m.stale_writes_accepted} accepted"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"  {k:<{width}}  {v}" for k, v in rows]
    if checks:
        lines.append("expectations:")
        for c in checks:
            mark = "pass" if c.ok else "FAIL"
            lines.append(f"  [{mark}] {c.name}: expected {c.expected}, got {c.actual}")
    return "\n".join(lines)


def timeline_text(sim: Simulation) -> str:
    return "\n".join(f"  t={t:9.3f}s  {k:<9} {n:<2} {x}" for t, k, n, x in sim.events)


COLORS = {
    "mirrored": "#2e7d32", "solo": "#f9a825", "frozen": "#c62828", "fenced": "#6a1b9a",
    "starting": "#90a4ae", "down": "#212121", "up": "#2e7d32", "degraded": "#f9a825",
    "one-way": "#ef6c00", "current": "#2e7d32", "stale": "#c62828", "paused": "#5d4037",
    "stalled": "#ef9a9a",
}  # fmt: skip


def plot_timeline(sim: Simulation, path: Path) -> Path:
    """One lane per site, copy, witness and link; colours show who served and which copy was stale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    order = {"site": 0, "copy": 1, "witness": 2, "link": 3}
    lanes = sorted({sp.lane for sp in sim.spans}, key=lambda ln: (order.get(ln.split()[0], 9), ln))
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(lanes) + 1.6))
    for i, lane in enumerate(lanes):
        for sp in (s for s in sim.spans if s.lane == lane):
            ax.broken_barh(
                [(sp.start, sp.end - sp.start)], (i - 0.35, 0.7), color=COLORS.get(sp.state, "#777")
            )
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()
    ax.set_xlim(0, sim.metrics.duration_s)
    ax.set_xlabel("seconds")
    ax.set_title(f"{sim.sc.name} ({sim.cfg.policy.value})")
    used = sorted({s.state for s in sim.spans})
    ax.legend(handles=[Patch(color=COLORS.get(s, "#777"), label=s) for s in used], loc="upper center",
              bbox_to_anchor=(0.5, -0.25), ncol=min(6, len(used)), fontsize=8)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
