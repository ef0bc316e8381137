"""Figures, not tests: wall time to +-10 % at 95 % beside AvailSim4 2.2.1 on the issue-11 model.

``python bench/availability.py --availsim4 BIN --bench-python PY`` (``make bench`` builds the separate
bench venv that provides both: AvailSim4 is not a project dependency). The model
(``scenarios/two-of-three.yaml``): sites A and B fail exponentially with mean 1,000 h and are repaired in
8 h, the witness fails with mean 2,000 h and is repaired in 24 h, independent crews, links never fail.

0. ``quorum/`` and ``sim/`` are byte-compiled first, as ``pip install`` compiles an installed package
   (AvailSim4's in the bench venv is).
1. A pilot AvailSim4 run (200 one-year timelines) gives the standard deviation of a timeline's downtime;
   AvailSim4 then gets the timeline count that reaches the precision: ``(z sd / (precision mean))^2``.
   Its inputs are written by ``bench/availsim4_io.py`` (run in the bench venv).
2. Alternating, ``--runs`` times each (3): ``quorum sim availability --estimator importance`` (the full
   quorum logic, ``witness-preferred``; importance needs no exact model: the figure issue 20 asks for)
   *cold* (a fresh process, no shape store: the message-level runner decides every episode shape), the
   same *warm* (``--shape-cache``: a store filled beforehand by one untimed run with another seed, and by
   the warm runs before it: a user's next run of the same model and code; new seeds still meet new
   shapes) and ``availsim4`` with that count, each a fresh process, each run with its own seed. Wall and
   CPU times, the intervals and the ratios of the medians, cold and warm.
3. The control-variate (exact CTMC) and plain estimators' times beside it; simulated years per second of
   the engine (plain, a fixed number of years) at 1, 2 and all workers.
4. The reference design (``scenarios/reference.yaml``) to +-10 % with today's plain replications and with
   ``--estimator importance`` (cold; then warm from a store filled by another seed; then the same seed
   again, every shape from the store), in one run (``--reference-max-years`` caps the plain run: its time is then
   a lower bound and says so); a design with U near 1e-8 (``scenarios/rare-overlap.yaml`` with failures
   every 240,000 h: exact U = (24/240024)^2 = 1.0e-8) to +-10 % with importance, against the exact value.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "scenarios" / "two-of-three.yaml"
IO = ROOT / "bench" / "availsim4_io.py"
QUORUM = [sys.executable, "-c", "import sys; from quorum.cli import main; sys.exit(main())"]
YEAR_H = 8766.0


CPU: list[float] = []  # CPU seconds (user + system) of the last timed command and its children


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str], **kw: Any) -> tuple[float, subprocess.CompletedProcess[str]]:
    c0 = _cpu()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    dt = time.perf_counter() - t0
    CPU.append(_cpu() - c0)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    return dt, p


def _availsim4(
    binary: str, py: str, folder: Path, timelines: int, seed: int
) -> tuple[float, dict[str, float]]:
    """One AvailSim4 run (inputs written beforehand, not timed): wall time and its result."""
    inp = folder / f"in-{timelines}-{seed}"
    subprocess.run([py, str(IO), "inputs", str(inp), str(timelines), str(seed)], check=True)
    out = folder / f"out-{timelines}-{seed}"
    dt, _ = _timed(
        [binary, "--simulation", str(inp / "simulation.xlsx"), "--system", str(inp / "system.xlsx"),
         "--output_folder", str(out)]
    )  # fmt: skip
    res = next(out.glob("simulation_result_*.xlsx"))
    r = json.loads(
        subprocess.run([py, str(IO), "result", str(res)], capture_output=True, text=True, check=True).stdout
    )
    r["timelines"] = timelines
    return dt, r


WORKERS: list[str] = []  # --workers K for quorum's runs (empty: the CLI's default, every core)


def _ours(*args: str, model: Path = MODEL) -> tuple[float, dict[str, Any]]:
    dt, p = _timed([*QUORUM, "sim", "availability", str(model), "--json", *WORKERS, *args], cwd=ROOT)
    return dt, json.loads(p.stdout)


def _load() -> str:
    a, b, c = os.getloadavg()
    return f"load average {a:.2f} {b:.2f} {c:.2f}"


def _line(what: str, dt: float, d: dict[str, Any], exact: float | None = None) -> str:
    u = d["unavailability"]
    hw = (u["high"] - u["mean"]) / u["mean"] if u["high"] is not None and u["mean"] else None
    size = (
        f"{d['events']['episodes']} episodes"
        if d["estimator"] == "importance"
        else f"{d['simulated_years']:g} simulated years"
    )
    holds = ""
    st = d.get("structural_unavailability") or d.get("structural_unavailability_mc")
    if exact is not None and st is not None and st["low"] is not None and st["high"] is not None:
        holds = (
            f"; structural part {st['mean']:.4g} [{st['low']:.4g}, {st['high']:.4g}]: exact {exact:.4g}"
            f" {'inside' if st['low'] <= exact <= st['high'] else 'OUTSIDE'} (the rest of U: detection"
            " and failover seconds)"
        )
    ev = d.get("events") or {}
    if d["estimator"] == "importance" and "episode_shapes_decided" in ev:
        size += f", {ev['episode_shapes_decided']} shapes decided"
    return (
        f"{what}: {dt:.1f} s wall, {CPU[-1]:.1f} s CPU, {d['estimator']}, {size}: U {u['mean']:.4g}"
        f" [{u['low']:.4g}, {u['high']:.4g}] (+-{100 * hw:.1f} %), precision"
        f" {'reached' if d['precision_reached'] else 'NOT reached'}{holds}"
        if hw is not None
        else f"{what}: {dt:.1f} s wall, {size}: no interval"
    )


def rare_and_reference(precision: float, reference_max_years: float | None) -> None:
    """Part 4 of the module docstring: the reference design (plain, then importance) and U near 1e-8."""
    ref = ROOT / "scenarios" / "reference.yaml"
    cap = [] if reference_max_years is None else ["--max-years", str(reference_max_years)]
    dt, d = _ours("--seed", "1", "--precision", str(precision), "--estimator", "plain", *cap, model=ref)
    print(_line("reference design, plain (today's estimator)", dt, d))
    if not d["precision_reached"]:
        print("  " + "; ".join(d["notes"][-2:]))
    if not d["precision_reached"]:
        print(f"  (plain capped: +-{100 * precision:g} % would take longer than {dt:.0f} s)")
    imp = ("--precision", str(precision), "--estimator", "importance")
    dt, d = _ours("--seed", "1", *imp, model=ref)
    print(_line("reference design, importance, cold (no shape store)", dt, d) + f" ({_load()})")
    target = "meets" if dt <= 5 and d["precision_reached"] else "MISSES"
    print(f"  reference design to +-{100 * precision:g} % in {dt:.1f} s cold: {target} the 5 s target")
    with tempfile.TemporaryDirectory(prefix="bench-shapes-") as store:
        dt2, d2 = _ours("--seed", "2", *imp, "--shape-cache", store, model=ref)
        print(_line("  (fills the store) seed 2", dt2, d2))
        dt, d = _ours("--seed", "1", *imp, "--shape-cache", store, model=ref)
        print(_line("reference design, importance, warm (store filled by seed 2)", dt, d) + f" ({_load()})")
        target = "meets" if dt <= 5 and d["precision_reached"] else "MISSES"
        print(f"  reference design to +-{100 * precision:g} % in {dt:.1f} s warm: {target} the 5 s target")
        dt, d = _ours("--seed", "1", *imp, "--shape-cache", store, model=ref)
        print(_line("reference design, importance, seed 1 again (every shape from the store)", dt, d))
    text = (ROOT / "scenarios" / "rare-overlap.yaml").read_text(encoding="utf-8")
    assert text.count("mean: 3.6e7") == 2
    mttf_h, mdt_h = 240_000.0, 24.0 + 0.0005 / 3600  # repair plus half a 1 ms probe period
    exact = (mdt_h / (mttf_h + mdt_h)) ** 2
    with tempfile.TemporaryDirectory(prefix="bench-rare-") as tmp:
        path = Path(tmp) / "rare-1e-8.yaml"
        path.write_text(text.replace("mean: 3.6e7", f"mean: {mttf_h * 3600:.1f}"), encoding="utf-8")
        dt, d = _ours("--seed", "1", "--precision", str(precision), "--estimator", "importance", model=path)
    print(_line("U near 1e-8 (rare-overlap, failures every 240,000 h), importance", dt, d, exact))
    target = "meets" if dt <= 120 and d["precision_reached"] else "MISSES"
    print(f"  U near 1e-8 to +-{100 * precision:g} % in {dt:.1f} s: {target} the 2-minute target")


def _as4_interval(r: dict[str, float], z: float) -> tuple[float, float, float]:
    """AvailSim4 downtime per year (hours) with a normal interval from its per-row standard deviations."""
    scale = YEAR_H / r["total_h"]
    half = z * r["sd_h"] / math.sqrt(r["timelines"])
    return r["downtime_h"] * scale, (r["downtime_h"] - half) * scale, (r["downtime_h"] + half) * scale


def _compile() -> None:
    """Byte-compile the tree before any timed run: ``pip install`` compiles an installed package (the
    bench venv's AvailSim4 is), an editable checkout compiles at first import, and not at all where
    ``PYTHONDONTWRITEBYTECODE`` is set (then every quorum process compiled its 30 modules, 0.08 s)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "quorum", "sim"], cwd=ROOT, check=True)
    print("byte-compiled quorum/ and sim/ first (as pip does for an installed package, as AvailSim4's is)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/availability.py", description=__doc__.split("\n")[0])
    ap.add_argument("--availsim4", required=True, help="the availsim4 command of the bench venv")
    ap.add_argument("--bench-python", required=True, help="python of the bench venv (has openpyxl)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--precision", type=float, default=0.1)
    ap.add_argument("--pilot", type=int, default=200, help="AvailSim4 pilot timelines (200)")
    ap.add_argument("--years", type=float, default=2000.0, help="years per speed measurement (2000)")
    ap.add_argument(
        "--estimator", default="importance", help="quorum's estimator beside AvailSim4 (importance)"
    )
    ap.add_argument(
        "--reference-max-years", type=float, default=None, help="cap the reference design's plain run"
    )
    ap.add_argument("--only-rare", action="store_true", help="part 4 only (no AvailSim4)")
    ap.add_argument("--workers", type=int, default=None, help="quorum's --workers (default: every core)")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    if args.workers is not None:
        WORKERS[:] = ["--workers", str(args.workers)]
    if args.only_rare:
        _compile()
        rare_and_reference(args.precision, args.reference_max_years)
        return 0
    z = 1.959963984540054
    cores = os.cpu_count() or 1
    _compile()
    with tempfile.TemporaryDirectory(prefix="bench-availsim4-") as tmp:
        folder = Path(tmp)
        pdt, pilot = _availsim4(args.availsim4, args.bench_python, folder, args.pilot, 10**7)
        need = math.ceil((z * pilot["sd_h"] / (args.precision * pilot["downtime_h"])) ** 2)
        print(
            f"AvailSim4 pilot: {args.pilot} timelines in {pdt:.1f} s: downtime {pilot['downtime_h']:.3f} h/timeline,"
            f" sd {pilot['sd_h']:.3f} h -> {need} timelines for +-{100 * args.precision:g} % at 95 %"
        )
        ours_t: list[float] = []
        as4_t: list[float] = []
        ours_c: list[float] = []
        as4_c: list[float] = []
        warm_t: list[float] = []
        warm_c: list[float] = []
        store = folder / "shapes"
        est = ("--precision", str(args.precision), "--estimator", args.estimator)
        warm = ("--shape-cache", str(store)) if args.estimator == "importance" else ()
        if warm:
            dt, d = _ours("--seed", "99", *est, *warm)
            print(f"shape store filled by a run with seed 99 (not in the ratios): {dt:.2f} s wall")
        for i in range(args.runs):  # alternating, a new seed per run
            for phase, extra, ts, cs in (("cold", (), ours_t, ours_c), ("warm", warm, warm_t, warm_c)):
                if phase == "warm" and not warm:
                    continue
                dt, d = _ours("--seed", str(100 + i), *est, *extra)
                ts.append(dt)
                cs.append(CPU[-1])
                u = d["unavailability"]
                shapes = (d.get("events") or {}).get("episode_shapes_decided")
                print(
                    f"run {i + 1}: quorum {phase} {dt:6.2f} s wall, {CPU[-1]:6.2f} s CPU  {d['estimator']} ({d['replications']}"
                    f" {'episodes' if d['estimator'] == 'importance' else 'replications'},"
                    f" VRF {d['variance_reduction_factor'] or 1:.3g}"
                    + (f", {shapes} shapes decided" if shapes is not None else "")
                    + f"): downtime {u['mean'] * YEAR_H:.3f} h/year"
                    f" [{u['low'] * YEAR_H:.3f}, {u['high'] * YEAR_H:.3f}]"
                )
            # AvailSim4 seeds timeline j with SEED + j: seeds far apart so that no two runs share a timeline
            dt, r = _availsim4(args.availsim4, args.bench_python, folder, need, 10**6 * (i + 1))
            as4_t.append(dt)
            as4_c.append(CPU[-1])
            m, lo, hi = _as4_interval(r, z)
            print(
                f"run {i + 1}: AvailSim4 {dt:6.2f} s wall, {CPU[-1]:6.2f} s CPU  {need} timelines: downtime {m:.3f} h/year [{lo:.3f}, {hi:.3f}]"
            )
        for phase, ts, cs in (("cold", ours_t, ours_c), ("warm", warm_t, warm_c)):
            if not ts:
                continue
            ratio = statistics.median(as4_t) / statistics.median(ts)
            print(
                f"median wall time, {phase}: quorum {statistics.median(ts):.2f} s, AvailSim4 {statistics.median(as4_t):.2f} s:"
                f" quorum is {ratio:.1f}x faster ({'meets' if ratio >= 20 else 'MISSES'} the 20x target) on {cores} cores"
            )
            print(
                f"median CPU time, {phase}: quorum {statistics.median(cs):.2f} s, AvailSim4 {statistics.median(as4_c):.2f} s:"
                f" ratio {statistics.median(as4_c) / statistics.median(cs):.1f} ({_load()})"
            )
        print(
            "note: AvailSim4 solves the 2oo3 structure; quorum runs the quorum logic (detection, failover and the"
            " data-currency rule: a copy that missed the survivor's writes cannot serve alone), hence more downtime"
        )
    for est in ("control", "plain"):
        dt, d = _ours("--seed", "100", "--precision", str(args.precision), "--estimator", est)
        u = d["unavailability"]
        print(
            f"{est} estimator: {dt:.2f} s ({d['replications']} replications): downtime {u['mean'] * YEAR_H:.3f} h/year"
            f" [{u['low'] * YEAR_H:.3f}, {u['high'] * YEAR_H:.3f}]; {args.estimator}: median {statistics.median(ours_t):.2f} s"
        )
    for w in sorted({1, 2, cores}):
        _, d = _ours(
            "--estimator", "plain", "--precision", "1e-9", "--max-years", str(args.years), "--workers", str(w)
        )
        print(
            f"simulated years/s with {w} worker(s): {d['simulated_years'] / d['run']['elapsed_s']:,.0f}"
            f" ({d['simulated_years']:g} years in {d['run']['elapsed_s']:.2f} s, engine time)"
        )
    rare_and_reference(args.precision, args.reference_max_years)
    return 0


if __name__ == "__main__":
    sys.exit(main())
