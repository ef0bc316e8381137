"""Years mode ends a span once it is quiet (``sim.years.engine._Spans``), and that changes no outcome.

A span whose real interval is at least a window long used to run the whole window (the liveness bound,
the longest core timer, five heartbeats: 57.6 s at the default timings); it now ends once
``Runner.quiet_key`` has not changed for the window without its liveness bound. Each episode shape is
decided both ways here, on the reference design under every policy, and what the accounting reads of
each span must agree: whether it serves at the end, split-brain and one-copy state at the end, the copies
falling behind, failovers, entries into SOLO, the properties broken, and the downtime of the whole
window (the quiet run's window downtime plus its steady tail in the end state) to within two ticks.

Only the first span starts from the same runner state both ways: the later ones start after fewer
heartbeats, so the network's random draws differ, which moves a detection by a fraction of a second; a
race between two sites restarting at the same instant (the recovery window) may then go either way, as
it does between two seeds of the full-window run, so the recovery window is compared on its end state.

The comparison has teeth: with a quiet span shorter than the longest core timer it finds spans that
ended before a lease or the last-man window ran out.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from quorum.core.config import Policy
from sim.story import scenario as S
from sim.story.scenario import load_scenario
from sim.years import engine
from sim.years.engine import Years, quiet_span, window_length

REF = Path(__file__).parent.parent / "scenarios" / "reference.yaml"
F = frozenset
COMPONENTS = ("A", "B", "W", "ab#0", "ab#1", "aw#0", "bw#0")


def _scenario(**quorum: Any) -> S.Scenario:
    sc = load_scenario(REF)
    q = sc.quorum.model_copy(update=quorum)
    return sc.model_copy(update={"quorum": q, "faults": (), "expect": S.Expect()})


def _shapes(n: int, seed: int) -> list[tuple[frozenset[str], ...]]:
    """``n`` distinct sequences of one to three down sets (one or two components each)."""
    rng = random.Random(seed)
    sets = [F(c) for k in (1, 2) for c in itertools.combinations(COMPONENTS, k)]
    out: set[tuple[frozenset[str], ...]] = set()
    while len(out) < n:
        seq = [rng.choice(sets)]
        for _ in range(rng.randrange(3)):
            seq.append(rng.choice([s for s in sets if s != seq[-1]]))
        out.add(tuple(seq))
    return sorted(out, key=lambda s: [sorted(x) for x in s])


def _differences(sc: S.Scenario, shapes: list[tuple[frozenset[str], ...]]) -> tuple[list[Any], int]:
    """What differs between each shape decided with quiet stops and with whole windows; the number of
    spans that ended early."""
    w = window_length(sc.quorum)
    tick = sc.write_interval
    quiet = Years(sc, 1.0, 0, stop_when_quiet=True)
    whole = Years(sc, 1.0, 0, stop_when_quiet=False)
    found: list[Any] = []
    early = 0
    for seq in shapes:
        key = tuple((ds, w) for ds in seq)
        eq, ew = quiet._shape(key, False), whole._shape(key, False)
        assert ew.comps[: len(seq)] == tuple(w for _ in seq)
        for i, (oq, ow) in enumerate(zip(eq.outs, ew.outs, strict=True)):
            name = (tuple(sorted(x) for x in seq), i)
            fields = ["serving_at_end", "split_at_end", "one_copy_at_end"]
            if i < len(seq):
                fields += ["accruing_at_end", "failovers", "solo_entries"]
            for f in fields:
                if getattr(oq, f) != getattr(ow, f):
                    found.append((name, f, getattr(oq, f), getattr(ow, f)))
            broke_q = sorted({v.split(":")[0] for v in oq.violations})
            broke_w = sorted({v.split(":")[0] for v in ow.violations})
            if broke_q != broke_w:
                found.append((name, "violations", broke_q, broke_w))
            if i < len(seq):
                comp = eq.comps[i]
                early += comp < w
                assert comp <= w
                down_q = sum(b - a for a, b in oq.down_runs) + (0.0 if oq.serving_at_end else w - comp)
                down_w = sum(b - a for a, b in ow.down_runs)
                if abs(down_q - down_w) > 2 * tick + 1e-6:
                    found.append((name, "downtime", round(down_q, 3), round(down_w, 3)))
    return found, early


@pytest.mark.parametrize(
    "quorum",
    [
        {"policy": Policy.WITNESS_PREFERRED},
        {"policy": Policy.WITNESS_PREFERRED, "pre_promote_check": True},
        {"policy": Policy.STATIC_PREFERRED},
        {"policy": Policy.BOTH_CONTINUE},
        {"policy": Policy.LAST_MAN_STANDING},
        {"policy": Policy.LAST_MAN_STANDING, "last_man_window": 40.0},
        {"policy": Policy.WITNESS_RACE},
    ],
    ids=lambda q: "-".join(f"{v.value if isinstance(v, Policy) else f'{k}={v}'}" for k, v in q.items()),
)
def test_a_quiet_span_ends_with_the_state_its_whole_window_ends_with(quorum: dict[str, Any]) -> None:
    sc = _scenario(**quorum)
    found, early = _differences(sc, _shapes(40, seed=1))
    assert not found, found[:5]
    assert early > 40  # most spans of at least a window went quiet before its end


def test_the_comparison_catches_a_quiet_span_shorter_than_a_core_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deliberately wrong quiet span (10 s, under the 10.5 s lease and regrant timers) ends spans
    before a timer armed at their last change fires: the comparison above finds it."""
    sc = _scenario(policy=Policy.LAST_MAN_STANDING)
    assert quiet_span(sc.quorum) > 10.0
    monkeypatch.setattr(engine, "quiet_span", lambda cfg: 10.0)
    found, _ = _differences(sc, _shapes(40, seed=1))
    assert any(f == "serving_at_end" for _name, f, _q, _w in found), found[:5]


def test_a_years_run_with_quiet_stops_gives_the_figures_of_whole_windows() -> None:
    """Whole years runs of the reference design, with and without quiet stops (same seed): every count
    is the same, and every seconds figure (downtime, by cause too, one-copy time, resync) agrees to
    within two ticks per episode."""
    sc = load_scenario(REF)
    fast = Years(sc, 40, seed=3).run()
    whole = Years(sc, 40, seed=3, stop_when_quiet=False).run()
    assert whole["episodes"] > 100
    slack = 2 * sc.write_interval * whole["episodes"]
    for k, v in whole.items():
        if isinstance(v, bool | int | str | list):
            assert fast[k] == v, k
        elif isinstance(v, float):
            assert fast[k] == pytest.approx(v, abs=slack if k.endswith("_s") else 1e-9), k
        elif isinstance(v, dict) and k.endswith("_s"):
            assert fast[k].keys() == v.keys()
            for cause, secs in v.items():
                assert fast[k][cause] == pytest.approx(secs, abs=slack), (k, cause)
