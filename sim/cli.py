"""``quorum sim schema | validate FILE | run FILE``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, ScenarioError, load_scenario


def register(sub: Any, usage_error: type[Exception]) -> None:
    """Add the ``sim`` command to the top-level parser's subcommands."""
    p = sub.add_parser("sim", help="simulate a scenario file (SimPy), or print/validate the schema")
    ss = p.add_subparsers(dest="sim_command", metavar="SUBCOMMAND", required=True)
    schema = ss.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(func=lambda a: _schema())
    validate = ss.add_parser("validate", help="check one scenario file")
    validate.add_argument("file")
    validate.set_defaults(func=lambda a: _validate(a, usage_error))
    run = ss.add_parser("run", help="run a scenario: summary, timeline, plot, expectations")
    run.add_argument("file")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--check", action="store_true", help="exit 1 when an expectation fails")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--plot", metavar="PNG", help="timeline plot path (default: out/<name>.png)")
    run.add_argument("--no-plot", action="store_true", help="do not write the plot")
    run.set_defaults(func=lambda a: _run(a, usage_error))


def _schema() -> int:
    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def _load(path: str, usage_error: type[Exception]) -> Scenario:
    try:
        if path.endswith(".json"):
            from sim.from_check import scenario_from_check

            return scenario_from_check(Path(path))
        return load_scenario(Path(path))
    except ScenarioError as e:
        raise usage_error(str(e)) from None


def _validate(args: argparse.Namespace, usage_error: type[Exception]) -> int:
    sc = _load(args.file, usage_error)
    print(
        f"{args.file}: valid scenario {sc.name!r} ({len(sc.faults)} faults, policy {sc.quorum.policy.value})"
    )
    return 0


def _run(args: argparse.Namespace, usage_error: type[Exception]) -> int:
    from sim.report import as_json, check_expectations, plot_timeline, summary, timeline_text
    from sim.runner import Simulation

    sc = _load(args.file, usage_error)
    if args.seed is not None and args.seed < 0:
        raise usage_error(f"--seed must be >= 0 (got {args.seed})")
    sim = Simulation(sc, seed=args.seed).run()
    checks = check_expectations(sim)
    plot: Path | None = None
    if not args.no_plot:
        plot = Path(args.plot) if args.plot else Path("out") / f"{Path(args.file).stem}.png"
        try:
            plot_timeline(sim, plot)
        except OSError as e:
            raise usage_error(f"--plot: cannot write {plot}: {e.strerror}") from None
    if args.json:
        print(json.dumps(as_json(sim, checks, plot), indent=2))
    else:
        print(summary(sim, checks))
        print("timeline:")
        print(timeline_text(sim))
        if plot:
            print(f"plot: {plot}")
    failed = [c for c in checks if not c.ok]
    return 1 if (args.check and failed) else 0
