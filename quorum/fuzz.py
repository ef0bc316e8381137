"""Fuzzers for the edges: the command line's files and flags, and the witness's HTTP bodies.

Each case runs under a time bound (``SIGALRM``) and is classified:

* ``ok`` — exit status 0 or 1, or exit status 2 with exactly one ``quorum: error:`` line on stderr;
  the HTTP API answered a status below 500; nothing printed holds ``NaN`` or ``Infinity``;
* ``traceback`` — an exception escaped, or an error was not one line;
* ``hang`` — the case ran past its time bound;
* ``500`` — the witness answered a server error.

``python -m quorum.fuzz --seconds N`` (``make fuzz``) runs every fuzzer for about ``N``
seconds each and prints the counts; its exit status is 1 if any case was not ``ok``. The tests run the
same fuzzers with a few dozen examples (``tests/test_hostile_input.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

HOSTILE_NUMBERS: list[Any] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e-300,
    1e300,
    -1,
    0,
    0.0,
    True,
    False,
    None,
    2**63,
    -(2**63),
    1e-6,
    "1e9",
    "",
    "x" * 300,
    [],
    {},
]


class Hang(Exception):
    """A case ran past its time bound."""


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds`` (a per-case bound)."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"ran past {seconds:g} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Tally:
    """Outcomes of the cases run so far, and the first few that were not ``ok``."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, outcome: str, what: str = "") -> None:
        self.counts[outcome] += 1
        if outcome != "ok" and len(self.examples) < 10:
            self.examples.append(f"{outcome}: {what[:300]}")

    @property
    def bad(self) -> int:
        return sum(n for k, n in self.counts.items() if k != "ok")


# ---- the command line ------------------------------------------------------------------------------
def run_cli(argv: list[str], bound: float) -> tuple[str, str]:
    """Run ``quorum ARGV`` in this process under a time bound: (outcome, detail)."""
    from quorum.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with time_bound(bound), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Hang as e:
        return "hang", f"{argv}: {e}"
    except SystemExit as e:  # argparse's --help (exit 0); its errors are one line like every other
        if e.code not in (0, None):
            return "traceback", f"{argv}: SystemExit({e.code}): {err.getvalue()[:200]!r}"
        return "ok", ""
    except BaseException as e:
        return "traceback", f"{argv}: {type(e).__name__}: {e}"
    text = out.getvalue()
    if "NaN" in text or "Infinity" in text:
        return "traceback", f"{argv}: non-finite number printed"
    lines = err.getvalue().splitlines()
    if code == 2 and (len(lines) != 1 or not lines[0].startswith("quorum: error: ")):
        return "traceback", f"{argv}: exit 2 without one error line: {err.getvalue()[:200]!r}"
    if code not in (0, 1, 2):
        return "traceback", f"{argv}: exit status {code}"
    return "ok", ""


def _scenario_fields() -> list[str]:
    """Every property name in the scenario JSON Schema (mutation targets)."""
    from sim.story.scenario import json_schema

    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.get("properties", {}).items():
                names.add(k)
                walk(v)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json_schema())
    return sorted(names)


FAULT_KINDS = ["crash", "restore", "cut", "heal", "flap", "delay", "pause", "drift", "switchover", "takeover"]


@st.composite
def scenario_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario mapping: mostly plausible, with hostile values at schema-named fields."""
    numbers = st.one_of(
        st.sampled_from(HOSTILE_NUMBERS), st.floats(0.001, 300), st.integers(-5, 200), st.floats()
    )
    doc: dict[str, Any] = {"name": "fuzz", "duration": draw(st.floats(1, 300))}
    if draw(st.booleans()):
        doc["quorum"] = draw(
            st.dictionaries(
                st.sampled_from(
                    ["heartbeat_interval", "miss_threshold", "lease_duration", "lease_margin", "policy"]
                ),
                numbers,
                max_size=3,
            )
        )
    faults = []
    for _ in range(draw(st.integers(0, 4))):
        f: dict[str, Any] = {"at": draw(numbers), "do": draw(st.sampled_from(FAULT_KINDS))}
        for key in draw(st.lists(st.sampled_from(["node", "link", "duration", "period", "count", "to"]))):
            f[key] = draw(st.one_of(numbers, st.sampled_from(["A", "B", "W", "ab", "aw", "zz"])))
        faults.append(f)
    if faults:
        doc["faults"] = faults
    if draw(st.booleans()):
        law: dict[str, Any] = {
            "kind": draw(st.sampled_from(["exponential", "weibull", "lognormal", "fixed"]))
        }
        law["mean"] = draw(numbers)
        law["shape"] = draw(numbers)
        doc["topology"] = {"components": {"A": {"fail": law, "repair": {"mean": draw(numbers)}}}}
    for name in draw(st.lists(st.sampled_from(_scenario_fields()), max_size=3)):
        doc[name] = draw(numbers)
    return doc


# hostile encodings of a document (issue 16, then issue 22: control characters, a plain list past the
# node bound, a file past the size bound; "fifo" is a named pipe in place of the file)
ENCODINGS = ["binary", "deep", "bomb", "truncated", "nul", "bel", "big-list", "huge", "fifo"]


def _render(doc: dict[str, Any], how: str) -> bytes:
    text = yaml.safe_dump(doc, allow_unicode=True)
    if how in ("nul", "bel"):
        cut = len(text) // 2
        return (text[:cut] + ("\x00" if how == "nul" else "\x07") + text[cut:]).encode()
    if how == "big-list":  # no alias: 110,000 plain items (past MAX_NODES, under MAX_YAML_CHARS)
        return (text + "x:\n" + "- 1\n" * 110_000).encode()
    if how == "huge":  # a plain 4 MB list (took 43 s and 1.5 GB before issue 22)
        return (text + "x:\n" + "- 1\n" * 1_048_576).encode()
    if how == "binary":
        return b"\xff\xfe\x00" + text.encode()
    if how == "deep":
        return ("x: " + "[" * 5000 + "]" * 5000 + "\n").encode()
    if how == "bomb":
        lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
        return ("\n".join(lines) + "\nname: *a8\n").encode()
    if how == "truncated":
        return text.encode()[: len(text) // 2]
    return text.encode()


def fuzz_scenarios(tally: Tally, examples: int, bound: float, seed: int | None = 0) -> None:
    """`quorum sim validate|run`, `quorum check --config` and, for hostile encodings (control characters,
    a FIFO, past the size or node bound, binary, deep, alias bomb, truncated), `sim availability`,
    `witness serve` and `agent run` too."""
    tmp = Path(tempfile.mkdtemp(prefix="quorum-fuzz-"))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is not None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        scenario_documents(),
        st.sampled_from(["yaml"] * 6 + ENCODINGS),
        st.sampled_from(["validate", "run", "years", "check", "availability", "witness", "agent"]),
    )
    def case(doc: dict[str, Any], how: str, what: str) -> None:
        if how == "yaml" and what in ("availability", "witness", "agent"):
            what = "validate"  # these read the same edge; run only on hostile encodings (never serve)
        path = tmp / "s.yaml"
        if path.exists() or path.is_symlink():
            path.unlink()
        try:
            if how == "fifo":
                os.mkfifo(path)  # opening it for reading would wait for a writer: must be refused
            else:
                path.write_bytes(_render(doc, how))
        except (ValueError, yaml.YAMLError):
            return  # not representable (e.g. a NaN key); nothing to feed
        if what == "validate":
            argv = ["sim", "validate", str(path)]
        elif what == "run":
            argv = ["sim", "run", str(path), "--json", "--plot", str(tmp / "p.png")]
        elif what == "years":
            argv = ["sim", "run", str(path), "--json", "--years", "0.001"]
        elif what == "availability":
            argv = ["sim", "availability", str(path), "--max-years", "1", "--workers", "1"]
        elif what in ("witness", "agent"):
            argv = [what, "serve" if what == "witness" else "run", "--config", str(path)]
        else:
            argv = ["check", "--config", str(path), "--schedules", "2", "--quiet"]
        outcome, detail = run_cli(argv, bound)
        tally.add(outcome, detail)

    case()


def fuzz_flags(tally: Tally, examples: int, bound: float, seed: int | None = 0) -> None:
    """Numbers given to the flags of the simulator, the checker and the lab (checked before any run)."""
    tmp = Path(tempfile.mkdtemp(prefix="quorum-fuzz-"))
    ok = tmp / "ok.yaml"
    ok.write_text("name: ok\nduration: 30\n")
    missing = str(tmp / "missing.yaml")
    text = st.one_of(
        st.sampled_from(
            [
                "nan",
                "inf",
                "-inf",
                "1e12",
                "-5",
                "0",
                "1e-300",
                "x",
                "",
                "1e309",
                "--",
                "99999999999999999999",
            ]
        ),
        st.floats().map(repr),
        st.integers(-(2**70), 2**70).map(str),
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is not None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        text,
        st.sampled_from(
            [
                "years",
                "window",
                "loss",
                "schedules",
                "max-steps",
                "plot",
                "seed",
                "precision",
                "workers",
                "compare-workers",
                "confidence",
            ]
        ),
    )
    def case(value: str, flag: str) -> None:
        if flag in ("schedules", "max-steps", "seed"):
            # a missing --config stops the command once its flags are parsed: a valid count is not run
            # (--schedules 99999999999999999999 ran until killed before issue 22)
            argv = ["check", f"--{flag}={value}", "--config", missing, "--quiet"]
        elif flag in ("precision", "workers", "confidence"):
            argv = ["sim", "availability", missing, f"--{flag}={value}"]
        elif flag == "compare-workers":
            argv = ["sim", "compare", missing, f"--workers={value}", "--out", str(tmp)]
        elif flag == "years":
            argv = ["sim", "run", str(ok), "--json", f"--years={value}"]
        elif flag in ("window", "loss"):
            # --fault none-such: the lab refuses before starting anything when the numbers are fine
            argv = ["lab", "--fault", "none-such", f"--{flag}={value}"]
        elif flag == "plot":
            argv = ["sim", "run", str(ok), "--json", "--plot", str(tmp / f"p{value}")]
        tally.add(*run_cli(argv, bound))

    case()


# ---- the witness API ---------------------------------------------------------------------------------
def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.sampled_from([x for x in HOSTILE_NUMBERS if not isinstance(x, list | dict)]),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(["A", "B", "lab", "mirrored", "solo", "serve", "wait", "default"]),
    )
    return st.recursive(
        leaves,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=10,
    )


def _valid_request() -> dict[str, Any]:
    return {
        "site": "A",
        "epoch": 1,
        "role": "mirrored",
        "current": True,
        "want": "renew",
        "seq": 1,
        "sent_at": 1.0,
        "boot": 1,
    }


@st.composite
def witness_calls(draw: st.DrawFn) -> tuple[str, str, Any, str]:
    """(method, path, body or raw bytes, token role) for the witness API, mutated from valid bodies."""
    endpoints: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/heartbeat", {"pair": "lab", "request": _valid_request()}),
        (
            "POST",
            "/v1/events",
            {
                "pair": "lab",
                "site": "A",
                "events": [{"uid": "u1", "kind": "role", "at": 1.0, "epoch": 1, "detail": {}}],
            },
        ),
        ("POST", "/v1/switchover", {"pair": "lab", "to": "B", "dry_run": True}),
        ("POST", "/v1/failover", {"pair": "lab", "to": "B", "accept_data_loss": True}),
        ("PUT", "/v1/maintenance", {"pair": "lab", "on": True, "reason": "fuzz"}),
        ("GET", "/v1/state?pair=lab", {}),
        ("GET", "/v1/history?pair=lab&limit=5", {}),
    ]
    method, path, body = draw(st.sampled_from(endpoints))
    body = json.loads(json.dumps(body))
    targets: list[dict[str, Any]] = [body]
    if isinstance(body.get("request"), dict):
        targets.append(body["request"])
    if isinstance(body.get("events"), list):
        targets.extend(e for e in body["events"] if isinstance(e, dict))
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(targets))
        keys = [*target, "extra"]
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = draw(_json_values())
    raw = draw(st.sampled_from(["json", "json", "json", "nan", "bytes", "deep"]))
    payload: Any = body
    if raw == "nan":
        payload = json.dumps(body).replace("1.0", "NaN").encode()
    elif raw == "bytes":
        payload = draw(st.binary(max_size=64))
    elif raw == "deep":
        payload = ("[" * 3000 + "]" * 3000).encode()
    role = draw(st.sampled_from(["A", "B", "operator", "A", "operator", "none", "bad"]))
    return method, path, payload, role


def fuzz_witness(tally: Tally, examples: int, bound: float, seed: int | None = 0) -> None:
    """Generated requests against an in-process witness (TestClient): no 500, no exception, no hang."""
    from fastapi.testclient import TestClient

    from quorum.live.auth import hash_token, new_token
    from quorum.live.settings import WitnessSettings
    from quorum.live.witness import create_app

    tmp = Path(tempfile.mkdtemp(prefix="quorum-fuzz-"))
    tokens = {k: new_token() for k in ("A", "B", "operator")}
    settings_ = WitnessSettings.model_validate(
        {
            "db": str(tmp / "w.db"),
            "insecure_http": True,
            "auth_fail_limit": 1_000_000,
            "pairs": {"lab": {"tokens": {k: hash_token(v) for k, v in tokens.items()}}},
        }
    )
    client = TestClient(create_app(settings_), raise_server_exceptions=True)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is not None,
        suppress_health_check=list(HealthCheck),
    )
    @given(witness_calls())
    def case(call: tuple[str, str, Any, str]) -> None:
        method, path, payload, role = call
        headers = {"content-type": "application/json"}
        if role in tokens:
            headers["authorization"] = f"Bearer {tokens[role]}"
        elif role == "bad":
            headers["authorization"] = "Bearer qrm_not-a-token"
        what = f"{method} {path} as {role}: {str(payload)[:150]}"
        try:
            with time_bound(bound):
                if isinstance(payload, bytes):
                    r = client.request(method, path, content=payload, headers=headers)
                elif method == "GET":
                    r = client.request(method, path, headers=headers)
                else:
                    r = client.request(method, path, content=json.dumps(payload), headers=headers)
        except Hang as e:
            tally.add("hang", f"{what}: {e}")
            return
        except Exception as e:
            tally.add("traceback", f"{what}: {type(e).__name__}: {e}")
            return
        if r.status_code >= 500:
            tally.add("500", f"{what}: {r.status_code} {r.text[:100]}")
        elif "NaN" in r.text or "Infinity" in r.text:
            tally.add("traceback", f"{what}: non-finite number in the answer")
        else:
            tally.add("ok")

    try:
        case()
    finally:
        client.close()


FUZZERS: dict[str, Callable[[Tally, int, float, int | None], None]] = {
    "scenarios": fuzz_scenarios,
    "flags": fuzz_flags,
    "witness": fuzz_witness,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m quorum.fuzz", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="time per fuzzer, about (60)")
    ap.add_argument("--bound", type=float, default=20.0, help="time bound of one case, seconds (20)")
    ap.add_argument("--only", choices=sorted(FUZZERS), action="append", help="run only these fuzzers")
    args = ap.parse_args(argv)
    if not (0 < args.seconds < 86400 and 0 < args.bound < 3600):
        ap.error("--seconds and --bound must be positive and finite")
    total = Tally()
    for name in args.only or list(FUZZERS):
        tally = Tally()
        start = time.monotonic()
        batch = 25
        while time.monotonic() - start < args.seconds:
            FUZZERS[name](tally, batch, args.bound, None)  # random examples, a fresh batch each time
        spent = time.monotonic() - start
        print(
            f"{name:<10} {sum(tally.counts.values()):6d} cases in {spent:5.0f} s: "
            f"{tally.counts['traceback']} tracebacks, {tally.counts['hang']} hangs, {tally.counts['500']} 500s",
            flush=True,
        )
        for ex in tally.examples:
            print(f"  {ex}")
        total.counts.update(tally.counts)
    print(
        f"total: {sum(total.counts.values())} cases, {total.counts['traceback']} tracebacks,"
        f" {total.counts['hang']} hangs, {total.counts['500']} 500s"
    )
    return 1 if total.bad else 0


if __name__ == "__main__":
    sys.exit(main())
