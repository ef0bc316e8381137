"""Pictures that tell the truth (issue 25 item 3), each checked on the data behind it: labels that do not
overlap, no bar on a log axis, no interval below zero for a figure that cannot be negative, the
split-brain band where the checker measured it, and compare's Tier column named for what it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.story.report import COLOURS, figure
from sim.story.runner import Runner
from sim.story.scenario import load_scenario
from sim.studies.compare import figure as compare_figure
from sim.studies.compare import text as compare_text
from sim.studies.figures import audit, availability_nines, bars_on_log_axes, overlapping_texts
from sim.years.tiers import TIERS

ROOT = Path(__file__).resolve().parent.parent
TIER_AV = {t.name: t.availability for t in TIERS.values()}


def _fig(mean: float, low: float | None, high: float | None) -> dict[str, Any]:
    return {"mean": mean, "low": low, "high": high, "method": "m"}


def _design(name: str, a: float, lo: float, hi: float) -> dict[str, Any]:
    down = _fig((1 - a) * 31557600, (1 - hi) * 31557600, (1 - lo) * 31557600)
    return {
        "design": name,
        "policy": "witness-preferred",
        "availability": _fig(a, lo, hi),
        "downtime_per_year_s": down,
        "months_below_sla_per_year": _fig(0.01, 0.0, 0.02),
        "meets_sla": True,
        "tier_met_by_availability": "III",
        "engine": "e",
        "downtime_by_cause_per_year_s": {"corruption": down},
    }


# the designs of the README's reference-as-run comparison, and one whose interval reaches 100 %
RESULT = {
    "scenario": "reference-as-run",
    "sla": 0.98,
    "tiers": TIER_AV,
    "designs": [
        _design("single-site", 0.999827, 0.999811, 0.999844),
        _design("no-witness (static-preferred)", 0.993807, 0.993579, 0.994034),
        _design("witness (witness-preferred)", 0.999851, 0.999837, 0.999866),
        _design("witness (last-man-standing)", 0.999863, 0.999850, 1.0),
    ],
}


def test_the_audit_sees_a_bar_on_a_log_axis() -> None:
    """The checker itself: a barh on a log x axis is named, the same bars on a linear axis are not."""
    fig = Figure()
    ax = fig.add_subplot()
    ax.barh([0, 1], [10.0, 1000.0])
    assert bars_on_log_axes(fig) == []
    ax.set_xscale("log")
    assert len(bars_on_log_axes(fig)) == 1 and audit(fig)


def test_the_audit_sees_overlapping_labels_and_negative_intervals() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "Tier I 99.671%")
    ax.text(0.51, 0.5, "Tier II 99.741%")
    ax.errorbar([1.0], [0.0], xerr=[[2.0], [1.0]], fmt="o")
    assert overlapping_texts(fig) == [("Tier I 99.671%", "Tier II 99.741%")]
    problems = audit(fig, nonnegative=True)
    assert any("overlap" in p for p in problems) and any("< 0" in p for p in problems)


@pytest.mark.parametrize("rows", [1, 4, 12])
def test_nines_labels_do_not_collide(rows: int) -> None:
    """The availability chart: the Tier I and II lines are 0.11 nines apart, the SLA's and Tier I's 0.8;
    their labels sit in a header row, spread apart, whatever the number of designs; no bar anywhere."""
    designs = (RESULT["designs"] * 3)[:rows]
    # long design names (the notebook's) narrow the axes: the labels' room is measured after the layout
    data = [
        {"label": f"two Tier IV sites, {d['design']} (with its corruption and backups) #{i}", **d}
        for i, d in enumerate(designs)
    ]
    fig = availability_nines(data, TIER_AV, 0.98)
    assert audit(fig, nonnegative=True) == []
    header = [t for t in fig.axes[0].texts if t.get_text().startswith(("Tier", "SLA"))]
    assert len(header) == 5


def test_compare_figure_has_no_bar_on_a_log_axis_and_no_collision() -> None:
    fig = compare_figure(RESULT)
    assert audit(fig) == []
    nines_axis, shares_axis = fig.axes[:2]
    assert shares_axis.containers and shares_axis.get_yscale() == "linear"
    assert not any(c for c in nines_axis.containers if type(c).__name__ == "BarContainer")


def test_compare_names_the_tier_column_for_what_it_is(tmp_path: Path) -> None:
    """A design of two Tier IV sites meeting Tier III's figure: the column says it is the Tier the achieved
    availability meets (table, JSON), not a Tier the design is."""
    out = compare_text(RESULT)
    head = out.splitlines()[0]
    assert head.rstrip().endswith("Tier met by availability")
    assert "Tier met by availability: the highest Uptime Tier figure" in out
    row = json.loads(json.dumps(RESULT["designs"][0]))
    assert "tier_met_by_availability" in row and "at_least_tier" not in row
    src = (ROOT / "sim" / "studies" / "compare.py").read_text(encoding="utf-8")
    assert "at_least_tier" not in src


def test_compare_json_has_tier_met_by_availability() -> None:
    """compare() itself writes the renamed field (a small real run)."""
    from sim.studies.compare import compare

    sc = load_scenario(ROOT / "scenarios" / "tiers-mixed.yaml")
    res = compare(sc, ["single-site"], precision=0.5, max_years=20, seed=0)
    row = res["designs"][0]
    assert "tier_met_by_availability" in row and "at_least_tier" not in row


def test_split_brain_band_is_where_the_checker_measured_it() -> None:
    """clock-drift-beyond-bound: the drift lets A's lease outlive the witness's grant to B; the S1
    overlap starts at B's promotion (31.136 s) and lasts 0.531 s. The band was drawn from the 1 s
    sampling ticks, from 32 s: about a second late. Now it starts and ends where the overlap does."""
    r = Runner(load_scenario(ROOT / "scenarios" / "clock-drift-beyond-bound.yaml"), 0).run()
    (start, end), *_ = r.checker.overlaps
    promoted = next(e.t for e in r.timeline if e.kind == "role" and e.node == "B" and "-> solo" in e.text)
    assert start == pytest.approx(promoted)
    fig = figure(r)
    split = to_hex(COLOURS["split"])
    bands = [
        p
        for p in fig.axes[0].patches
        if isinstance(p, Rectangle) and to_hex(p.get_facecolor()[:3]) == split and p.get_alpha() == 0.25
    ]
    assert len(bands) == 1
    assert bands[0].get_x() == pytest.approx(start, abs=1e-9)
    assert bands[0].get_x() + bands[0].get_width() == pytest.approx(end, abs=1e-9)
    assert end - start == pytest.approx(r.metrics.split_brain_s, abs=1e-6)
