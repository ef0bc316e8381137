"""Command output quoted in the README and the docs, produced by running the command (cogapp).

In a page::

    <!-- [[[cog import outputs; outputs.block("quorum check --policy witness-preferred --seed 1") ]]] -->
    ...generated...
    <!-- [[[end]]] -->

``make docs`` regenerates every block (``cog -r``); ``make test`` runs ``cog --check``, which runs each
command again and fails when its output or its exit status is no longer what the page shows.

Commands that take minutes (benchmarks, long estimates) are *recorded*: ``make docs-outputs`` runs them
(``python docs/gen/outputs.py record [NAME ...]``) and writes their output to ``docs/outputs/NAME.txt``,
first line the command; a page quotes that file (``outputs.recorded("NAME")``), and ``cog --check``
fails when the page no longer matches it. Long outputs are trimmed here, by the generator, never by hand.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORDED_DIR = ROOT / "docs" / "outputs"

# name -> (command, exit status): the slow ones, run by ``make docs-outputs``
RECORDED: dict[str, tuple[str, int]] = {
    "tiers-verify": ("quorum sim tiers --verify --outages 600", 0),
    "compare-reference": (
        "quorum sim compare scenarios/reference-as-run.yaml --workers 2 --max-years 4000 --out out/docs",
        0,
    ),
    # make bench records these as it runs them
    "bench-rare": ("python bench/rare.py", 0),
    "bench-years-speed": ("python bench/years_speed.py --beside eb39b59", 0),
    "bench-availability": (
        "python bench/availability.py --availsim4 .venv-bench/bin/availsim4 --bench-python .venv-bench/bin/python"
        " --reference-max-years 20000",
        0,
    ),
    "bench-availability-rare": (
        "python bench/availability.py --availsim4 x --bench-python x --only-rare --reference-max-years 2000",
        0,
    ),
}


def _argv(cmd: str) -> list[str]:
    args = shlex.split(cmd)
    if args[0] == "quorum":
        return [sys.executable, "-m", "quorum.cli", *args[1:]]
    if args[0] == "python":
        return [sys.executable, *args[1:]]
    raise ValueError(f"a documented command starts with quorum or python: {cmd!r}")


def run(
    cmd: str,
    status: int = 0,
    files: dict[str, str] | None = None,
    timeout: float = 600,
    fifos: tuple[str, ...] = (),
) -> str:
    """``$ cmd`` and what it prints (stdout, then stderr), run from the repository root, or from a fresh
    directory holding ``files`` (and the named pipes ``fifos``) when given. Any other exit status than
    ``status`` is an error."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        cwd = ROOT
        if files or fifos:
            cwd = Path(tmp)
            for name, text in (files or {}).items():
                (cwd / name).write_text(text, encoding="utf-8")
            for name in fifos:
                os.mkfifo(cwd / name)
        p = subprocess.run(
            _argv(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    if p.returncode != status:
        raise SystemExit(f"docs: `{cmd}` exited {p.returncode}, the page says {status}:\n{p.stderr[-2000:]}")
    return f"$ {cmd}\n{p.stdout}{p.stderr}"


def trim(text: str, head: int | None = None, keep: list[int] | None = None) -> str:
    """The first ``head`` lines, or the lines numbered ``keep`` (0 = the ``$`` line), saying what went."""
    lines = text.rstrip("\n").splitlines()
    if keep is not None:
        kept = [lines[i] for i in keep]
        return "\n".join(
            [*kept, f"... ({len(lines) - len(kept)} of {len(lines)} lines left out by the generator)"]
        )
    if head is not None and len(lines) > head:
        return "\n".join([*lines[:head], f"... ({len(lines) - head} more lines left out by the generator)"])
    return "\n".join(lines)


def _fence(text: str, lang: str = "text", indent: str = "") -> None:
    import cog  # available inside a cog run only

    for line in [f"```{lang}", *text.rstrip("\n").splitlines(), "```"]:
        cog.outl(f"{indent}{line}" if line else "")


# a wall-clock reading ("0.27 s", "1.5 s wall") varies from run to run: the generator prints it as "T s"
_TIMING = re.compile(r"\b\d+(?:\.\d+)? s\b(?=[),]| wall| CPU|$)")


def mask_times(text: str) -> str:
    return _TIMING.sub("T s", text)


def block(
    *cmds: str,
    status: int = 0,
    files: dict[str, str] | None = None,
    head: int | None = None,
    times: bool = False,
    fifos: tuple[str, ...] = (),
    joined: bool = False,
    indent: str = "",
) -> None:
    """One fenced block: each command's ``$`` line and output, a blank line between commands (none with
    ``joined``). With ``times``, wall-clock readings are shown as ``T s`` (they differ at every run)."""
    outs = [run(c, status, files, fifos=fifos) for c in cmds]
    text = ("\n" if joined else "\n\n").join(trim(mask_times(o) if times else o, head) for o in outs)
    _fence(text, indent=indent)


def recorded(name: str, head: int | None = None, keep: list[int] | None = None) -> None:
    """The recorded output ``docs/outputs/NAME.txt`` (``make docs-outputs`` writes it)."""
    path = RECORDED_DIR / f"{name}.txt"
    if not path.is_file():
        raise SystemExit(f"docs: {path} is missing: run `make docs-outputs`")
    _fence(trim(path.read_text(encoding="utf-8"), head, keep))


def record(names: list[str]) -> int:
    RECORDED_DIR.mkdir(parents=True, exist_ok=True)
    for name in names or list(RECORDED):
        if name not in RECORDED:
            print(f"docs: no recorded command named {name!r} (known: {', '.join(RECORDED)})", file=sys.stderr)
            return 2
        cmd, status = RECORDED[name]
        print(f"docs: running {cmd}", file=sys.stderr)
        out = run(cmd, status, timeout=3600)
        (RECORDED_DIR / f"{name}.txt").write_text(out, encoding="utf-8")
        print(out, end="")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "record":
        raise SystemExit(record(sys.argv[2:]))
    print(__doc__)
