"""A persistent store of decided episode shapes: the message-level runner's answers kept across runs.

Theory. An episode shape's outcome (:class:`sim.years.engine._Entry`) is a function of the scenario's
model (everything but its name, description, story faults, expectations and duration: the engine's
*fingerprint*, a SHA-256 of that content and of ``stop_when_steady``) and of the shape, and of the code that
decides it. The store keeps one JSON file per (fingerprint, code version) in a directory; the code version
is a SHA-256 of every source file of the packages that decide an outcome (``quorum/core``,
``quorum/testing``, ``sim/story``, ``sim/years``) and of the Python and SimPy versions. Changing the model
or any of that code selects another file, so a stale answer is never read (an old file is merely unused).
A run with the store gives the same figures as the same run without it: the store only saves deciding a
shape again. Floats are written with ``repr`` (JSON), so they round-trip exactly.

A store file is plain data (JSON, no pickle): reading one executes nothing. It is written atomically
(a temporary file, then ``os.replace``) and merged with what another run wrote meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.years import engine as E

FORMAT = 1
_PACKAGES = ("quorum/core", "quorum/testing", "sim/story", "sim/years")


@lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 of the source that decides an episode's outcome, and of the Python and SimPy versions."""
    import simpy

    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256(f"{FORMAT}:{platform.python_version()}:{simpy.__version__}".encode())
    for pkg in _PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _key_out(key: E.Key) -> list[Any]:
    return [[sorted(ds), length] for ds, length in key]


def _key_in(raw: list[Any]) -> E.Key:
    return tuple((frozenset(ds), float(length)) for ds, length in raw)


def _outcome_out(o: E.Outcome) -> dict[str, Any]:
    return {
        "down_runs": [list(r) for r in o.down_runs],
        "serving_at_end": o.serving_at_end,
        "split_in_window": o.split_in_window,
        "split_at_end": o.split_at_end,
        "one_copy_in_window": o.one_copy_in_window,
        "one_copy_at_end": o.one_copy_at_end,
        "failovers": o.failovers,
        "accruing_at_end": sorted(o.accruing_at_end),
        "copy_events": [list(c) for c in o.copy_events],
        "violations": list(o.violations),
        "solo_entries": o.solo_entries,
    }


def _outcome_in(d: dict[str, Any]) -> E.Outcome:
    return E.Outcome(
        down_runs=tuple((float(a), float(b)) for a, b in d["down_runs"]),
        serving_at_end=bool(d["serving_at_end"]),
        split_in_window=float(d["split_in_window"]),
        split_at_end=bool(d["split_at_end"]),
        one_copy_in_window=float(d["one_copy_in_window"]),
        one_copy_at_end=bool(d["one_copy_at_end"]),
        failovers=int(d["failovers"]),
        accruing_at_end=frozenset(d["accruing_at_end"]),
        copy_events=tuple((str(k), str(s), float(b)) for k, s, b in d["copy_events"]),
        violations=tuple(str(v) for v in d["violations"]),
        solo_entries=int(d["solo_entries"]),
    )


def _entry_out(key: E.Key, is_open: bool, e: E._Entry) -> dict[str, Any]:
    return {
        "key": _key_out(key),
        "open": is_open,
        "outs": [_outcome_out(o) for o in e.outs],
        "comps": list(e.comps),
        "window_runs": [[list(r) for r in runs] for runs in e.window_runs],
        "tail_cause": list(e.tail_cause),
        "planned": e.planned,
        "bytes_move": e.bytes_move,
        "null": e.null,
    }


def _entry_in(d: dict[str, Any]) -> tuple[E.Key, bool, E._Entry]:
    e = E._Entry(
        outs=tuple(_outcome_in(o) for o in d["outs"]),
        comps=tuple(float(c) for c in d["comps"]),
        window_runs=tuple(
            tuple((float(a), float(b), str(w)) for a, b, w in runs) for runs in d["window_runs"]
        ),
        tail_cause=tuple(None if c is None else str(c) for c in d["tail_cause"]),
        planned=bool(d["planned"]),
        bytes_move=bool(d["bytes_move"]),
        null=bool(d["null"]),
    )
    return _key_in(d["key"]), bool(d["open"]), e


class ShapeStore:
    """Episode shapes of one directory. :meth:`attach` a :class:`sim.years.engine.Years` to read its
    scenario's decided shapes into the process's cache and record the new ones; :meth:`save` writes them."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.loaded = 0  # shapes read from the directory
        self.new: dict[str, dict[tuple[E.Key, bool], E._Entry]] = {}  # by file name: shapes decided here

    def path(self, fingerprint: str) -> Path:
        return self.dir / f"shapes-{fingerprint[:32]}-{code_version()[:16]}.json"

    def _read(self, path: Path) -> list[tuple[E.Key, bool, E._Entry]]:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # unreadable or torn: decide the shapes again (the answers do not depend on it)
        if raw.get("format") != FORMAT or raw.get("code") != code_version():
            return []
        return [_entry_in(d) for d in raw.get("shapes", [])]

    def attach(self, y: E.Years) -> None:
        name = self.path(y.fingerprint).name
        self.new.setdefault(name, {})
        for key, is_open, e in self._read(self.dir / name):
            ck = (y.fingerprint, key, is_open)
            if ck not in E._CACHE:
                E._CACHE[ck] = e
                self.loaded += 1
        mine = self.new[name]

        def record(key: E.Key, is_open: bool, e: E._Entry) -> None:
            mine[(key, is_open)] = e

        y.on_new_shape = record

    def save(self) -> int:
        """Write the shapes decided since :meth:`attach` (merged with the file's); returns how many."""
        written = 0
        for name, shapes in self.new.items():
            if not shapes:
                continue
            self.dir.mkdir(parents=True, exist_ok=True)
            path = self.dir / name
            merged = {(k, o): e for k, o, e in self._read(path)}
            merged.update(shapes)
            body = {
                "format": FORMAT,
                "code": code_version(),
                "shapes": [_entry_out(k, o, e) for (k, o), e in merged.items()],
            }
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".shapes-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, separators=(",", ":"))
            os.replace(tmp, path)
            written += len(shapes)
            shapes.clear()
        return written
