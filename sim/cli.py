"""``quorum sim schema | validate FILE | run FILE``: the simulator's command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from quorum.inputs import InputError, dumps, number
from sim.scenario import Scenario, ScenarioError, json_schema, load_scenario

MAX_YEARS = 1e6
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "webp", "tif", "tiff", "eps", "ps")


def check_years(flag: str, years: float) -> float:
    """``--years``-style numbers: finite, positive, at most :data:`MAX_YEARS` (shared by the commands)."""
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

    if args.years is not None:
        from sim.years import run_years

        years = check_years("--years", args.years)
        if args.check:
            raise UsageError(
                "--check does not apply to --years: the expectations describe the scenario's fault story,"
                " which years mode replaces with random failures (run without --years to check them)"
            )
        if args.plot:
            raise UsageError("--plot does not apply to --years (years mode keeps aggregates, not a timeline)")
        sc = _load(args.file)
        res = run_years(sc, years, args.seed, _years_progress if sys.stderr.isatty() else None)
        print(dumps(res, indent=2) if args.json else _years_text(res))
        return 0
    png = Path(args.plot) if args.plot else Path("out") / f"{Path(args.file).stem}.png"
    check_plot_path("--plot", png)
    sc = _load(args.file)
    from sim.report import as_json, check_expect, plot, summary
    from sim.runner import run_scenario

    r = run_scenario(sc, args.seed)
    if args.json:
        print(dumps(as_json(r, args.seed), indent=2))
    else:
        print(summary(r, args.seed))
    plot(r, png)
    if not args.json:
        print(f"plot written to {png}")
    failed = [x for x in check_expect(r) if not x["pass"]]
    return 1 if (args.check and failed) else 0


def _years_progress(fraction: float) -> None:
    width = 30
    sys.stderr.write(f"\r  [{'#' * int(width * fraction):<{width}}] {fraction:4.0%} of the simulated years")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _years_text(res: dict[str, Any]) -> str:
    return "\n".join(f"{k:<24} {v}" for k, v in res.items() if not isinstance(v, dict | list))


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
    p.add_argument("--years", type=float, metavar="N", help="random failures over N years instead")
    p.set_defaults(func=cmd_run)
