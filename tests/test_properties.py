"""Property-based tests: every safe policy keeps S1-S3 on every schedule, L1 after faults stop,
L2 under loss below the timeout; the unsafe baseline and a too-weak lease are caught."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from hypothesis import example, given, settings

from quorum.core import Policy, QuorumConfig
from quorum.testing import benign_schedules, explore, run_schedule, schedules
from quorum.testing.explore import save_schedule
from quorum.testing.schedule import Schedule

# make deep-test explores at random (a fresh seed each run, printed; QUORUM_DEEP_SEED fixes it) and
# saves every counterexample it finds here, where tests/test_regressions.py replays it in `make test`
REGRESSIONS = Path(__file__).parent / "regressions"


def _deep_seed() -> int:
    return int(os.environ.get("QUORUM_DEEP_SEED") or secrets.randbits(32))


def _deep_schedules() -> int:
    return int(os.environ.get("QUORUM_DEEP_SCHEDULES", "20000"))


def _fresh(stem: str) -> Path:
    """Where a new counterexample goes: ``stem.json``, or ``stem-2.json``... if a run with the same seed
    already saved one (a fix may let the same seed find the next story: both stay regressions)."""
    path, n = REGRESSIONS / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = REGRESSIONS / f"{stem}-{n}.json"
    return path


SAFE = [p for p in Policy if p is not Policy.BOTH_CONTINUE]
CONFIGS = {
    **{p.value: QuorumConfig(policy=p) for p in SAFE},
    "witness-preferred+pre-election": QuorumConfig(pre_election=True),
    "witness-race+pre-election": QuorumConfig(policy="witness-race", pre_election=True),
    "majority+keep-active-partition": QuorumConfig(policy="majority", keep_active_partition=True),
    "witness-preferred+auto-failback": QuorumConfig(auto_failback=True),
    "witness-preferred+bounded-loss": QuorumConfig(consistency="bounded-loss"),
    "last-man-standing+short-window": QuorumConfig(policy="last-man-standing", last_man_window=5),
    "witness-preferred+pre-promote-check": QuorumConfig(pre_promote_check=True, pre_promote_retry=5),
    "static-preferred+pre-promote-check": QuorumConfig(
        policy="static-preferred", pre_promote_check=True, pre_promote_retry=5
    ),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_safe_policies_hold_every_property(name: str) -> None:
    """S1, S2, S3 on every schedule; L1 wherever the policy promises it."""
    config = CONFIGS[name]

    @given(schedules(config))
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, trace=False)
        assert not result.violations, run_schedule(config, schedule).timeline()

    check()


@pytest.mark.parametrize("policy", SAFE, ids=lambda p: p.value)
def test_no_false_failover_below_the_detection_timeout(policy: Policy) -> None:
    """L2: short loss bursts, duplication and reordering change no role."""
    config = QuorumConfig(policy=policy)

    @given(benign_schedules(config))
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, expect_no_role_change=True)
        assert not result.violations, result.timeline()

    check()


def test_the_l2_check_can_fail() -> None:
    """A cut longer than the detection timeout does change roles, and L2 reports it."""
    from quorum.testing.schedule import Cut, Heal

    config = QuorumConfig()
    long_cut = Schedule(
        steps=(
            Cut(at=2, src="A", dst="B"),
            Heal(at=2 + config.detection_timeout + 1, src="A", dst="B"),
        )
    )
    result = run_schedule(config, long_cut, expect_no_role_change=True)
    assert [v.property for v in result.violations][:1] == ["L2"]


def test_unsafe_baseline_counterexample_is_found_and_short() -> None:
    """both-continue splits the brain; hypothesis finds it and shrinks it to at most 6 steps."""
    report = explore(QuorumConfig(policy="both-continue"), schedules=200, seed=0)
    ce = report.counterexample
    assert ce is not None
    assert ce.violations[0].property == "S1"
    assert 1 <= len(ce.schedule.steps) <= 6
    assert "both serve alone" in ce.violations[0].detail


def test_drift_beyond_the_bound_breaks_lease_safety() -> None:
    """With the margin exactly at lease*ρ, clocks drifting beyond ρ let two sites serve alone:
    the drift bound is real. After a split, hypothesis searches the holder's and the witness's clock
    rates and when the holder is isolated; with rates inside the bound the same story never splits."""
    from hypothesis import find
    from hypothesis import strategies as st

    from quorum.testing.schedule import Cut, Drift, Isolate

    tight = QuorumConfig(
        consistency="bounded-loss", max_clock_drift=0.01, lease_margin=0.1, lease_duration=10
    )

    def story(rates: tuple[float, float, float]) -> Schedule:
        slow, fast, at = rates
        return Schedule(
            steps=(
                Drift(at=0, node="A", rate=slow),
                Drift(at=0, node="W", rate=fast),
                Cut(at=1, src="A", dst="B"),
                Isolate(at=at, node="A"),
            )
        )

    def splits(rates: tuple[float, float, float]) -> bool:
        return any(v.property == "S1" for v in run_schedule(tight, story(rates), trace=False).violations)

    at = st.integers(100, 300).map(lambda n: n / 10)
    beyond = st.tuples(st.sampled_from([0.7, 0.8, 0.9, 0.97]), st.sampled_from([1.03, 1.1, 1.2, 1.3]), at)
    found = find(beyond, splits, settings=settings(max_examples=500, database=None, deadline=None))
    assert found[0] < 1 - tight.max_clock_drift and found[1] > 1 + tight.max_clock_drift
    violation = run_schedule(tight, story(found)).violations[0]
    assert violation.property == "S1" and "both serve alone" in violation.detail

    within = st.tuples(st.floats(0.99, 1.0), st.floats(1.0, 1.01), at)

    @settings(max_examples=100, database=None, deadline=None)
    @given(within)
    def never_within(rates: tuple[float, float, float]) -> None:
        assert not splits(rates)

    never_within()

    @given(schedules(tight, drift="within"))
    def random_within(schedule: Schedule) -> None:
        assert not run_schedule(tight, schedule, trace=False).safety_violations

    random_within()


def test_a_witness_that_forgets_its_epoch_breaks_s3() -> None:
    """S3 can fail: a witness whose store loses the epoch on restart grants epoch 2 a second time."""
    from quorum.testing.schedule import Crash, Restart

    config = QuorumConfig()
    sched = Schedule(
        steps=(
            Crash(at=1, node="B"),
            Crash(at=20, node="W"),
            Crash(at=20, node="A"),
            Restart(at=21, node="W"),
            Restart(at=22, node="B"),
        )
    )
    assert not run_schedule(config, sched).violations
    forgetful = run_schedule(config, sched, witness_forgets=True)
    assert "S3" in {v.property for v in forgetful.violations}


def test_a_witness_that_hides_data_loss_breaks_s2(monkeypatch: pytest.MonkeyPatch) -> None:
    """S2 can fail: promoting a lagging copy without recording the loss is caught."""
    from quorum.core import witness as witness_module
    from quorum.testing.schedule import Crash, Cut

    original = witness_module.WitnessMachine._grant

    def hiding(self: witness_module.WitnessMachine, *args: object, **kw: object) -> None:
        kw["data_loss"] = False
        original(self, *args, **kw)  # type: ignore[arg-type]

    config = QuorumConfig(consistency="bounded-loss")
    sched = Schedule(steps=(Cut(at=2, src="A", dst="B"), Crash(at=20, node="A")))
    assert not run_schedule(config, sched).violations
    monkeypatch.setattr(witness_module.WitnessMachine, "_grant", hiding)
    monkeypatch.setattr(
        witness_module.WitnessMachine, "_reply", _no_loss(witness_module.WitnessMachine._reply)
    )
    result = run_schedule(config, sched)
    assert "S2" in {v.property for v in result.violations}


def _no_loss(reply):  # type: ignore[no-untyped-def]
    def patched(self, req, verdict, reason="", data_loss=False):  # type: ignore[no-untyped-def]
        send = reply(self, req, verdict, reason, False)
        from dataclasses import replace

        return replace(send, message=replace(send.message, data_loss=False))

    return patched


@pytest.mark.deep
@pytest.mark.parametrize("name", list(CONFIGS))
def test_deep_exploration(name: str) -> None:
    """make deep-test: 20,000 random schedules per configuration (``QUORUM_DEEP_SCHEDULES``), no
    violation; a counterexample is saved to tests/regressions/ as a regression schedule."""
    seed = _deep_seed()
    print(f"deep exploration of {name}: seed {seed} (QUORUM_DEEP_SEED={seed} repeats it)")
    report = explore(CONFIGS[name], schedules=_deep_schedules(), seed=seed)
    if report.counterexample is not None:
        REGRESSIONS.mkdir(exist_ok=True)
        path = _fresh(f"{name}-seed{seed}")
        save_schedule(path, CONFIGS[name], report.counterexample.schedule)
        pytest.fail(f"seed {seed}: counterexample saved to {path}\n{report.counterexample.timeline()}")


@pytest.mark.deep
def test_deep_no_false_failover() -> None:
    """make deep-test: L2 over the deep profile's number of random benign schedules; a failing
    schedule is saved to tests/regressions/ (replayed there with ``expect_no_role_change``)."""
    from hypothesis import seed as hypothesis_seed

    config = QuorumConfig()
    run_seed = _deep_seed()
    print(f"deep L2 exploration: seed {run_seed} (QUORUM_DEEP_SEED={run_seed} repeats it)")
    l2_path = _fresh(f"l2-seed{run_seed}")

    @hypothesis_seed(run_seed)
    @given(benign_schedules(config))
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, expect_no_role_change=True, trace=False)
        if result.violations:  # overwritten while shrinking: the last one written is the minimal one
            REGRESSIONS.mkdir(exist_ok=True)
            save_schedule(l2_path, config, schedule)
        assert not result.violations

    check()


# ---- a lying or misconfigured site (issue 16, item 3) ---------------------------------------------
LIE_CONFIGS = [
    "witness-preferred",
    "witness-preferred+pre-election",
    "witness-race+pre-election",
    "witness-preferred+bounded-loss",
]


@pytest.mark.parametrize("name", LIE_CONFIGS)
def test_a_lying_site_breaks_no_property_of_the_honest_ones(name: str) -> None:
    """Forged requests with a site's token (epochs above the witness's, or serving alone at its
    epoch) mixed into fault schedules: S1-S3 hold for the honest processes, L1 where promised."""
    from quorum.testing.schedule import Crash, Cut, Degrade, HealAll, Lie

    config = CONFIGS[name]

    @settings(derandomize=True)
    @given(schedules(config, lies=True))
    # found by this test: B's token claims B serves alone at the epoch just granted to A (S3 broken:
    # the witness adopted B as holder of epoch 2, then granted A epoch 2 again)
    @example(Schedule(steps=(Cut(at=0, src="A", dst="B"), Lie(at=4.3, site="B", ahead=0, current=False))))
    # a claimed pre-election at an epoch granted to one site (no pair pre-elects there): L1 was lost
    @example(
        Schedule(
            steps=(
                Cut(at=0, src="A", dst="B"),
                Crash(at=0, node="A"),
                Degrade(at=0, src="B", dst="W", delay=2.0, reorder=2.7),
                Lie(at=6.6, site="B", ahead=0, current=False, preelected="A"),
                HealAll(at=10.1),
            )
        )
    )
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, trace=False)
        assert not result.violations, run_schedule(config, schedule).timeline()

    check()


def test_one_heartbeat_claiming_epoch_50_changes_nothing_but_an_alarm() -> None:
    """The issue's attack: a 'mirrored' site claims epoch 50 with pre-election off. The witness keeps
    its epoch, no honest site changes role, and the alarm is in the timeline."""
    from quorum.testing.schedule import Cut, Lie

    config = QuorumConfig()
    lie = Lie(at=3, site="B", ahead=49, role="mirrored", want="report")
    result = run_schedule(config, Schedule(steps=(lie,)))
    assert result.ok and result.role_changes == 0, result.timeline()
    assert any(e.kind == "alarm" and "epoch 50" in e.text for e in result.trace), result.timeline()
    # and the pair still fails over normally afterwards: A wins a cut at epoch 2, not 51
    later = run_schedule(config, Schedule(steps=(lie, Cut(at=10, src="A", dst="B"))))
    assert later.ok, later.timeline()
    assert "-> solo epoch 2" in later.timeline()


def test_a_witness_with_no_state_still_recovers_the_epoch_from_the_sites() -> None:
    """Lost database: a witness restarted with no state adopts the epoch the sites report (A served
    alone at epoch 2), then holds it as its own: a later claim of epoch 9 is an alarm."""
    from quorum.core import Mode, Role, Want, WitnessMachine, WitnessRequest
    from quorum.core.config import Site

    def req(site: Site, epoch: int, role: Role, want: Want = Want.REPORT) -> WitnessRequest:
        return WitnessRequest(site, 1, 0.0, want, epoch, role, role is not Role.FENCED, None, None)

    w = WitnessMachine(QuorumConfig(), 0.0)  # no durable state
    w.handle(1.0, req(Site.A, 2, Role.SOLO, Want.RENEW))
    assert w.d.epoch == 2 and w.d.mode is Mode.SOLO and w.d.holder is Site.A
    w.handle(1.1, req(Site.B, 2, Role.FENCED))
    assert not w.recovering
    acts = w.handle(1.2, req(Site.B, 9, Role.SOLO, Want.RENEW))
    assert w.d.epoch == 2 and w.d.holder is Site.A
    assert [type(a).__name__ for a in acts] == ["Alarm", "Send"]


@pytest.mark.deep
@pytest.mark.parametrize("name", LIE_CONFIGS)
def test_deep_lying_site(name: str) -> None:
    """make deep-test: ``QUORUM_DEEP_SCHEDULES`` random lying-site schedules from a printed seed; a
    counterexample is saved to tests/regressions/ (replayed there) and its timeline printed."""
    from hypothesis import seed as hypothesis_seed

    config = CONFIGS[name]
    run_seed = _deep_seed()
    print(f"deep lying-site exploration of {name}: seed {run_seed} (QUORUM_DEEP_SEED={run_seed} repeats it)")
    path = _fresh(f"lying-{name}-seed{run_seed}")

    @hypothesis_seed(run_seed)
    @settings(max_examples=_deep_schedules(), derandomize=False)
    @given(schedules(config, lies=True))
    def check(schedule: Schedule) -> None:
        result = run_schedule(config, schedule, trace=False)
        if result.violations:  # overwritten while shrinking: the last one written is the minimal one
            REGRESSIONS.mkdir(exist_ok=True)
            save_schedule(path, config, schedule)
        assert not result.violations, run_schedule(config, schedule).timeline()

    check()
