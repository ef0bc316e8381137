"""``quorum sim schema | validate FILE | run FILE``: the simulator's command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quorum.inputs import InputError, dumps, float_flag, int_flag, number
from sim.story.scenario import Scenario, ScenarioError, json_schema, load_scenario

MAX_YEARS = 7000.0  # sim.years.engine.MAX_YEARS: the calendar of a years run ends in 9999
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "webp", "tif", "tiff", "eps", "ps")


def years_arg(flag: str, years: float) -> float:
    """``--years``-style numbers: finite, positive, at most :data:`MAX_YEARS` (for every command)."""
    return number(flag, years, gt=0, le=MAX_YEARS)


def check_plot_path(flag: str, path: Path) -> Path:
    """A plot file the run will be able to write, checked *before* the run (not after an hour of it)."""
    ext = path.suffix.lower().lstrip(".")
    if ext not in PLOT_FORMATS:
        raise InputError(
            f"{flag}: {str(path)!r} must end in one of .{', .'.join(PLOT_FORMATS)} (the format is the suffix)"
        )
    if path.is_dir():
        raise InputError(f"{flag}: {str(path)!r} is a directory")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag}: cannot write {str(path)!r} ({str(parent)!r} is not a writable directory)")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{flag}: cannot write {str(path)!r} (permission denied)")
    return path


def _load(path: str) -> Scenario:
    from quorum.inputs import UsageError

    try:
        return load_scenario(Path(path))
    except ScenarioError as e:
        raise UsageError(str(e)) from None


def cmd_schema(args: argparse.Namespace) -> int:
    print(dumps(json_schema(), indent=2))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    sc = _load(args.file)
    print(f"{args.file}: ok ({sc.name}: {len(sc.faults)} faults, {len(sc.topology.links)} links)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from quorum.inputs import UsageError

    if args.years is not None:
        from sim.years.engine import run_years

        years = years_arg("--years", args.years)
        if args.plot:
            raise UsageError("--plot does not apply to --years (years mode keeps aggregates, not a timeline)")
        sc = _load(args.file)
        from sim.years.check import check_years

        ye = sc.years_expect
        same = ye is not None and ye.years == years and ye.seed == args.seed
        if args.check and not same:
            raise UsageError(
                f"{args.file}: --check with --years checks the scenario's years_expect block, whose bounds"
                f" hold for its own years and seed (years={ye.years:g} --seed {ye.seed}, got {years:g} and"
                f" {args.seed})"
                if ye is not None
                else f"{args.file}: --check with --years checks the scenario's years_expect block, and it"
                " has none (its expect: block describes the fault story: run without --years to check it)"
            )
        from quorum.progress import advance_to, bar

        with bar(100, "simulated years", "%") as b:
            res = run_years(
                sc,
                years,
                args.seed,
                None if b.disable else (lambda f: advance_to(b, round(100 * f))),
                start=args.start,
            )
        res["expect"] = check_years(sc, res) if same else []  # its bounds hold for its own years and seed
        print(dumps(res, indent=2) if args.json else _years_text(res))
        failed_years = [x for x in res["expect"] if not x["pass"]]
        if failed_years and not args.json:
            print("\n".join(f"FAIL {x['check']} (got {x['value']})" for x in failed_years))
        return 1 if (args.check and failed_years) else 0
    if args.no_plot and args.plot:
        raise UsageError("--no-plot and --plot PNG contradict each other: give one")
    png = Path(args.plot) if args.plot else Path("out") / f"{Path(args.file).stem}.png"
    if not args.no_plot:
        check_plot_path("--plot", png)
    sc = _load(args.file)
    from sim.story.report import as_json, check_expect, plot, summary
    from sim.story.runner import Runner

    r = Runner(sc, args.seed, keep_samples=not args.no_plot).run()
    if args.json:
        print(dumps(as_json(r, args.seed), indent=2))
    else:
        print(summary(r, args.seed))
    if not args.no_plot:
        plot(r, png)
        if not args.json:
            print(f"plot written to {png}")
    failed = [x for x in check_expect(r) if not x["pass"]]
    unsafe = r.safety_violations()  # whatever the expect: block says, a broken safety property fails
    if args.check and unsafe and not args.json:
        print("\n".join(f"FAIL {v.property} at {v.at:.3f}s: {v.detail}" for v in unsafe))
    return 1 if (args.check and (failed or unsafe)) else 0


def cmd_availability(args: argparse.Namespace) -> int:
    from quorum.inputs import UsageError
    from sim.availability.ctmc import NotExactError
    from sim.availability.estimate import RequestError, estimate
    from sim.availability.executors import ExecutorError, make_executor

    if args.max_years is not None:
        number("--max-years", args.max_years, gt=0, le=1e9)
    sc = _load(args.file)
    try:
        executor = make_executor(args.executor, args.workers, args.scheduler)
    except ExecutorError as e:
        raise UsageError(str(e)) from None
    from quorum.progress import bar

    b = bar(None, "availability", "batch")
    try:
        rep = estimate(
            sc,
            precision=args.precision,
            confidence=args.confidence,
            max_years=args.max_years,
            seed=args.seed,
            executor=executor,
            estimator=args.estimator,
            sla=args.sla,
            progress=None if b.disable else (lambda p: _show(b, p)),
            exact=args.exact,
            start=args.start,
            shape_cache=args.shape_cache,
        )
    except (RequestError, NotExactError, ExecutorError) as e:
        raise UsageError(str(e)) from None
    finally:
        executor.close()
        b.close()
    if args.csv:
        import csv

        path = Path(args.csv)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="", encoding="utf-8") as fh:
                rows = [r.row() for r in rep.reps]
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        except OSError as e:
            raise UsageError(f"--csv {args.csv}: cannot write: {e.strerror}") from None
    d = rep.to_dict()
    print(dumps(d, indent=2) if args.json else _availability_text(d))
    return 0


def _show(b: Any, p: Any) -> None:
    """The availability bar: replications and years (or episodes: the importance estimator simulates no
    calendar years), the current half-width against the target."""
    hw = "-" if p.relative_half_width is None else f"{100 * p.relative_half_width:.2f}%"
    done = f"{p.replications} runs, {p.years:g} y" if p.years > 0 else f"{p.replications} episodes"
    b.set_postfix_str(f"{done}, half-width {hw} (target {100 * p.precision:g}%)")
    b.update(1)


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.4g}"
    return str(x)


def _availability_text(d: dict[str, Any]) -> str:
    conf = f"{100 * d['confidence']:g}%"
    ev = d.get("events") or {}
    head = (
        f"scenario {d['scenario']}: {ev.get('episodes', d['replications'])} episodes from the all-up state"
        f" (seed {d['seed']}, {d['run']['elapsed_s']:.2f} s)"
        if d["estimator"] == "importance"
        else f"scenario {d['scenario']}: {d['replications']} replications x {d['replication_years']:g} years"
        f" = {d['simulated_years']:g} simulated years (seed {d['seed']}, {d['run']['workers']} workers,"
        f" {d['run']['elapsed_s']:.2f} s)"
    )
    lines = [
        head,
        f"estimator {d['estimator']}"
        + (
            f", variance reduction factor {d['variance_reduction_factor']:.4g}"
            if d["variance_reduction_factor"]
            else ""
        )
        + f"; precision {d['precision']:g} {'reached' if d['precision_reached'] else 'NOT reached'}",
        f"{'figure':<34} {'mean':>13}  {conf + ' interval':<29} method",
    ]
    for k, v in d.items():
        if isinstance(v, dict) and "method" in v and "mean" in v:
            iv = f"[{_fmt(v['low'])}, {_fmt(v['high'])}]"
            lines.append(f"{k:<34} {_fmt(v['mean']):>13}  {iv:<29} {v['method']}")
    if d["exact"]:
        e, c = d["exact"], d["comparison"]
        lines.append(
            f"exact structural unavailability {e['unavailability']:.6g} ({e['method']}, {e['states']} states"
            + (f"; {e['approximation']}" if e["approximation"] else "; exact for years mode")
            + ")"
        )
        g = c["detection_and_failover_per_year_s"]
        lines.append(
            f"Monte Carlo minus exact: {c['difference']:.4g}; detection and failover (quorum minus structure on"
            f" the same histories) account for {g['mean']:.4g} s/year [{_fmt(g['low'])}, {_fmt(g['high'])}]"
            f" = {c['detection_and_failover_unavailability']:.4g} of unavailability"
        )
    for cause, v in (d.get("downtime_by_cause_per_year_s") or {}).items():
        iv = f"[{_fmt(v['low'])}, {_fmt(v['high'])}]"
        lines.append(f"{'  by cause: ' + cause:<34} {_fmt(v['mean']):>13}  {iv:<29} s/year")
    if "observed" in ev:
        lines.append(
            f"events: {ev['observed']} {ev['kind']} observed"
            + (
                f", {ev['needed_for_precision']} needed for the precision"
                if ev["needed_for_precision"]
                else ""
            )
        )
        for q in ev.get("classes") or []:
            lines.append(
                f"  cut {q['cut']}: {q['observed']} seen, {q['needed']} needed"
                f" (prior U {q['prior_unavailability']:.3g})"
            )
    elif "episodes" in ev:
        lines.append(
            f"events: {ev['overlap_episodes']} of {ev['episodes']} episodes with an overlap"
            f" ({ev['overlap_episodes_with_downtime']} with downtime), effective number of weighted"
            f" contributions {ev['effective_contributions']:.0f} ({ev['needed_effective_contributions']:g}"
            " needed)"
        )
    lines.extend(f"note: {n}" for n in d["notes"])
    return "\n".join(lines)


def cmd_tiers(args: argparse.Namespace) -> int:
    from sim.years.tiers import TIERS, single_site, table_text

    rows: list[dict[str, Any]] = [t.to_dict() for t in TIERS.values()]
    if args.verify:
        from sim.availability.replicate import replicate

        number("--outages", args.outages, gt=0, le=1e7)
        for row, t in zip(rows, TIERS.values(), strict=True):
            years = args.outages / t.outages_per_year / 10
            fig = replicate(single_site(t.name), years, 10, seed=args.seed)["availability"]
            row["single_site_estimate"] = fig.to_dict()
            row["inside"] = fig.low <= t.availability <= fig.high
    if args.json:
        print(dumps(rows, indent=2))
        return 0
    print(table_text())
    for row in rows:
        est = row.get("single_site_estimate")
        if est is not None:
            print(
                f"tier {row['tier']:<4} single site: {100 * est['mean']:.4f}% "
                f"[{100 * est['low']:.4f}, {100 * est['high']:.4f}] "
                f"({'contains' if row['inside'] else 'MISSES'} {100 * row['availability']:.3f}%; {est['method']})"
            )
    return 0


def _engine_kw(args: argparse.Namespace) -> dict[str, Any]:
    """Options shared by compare and sweep (the availability engine's)."""
    from quorum.inputs import UsageError

    if args.max_years is not None:
        number("--max-years", args.max_years, gt=0, le=1e9)
    if not 0 < args.sla < 1:
        raise UsageError(f"--sla must be in (0, 1) (got {args.sla})")
    return {"precision": args.precision, "max_years": args.max_years, "seed": args.seed, "sla": args.sla}


def _executor(args: argparse.Namespace) -> Any:
    from quorum.inputs import UsageError
    from sim.availability.executors import ExecutorError, make_executor

    try:
        return make_executor(args.executor, args.workers, args.scheduler)
    except ExecutorError as e:
        raise UsageError(str(e)) from None


def _outputs(args: argparse.Namespace, stem: str) -> tuple[Path, Path, Path]:
    """The CSV/JSON/PNG paths, in a directory checked writable *before* the run (not after an hour)."""
    from quorum.inputs import UsageError

    out = Path(args.out) if args.out else Path("out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".{stem}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"--out: cannot write in {str(out)!r}: {e.strerror}") from None
    return out / f"{stem}.csv", out / f"{stem}.json", out / f"{stem}.png"


def _study(
    args: argparse.Namespace,
    kind: str,
    check: Callable[[Scenario], Any],
    run: Callable[..., Any],
    rows: Callable[[Any], list[dict[str, Any]]],
) -> tuple[Any, tuple[Path, Path, Path]]:
    """The shape ``compare`` and ``sweep`` share: load the file, check every name and value before
    anything runs (a bad one is one line naming it), run on the executor with a progress bar, write the
    result's ``rows`` as CSV and the result as JSON; returns the result and the output paths (CSV, JSON,
    PNG)."""
    from quorum.inputs import UsageError
    from quorum.progress import advance_to, bar
    from sim.studies.compare import CompareError, write_csv, write_json
    from sim.studies.sweep import SweepError

    sc = _load(args.file)
    kw = _engine_kw(args)
    try:
        check(sc)
    except (CompareError, SweepError) as e:
        raise UsageError(f"{args.file}: {e}") from None
    paths = _outputs(args, f"{Path(args.file).stem}-{kind}")
    ex = _executor(args)
    try:
        with bar(None, kind, "design" if kind == "compare" else "point") as b:

            def tick(done: int, total: int) -> None:
                b.total = total
                advance_to(b, done)

            res = run(sc, executor=ex, progress=None if b.disable else tick, **kw)
    finally:
        ex.close()
    write_csv(rows(res), paths[0])
    write_json(res, paths[1])
    return res, paths


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.studies.compare import compare, designs, plot, rows_flat, text

    names = [n.strip() for n in args.designs.split(",") if n.strip()]
    res, (csv_p, json_p, png_p) = _study(
        args,
        "compare",
        lambda sc: designs(sc, names),
        lambda sc, **kw: compare(sc, names, **kw),
        rows_flat,
    )
    plot(res, png_p)
    print(dumps(res, indent=2) if args.json else text(res))
    if not args.json:
        print(f"written: {csv_p}, {json_p}, {png_p}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from quorum.inputs import UsageError
    from sim.studies.sweep import SweepError, grid, parse_vary, sweep

    try:
        varies = [parse_vary(v) for v in args.vary]
    except SweepError as e:
        raise UsageError(f"{args.file}: {e}") from None
    rows, (csv_p, json_p, _) = _study(
        args,
        "sweep",
        lambda sc: grid(sc, varies),
        lambda sc, **kw: sweep(sc, varies, **kw),
        lambda rows: rows,  # sweep's result is already tidy rows
    )
    if args.json:
        print(dumps(rows, indent=2))
    else:
        paths = [p for p, _ in varies]
        print(
            "  ".join(f"{p:>24}" for p in paths)
            + "  availability % [95% interval]        downtime s/yr [interval]"
        )

        def f(x: float | None, fmt: str, scale: float = 1.0) -> str:
            return "-" if x is None else format(scale * x, fmt)  # a bound that does not exist: '-'

        for r in rows:
            print(
                "  ".join(f"{r[p]!s:>24}" for p in paths)
                + f"  {f(r['availability_mean'], '.5f', 100)} [{f(r['availability_low'], '.5f', 100)}, "
                + f"{f(r['availability_high'], '.5f', 100)}]"
                + f"  {f(r['downtime_per_year_s_mean'], '.4g')} [{f(r['downtime_per_year_s_low'], '.4g')}, "
                + f"{f(r['downtime_per_year_s_high'], '.4g')}]"
            )
        print(f"method: {rows[0]['availability_method']} ({rows[0]['engine']})" if rows else "no points")
        print(f"written: {csv_p}, {json_p}")
    return 0


def _precision_arg(p: Any, help: str) -> None:
    from sim.availability.estimate import MIN_PRECISION

    p.add_argument(
        "--precision",
        type=float_flag(MIN_PRECISION, 1.0),
        default=0.1,
        help=f"{help}, from {MIN_PRECISION:g} to 1 (0.1)",
    )


def _workers_arg(p: Any) -> None:
    from sim.availability.executors import max_workers, usable_cores

    p.add_argument(
        "--workers",
        type=int_flag(1, max_workers()),
        default=None,
        metavar="N",
        help=f"local processes, 1 to twice the usable cores ({max_workers()} here; default: all"
        f" {usable_cores()} cores)",
    )


def _engine_args(p: Any) -> None:
    _precision_arg(p, "relative half-width of the unavailability (engine)")
    p.add_argument(
        "--max-years", type=float, default=None, metavar="Y", help="simulated years cap per design (engine)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--sla", type=float, default=0.98, help="monthly availability promised (default 0.98)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    _workers_arg(p)
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--out", metavar="DIR", help="directory of the CSV/JSON/PNG (default out/)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _years_text(res: dict[str, Any]) -> str:
    lines = [f"{k:<24} {v}" for k, v in res.items() if not isinstance(v, dict | list)]
    for k, v in res.items():  # distributions (rpo_s, restore_s): n, mean, p50, p95, max
        if isinstance(v, dict) and "p95" in v:
            shown = " ".join(f"{q}={x:.6g}" if isinstance(x, float) else f"{q}={x}" for q, x in v.items())
            lines.append(f"{k:<24} {shown}")
    pv = res.get("property_violations")
    if isinstance(pv, dict):  # S1-S3, L1 of quorum.testing in every episode
        by = ", ".join(f"{p} in {n}" for p, n in pv["by_property"].items()) or "none"
        lines.append(f"{'property violations':<24} {pv['episodes']} episode(s) under {pv['policy']}: {by}")
        lines += [f"  {x}" for x in pv["first"]]
    return "\n".join(lines)


def register(sub: Any) -> None:
    """Add ``sim`` to the ``quorum`` command's subparsers."""
    sim = sub.add_parser("sim", help="discrete-event simulator: run scenario files")
    ss = sim.add_subparsers(dest="sim_command", metavar="SIMCOMMAND", required=True)
    p = ss.add_parser("schema", help="print the scenario JSON Schema")
    p.set_defaults(func=cmd_schema)
    p = ss.add_parser("validate", help="validate a scenario file")
    p.add_argument("file")
    p.set_defaults(func=cmd_validate)
    p = ss.add_parser("run", help="run a scenario: summary, timeline, plot")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--check", action="store_true", help="exit 1 when an expectation fails")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--plot", metavar="PNG", help="timeline plot (default out/<name>.png)")
    p.add_argument("--no-plot", action="store_true", help="no plot (and no per-tick samples kept)")
    p.add_argument("--years", type=float, metavar="N", help="random failures over N years instead")
    p.add_argument(
        "--start",
        choices=("steady", "new"),
        default="steady",
        help="with --years: start in the stationary regime (default) or with brand-new components",
    )
    p.set_defaults(func=cmd_run)
    p = ss.add_parser(
        "availability",
        help="availability with confidence: independent replications until a precision is reached",
    )
    p.add_argument("file")
    _precision_arg(p, "relative half-width of the unavailability to reach")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level (0.95)")
    p.add_argument("--max-years", type=float, default=None, metavar="N", help="stop after N simulated years")
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="replication i uses SeedSequence(S).spawn child i"
    )
    _workers_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--csv", metavar="PATH", help="write one row per replication")
    p.add_argument("--sla", type=float, default=0.98, help="monthly availability target (0.98)")
    p.add_argument("--exact", action="store_true", help="also solve the exact CTMC (exponential laws only)")
    p.add_argument(
        "--estimator",
        choices=("auto", "plain", "control", "importance"),
        default="auto",
        help="plain: mean of replications (any law); control: minus the structural downtime plus its exact"
        " CTMC mean (exponential laws only); importance: episodes from the all-up state with failure"
        " biasing and likelihood ratios (any law, steady state; exact start for exponential failures or"
        " independent components); auto: importance where the overlaps that carry U are too rare to see,"
        " else control when the exact model exists, else plain",
    )
    p.add_argument(
        "--start",
        choices=("steady", "new"),
        default="steady",
        help="steady: replications start in the stationary regime (default); new: brand-new components,"
        " the years after commissioning",
    )
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument(
        "--shape-cache",
        metavar="DIR",
        default=None,
        help="importance: keep the episode shapes the message-level runner decided in DIR, one file per"
        " model and code version (same figures; later runs decide only new shapes)",
    )
    p.set_defaults(func=cmd_availability)
    p = ss.add_parser("tiers", help="the Tier presets: availability, downtime, failure and repair laws")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--verify", action="store_true", help="run a single-site design per Tier (years mode)")
    p.add_argument(
        "--outages", type=float, default=1500, metavar="N", help="site outages per Tier (--verify)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.set_defaults(func=cmd_tiers)
    p = ss.add_parser(
        "compare", help="single site vs two sites without vs with a witness, beside Tiers and SLA"
    )
    p.add_argument("file")
    p.add_argument("--designs", default="single-site,no-witness,witness", help="comma-separated designs")
    _engine_args(p)
    p.set_defaults(func=cmd_compare)
    p = ss.add_parser("sweep", help="a grid of scenario variants (--vary PATH=V1,V2 ...), tidy CSV/JSON")
    p.add_argument("file")
    p.add_argument(
        "--vary", action="append", required=True, metavar="PATH=V1,V2", help="a field and its values"
    )
    _engine_args(p)
    p.set_defaults(func=cmd_sweep)
