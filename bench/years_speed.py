"""Figures, not tests: simulated years per second of the years engine, beside a bare SimPy loop and,
with ``--beside REF``, beside an earlier commit's engine in the same run.

Run with ``python bench/years_speed.py [--years-reference 1000] [--years-rare 5000] [--replications
1000] [--rounds 3] [--beside REF]`` (``make bench`` runs it ``--beside $(YEARS_REF)``, main before the
bulk engine). Each measurement runs in a fresh interpreter, timed in CPU seconds of its own process
(other load on the machine does not count): ``cold`` is the first run of the process (the message-level
runner decides every episode shape it meets), ``warm`` the same run again (every shape in the episode
cache of the process: the engine alone, its histories and accounting; its result must be the cold
run's). Workloads: ``reference`` (``scenarios/reference.yaml``, one run of ``--years-reference``
years), ``rare1`` (``scenarios/rare-overlap.yaml``: two sites, Weibull/lognormal laws, one run of
``--years-rare`` years) and ``ref-1y`` (the reference design as the plain estimator runs it:
``--replications`` one-year replications, ``SeedSequence(0)`` children, where starting a replication
costs too). With ``--beside`` the earlier commit is checked out into a temporary git worktree (removed at
the end) and both trees run alternately, ``--rounds`` times; the best and the median of each side and
the ratio of the bests are printed. Every run of a tree must give the same result (checked).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import simpy

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "reference": ROOT / "scenarios" / "reference.yaml",
    "rare1": ROOT / "scenarios" / "rare-overlap.yaml",
    "ref-1y": ROOT / "scenarios" / "reference.yaml",  # one-year replications (the plain estimator's)
}

WORKLOAD = r"""
import hashlib, json, sys, time
from pathlib import Path
try:  # the layered sim/ or the flat one of an older commit
    from sim.story.scenario import load_scenario
    from sim.years.engine import run_years
except ImportError:
    from sim.scenario import load_scenario
    from sim.years import run_years

path, years, reps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sc = load_scenario(Path(path))
out = {}
if reps:  # one-year replications, as the plain estimator runs them (SeedSequence children)
    import numpy as np
    from sim.years.engine import run_replication
    for label in ("cold", "warm"):
        c0 = time.process_time()
        res = [run_replication(sc, 1.0, np.random.SeedSequence(0, spawn_key=(i,))) for i in range(reps)]
        dt = time.process_time() - c0
        digest = hashlib.sha256(repr([r.downtime_s for r in res]).encode()).hexdigest()[:16]
        out[label] = {"years_per_s": reps / dt, "failures": sum(r.failures for r in res),
                      "episodes": sum(r.episodes for r in res), "digest": digest}
    print(json.dumps(out))
    sys.exit(0)
for label, seed in (("cold", 0), ("warm", 0)):
    c0 = time.process_time()
    res = run_years(sc, years, seed)
    dt = time.process_time() - c0
    digest = hashlib.sha256(json.dumps(res, sort_keys=True, default=str).encode()).hexdigest()[:16]
    out[label] = {"years_per_s": years / dt, "failures": res["failures"], "episodes": res["episodes"],
                  "digest": digest}
print(json.dumps(out))
"""


def bare_simpy_events_per_second(events: int = 200_000) -> float:
    """Events per second of a SimPy loop doing nothing but ``yield env.timeout(1)``."""
    env = simpy.Environment()

    def loop() -> Any:
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(loop())
    t0 = time.process_time()
    env.run()
    return events / (time.process_time() - t0)


def measure(tree: Path, scenario: Path, years: float, reps: int = 0) -> dict[str, Any]:
    """One fresh interpreter running ``tree``'s engine on ``scenario``: cold and warm years/s (``reps``
    one-year replications instead of one run of ``years`` if given)."""
    out = subprocess.run(
        [sys.executable, "-c", WORKLOAD, str(scenario), str(years), str(reps)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/years_speed.py", description=__doc__.split("\n")[0])
    ap.add_argument("--years-reference", type=float, default=1000.0, help="years per run, reference (1000)")
    ap.add_argument("--years-rare", type=float, default=5000.0, help="years per run, rare1 (5000)")
    ap.add_argument("--replications", type=int, default=1000, help="one-year replications, ref-1y (1000)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each measurement (3)")
    ap.add_argument("--beside", metavar="REF", help="an earlier commit measured alternately in the same run")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    if (
        args.rounds < 1
        or args.replications < 1
        or not (0 < args.years_reference <= 7000 and 0 < args.years_rare <= 7000)
    ):
        ap.error("--rounds and --replications must be >= 1 and --years-* in (0, 7000]")
    years = {"reference": args.years_reference, "rare1": args.years_rare, "ref-1y": float(args.replications)}
    with tempfile.TemporaryDirectory(prefix="years-speed-") as tmp:
        trees = {"this tree": ROOT}
        if args.beside:
            ref = Path(tmp) / "ref"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(ref), args.beside],
                check=True,
            )
            trees[args.beside] = ref
        try:
            runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for _ in range(args.rounds):  # alternately: slow and fast moments fall on both sides
                for name, path in SCENARIOS.items():
                    for label, tree in trees.items():
                        reps = args.replications if name == "ref-1y" else 0
                        runs.setdefault((name, label), []).append(measure(tree, path, years[name], reps))
        finally:
            if args.beside:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref)], check=True
                )
    ev = sorted(bare_simpy_events_per_second() for _ in range(args.rounds))
    print(
        f"bare SimPy loop: {ev[-1]:,.0f} events/s (CPU; best of {args.rounds}, median {ev[len(ev) // 2]:,.0f})"
    )
    for name in SCENARIOS:
        best: dict[tuple[str, str], float] = {}
        for label in trees:
            rs = runs[(name, label)]
            for phase in ("cold", "warm"):
                digests = {r[p]["digest"] for r in rs for p in ("cold", "warm")}
                assert len(digests) == 1, f"{label} is not reproducible on {name}"
                ys = sorted(r[phase]["years_per_s"] for r in rs)
                best[(label, phase)] = ys[-1]
                r0 = rs[0][phase]
                print(
                    f"{name:9} {label:10} {phase}: {ys[-1]:10,.0f} simulated years/s (best of {len(ys)};"
                    f" median {statistics.median(ys):,.0f}; {years[name]:g} years, {r0['failures']} failures,"
                    f" {r0['episodes']} episodes)"
                )
        if args.beside:
            for phase in ("cold", "warm"):
                ratio = best[("this tree", phase)] / best[(args.beside, phase)]
                print(f"{name:9} ratio this tree / {args.beside} ({phase}): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
