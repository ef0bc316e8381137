"""One world under the checker and the simulator (issue 15): the same schedule gives the same run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quorum.cli import main
from quorum.core import QuorumConfig
from quorum.testing.explore import load_replay, save_schedule
from quorum.testing.schedule import Lie, Schedule
from quorum.testing.world import step_end
from sim.story.runner import Runner
from sim.story.scenario import ScenarioError, parse_scenario, scenario_steps, step_faults
from tests.test_regressions import CASES

ROOT = Path(__file__).parent.parent
SAVED = [ROOT / "scenarios" / "both-continue-cex.json", ROOT / "scenarios" / "clock-drift-cex.json"]
SAVED += sorted((ROOT / "tests" / "regressions").glob("*.json"))


def _replays(tmp: Path) -> list[Path]:
    out = list(SAVED)
    for i, (config, steps, _) in enumerate(CASES.values()):
        out.append(tmp / f"case{i}.json")
        save_schedule(out[-1], config, Schedule(seed=0, steps=steps))
    return out


def _simulate(path: Path) -> Runner:
    config, schedule = load_replay(path)
    until = max((step_end(s) for s in schedule.steps), default=0.0)
    until += config.liveness_bound() + config.lease_duration  # where the checker's run ends
    text = f"name: replayed\nworld: checker\nreplay: {path.name}\nduration: {until}\n"
    return Runner(parse_scenario(text, "replayed", path.parent), seed=schedule.seed).run()


def test_check_replay_and_the_simulator_give_the_same_role_timeline_and_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every saved counterexample and regression schedule, through `quorum check --replay` and through
    a `world: checker` scenario replaying it: the same role changes at the same times, the same first
    violation (the checker stops there; the simulator runs on)."""
    for path in _replays(tmp_path):
        main(["check", "--replay", str(path), "--json"])
        out = json.loads(capsys.readouterr().out)
        r = _simulate(path)
        first = out["violations"][0] if out["violations"] else None
        end = first["at"] if first else float("inf")
        checker_roles = [(e["t"], e["node"], e["text"]) for e in out["timeline"] if e["kind"] == "role"]
        sim_roles = [(e.t, e.node, e.text) for e in r.timeline if e.kind == "role" and e.t <= end]
        assert checker_roles and sim_roles == checker_roles, path.name
        sim_first = r.violations[0].as_dict() if r.violations else None
        if first is None:
            assert sim_first is None, (path.name, sim_first)
        else:
            assert sim_first is not None and sim_first["property"] == first["property"], path.name
            assert sim_first["at"] == first["at"], path.name


def test_clock_drift_beyond_the_bound_is_an_s1_violation_in_milliseconds_for_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 76 ms overlap of solo authority (well under the 1 s workload tick): the checker reports S1 with
    the overlap in ms; the simulator reports the same S1 in its JSON, measures split_brain_s from the
    intervals, and `--check` fails although the scenario's expectations pass."""
    cex = ROOT / "scenarios" / "clock-drift-cex.json"
    assert main(["check", "--replay", str(cex), "--json"]) == 1
    v = json.loads(capsys.readouterr().out)["violations"][0]
    assert v["property"] == "S1" and "overlap 76 ms" in v["detail"]
    r = _simulate(cex)
    assert r.violations[0].property == "S1" and "overlap 76 ms" in r.violations[0].detail
    assert r.metrics.split_brain_s == pytest.approx(0.076, abs=0.001)
    yaml = str(ROOT / "scenarios" / "clock-drift-beyond-bound.yaml")
    assert main(["sim", "run", yaml, "--json", "--no-plot"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert all(x["pass"] for x in out["expect"])
    s1 = [x for x in out["violations"] if x["property"] == "S1"]
    assert s1 and " ms)" in s1[0]["detail"] and 0 < out["split_brain_s"] < 1.0
    assert main(["sim", "run", yaml, "--check", "--no-plot"]) == 1  # a safety violation fails --check


def test_a_safe_scenario_runs_every_property_clean() -> None:
    """The invariants run inside every simulator run: the reference story breaks none."""
    from sim.story.scenario import load_scenario

    r = Runner(load_scenario(ROOT / "scenarios" / "site-crash.yaml")).run()
    assert r.violations == [] and r.checker.liveness_checked


def test_fault_vocabulary_maps_both_ways_and_names_what_it_cannot() -> None:
    """Checker steps become scenario faults and back, unchanged (loss and duplication kept); a step the
    topology or the scenario vocabulary cannot express is an error naming it, never dropped."""
    config, schedule = load_replay(ROOT / "scenarios" / "both-continue-cex.json")
    base = parse_scenario("name: x\n", "x")
    from quorum.testing import schedule as sch

    steps = [
        sch.Degrade(at=1.0, src="A", dst="W", oneway=True, delay=0.2, loss=0.3, duplicate=0.1, reorder=0.4),
        sch.Heal(at=2.0, src="B", dst="A", oneway=True),
        sch.Cut(at=3.0, src="A", dst="B", path=1),
        sch.Flap(at=4.0, src="B", dst="W", period=0.5, count=2),
        sch.Isolate(at=5.0, node="W"),
        sch.HealAll(at=6.0),
        sch.Unhealthy(at=7.0, site="A", duration=2.0),
        sch.Veto(at=8.0, site="B", duration=2.0),
        sch.MaintenanceStep(at=9.0, duration=3.0, reason="firmware"),
        sch.Pause(at=10.0, node="B", duration=1.5),
        sch.Drift(at=11.0, node="W", rate=1.0005),
        sch.CrashAfterPersist(at=12.0, node="W"),
        Lie(at=13.0, site="A", ahead=2, role="mirrored", want="solo", current=False, preelected="A"),
    ]
    faults = step_faults(base, steps)
    assert len(faults) == len(steps)
    assert scenario_steps(base.model_copy(update={"faults": tuple(faults)})) == steps
    one_path = parse_scenario(
        "name: y\ntopology:\n  links:\n    - {name: ab, between: [A, B]}\n    - {name: aw, between: [A, W]}\n",
        "y",
    )
    with pytest.raises(ScenarioError, match=r"step 0 \(cut A<->B path 1\): link 'ab' has 1 path"):
        step_faults(one_path, [sch.Cut(at=0, src="A", dst="B", path=1)])
    with pytest.raises(ScenarioError, match=r"step 0 \(cut B<->W\): no link joins B and W"):
        step_faults(one_path, [sch.Cut(at=0, src="B", dst="W")])
    assert config.policy.value == "both-continue" and schedule.steps


def test_a_replay_the_topology_cannot_express_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from quorum.testing.schedule import Cut

    save_schedule(tmp_path / "s.json", QuorumConfig(), Schedule(steps=(Cut(at=1, src="B", dst="W"),)))
    f = tmp_path / "x.yaml"
    f.write_text(
        "name: x\nreplay: s.json\ntopology:\n  links:\n    - {name: ab, between: [A, B]}\n"
        "    - {name: aw, between: [A, W]}\n"
    )
    assert main(["sim", "validate", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no link joins B and W" in err[0], err


def test_a_lie_replays_in_the_simulator_as_in_the_checker(tmp_path: Path) -> None:
    """The forged-request step is a scenario fault too (``do: lie``): the issue's epoch-50 claim
    changes nothing in the simulator either, and the alarm is in its timeline."""
    save_schedule(
        tmp_path / "s.json",
        QuorumConfig(),
        Schedule(steps=(Lie(at=3, site="B", ahead=49, role="mirrored", want="report"),)),
    )
    r = _simulate(tmp_path / "s.json")
    assert r.violations == [] and r.role_changes == 0
    assert any(e.kind == "alarm" and "epoch 50" in e.text for e in r.timeline)
