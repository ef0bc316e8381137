"""Figures the notebooks and the CLI draw, and the checks every one of them passes.

A picture must not say something its figures do not. :func:`audit` names what would: a bar on a log axis
(its length then means nothing: a bar starts at an arbitrary floor), two labels drawn over each other, an
error bar reaching below zero for a figure that cannot be negative (``nonnegative=True``). The notebooks'
``show`` refuses a figure with a problem, so ``make test`` (which runs every notebook) checks every
picture; the tests check each drawing function on the data behind it.

:func:`availability_nines` is the notebook's availability chart on a "nines" axis (``-log10(1 - A)``):
one row per design, its point with the 95 % interval, a dotted line per Tier figure and the SLA in red,
each reference line labelled once, in a header row of its own where the labels cannot meet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox


def _renderer(fig: Figure) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    return canvas.get_renderer()  # type: ignore[no-untyped-call]


def text_boxes(fig: Figure) -> list[tuple[str, Bbox]]:
    """Every visible, non-empty text drawn inside the axes of ``fig`` (labels, annotations) with its box in
    display coordinates, after a draw (tick labels and titles are placed by matplotlib and left out)."""
    renderer = _renderer(fig)
    out = []
    for ax in fig.axes:
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip():
                out.append((t.get_text(), t.get_window_extent(renderer)))
    return out


def overlapping_texts(fig: Figure, pad: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of texts of ``fig`` whose boxes overlap (each grown by ``pad`` pixels)."""
    boxes = text_boxes(fig)
    pairs = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1 :]:
            if ba.x0 - pad < bb.x1 and bb.x0 - pad < ba.x1 and ba.y0 - pad < bb.y1 and bb.y0 - pad < ba.y1:
                pairs.append((a, b))
    return pairs


def bars_on_log_axes(fig: Figure) -> list[str]:
    """Axes of ``fig`` that draw a bar (``bar``, ``barh``) along a log-scaled value axis."""
    from matplotlib.container import BarContainer

    found = []
    for ax in fig.axes:
        for c in ax.containers:
            if not isinstance(c, BarContainer):
                continue
            value_scale = ax.get_xscale() if c.orientation == "horizontal" else ax.get_yscale()
            if value_scale != "linear":
                found.append(ax.get_title() or ax.get_xlabel() or ax.get_ylabel() or "an axis")
    return found


def negative_error_bars(ax: Axes) -> list[float]:
    """Low ends of the error bars of ``ax`` (along x for horizontal bars, y for vertical) below zero."""
    from matplotlib.container import ErrorbarContainer

    lows = []
    for c in ax.containers:
        if not isinstance(c, ErrorbarContainer):
            continue
        _, _, bar_lines = c.lines
        for coll in bar_lines:
            for seg in coll.get_segments():
                xs, ys = seg[:, 0], seg[:, 1]
                along = xs if ys[0] == ys[-1] else ys  # a horizontal segment spans x
                lows.append(float(min(along)))
    return [v for v in lows if v < 0]


def audit(fig: Figure, *, nonnegative: bool = False) -> list[str]:
    """What ``fig`` says that its figures do not: bars on a log axis, texts over each other, and (with
    ``nonnegative``: every figure drawn is a duration, a count, a share) error bars below zero."""
    problems = [f"a bar on a log axis ({where})" for where in bars_on_log_axes(fig)]
    problems += [f"labels overlap: {a!r} and {b!r}" for a, b in overlapping_texts(fig)]
    if nonnegative:
        for ax in fig.axes:
            problems += [f"an interval reaches {v:g} < 0" for v in negative_error_bars(ax)]
    return problems


def nines(a: float) -> float:
    """``-log10(1 - a)``: 2 is 99 %, 3 is 99.9 % (a = 1 is drawn at 12 nines)."""
    return -math.log10(max(1.0 - a, 1e-12))


def _spread(xs: list[float], width: float, lo: float, hi: float) -> list[float]:
    """Positions near ``xs`` (sorted ascending) at least ``width`` apart, inside ``[lo, hi]`` where room."""
    out: list[float] = []
    for x in xs:
        out.append(max(x, out[-1] + width) if out else max(x, lo))
    over = out[-1] - hi if out else 0.0
    if over > 0:  # pushed past the right edge: shift the crowded tail back
        out = [v - over for v in out]
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - width)
    return out


def availability_nines(
    rows: Sequence[Mapping[str, Any]],
    tiers: Mapping[str, float],
    sla: float,
    *,
    colours: Mapping[str, str] | None = None,
    top: float = 5.0,
    title: str = "Availability with 95 % confidence intervals, against the Tier figures and the SLA",
) -> Figure:
    """Availability of each row on a nines axis. ``rows``: ``label``, ``availability`` (``mean``, ``low``,
    ``high``; a missing end is drawn to the edge) and optionally ``kind`` (a key of ``colours``).
    ``tiers``: Tier name to availability; ``sla``: the red line. Each reference line is labelled once, in a
    header row above the designs, the labels spread apart so that none meets another (the Tier I and II
    figures are 0.1 nines apart); each design's mean is written right of its interval."""
    from matplotlib.figure import Figure

    colours = dict(colours or {})
    n = len(rows)
    fig = Figure(figsize=(10, 0.42 * n + 2.6))
    ax = fig.add_subplot()
    left = min(1.5, math.floor(2 * nines(sla)) / 2 - 0.2)
    for i, r in enumerate(rows):
        a = r["availability"]
        colour = colours.get(str(r.get("kind", "")), "C0")
        m = min(nines(a["mean"]), top)
        lo = min(nines(a["low"]) if a["low"] is not None else left, top)
        hi = min(nines(a["high"]) if a["high"] is not None else top, top)
        ax.errorbar(m, i, xerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=4)
        if hi >= top:
            ax.annotate(
                "", xy=(top, i), xytext=(top - 0.25, i), arrowprops={"arrowstyle": "->", "color": colour}
            )
        ax.text(min(hi, top - 0.45) + 0.06, i, f"{a['mean']:.3%}", va="center", fontsize=7.5, color=colour)
    # the reference lines, each labelled in the header (y = -1): their labels, in display order, are
    # spread at least a label's width apart (measured, not guessed)
    refs = sorted(
        [(nines(av), f"Tier {name}\n{av:.3%}", "#555555") for name, av in tiers.items()]
        + [(nines(sla), f"SLA\n{sla:.0%}", "#d62728")]
    )
    for x, _, colour in refs:
        ax.axvline(x, color=colour, linestyle="-" if colour != "#555555" else ":", linewidth=1.2)
    ax.set_xlim(left, top + 0.1)
    ax.set_ylim(n - 0.4, -1.7)
    labels = [
        ax.text(x, -1.1, label, fontsize=7.5, ha="center", va="center", color=c) for x, label, c in refs
    ]
    ax.set_yticks(range(n), [str(r["label"]) for r in rows], fontsize=8)
    ax.set_xlabel("nines of availability, -log10(1 - A)   (2 = 99 %, 3 = 99.9 %, 4 = 99.99 %)")
    ax.set_title(title)
    fig.tight_layout()  # the axes' final width first (long design names narrow it), then the labels' room
    renderer = _renderer(fig)
    to_data = ax.transData.inverted()
    widths = []
    for t in labels:
        bb = t.get_window_extent(renderer)
        (x0, _), (x1, _) = to_data.transform([(bb.x0, bb.y0), (bb.x1, bb.y0)])
        widths.append(x1 - x0)
    width = max(widths) * 1.08
    spread = _spread([x for x, _, _ in refs], width, left + width / 2, top + 0.1 - width / 2)
    for t, x in zip(labels, spread, strict=True):
        t.set_x(x)
    return fig
