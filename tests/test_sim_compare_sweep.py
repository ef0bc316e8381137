"""`quorum sim compare` and `quorum sim sweep`: designs side by side, grids of variants, clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from quorum.cli import main
from sim.story.scenario import load_scenario
from sim.studies.compare import designs, single_site
from sim.studies.sweep import SweepError, grid, parse_vary

LIB = Path(__file__).parent.parent / "scenarios"
SMALL = ["--max-years", "20", "--precision", "0.5", "--workers", "1"]


def test_designs_are_built_from_the_same_sites() -> None:
    sc = load_scenario(LIB / "patch-calendar.yaml")
    built = designs(sc, ["single-site", "no-witness", "witness"])
    assert [label for label, _ in built][:2] == ["single-site", "no-witness (static-preferred)"]
    assert {d.quorum.policy.value for _, d in built[2:]} == {
        "witness-preferred",
        "witness-race",
        "majority",
        "last-man-standing",
    }
    alone = single_site(sc)
    assert alone.quorum.policy.value == "static-preferred" and alone.quorum.preferred_site.value == "A"
    assert alone.topology.sites["A"].tier == "IV" and alone.topology.sites["B"].tier is None
    assert all(lk.fail is None for lk in alone.topology.links) and alone.maintenance == ()


def test_compare_writes_table_csv_json_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = str(LIB / "tiers-mixed.yaml")
    assert (
        main(["sim", "compare", f, "--designs", "single-site,witness", "--out", str(tmp_path), *SMALL]) == 0
    )
    out = capsys.readouterr().out
    assert "single-site" in out and "witness (majority)" in out and "Tier IV" in out and "SLA" in out
    assert "method:" in out
    res = json.loads((tmp_path / "tiers-mixed-compare.json").read_text())
    rows = {r["design"]: r for r in res["designs"]}
    one, pair = rows["single-site"]["availability"], rows["witness (witness-preferred)"]["availability"]
    for r in res["designs"]:
        a = r["availability"]
        assert a["low"] <= a["mean"] <= a["high"] and a["method"]
    assert pair["mean"] > one["mean"]  # two Tier IV sites and a witness beat one Tier IV site
    with (tmp_path / "tiers-mixed-compare.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 5 and "availability_low" in table[0] and "months_below_sla_per_year_high" in table[0]
    assert (tmp_path / "tiers-mixed-compare.png").stat().st_size > 10_000


def test_compare_unknown_design_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "compare", str(LIB / "tiers-mixed.yaml"), "--designs", "witness,triple"]) == 2
    err = capsys.readouterr().err
    assert "tiers-mixed.yaml" in err and "'triple'" in err and "Traceback" not in err


def test_sweep_2x2_is_tidy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's example grid on the reference design: four rows, each figure with its interval."""
    f = str(LIB / "reference.yaml")
    args = ["sim", "sweep", f, "--vary", "quorum.heartbeat_interval=0.5,1"]
    args += ["--vary", "topology.components.W.fail.mean=1e6,1e7", "--out", str(tmp_path), "--json", *SMALL]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["quorum.heartbeat_interval"], r["topology.components.W.fail.mean"]) for r in rows] == [
        (0.5, 1e6),
        (0.5, 1e7),
        (1, 1e6),
        (1, 1e7),
    ]
    for r in rows:
        assert r["availability_low"] <= r["availability_mean"] <= r["availability_high"]
        assert r["availability_method"] and r["downtime_per_year_s_method"]
    with (tmp_path / "reference-sweep.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 4


@pytest.mark.parametrize(
    ("vary", "needle"),
    [
        ("quorum.heartbeat_intervall=1,2", "unknown field 'heartbeat_intervall' under quorum"),
        ("topology.components.X.fail.mean=1", "unknown field 'X' under topology.components"),
        ("topology.links.zz.paths=2", "no element 'zz' in topology.links"),
        ("quorum.heartbeat_interval=-1", "field 'quorum.heartbeat_interval'"),
        ("topology.sites.A.tier=V", "field 'topology.sites.A.tier'"),
        ("quorum.heartbeat_interval", "expected PATH=V1,V2"),
    ],
)
def test_sweep_bad_path_or_value_names_it(vary: str, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "sweep", str(LIB / "reference.yaml"), "--vary", vary]) == 2
    err = capsys.readouterr().err
    assert "reference.yaml" in err and needle in err and "Traceback" not in err, err
    assert err.count("\n") == 1


def test_grid_checks_every_path_before_running() -> None:
    sc = load_scenario(LIB / "reference.yaml")
    with pytest.raises(SweepError):
        grid(sc, [parse_vary("quorum.heartbeat_interval=1"), parse_vary("quorum.heartbeat_interval=2")])
    points = grid(sc, [parse_vary("topology.links.ab.paths=2,3")])
    assert [p[1].topology.links[0].paths for p in points] == [2, 3]


def test_unwritable_out_is_refused_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    f = str(LIB / "tiers-mixed.yaml")
    assert main(["sim", "compare", f, "--out", str(blocker / "sub"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "Traceback" not in err and err.count("\n") == 1


def test_downtime_by_cause_is_drawn_as_shares_on_a_linear_axis(tmp_path: Path) -> None:
    """compare's second panel: each design's causes as shares adding up to 100 %, on a linear axis (a
    bar on the log axis of the first panel would mean nothing); a design without a split says so."""
    from sim.studies.compare import cause_shares, figure, plot

    fig = {"mean": 3600.0, "low": 1000.0, "high": 5000.0, "method": "m"}
    avail = {"mean": 0.9999, "low": 0.9998, "high": 0.99995, "method": "m"}
    row = {"availability": avail, "downtime_per_year_s": fig, "months_below_sla_per_year": fig}
    res = {
        "scenario": "s",
        "sla": 0.98,
        "tiers": {"I": 0.99671},
        "designs": [
            {**row, "design": "a", "downtime_by_cause_per_year_s": {"infrastructure:A": fig, "resync": fig}},
            {**row, "design": "b"},  # an estimate without the split: said, not a failure
            {**row, "design": "c", "downtime_by_cause_per_year_s": {"resync": {**fig, "mean": 0.0}}},
        ],
    }
    shares = cause_shares(res)
    assert shares[0][1] == {"infrastructure:A": 0.5, "resync": 0.5} and shares[1][1] == shares[2][1] == {}
    plot(res, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000
    bars = figure(res).axes[1]
    assert bars.get_yscale() == "linear" and bars.get_ylim() == (0.0, 100.0)
    tops = [p.get_y() + p.get_height() for p in bars.patches if p.get_x() < 0.5]
    assert max(tops) == pytest.approx(100.0)
    said = {round(t.xy[0]): t.get_text() for t in bars.texts}
    assert said == {1: "no by-cause figures", 2: "no downtime"}
    assert (tmp_path / "c.png").stat().st_size > 0
