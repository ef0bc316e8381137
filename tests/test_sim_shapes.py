"""Issue 20 item 6: what makes the importance estimator fast changes none of its answers.

The episode-shape store (sim.years.shapes), deciding new shapes on an executor (Years.prefetch) and the
engine's per-outage callback give the same figures as before, to the bit; the store is keyed by the
model's content and the code's version; the moment-biased draws of the starter's repair have their law.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

from sim.availability import importance as imp
from sim.availability.executors import LocalExecutor
from sim.story import scenario as S
from sim.story.scenario import load_scenario
from sim.years import engine as E
from sim.years.laws import draw_moment_biased, second_moment
from sim.years.shapes import ShapeStore, code_version

ROOT = Path(__file__).resolve().parent.parent
TWO_OF_THREE = ROOT / "scenarios" / "two-of-three.yaml"


def _figures(res: imp.ImportanceResult) -> tuple[float, float, float, int]:
    down = np.asarray(res.down)
    est, lo, hi = res.ratio(down, 0.95)
    assert lo is not None and hi is not None
    return est, lo, hi, res.n


def _run(**kw: Any) -> imp.ImportanceResult:
    sc = load_scenario(TWO_OF_THREE)
    res, _reached, _rel = imp.run(
        sc, seed=7, precision=0.1, confidence=0.95, max_episodes=600, min_episodes=600, **kw
    )
    return res


def test_the_shape_store_gives_the_same_figures_and_saves_the_runner(tmp_path: Path) -> None:
    E._CACHE.clear()
    plain = _run()
    E._CACHE.clear()
    first = ShapeStore(tmp_path)
    cold = _run(store=first)
    assert cold.shapes_decided > 0 and first.loaded == 0
    files = list(tmp_path.glob("shapes-*.json"))
    assert len(files) == 1 and code_version()[:16] in files[0].name
    assert len(json.loads(files[0].read_text())["shapes"]) == cold.shapes_decided
    E._CACHE.clear()  # a new process: only the directory remembers
    second = ShapeStore(tmp_path)
    warm = _run(store=second)
    assert second.loaded == cold.shapes_decided and warm.shapes_decided == 0
    assert _figures(plain) == _figures(cold) == _figures(warm)
    assert plain.causes == warm.causes and plain.w == warm.w and plain.down == warm.down


def test_the_store_is_keyed_by_the_model(tmp_path: Path) -> None:
    sc = load_scenario(TWO_OF_THREE)
    other = sc.model_copy(update={"quorum": sc.quorum.model_copy(update={"heartbeat_interval": 2.0})})
    y1, y2 = E.Years(sc, 1.0, 0), E.Years(other, 1.0, 0)
    renamed = E.Years(sc.model_copy(update={"name": "renamed", "description": "x"}), 1.0, 0)
    store = ShapeStore(tmp_path)
    assert store.path(y1.fingerprint) != store.path(y2.fingerprint)  # another model: another file
    assert store.path(y1.fingerprint) == store.path(renamed.fingerprint)  # a name is not the model
    # a file written by other code (another version) is not read
    store.path(y1.fingerprint).write_text(json.dumps({"format": 1, "code": "other", "shapes": [{}]}))
    store.attach(y1)
    assert store.loaded == 0


def test_shapes_decided_on_an_executor_give_the_same_figures() -> None:
    E._CACHE.clear()
    here = _run()
    E._CACHE.clear()
    with LocalExecutor(2) as ex:
        there = _run(executor=ex)
    assert _figures(here) == _figures(there)
    assert here.w == there.w and here.down == there.down and here.causes == there.causes


def test_the_per_outage_callback_sees_every_structural_outage() -> None:
    sc = load_scenario(ROOT / "scenarios" / "rare-overlap.yaml")
    y = E.Years(sc, 300.0, 3)
    seen: list[tuple[float, frozenset[str]]] = []
    y.on_outage = lambda at, down: seen.append((at, down))
    r = y.replication()
    assert r.structural_outages >= len(seen) > 0  # (an outage under way at t=0 is not a new one)
    assert all(not y.serves(down, frozenset({"A", "B"}))[0] for _at, down in seen)


def test_moment_biased_draws_have_their_law() -> None:
    """The k-th moment-biased law has mean E[X^(k+1)] / E[X^k]: E[X^2]/E[X] for k = 1, E[X^3]/E[X^2]
    for k = 2 (closed forms per kind)."""
    rng = random.Random(5)
    laws = [
        S.Law(kind="exponential", mean=10.0),
        S.Law(kind="weibull", mean=10.0, shape=1.5),
        S.Law(kind="lognormal", mean=10.0, shape=0.5),
    ]
    for law in laws:
        if law.kind == "exponential":
            third = 6.0 * law.mean**3
        elif law.kind == "weibull":
            scale = law.mean / math.gamma(1.0 + 1.0 / law.shape)
            third = scale**3 * math.gamma(1.0 + 3.0 / law.shape)
        else:
            third = law.mean**3 * math.exp(3.0 * law.shape**2)
        for k, want in ((1, second_moment(law) / law.mean), (2, third / second_moment(law))):
            xs = [draw_moment_biased(law, k, rng) for _ in range(40_000)]
            assert abs(sum(xs) / len(xs) - want) < 0.02 * want, (law.kind, k)
