"""The availability engine: coverage against exact answers, the stopping rule, executors, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from quorum.cli import main
from quorum.core.config import Consistency, QuorumConfig
from sim.availability.ctmc import exact
from sim.availability.estimate import estimate
from sim.availability.executors import LocalExecutor
from sim.story import scenario as S
from sim.years.engine import Years

ROOT = Path(__file__).parent.parent
QUORUM = [str(Path(sys.executable).parent / "quorum")]


def _two_units(crews: int = 2) -> S.Scenario:
    """Two sites, mean 1e6 s up and 1e5 s down, the witness never fails: detection (3-4 s per failure)
    is negligible beside the ~8e-3 unavailability of the structure."""
    laws = S.ComponentLaws(
        fail=S.Law(kind="exponential", mean=1e6), repair=S.Law(kind="exponential", mean=1e5)
    )
    return S.Scenario(
        name="two-units",
        quorum=QuorumConfig(consistency=Consistency.BOUNDED_LOSS),
        topology=S.Topology(components={"A": laws, "B": laws}),
        crews=crews,
        monitoring_interval=1,
    )


def _small(sc: S.Scenario, seed: int, estimator: str, ex: LocalExecutor, years: int = 10) -> Any:
    """A fixed-size run: ``years`` one-year replications (no precision stop)."""
    return estimate(
        sc,
        seed=seed,
        executor=ex,
        estimator=estimator,
        max_years=years,
        min_replications=years,
        precision=1e-9,
    )


def test_plain_intervals_cover_the_exact_value_and_catch_a_wrong_model() -> None:
    """20 seeds, 95 % plain intervals: at least 17 contain the exact unavailability; the exact value of a
    wrong model (one crew where the file says two) is contained in at most 3 (the test catches it)."""
    sc = _two_units(crews=2)
    right = exact(sc).unavailability
    wrong = exact(sc.model_copy(update={"crews": 1})).unavailability
    hits = caught = 0
    with LocalExecutor(1) as ex:
        for seed in range(20):
            u = _small(sc, seed, "plain", ex).figures["unavailability"]
            hits += u.low <= right <= u.high
            caught += not (u.low <= wrong <= u.high)
    assert hits >= 17
    assert caught >= 17


def test_control_variate_intervals_cover_the_quorum_unavailability() -> None:
    """The control-variate estimator targets the quorum's steady-state unavailability: the exact structural
    one plus the detection seconds of each episode (deterministic here: the first failure of an episode
    costs p_A or p_B seconds, measured by replaying it). 20 seeds: at least 17 intervals contain it,
    each ~1,000 times narrower than the plain one; the plain intervals contain it too."""
    sc = _two_units(crews=2)
    e = exact(sc)
    lam = 1 / 1e6
    p = sum(Years(sc, 1.0).replay([(frozenset({s}), 1e5)]).downtime_s for s in "AB")
    rho = (1e5 + 0.5) / 1e6  # repair plus the mean monitoring delay
    all_up = (1 / (1 + rho)) ** 2
    target = e.unavailability + lam * p * all_up  # each site starts an episode at rate lam while all up
    hits = plain_hits = 0
    widths = []
    with LocalExecutor(1) as ex:
        for seed in range(20):
            cv = _small(sc, seed, "control", ex)
            u = cv.figures["unavailability"]
            hits += u.low <= target <= u.high
            pl = _small(sc, seed, "plain", ex).figures["unavailability"]
            plain_hits += pl.low <= target <= pl.high
            widths.append((pl.high - pl.low) / (u.high - u.low))
            assert cv.variance_reduction_factor is not None and cv.variance_reduction_factor > 1e4
    assert hits >= 17 and plain_hits >= 17
    assert np.median(widths) > 300


def test_intervals_shrink_like_one_over_sqrt_of_simulated_time() -> None:
    """Four times the simulated years halve the plain interval (median over 30 seeds, within 1.6-2.6: the
    ratio of two interval widths from 8 and 32 replications spreads from about 1.1 to 4.7, so six seeds
    were not enough to say anything)."""
    sc = _two_units()
    ratios = []
    with LocalExecutor(1) as ex:
        for seed in range(30):
            short = _small(sc, seed, "plain", ex, years=8).figures["unavailability"]
            long = _small(sc, 100 + seed, "plain", ex, years=32).figures["unavailability"]
            ratios.append((short.high - short.low) / (long.high - long.low))
    assert 1.6 < float(np.median(ratios)) < 2.6


def test_stops_at_the_precision_and_reports_max_years() -> None:
    sc = _two_units()
    with LocalExecutor(1) as ex:
        r = estimate(sc, precision=0.3, estimator="plain", executor=ex, seed=3)
        u = r.figures["unavailability"]
        assert r.precision_reached and (u.high - u.mean) / u.mean <= 0.3
        capped = estimate(sc, precision=0.001, estimator="plain", executor=ex, max_years=25)
    assert not capped.precision_reached and capped.simulated_years <= 25
    assert any("not reached" in n for n in capped.notes)


def test_local_processes_give_the_same_figures_as_one_worker() -> None:
    """Aggregation in replication order: two processes and one give identical figures, to the digit."""
    sc = _two_units()
    with LocalExecutor(1) as one, LocalExecutor(2) as two:
        a = estimate(sc, precision=0.2, executor=one, seed=7).to_dict()
        b = estimate(sc, precision=0.2, executor=two, seed=7).to_dict()
    a.pop("run"), b.pop("run")
    assert a == b


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUORUM, "sim", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_reference_json_has_every_key() -> None:
    """`quorum sim availability scenarios/reference.yaml --estimator plain --json` (capped at 1,000 years
    here): interval around the estimate, every key with mean, interval and method; no split-brain. (With
    the default `auto` the reference design goes to the importance estimator: its overlaps are rare.)"""
    p = _cli(
        "availability", "scenarios/reference.yaml", "--json", "--workers", "2", "--max-years", "1000",
        "--estimator", "plain",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""  # piped: no progress bar
    d = json.loads(p.stdout)
    assert isinstance(d["precision_reached"], bool)
    u = d["unavailability"]
    assert u["low"] <= u["mean"] <= u["high"]
    keys = [
        "availability",
        "unavailability",
        "downtime_per_year_s",
        "yearly_downtime_p50_s",
        "yearly_downtime_p95_s",
        "yearly_downtime_p99_s",
        "outages_per_year",
        "mean_time_between_outages_s",
        "outage_duration_p50_s",
        "outage_duration_p95_s",
        "outage_duration_p99_s",
        "failovers_per_year",
        "data_lost_bytes_per_year",
        "split_brain_s_per_year",
        "months_below_sla_fraction",
    ]
    for k in keys:
        assert set(d[k]) == {"mean", "low", "high", "method"}, k
        assert d[k]["method"]
    assert d["split_brain_s_per_year"]["mean"] == 0
    assert d["estimator"] == "plain"  # lognormal and weibull laws: no exact model


def test_csv_has_one_row_per_replication(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reps.csv"
    two = str(ROOT / "scenarios" / "two-of-three.yaml")
    assert main(["sim", "availability", two, "--workers", "1", "--csv", str(out), "--exact"]) == 0
    text = capsys.readouterr().out
    rows = out.read_text().strip().splitlines()
    assert rows[0].startswith("replication,years,downtime_s,structural_downtime_s")
    assert "exact structural unavailability" in text and "precision 0.1 reached" in text
    n = int(text.split(":")[1].split()[0])
    assert len(rows) == n + 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--precision", "0"], "--precision"),
        (["--precision", "nan"], "--precision"),
        (["--confidence", "1.5"], "--confidence"),
        (["--workers", "0"], "--workers"),
        (["--max-years", "-3"], "--max-years"),
        (["--sla", "98"], "--sla"),
        (["--executor", "dask"], "--scheduler"),
    ],
)
def test_malformed_requests_get_one_line_and_status_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "availability", str(ROOT / "scenarios" / "two-of-three.yaml"), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and err.startswith("quorum: error: ")


def test_exact_with_a_non_exponential_law_names_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "availability", str(ROOT / "scenarios" / "reference.yaml"), "--exact"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "topology.components.A.repair.kind: lognormal" in err


@pytest.mark.deep
def test_deep_coverage_of_both_estimators_over_100_seeds() -> None:
    """make deep-test: 100 seeds of 40 one-year replications; both 95 % intervals contain their exact
    value at least 90 times (binomial: 95 expected, 90 is 2.3 standard deviations below)."""
    sc = _two_units(crews=1)
    e = exact(sc)
    p = sum(Years(sc, 1.0).replay([(frozenset({s}), 1e5)]).downtime_s for s in "AB")
    target = e.unavailability + (1 / 1e6) * p * _all_up_one_crew(1e5 + 0.5, 1e6)
    plain = cv = 0
    with LocalExecutor(2) as ex:
        for seed in range(100):
            u = _small(sc, 1000 + seed, "plain", ex, years=40).figures["unavailability"]
            plain += u.low <= e.unavailability <= u.high
            c = _small(sc, 1000 + seed, "control", ex, years=40).figures["unavailability"]
            cv += c.low <= target <= c.high
    assert plain >= 90 and cv >= 90


def _all_up_one_crew(mttr: float, mttf: float) -> float:
    """P(both up) for two units sharing one crew (birth-death: 1, 2 rho, 2 rho^2)."""
    r = mttr / mttf
    return 1 / (1 + 2 * r + 2 * r * r)


def test_t_quantile_and_binomial_cdf_are_scipys() -> None:
    """The engine computes its own Student t quantiles and binomial CDFs (no scipy import on the
    command line's path); they agree with scipy's."""
    from scipy.special import bdtr, stdtrit

    from sim.availability.estimate import binomial_cdf, t_quantile

    # the closed forms (1, 2), Newton on the incomplete beta (3 .. 9,999), Cornish-Fisher (10^4 on)
    for df in (*range(1, 60), 99, 999, 1000, 1001, 9_999, 10_000, 10_001, 100_000, 10**7):
        for c in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999):
            assert t_quantile(c, df) == pytest.approx(float(stdtrit(df, 0.5 + c / 2)), rel=1e-10)
    for n, q in ((20, 0.5), (300, 0.95), (5000, 0.99)):
        assert np.allclose(binomial_cdf(n, q), bdtr(np.arange(n + 1), n, q), atol=1e-9)
