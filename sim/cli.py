"""``quorum sim schema | validate FILE | run FILE``: the simulator's command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, ScenarioError, json_schema, load_scenario


def _load(path: str) -> Scenario:
    from quorum.cli import UsageError

    try:
        return load_scenario(Path(path))
    except ScenarioError as e:
        raise UsageError(str(e)) from None


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    sc = _load(args.file)
    print(f"{args.file}: ok ({sc.name}: {len(sc.faults)} faults, {len(sc.topology.links)} links)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from quorum.cli import UsageError

    sc = _load(args.file)
    if args.years is not None:
        from sim.years import run_years

        if args.years <= 0:
            raise UsageError(f"--years must be positive (got {args.years})")
        from sim.yearscheck import check_years

        res = run_years(sc, args.years, args.seed)
        ye = sc.years_expect
        same = ye is not None and ye.years == args.years and ye.seed == args.seed
        res["expect"] = check_years(sc, res) if same else []  # its bounds hold for its own years and seed
        print(json.dumps(res, indent=2) if args.json else _years_text(res))
        failed_years = [x for x in res["expect"] if not x["pass"]]
        if failed_years and not args.json:
            print("\n".join(f"FAIL {x['check']} (got {x['value']})" for x in failed_years))
        return 1 if (args.check and failed_years) else 0
    from sim.report import as_json, check_expect, plot, summary
    from sim.runner import Runner

    if args.no_plot and args.plot:
        raise UsageError("--no-plot and --plot PNG contradict each other: give one")
    r = Runner(sc, args.seed, keep_samples=not args.no_plot).run()
    if args.json:
        print(json.dumps(as_json(r, args.seed), indent=2))
    else:
        print(summary(r, args.seed))
    if not args.no_plot:
        png = Path(args.plot) if args.plot else Path("out") / f"{Path(args.file).stem}.png"
        plot(r, png)
        if not args.json:
            print(f"plot written to {png}")
    failed = [x for x in check_expect(r) if not x["pass"]]
    return 1 if (args.check and failed) else 0


def cmd_tiers(args: argparse.Namespace) -> int:
    from quorum.cli import UsageError
    from sim.tiers import TIERS, single_site, table_text

    rows: list[dict[str, Any]] = [t.to_dict() for t in TIERS.values()]
    if args.verify:
        from sim.replicate import replicate

        if args.outages <= 0:
            raise UsageError(f"--outages must be positive (got {args.outages})")
        for row, t in zip(rows, TIERS.values(), strict=True):
            years = args.outages / t.outages_per_year / 10
            fig = replicate(single_site(t.name), years, 10, seed=args.seed)["availability"]
            row["single_site_estimate"] = fig.to_dict()
            row["inside"] = fig.low <= t.availability <= fig.high
    if args.json:
        print(json.dumps(rows, indent=2))
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


def _years_text(res: dict[str, Any]) -> str:
    lines = [f"{k:<24} {v}" for k, v in res.items() if not isinstance(v, dict | list)]
    for k, v in res.items():  # distributions (rpo_s, restore_s): n, mean, p50, p95, max
        if isinstance(v, dict) and "p95" in v:
            shown = " ".join(f"{q}={x:.6g}" if isinstance(x, float) else f"{q}={x}" for q, x in v.items())
            lines.append(f"{k:<24} {shown}")
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
    p.set_defaults(func=cmd_run)
    p = ss.add_parser("tiers", help="the Tier presets: availability, downtime, failure and repair laws")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--verify", action="store_true", help="run a single-site design per Tier (years mode)")
    p.add_argument(
        "--outages", type=float, default=1500, metavar="N", help="site outages per Tier (--verify)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.set_defaults(func=cmd_tiers)
