"""The ``quorum`` command line.

Exit status: 0 all good, 1 a property was violated, 2 bad usage or bad input (one clear line on
stderr naming the field and value; never a traceback).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from pydantic import ValidationError

from quorum.core.config import Policy, QuorumConfig
from quorum.core.policies import POLICIES
from quorum.inputs import ArgumentParser, UsageError, dumps, int_flag, load_yaml, read_text, show

MAX_SCHEDULES = 100_000  # `quorum check --schedules`: minutes to hours, never "until killed"
MAX_STEPS = 50  # faults per schedule

PROPERTY_NAMES = {
    "S1": "no split-brain",
    "S2": "no lost acknowledged write",
    "S3": "epochs never go back",
    "L1": "liveness after faults stop",
    "L2": "no false failover",
}


def _format_config_error(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    where = f"field '{loc}'" if loc else "configuration"
    msg = first["msg"].removeprefix("Value error, ")
    shown = f" (got {show(first.get('input'))})" if loc else ""
    return f"{source}: {where}: {msg}{shown}"


def load_config(path: Path | None, overrides: dict[str, Any]) -> QuorumConfig:
    """Read a YAML or JSON configuration file (optional) and apply command-line overrides."""
    data: dict[str, Any] = {}
    source = "configuration"
    if path is not None:
        source = str(path)
        loaded, _ = load_yaml(read_text(path), source)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise UsageError(
                f"{path}: expected a mapping of configuration fields, got {type(loaded).__name__}"
            )
        data = dict(loaded.get("quorum", loaded)) if isinstance(loaded.get("quorum"), dict) else loaded
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return QuorumConfig.model_validate(data)
    except ValidationError as e:
        raise UsageError(_format_config_error(e, source)) from None


def cmd_check(args: argparse.Namespace) -> int:
    from quorum.testing.explore import explore, load_replay, save_schedule
    from quorum.testing.run import run_schedule
    from quorum.testing.schedule import ScheduleFileError

    if args.replay is not None:
        try:
            config, schedule = load_replay(Path(args.replay))
        except ScheduleFileError as e:
            raise UsageError(str(e)) from None
        if args.policy is not None:
            config = config.model_copy(update={"policy": Policy(args.policy)})
        result = run_schedule(config, schedule, trace=True)
        if args.json:
            print(
                dumps(
                    {
                        "policy": config.policy.value,
                        "replayed": str(args.replay),
                        "steps": [s.model_dump(mode="json") for s in schedule.sorted_steps()],
                        "violations": [v.as_dict() for v in result.violations],
                        "availability_loss": result.availability_loss,
                        "timeline": [
                            {"t": e.t, "kind": e.kind, "node": e.node, "text": e.text} for e in result.trace
                        ],
                    },
                    indent=2,
                )
            )
        else:
            print(f"replaying {args.replay} against {config.policy.value} ({len(schedule.steps)} steps)")
            print(result.timeline())
            if result.violations:
                for v in result.violations:
                    print(
                        f"VIOLATION {v.property} ({PROPERTY_NAMES[v.property]}) at t={v.at:.3f}s: {v.detail}"
                    )
            else:
                print("no violation")
        return 1 if result.violations else 0

    config = load_config(
        Path(args.config) if args.config else None,
        {"policy": args.policy},
    )
    if args.save:
        save_path = Path(args.save)
        if not save_path.parent.is_dir():
            raise UsageError(f"--save: directory {str(save_path.parent)!r} does not exist")
    from quorum.progress import advance_to, bar

    with bar(args.schedules, "schedules", "schedule", quiet=args.quiet) as b:
        report = explore(
            config,
            args.schedules,
            args.seed,
            max_steps=args.max_steps,
            progress=None if b.disable else (lambda done, _total: advance_to(b, done)),
        )
    if args.save and report.counterexample is not None:
        try:
            save_schedule(Path(args.save), config, report.counterexample.schedule)
        except OSError as e:
            raise UsageError(f"--save: cannot write {args.save}: {e.strerror}") from None
    if args.json:
        print(dumps(report.as_json(), indent=2))
    else:
        _print_report(report, args)
    found = report.counterexample is not None
    if args.expect == "violated":
        # the unsafe baseline's counterexample is the outcome the caller expects (make demo)
        print(
            "as expected: a counterexample was found"
            if found
            else f"NOT as expected: no violation in {report.schedules} schedules (--expect violated)"
        )
        return 0 if found else 1
    return 1 if found else 0


def _print_report(report: Any, args: argparse.Namespace) -> None:
    cfg = report.config
    name = cfg.policy.value
    spec = POLICIES[cfg.policy]
    print(f"policy {name}: {spec.summary}")
    ce = report.counterexample
    if ce is None:
        print(f"no violation in {report.schedules} schedules (seed {report.seed}; S1, S2, S3, L1 checked)")
        if report.availability_losses:
            print(
                f"availability losses the policy does not promise against: {report.availability_losses}"
                f" of {report.schedules} schedules"
            )
            for reason, n in sorted(report.loss_reasons.items(), key=lambda kv: -kv[1]):
                print(f"  {n:5d}  {reason}")
        return
    v = ce.violations[0]
    steps = ce.schedule.sorted_steps()
    print(
        f"{v.property} ({PROPERTY_NAMES[v.property]}) VIOLATED after {report.schedules} schedules;"
        f" minimal counterexample, {len(steps)} step{'s' if len(steps) != 1 else ''}"
        f" (network seed {ce.schedule.seed}):"
    )
    from quorum.testing.schedule import describe_step

    for s in steps:
        print(f"  at {s.at:7.1f}s  {describe_step(s)}")
    print("timeline:")
    print(ce.timeline())
    print(f"property broken: {v.property} at t={v.at:.3f}s: {v.detail}")
    if args.save:
        print(f"saved to {args.save}; replay with: quorum check --replay {args.save}")


def _version() -> str:
    """The installed package's version (its metadata, from pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("quorum")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="quorum",
        description="Dual-site quorum: check split-brain safety of a policy, simulate, run live.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="explore fault schedules against a policy; print a minimal counterexample if one exists",
        description="Explore N fault schedules (hypothesis) against a policy and check S1, S2, S3 and L1.",
    )
    check.add_argument(
        "--policy",
        choices=[p.value for p in Policy],
        help="arbitration policy (default: witness-preferred, or the configuration file's)",
    )
    check.add_argument("--config", metavar="FILE", help="YAML/JSON file of configuration fields")
    check.add_argument(
        "--schedules",
        type=int_flag(1, MAX_SCHEDULES),
        default=500,
        metavar="N",
        help=f"schedules to explore, 1 to {MAX_SCHEDULES:,} (500)",
    )
    check.add_argument("--seed", type=int, default=0, metavar="S", help="exploration seed (0)")
    check.add_argument(
        "--max-steps",
        type=int_flag(1, MAX_STEPS),
        default=8,
        metavar="K",
        help=f"faults per schedule, 1 to {MAX_STEPS} (8)",
    )
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--save", metavar="FILE", help="write the counterexample schedule, for --replay")
    check.add_argument("--replay", metavar="FILE", help="replay a saved schedule with a full timeline")
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    check.add_argument(
        "--expect",
        choices=("safe", "violated"),
        default="safe",
        help="the outcome that exits 0: safe (no violation, the default) or violated (a counterexample is"
        " found, as for the unsafe baseline both-continue); the other outcome exits 1",
    )
    check.set_defaults(func=cmd_check)
    from sim.cli import register as register_sim

    register_sim(sub)
    from quorum.live.cli import register as register_live

    register_live(sub)
    return parser


class _PipeSafe:
    """Standard output that goes quiet when its reader leaves (``quorum ... | head``).

    Without it a closed pipe raises ``BrokenPipeError`` from whichever ``print`` fills the buffer,
    and a check that passed exits 1 with a traceback; with it the command finishes and keeps its
    exit status. The descriptor is pointed at /dev/null so the interpreter's last flush is quiet too.
    """

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.broken = False

    def _gone(self) -> None:
        self.broken = True
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, self.inner.fileno())
            os.close(fd)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self.inner.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.inner.flush()
            except BrokenPipeError:
                self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main(argv: Sequence[str] | None = None) -> int:
    # A command allocates millions of short-lived objects (messages, samples, episodes) beside the
    # long-lived ones it imported; at the default threshold (700 allocations) the cyclic collector ran
    # thousands of times over the same long-lived objects: about a tenth of a short
    # `quorum sim availability` run. Collection still happens, ten thousand allocations apart (forked
    # workers inherit the setting).
    gc.set_threshold(10_000, 10, 10)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:  # argparse's own errors (``--seed x``): one line too
        print(f"quorum: error: {e}", file=sys.stderr)
        return 2
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    for name, value in vars(args).items():
        # argparse turns `--flag=--` into an empty list; every single-valued flag must hold one value
        if value == [] and name != "vary":
            print(f"quorum: error: --{name.replace('_', '-')}: expected one value", file=sys.stderr)
            return 2
    stdout = sys.stdout
    safe = _PipeSafe(stdout)
    sys.stdout = cast(TextIO, safe)
    try:
        code: int = args.func(args)
        safe.flush()
    except UsageError as e:
        print(f"quorum: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("quorum: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout
    return code


if __name__ == "__main__":
    # ``python -m quorum.cli`` runs this file as ``__main__``: call the imported module's ``main``, so
    # that the ``UsageError`` it catches is the class the subcommands raise (one line, exit 2)
    from quorum.cli import main as _main

    sys.exit(_main())
