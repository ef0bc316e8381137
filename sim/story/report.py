"""Outcomes of a run: expectations checked, the JSON object, the summary text and the timeline plot."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.story.runner import Runner, Sample

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def check_expect(r: Runner) -> list[dict[str, Any]]:
    """Every expectation of the scenario with its actual value and pass/fail."""
    e = r.sc.expect
    m = r.metrics
    out: list[dict[str, Any]] = []

    def add(name: str, expected: Any, actual: Any, ok: bool) -> None:
        out.append({"name": name, "expected": expected, "actual": actual, "pass": bool(ok)})

    for want, got in r.checks:
        add(f"serving@{want.at:g}", want.expected(), list(got), want.holds(got))
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
        "solo_entries": m.solo_entries,
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
        "violations": [v.as_dict() for v in r.violations],
        "availability_loss": r.checker.availability_loss,
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
        ("failovers", f"{m.failovers} (changes of the serving site; {m.solo_entries} entries into solo)"),
        ("split-brain", f"{m.split_brain_s * 1000:.0f} ms (overlap of solo-authority intervals)"),
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
    lines.append("properties (S1-S3, L1 of quorum.testing):" + ("" if r.violations else " all hold"))
    lines += [f"  {v.property} at {v.at:.3f}s: {v.detail}" for v in r.violations]
    exp = check_expect(r)
    if exp:
        lines.append("expectations:")
        lines += [
            f"  {'PASS' if x['pass'] else 'FAIL'}  {x['name']}: expected {x['expected']}, got {x['actual']}"
            for x in exp
        ]
    return "\n".join(lines)


# ---- the timeline plot ------------------------------------------------------------------------------
# One meaning per colour. Light grey is "nothing to report" (witness or link up, copy current).
COLOURS: dict[str, str] = {
    "served": "#2ca02c",  # users are served (some site acknowledges writes)
    "outage": "#d62728",  # users are not served
    "split": "#e7298a",  # split-brain: both sites acknowledge writes and at least one serves alone
    "mirrored": "#1f77b4",  # serving, every write on both copies
    "solo": "#ff7f0e",  # serving alone under a solo epoch
    "frozen": "#9edae5",  # I/O frozen (reads too): the mirror is lost, a decision is pending
    "fenced": "#7f7f7f",  # not serving: lost arbitration, stale, or stepped down
    "starting": "#ffffff",  # just restarted, learning the situation
    "down": "#000000",  # crashed (site, witness) or every path of a link cut
    "up": "#d9d9d9",  # up: nothing to report
    "degraded": "#9467bd",  # link up on fewer paths than it has, or one direction cut
    "stale": "#8c564b",  # this copy misses acknowledged writes
}
EDGE = {"starting": "#555555", "up": "#aaaaaa", "frozen": "#2b8c99", "split": "#8b0f4f"}
HATCH = {"frozen": "////", "starting": "..", "split": "xx", "degraded": "", "stale": ""}
LABELS = {
    "served": "users served",
    "outage": "users not served",
    "split": "SPLIT-BRAIN (both sites write, mirror broken)",
    "mirrored": "mirrored (serving, both copies)",
    "solo": "solo (serving alone)",
    "frozen": "frozen (I/O stopped, awaiting decision)",
    "fenced": "fenced (not serving)",
    "starting": "starting (just restarted)",
    "down": "down (crashed / link cut)",
    "up": "up / copy current",
    "degraded": "link degraded (a path lost, or one way)",
    "stale": "copy stale (misses writes)",
}
# Severity: when one pixel column holds several states, the most severe is drawn.
SEVERITY = {
    s: i
    for i, s in enumerate(
        (
            "up",
            "served",
            "mirrored",
            "starting",
            "fenced",
            "solo",
            "degraded",
            "stale",
            "frozen",
            "outage",
            "down",
            "split",
        )
    )
}
COLUMNS = 1200  # pixel columns of the time axis at the default size: finer detail cannot be seen


@dataclass(frozen=True, slots=True)
class Lane:
    """One horizontal lane: its label, position, height and intervals ``(start, end, state)``."""

    label: str
    y: float
    height: float
    intervals: tuple[tuple[float, float, str], ...]


def _runs(
    samples: Sequence[Sample], dt: float, key: Callable[[Sample], str]
) -> list[tuple[float, float, str]]:
    """Run-length intervals of ``key``: the state a tick records holds from that tick to the next."""
    out: list[tuple[float, float, str]] = []
    if not samples:
        return out
    start = max(0.0, samples[0].t - dt)
    cur = key(samples[0])
    for s in samples:
        k = key(s)
        if k != cur:
            out.append((start, s.t, cur))
            cur = k
            start = s.t
    out.append((start, samples[-1].t, cur))
    return out


def downsample(
    intervals: list[tuple[float, float, str]], t0: float, t1: float, columns: int = COLUMNS
) -> list[tuple[float, float, str]]:
    """At most ``columns`` intervals, exact when the intervals already fit.

    Otherwise each column of width ``(t1 - t0) / columns`` (a pixel at the default size) shows the most
    severe state it holds, so a one-tick split-brain or outage stays visible in a year-long run; a column
    that holds several states gets that state with a ``~`` suffix (drawn pale and striped: it flickers
    faster than the eye can see at this scale)."""
    if len(intervals) <= columns or t1 <= t0:
        return intervals
    w = (t1 - t0) / columns
    best: list[str | None] = [None] * columns
    mixed = [False] * columns
    for a, b, st in intervals:
        c0 = min(columns - 1, max(0, int((a - t0) / w)))
        c1 = min(columns - 1, max(c0, int((b - t0) / w - 1e-9)))
        sev = SEVERITY[_base(st)]
        for c in range(c0, c1 + 1):
            cur = best[c]
            if cur is None:
                best[c] = st
            elif cur != st:
                mixed[c] = True
                if SEVERITY[_base(cur)] < sev:
                    best[c] = st
    out: list[tuple[float, float, str]] = []
    for c, top in enumerate(best):
        if top is None:
            continue
        key = top + "~" if mixed[c] else top
        a = t0 + c * w
        if out and out[-1][2] == key and abs(out[-1][1] - a) < w * 1e-6:
            out[-1] = (out[-1][0], a + w, key)
        else:
            out.append((a, a + w, key))
    return out


def _role(s: Sample, i: int) -> str:
    """``role:epoch`` of site ``i`` (the lane's colour is the role's, its label adds the epoch)."""
    role = s.roles[i] if s.roles else ("down" if "AB"[i] not in s.up else "mirrored")
    if role in ("down", "starting") or not s.epochs:
        return role
    return f"{role}:{s.epochs[i]}"


def _base(state: str) -> str:
    """The colour key of a lane state: ``solo:3~`` -> ``solo``."""
    return state.rstrip("~").split(":")[0]


def lanes(r: Runner, columns: int = COLUMNS) -> list[Lane]:
    """The plot's lanes, each downsampled to at most ``columns`` intervals."""
    dt = r.sc.write_interval
    sm = r.samples
    t0, t1 = 0.0, (sm[-1].t if sm else r.sc.duration)

    def lane(label: str, y: float, h: float, key: Callable[[Sample], str]) -> Lane:
        return Lane(label, y, h, tuple(downsample(_runs(sm, dt, key), t0, t1, columns)))

    out = [
        lane(
            "users served",
            0.0,
            0.8,
            lambda s: "split" if s.split else ("served" if s.serving else "outage"),
        )
    ]
    y = 1.2
    for i, n in enumerate("AB"):
        out.append(lane(f"site {n}", y, 0.8, lambda s, i=i: _role(s, i)))  # type: ignore[misc]
        out.append(lane(f"copy {n}", y + 0.65, 0.3, lambda s, n=n: "stale" if n in s.stale else "up"))  # type: ignore[misc]
        y += 1.25
    out.append(lane("witness", y, 0.8, lambda s: "up" if "W" in s.up else "down"))
    y += 1.0
    for k in r.links:
        out.append(
            lane(
                f"link {k}",
                y,
                0.6,
                lambda s, k=k: "down" if k not in s.links else ("degraded" if k in s.degraded else "up"),  # type: ignore[misc]
            )
        )
        y += 0.8
    return out


_NONE = re.compile(r"\s\w+=None")


def _fault_label(text: str) -> str:
    t = _NONE.sub("", text)
    t = re.sub(r"\b(link|node|site|to)=", "", t)
    t = re.sub(r"=(\d+)\.0\b", r"=\1", t)
    return t.replace("path=", "path ").strip()


_EPOCH = re.compile(r"epoch (\d+) (\w+) holder (\w+)")


def _decision_label(text: str) -> str:
    m = _EPOCH.match(text)
    if m is None:
        return text.split(":")[0]
    epoch, mode, holder = m.groups()
    return f"e{epoch} {holder} alone" if mode == "solo" else f"e{epoch} mirrored"


def _stagger(xs: list[float], widths: list[float], rows: int = 3) -> list[int]:
    """A row for each label (starting at ``x``, ``width`` wide) so that labels do not overlap."""
    end = [-float("inf")] * rows
    out = []
    for x, w in zip(xs, widths, strict=True):
        row = next((i for i in range(rows) if x >= end[i]), min(range(rows), key=lambda i: end[i]))
        end[row] = x + w
        out.append(row)
    return out


def _groups(events: list[tuple[float, str]], char_w: float) -> list[tuple[float, str]]:
    """Labels that would overlap on one line are joined: ``(t, "e2 B alone, e3 mirrored")``."""
    out: list[tuple[float, str]] = []
    for t, text in events:
        if out and t < out[-1][0] + (len(out[-1][1]) + 2) * char_w:
            out[-1] = (out[-1][0], f"{out[-1][1]}, {text}")
        else:
            out.append((t, text))
    return out


def split_spans(r: Runner, t1: float) -> list[tuple[float, float]]:
    """The split-brain intervals as the checker measured them, in true time: each overlap of two solo
    write authorities ``(start, end)``, an overlap still open at the end of the run cut at ``t1``."""
    ck = r.checker
    spans = list(ck.overlaps)
    if ck._overlap is not None:  # still open: the closed overlaps all end before it starts
        start = ck._overlap[0]
        spans.append((start, start + ck.split_brain_s(start, t1)))
    return [(a, min(b, t1)) for a, b in spans if a < t1]


def figure(r: Runner, *, columns: int = COLUMNS, max_labels: int = 40) -> Figure:
    """The timeline of a run as a matplotlib figure (notebooks show it, ``plot`` saves it).

    Lanes: users served, each site's role and its copy, the witness, each link. Split-brain is a magenta
    band across the service and site lanes; faults are dotted lines labelled on top; the witness's
    decisions (epoch and holder) are diamonds on the witness lane; role segments carry their epoch."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    ls = lanes(r, columns)
    m = r.metrics
    t1 = r.samples[-1].t if r.samples else r.sc.duration
    bottom = ls[-1].y + ls[-1].height
    lanes_h = 0.42 * (bottom + 0.5)
    height = lanes_h + 0.75 + 0.5 + 0.85  # lanes, fault labels and title on top, axis and legend below
    fig = Figure(figsize=(12, height))
    ax = fig.add_axes((0.1, 1.35 / height, 0.88, lanes_h / height))
    ax.set_xlim(0, t1)
    ax.set_ylim(bottom + 0.2, -0.3)
    # lanes
    for ln in ls:
        by: dict[str, list[tuple[float, float]]] = {}
        for a, b, st in ln.intervals:
            by.setdefault(st, []).append((a, b - a))
        for key, xr in by.items():
            st = _base(key)
            flicker = key.endswith("~")
            ax.broken_barh(
                xr,
                (ln.y, ln.height),
                facecolor=COLOURS[st],
                edgecolor=EDGE.get(st, COLOURS[st]),
                linewidth=0.3,
                hatch="||||" if flicker else HATCH.get(st, ""),
                alpha=0.45 if flicker else 1.0,
            )
    # split-brain: across the service and site lanes, with its duration written on it; drawn where the
    # checker measured it (true time), not at the sampling ticks that saw it (up to a tick late)
    split = split_spans(r, t1) or [(a, b) for a, b, st in ls[0].intervals if st.startswith("split")]
    sites_bottom = ls[4].y + ls[4].height
    for a, b in split:
        ax.add_patch(
            _rect(a, -0.15, max(b - a, t1 / columns), sites_bottom + 0.15, COLOURS["split"], alpha=0.25)
        )
    if split:
        a = split[0][0]
        ax.text(
            a + t1 * 0.005,
            0.4,
            f"SPLIT-BRAIN {m.split_brain_s:g} s",
            color="white",
            fontsize=10,
            fontweight="bold",
            va="center",
            bbox={"facecolor": COLOURS["split"], "edgecolor": "none", "pad": 1.5},
        )
    # role segments carry their epoch (from the role changes of the timeline)
    _role_epochs(ax, ls, t1)
    # faults: dotted lines with labels on top
    faults = [e for e in r.timeline if e.kind == "fault"]
    shown = faults if len(faults) <= max_labels else []
    for e in faults:
        ax.axvline(e.t, color="#333333", linestyle=":", linewidth=0.8)
    char_w = t1 * 6.7 / (0.88 * 1200)  # data width of one character at fontsize 8 (100 dpi, 12 in wide)
    labels = [f"⚡ {_fault_label(e.text)}" for e in shown]
    rows = _stagger([e.t for e in shown], [(len(x) + 1) * char_w for x in labels])
    for e, label, row in zip(shown, labels, rows, strict=True):
        ax.annotate(
            label,
            xy=(e.t, 1),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3 + 11 * row),
            textcoords="offset points",
            fontsize=8,
            color="#333333",
            ha="left",
            va="bottom",
        )
    if faults and not shown:
        ax.text(0.0, 1.02, f"{len(faults)} faults (dotted lines)", transform=ax.transAxes, fontsize=8)
    # the witness's decisions
    wl = next(ln for ln in ls if ln.label == "witness")
    dec = [e for e in r.timeline if e.kind == "decision"]
    ax.plot(
        [e.t for e in dec],
        [wl.y + wl.height / 2] * len(dec),
        linestyle="none",
        marker="D",
        markersize=7,
        markerfacecolor="#ffd92f",
        markeredgecolor="black",
    )
    if len(dec) <= max_labels:
        groups = _groups([(e.t, _decision_label(e.text)) for e in dec], char_w)
        rows = _stagger([t for t, _ in groups], [(len(x) + 2) * char_w for _, x in groups], rows=2)
        for (t, text), row in zip(groups, rows, strict=True):
            ax.annotate(
                text,
                xy=(t, wl.y + wl.height / 2),
                xytext=(4, -9 - 9 * row),
                textcoords="offset points",
                fontsize=7.5,
                ha="left",
                va="bottom",
            )
    ax.set_yticks([ln.y + ln.height / 2 for ln in ls], [ln.label for ln in ls])
    for lbl in ax.get_yticklabels():
        if lbl.get_text() in ("users served", "site A", "site B", "witness"):
            lbl.set_fontweight("bold")
    ax.set_xlabel("simulated seconds")
    ax.grid(axis="x", color="#eeeeee", linewidth=0.5)
    ax.set_axisbelow(True)
    sb = f"split-brain {m.split_brain_s:g} s" if m.split_brain_s else "no split-brain"
    fig.suptitle(
        f"{r.sc.name} · policy {r.cfg.policy.value} · downtime {m.downtime_s:g} s · {sb} · "
        f"data lost {_bytes(m.data_lost_bytes)} · failovers {m.failovers}",
        x=0.01,
        y=1 - 0.08 / height,
        va="top",
        ha="left",
        fontsize=11,
        fontweight="bold",
        color=COLOURS["split"] if m.split_brain_s else "black",
    )
    order = [
        "served", "outage", "split", "mirrored", "solo", "frozen", "fenced", "starting", "down", "up",
        "degraded", "stale",
    ]  # fmt: skip
    handles = [
        Patch(
            facecolor=COLOURS[k],
            edgecolor="#555555",
            hatch=HATCH.get(k, ""),
            label=LABELS[k],
        )
        for k in order
    ]
    handles.append(
        _marker_handle("D", "#ffd92f", "witness decision (epoch, holder)"),
    )
    handles.append(_line_handle("fault injected (label on top)"))
    if any(st.endswith("~") for ln in ls for _, _, st in ln.intervals):
        handles.append(
            Patch(
                facecolor="#bbbbbb",
                alpha=0.45,
                hatch="||||",
                edgecolor="#555555",
                label="pale, striped: flickers within a pixel",
            )
        )
    fig.legend(
        handles=handles, loc="lower left", bbox_to_anchor=(0.005, 0.0), ncol=4, fontsize=8, frameon=False
    )
    return fig


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _rect(x: float, y: float, w: float, h: float, colour: str, alpha: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, alpha=alpha, edgecolor=colour, linewidth=1.5)


def _marker_handle(marker: str, colour: str, label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D(
        [], [], linestyle="none", marker=marker, markerfacecolor=colour, markeredgecolor="black", label=label
    )


def _line_handle(label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color="#333333", linestyle=":", label=label)


def _role_epochs(ax: Any, ls: list[Lane], t1: float) -> None:
    """Write "solo e3" inside each site's role segments wide enough to hold it."""
    for ln in ls:
        if not ln.label.startswith("site "):
            continue
        for a, b, key in ln.intervals:
            st = _base(key)
            if b - a < t1 * 0.07 or ":" not in key or key.endswith("~"):
                continue
            ax.text(
                (a + b) / 2,
                ln.y + ln.height / 2,
                f"{st} e{key.split(':')[1]}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if st in ("mirrored", "fenced", "solo") else "black",
            )


def plot(r: Runner, path: Path, *, columns: int = COLUMNS) -> None:
    """Save the timeline (``figure``) as a PNG."""
    fig = figure(r, columns=columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
