"""Years mode ends a span once it is quiet (``sim.years.engine._Spans``), and that changes no outcome.

A span whose real interval is at least a window long used to run the whole window (the liveness bound,
the longest core timer, five heartbeats: 57.6 s at the default timings); it now ends once
``Runner.quiet_key`` has not changed for the window without its liveness bound. Each episode shape is
decided both ways here, on the reference design under every policy, and what the accounting reads of
each span must agree: whether it serves at the end, split-brain and one-copy state at the end, the copies
falling behind, failovers, entries into SOLO, the properties broken, and the downtime of the whole
window (the quiet run's window downtime plus its steady tail in the end state) to within two ticks.

Only the first span starts from the same runner state both ways: the later ones start after fewer
heartbeats, so the network's random draws differ, which moves a detection by a fraction of a second and
may turn a race: two sites restarting, or cut off from each other, at the same instant ask the witness
at once and message jitter decides who serves (whole-window runs under two network seeds differ there
too). So a shape whose quiet outcome differs from the whole-window one is decided again with whole windows
under other network seeds, and only an outcome none of them gives is a difference. The recovery window
after the last repair is compared on its end state (its failovers are such a race).

The comparison has teeth: with a quiet span shorter than the longest core timer it finds spans that
ended before a lease or the last-man window ran out.
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from quorum.core.config import Policy
from sim.story import scenario as S
from sim.story.runner import Runner
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


def _shapes(
    n: int, seed: int, longest: int = 3, components: tuple[str, ...] = COMPONENTS
) -> list[tuple[frozenset[str], ...]]:
    """``n`` distinct sequences of one to ``longest`` down sets (one or two components each)."""
    rng = random.Random(seed)
    sets = [F(c) for k in (1, 2) for c in itertools.combinations(components, k)]
    out: set[tuple[frozenset[str], ...]] = set()
    while len(out) < n:
        seq = [rng.choice(sets)]
        for _ in range(rng.randrange(longest)):
            seq.append(rng.choice([s for s in sets if s != seq[-1]]))
        out.add(tuple(seq))
    return sorted(out, key=lambda s: [sorted(x) for x in s])


def _signature(e: Any, spans: int, w: float) -> tuple[list[Any], list[float]]:
    """What the accounting reads of a decided shape: the end state of each span (and of the recovery
    window) and the downtime of each span's whole window (the steady tail in its end state added)."""
    ends: list[Any] = []
    downs: list[float] = []
    for i, o in enumerate(e.outs):
        end: tuple[Any, ...] = (o.serving_at_end, o.split_at_end, o.one_copy_at_end)
        if i < spans:
            end += (o.accruing_at_end, o.failovers, o.solo_entries)
            comp = e.comps[i]
            down = sum(b - a for a, b in o.down_runs)
            downs.append(down + (0.0 if o.serving_at_end else w - comp))
        ends.append((*end, tuple(sorted({v.split(":")[0] for v in o.violations}))))
    return ends, downs


def _agree(a: tuple[list[Any], list[float]], b: tuple[list[Any], list[float]], tick: float) -> bool:
    return a[0] == b[0] and all(abs(x - y) <= 2 * tick + 1e-6 for x, y in zip(a[1], b[1], strict=True))


def _seeded(seed: int) -> type[Runner]:
    class SeededRunner(Runner):
        def __init__(self, sc: S.Scenario, _seed: int = 0, **kw: Any) -> None:
            super().__init__(sc, seed, **kw)

    return SeededRunner


def _differences(
    sc: S.Scenario, shapes: list[tuple[frozenset[str], ...]], seeds: int = 8
) -> tuple[list[Any], int]:
    """The shapes whose quiet-stop outcome no whole-window run gives, and the number of spans that ended
    early. A shape whose outcome differs from the whole-window run's is decided again with whole windows
    under other network seeds: two sites restarting or cut off at the same instant race for the witness
    (message jitter decides), and a run that made fewer random draws before may see the other winner,
    as another seed does. An outcome none of ``seeds`` seeds gives is a difference."""
    w = window_length(sc.quorum)
    tick = sc.write_interval
    quiet = Years(sc, 1.0, 0, stop_when_quiet=True)
    whole = Years(sc, 1.0, 0, stop_when_quiet=False)
    found: list[Any] = []
    early = 0
    for seq in shapes:
        key = tuple((ds, w) for ds in seq)
        eq = quiet._shape(key, False)
        early += sum(c < w for c in eq.comps[: len(seq)])
        assert all(c <= w for c in eq.comps)
        mine = _signature(eq, len(seq), w)
        theirs = _signature(whole._shape(key, False), len(seq), w)
        if _agree(mine, theirs, tick):
            continue
        for seed in range(1, seeds):
            with mock.patch.object(engine, "Runner", _seeded(seed)):
                other = _signature(Years(sc, 1.0, 0, stop_when_quiet=False)._shape(key, False), len(seq), w)
            if _agree(mine, other, tick):
                break
        else:
            found.append((tuple(sorted(x) for x in seq), mine, theirs))
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
    # spans cut short before a timer armed at their last change fired: not serving yet at their end,
    # where whole windows serve again (in every seed)
    assert any(
        any(not m[0] and t[0] for m, t in zip(mine[0], theirs[0], strict=True)) for _s, mine, theirs in found
    ), found[:5]


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


@pytest.mark.deep
@pytest.mark.parametrize("policy", list(Policy), ids=lambda p: p.value)
@pytest.mark.parametrize("scenario", ["reference.yaml", "two-of-three.yaml"])
def test_quiet_spans_on_many_shapes(policy: Policy, scenario: str) -> None:
    """``make deep-test``: 300 random shapes of up to four spans under every policy, on two designs (a
    fresh seed each run, printed on failure; ``QUORUM_DEEP_SEED`` fixes it)."""
    seed = int(os.environ.get("QUORUM_DEEP_SEED") or secrets.randbits(32))
    sc = load_scenario(REF.parent / scenario)
    q = sc.quorum.model_copy(update={"policy": policy})
    sc = sc.model_copy(update={"quorum": q, "faults": (), "expect": S.Expect()})
    names = tuple(sorted(engine.failing_components(sc)))
    shapes = _shapes(min(300, 3 * len(names) ** 3), seed=seed, longest=4, components=names)
    found, _ = _differences(sc, shapes)
    assert not found, (f"QUORUM_DEEP_SEED={seed}", found[:5])
