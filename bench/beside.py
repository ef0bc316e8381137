"""Today's world beside an earlier commit's, in one run: the checker's and the simulator's speed.

Run: ``python bench/beside.py [--ref 69272ae] [--rounds 5]`` (``make bench-beside``). The earlier commit
is checked out into a temporary git worktree (removed at the end) and both trees run the same workloads
in fresh interpreters, alternately, ``--rounds`` times, so slow and fast moments of the machine fall on
both sides. Each workload is timed in CPU seconds of its own process (``time.process_time``: other load on
the machine does not count) and in wall seconds; the best and the median run of each side and their
ratios today/earlier are printed (the verdict on the best: noise only ever slows a run down).

Workloads (the same code and inputs on both sides, each tree's own package):
- ``schedules/s``: ``explore(QuorumConfig(), N, seed=1)`` (hypothesis generation included; the
  checker's figure in ``python -m quorum.bench``);
- ``driver runs/s``: one fixed schedule (a cut of A-B at 5 s) run by the checker's driver, many times;
- ``scenario runs/s``: ``scenarios/site-crash.yaml`` run by the simulator's runner at message level;
- ``years/s``: ``run_years`` of ``scenarios/reference.yaml`` (the years mode as a whole: on a commit
  before the availability engine this also measures that rewrite, not the world alone).

The default reference, 69272ae, is main before the one world (issue 15) and the availability engine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKLOAD = r"""
import json, sys, time
from pathlib import Path
from quorum.core import QuorumConfig
from quorum.testing import explore, run_schedule
from quorum.testing.schedule import Cut, Schedule
try:  # the layered sim/ (this tree) or the flat one (the reference commit)
    from sim.story.runner import run_scenario
    from sim.story.scenario import load_scenario
    from sim.years.engine import run_years
except ImportError:
    from sim.runner import run_scenario
    from sim.scenario import load_scenario
    from sim.years import run_years

schedules, driver_runs, scenario_runs, years = (float(a) for a in sys.argv[1:5])
out = {}

def timed(key, units, fn):
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    c1, w1 = time.process_time(), time.perf_counter()
    out[key] = {"cpu": units / (c1 - c0), "wall": units / (w1 - w0)}

config = QuorumConfig()
def exploring():
    report = explore(config, int(schedules), seed=1)
    assert report.counterexample is None and report.schedules == int(schedules), report.schedules
timed("schedules/s", schedules, exploring)

sched = Schedule(seed=1, steps=(Cut(at=5, src="A", dst="B"),))
def driving():
    for _ in range(int(driver_runs)):
        assert not run_schedule(config, sched, trace=False).violations
timed("driver runs/s", driver_runs, driving)

sc = load_scenario(Path("scenarios/site-crash.yaml"))
def simulating():
    for i in range(int(scenario_runs)):
        run_scenario(sc, i)
timed("scenario runs/s", scenario_runs, simulating)

ref = load_scenario(Path("scenarios/reference.yaml"))
timed("years/s", years, lambda: run_years(ref, years, 0))
print(json.dumps(out))
"""


def measure(tree: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tree)  # the tree's own package, ahead of the installed one
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD, str(args.schedules), str(args.driver_runs),
         str(args.scenario_runs), str(args.years)],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench/beside.py: the workload failed in {tree}:\n{done.stderr[-3000:]}")
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/beside.py", description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default="69272ae", help="the earlier commit to measure beside (69272ae)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating runs of each tree (7)")
    ap.add_argument("--schedules", type=int, default=200, help="schedules explored per run (200)")
    ap.add_argument("--driver-runs", type=int, default=100, help="fixed-schedule driver runs (100)")
    ap.add_argument("--scenario-runs", type=int, default=40, help="site-crash scenario runs (40)")
    ap.add_argument("--years", type=float, default=1000.0, help="simulated years per run (1000)")
    args = ap.parse_args(argv)
    if min(args.rounds, args.schedules, args.driver_runs, args.scenario_runs) < 1 or not args.years > 0:
        ap.error("--rounds, --schedules, --driver-runs, --scenario-runs must be >= 1 and --years > 0")
    head = (
        subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or "working tree"
    )
    with tempfile.TemporaryDirectory(prefix="quorum-beside-") as tmp:
        ref_tree = Path(tmp) / "ref"
        add = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(ref_tree), args.ref],
            capture_output=True, text=True,
        )  # fmt: skip
        if add.returncode != 0:
            raise SystemExit(f"bench/beside.py: cannot check out {args.ref}: {add.stderr.strip()}")
        try:
            runs: dict[str, list[dict[str, dict[str, float]]]] = {"today": [], "ref": []}
            for r in range(args.rounds):
                order = [("today", ROOT), ("ref", ref_tree)]
                for side, tree in order if r % 2 == 0 else order[::-1]:
                    runs[side].append(measure(tree, args))
                print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref_tree)],
                capture_output=True,
            )  # fmt: skip
    print(
        f"today ({head}) beside {args.ref}: {args.rounds} alternating runs per side, per CPU second of"
        " each process (other load does not count); best = the fastest run (noise only slows a run"
        " down, as timeit reasons), median beside it; wall-clock medians last"
    )
    print(
        f"{'':18}{'today best':>11}{'ref best':>10}{'ratio':>7}{'today med':>11}{'ref med':>9}{'ratio':>7}"
        f"{'wall ratio':>12}"
    )
    for key in runs["today"][0]:
        t = [x[key]["cpu"] for x in runs["today"]]
        b = [x[key]["cpu"] for x in runs["ref"]]
        tw = statistics.median(x[key]["wall"] for x in runs["today"])
        bw = statistics.median(x[key]["wall"] for x in runs["ref"])
        best = max(t) / max(b)
        med = statistics.median(t) / statistics.median(b)
        verdict = "within 10 %" if best >= 0.9 else "SLOWER by more than 10 %"
        print(
            f"{key:18}{max(t):11,.1f}{max(b):10,.1f}{best:7.2f}{statistics.median(t):11,.1f}"
            f"{statistics.median(b):9,.1f}{med:7.2f}{tw / bw:12.2f}  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
