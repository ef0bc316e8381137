"""The timeline plot: what each lane says, downsampling that keeps the worst state, ``--no-plot``."""

from __future__ import annotations

from pathlib import Path

import pytest

from quorum.cli import main
from sim.story.report import COLOURS, COLUMNS, downsample, figure, lanes
from sim.story.runner import Runner
from sim.story.scenario import load_scenario, parse_scenario

SCEN = Path(__file__).parent.parent / "scenarios"


def _lane(r: Runner, label: str) -> dict[str, float]:
    """Seconds spent in each state by one lane (a site's ``role:epoch`` counted under its role)."""
    ln = next(x for x in lanes(r) if x.label == label)
    out: dict[str, float] = {}
    for a, b, key in ln.intervals:
        st = key.split(":")[0]
        out[st] = out.get(st, 0.0) + b - a
    return out


def test_split_brain_is_its_own_state_on_the_service_lane() -> None:
    """both-continue: the service lane shows split-brain for as long as the metrics count it."""
    r = Runner(load_scenario(SCEN / "both-continue.yaml")).run()
    served = _lane(r, "users served")
    assert r.metrics.split_brain_s > 100
    assert served["split"] == pytest.approx(r.metrics.split_brain_s, abs=2 * r.sc.write_interval)
    assert _lane(r, "site A").get("solo", 0) > 100 and _lane(r, "site B").get("solo", 0) > 100


def test_safe_policy_draws_mirrored_then_solo_then_mirrored() -> None:
    """site-crash under witness-preferred: the survivor is drawn solo, the crashed site down, no split."""
    r = Runner(load_scenario(SCEN / "reference.yaml")).run()
    assert "split" not in _lane(r, "users served")
    a, b = _lane(r, "site A"), _lane(r, "site B")
    assert a["down"] == pytest.approx(300, abs=2)
    assert b["solo"] > 250 and b["mirrored"] > 400
    assert _lane(r, "copy A")["stale"] > 250  # A missed B's solo writes until the resync


def test_site_lanes_carry_the_epoch() -> None:
    """heal-after-split: A serves alone at epoch 2, then both are mirrored at the witness's epoch 3."""
    r = Runner(load_scenario(SCEN / "heal-after-split.yaml")).run()
    keys = [k for _, _, k in next(x for x in lanes(r) if x.label == "site A").intervals]
    assert "solo:2" in keys and keys[-1] == "mirrored:3"


def test_a_lost_path_is_degraded_not_down() -> None:
    """one-path-lost: the link lane shows degraded while one of two paths is cut, never down."""
    r = Runner(load_scenario(SCEN / "one-path-lost.yaml")).run()
    ab = _lane(r, "link ab")
    assert ab.get("degraded", 0) > 100 and "down" not in ab


def test_downsample_keeps_a_one_tick_split_visible() -> None:
    """A year of served ticks with one split tick: at most COLUMNS intervals, the split still among them."""
    iv = [(float(i), float(i + 1), "served" if i % 2 else "outage") for i in range(200_000)]
    iv[123_457] = (123_457.0, 123_458.0, "split")
    out = downsample(iv, 0.0, 200_000.0)
    assert len(out) <= COLUMNS
    assert any(st.startswith("split") for _, _, st in out)
    assert all(st.endswith("~") for _, _, st in out)  # every column mixes states: drawn as flicker


def test_downsample_is_exact_when_it_fits() -> None:
    """Few intervals are drawn as they are."""
    iv = [(0.0, 10.0, "served"), (10.0, 10.1, "outage"), (10.1, 50.0, "served")]
    assert downsample(iv, 0.0, 50.0) == iv


def test_long_fine_run_draws_a_bounded_number_of_rectangles() -> None:
    """A link flapping every tick: thousands of lane changes, at most COLUMNS drawn per lane."""
    sc = parse_scenario(
        "name: flap\nwrite_interval: 0.1\nduration: 400\n"
        "faults:\n  - {at: 10, do: flap, link: ab, period: 0.1, count: 1500}\n"
        "  - {at: 360, do: crash, node: A}\n",
        "flap.yaml",
        SCEN,
    )
    r = Runner(sc).run()
    changes = sum(1 for x, y in zip(r.samples, r.samples[1:], strict=False) if x.links != y.links)
    assert changes > 2 * COLUMNS  # more changes than pixels: drawing each would be invisible waste
    ls = lanes(r)
    assert all(len(ln.intervals) <= COLUMNS for ln in ls)
    fig = figure(r)
    drawn = sum(len(c.get_paths()) for ax in fig.axes for c in ax.collections)
    assert drawn <= COLUMNS * len(ls)
    assert "down" in _lane(r, "site A")  # the crash at the end is still drawn exactly


def test_one_meaning_per_colour() -> None:
    """No two states share a colour."""
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_no_plot_skips_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-plot writes no PNG (not even the default out/<name>.png); with --plot it is a usage error."""
    f = str(SCEN / "site-crash.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "run", f, "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "plot written" not in out and "availability" in out
    assert not (tmp_path / "out").exists()
    assert main(["sim", "run", f]) == 0  # the default run does write it
    assert (tmp_path / "out" / "site-crash.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["sim", "run", f, "--no-plot", "--plot", str(tmp_path / "x.png")]) == 2
    assert "--no-plot" in capsys.readouterr().err
