"""Years mode tells the truth: each figure of a replayed episode equals a story-mode run of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from quorum.core.config import Consistency, Policy
from sim.story import scenario as S
from sim.story.runner import Runner
from sim.story.scenario import load_scenario
from sim.years.engine import Years, run_replication, window_length

REF = Path(__file__).parent.parent / "scenarios" / "reference.yaml"
F = frozenset


def _scenario(**quorum: Any) -> S.Scenario:
    sc = load_scenario(REF)
    q = sc.quorum.model_copy(update=quorum)
    return sc.model_copy(update={"quorum": q, "faults": (), "expect": S.Expect()})


def _story(sc: S.Scenario, steps: list[tuple[float, str, str]], duration: float) -> Runner:
    """A story-mode run of the same episode: (time, crash|restore, node) steps."""
    faults: list[Any] = []
    for at, do, node in steps:
        cls = S.Crash if do == "crash" else S.Restore
        faults.append(cls(at=at, do=do, node=node))  # type: ignore[arg-type]
    return Runner(sc.model_copy(update={"faults": tuple(faults), "duration": duration}), 0).run()


def test_window_covers_the_longest_core_timer() -> None:
    """The compression window is longer than last_man_window under last-man-standing (it was not)."""
    cfg = _scenario(policy=Policy.LAST_MAN_STANDING).quorum
    assert window_length(cfg) > cfg.liveness_bound() + cfg.last_man_window
    long = _scenario(policy=Policy.LAST_MAN_STANDING, last_man_window=600.0).quorum
    assert window_length(long) > 600.0 + long.liveness_bound()


@pytest.mark.parametrize("policy", [Policy.LAST_MAN_STANDING, Policy.MAJORITY])
def test_last_man_standing_survives_a_later_witness_loss_as_in_a_story(policy: Policy) -> None:
    """A down for an hour (B alone), then the witness too for an hour: last-man-standing keeps B
    serving (sticky after last_man_window), majority stops it; years mode gives the story's downtime."""
    sc = _scenario(policy=policy)
    yr = Years(sc, 1.0).replay([(F({"A"}), 3600.0), (F({"A", "W"}), 3600.0)])
    story = _story(
        sc, [(10, "crash", "A"), (3610, "crash", "W"), (7210, "restore", "A"), (7210, "restore", "W")], 7400
    )
    assert yr.downtime_s == pytest.approx(story.metrics.downtime_s, abs=3.0)
    if policy is Policy.LAST_MAN_STANDING:
        assert yr.downtime_s < 60.0
    else:
        assert yr.downtime_s > 3000.0


def test_data_lost_is_the_real_episodes_bytes() -> None:
    """Bounded-loss: A away 4000 s while B serves alone, then B dies and A takes over with the bytes it
    missed; years mode loses what the story loses (it lost ~1/70 of it on the compressed timeline)."""
    sc = _scenario(consistency=Consistency.BOUNDED_LOSS)
    yr = Years(sc, 1.0).replay([(F({"A"}), 4000.0), (F({"B"}), 600.0)])
    story = _story(
        sc, [(10, "crash", "A"), (4010, "crash", "B"), (4010, "restore", "A"), (4610, "restore", "B")], 4800
    )
    lost = story.metrics.data_lost_bytes
    assert lost > 3900 * 1e7  # ~4000 s of 10 MB/s
    assert yr.data_lost_bytes == pytest.approx(lost, rel=0.01)
    # the story counts whole 1 s ticks over ~4600 s and draws its own message jitter: 4 ticks apart at most
    assert yr.downtime_s == pytest.approx(story.metrics.downtime_s, abs=4.0)


def test_episode_open_at_the_horizon_counts_up_to_the_horizon() -> None:
    """A and W down until the end: the replayed open episode is down as long as the story."""
    sc = _scenario()
    yr = Years(sc, 1.0).replay([(F({"A", "W"}), 3000.0)], open_at_end=True)
    story = _story(sc, [(10, "crash", "A"), (10, "crash", "W")], 3010)
    assert story.metrics.downtime_s > 2900
    assert yr.downtime_s == pytest.approx(story.metrics.downtime_s, abs=3.0)


def test_short_run_with_the_preferred_site_down_is_not_available() -> None:
    """0.01 years, static-preferred, A fails within seconds and is never repaired in the run: the
    availability is about 0, not 1 (the open episode used to be dropped)."""
    sc = _scenario(policy=Policy.STATIC_PREFERRED)
    never = S.ComponentLaws(fail=S.Law(kind="exponential", mean=10.0), repair=S.Law(kind="fixed", mean=1e9))
    calm = S.ComponentLaws(fail=S.Law(kind="fixed", mean=1e9), repair=S.Law(kind="fixed", mean=1.0))
    topo = sc.topology.model_copy(
        update={
            "components": {"A": never, "B": calm, "W": calm},
            "links": tuple(lk.model_copy(update={"fail": None, "repair": None}) for lk in sc.topology.links),
        }
    )
    r = run_replication(sc.model_copy(update={"topology": topo, "common_cause": ()}), 0.01, seed=1)
    assert r.open_at_horizon
    assert r.availability < 0.01
    assert r.structural_downtime_s == pytest.approx(r.downtime_s, rel=0.01)
    assert sum(r.month_downtime_s) == pytest.approx(r.downtime_s)
