"""Execute the notebooks from a clean kernel, as ``make test`` and ``make figures`` do.

    python notebooks/run.py [--size small|full] [--figures DIR] [--save DIR] [NOTEBOOK ...]

``--size`` sets each notebook's ``SIZE`` (through ``QUORUM_SIZE``; the notebooks default to ``small``),
``--figures DIR`` makes every notebook save its figures there as PNG (through ``QUORUM_FIGURES``), and
``--save DIR`` writes the executed notebooks, outputs included, there. The committed notebooks stay
without outputs (``tests/test_notebooks.py`` fails otherwise). A cell that raises stops with exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOTEBOOKS = ("scenario_timelines.ipynb", "policy_comparison.ipynb", "availability_vs_tier.ipynb")


def execute(
    path: Path,
    *,
    size: str = "small",
    figures: Path | None = None,
    timeout: int = 3600,
    on_cell: Callable[[], object] | None = None,
) -> Any:
    """Run every cell of ``path`` in a fresh kernel (working directory: the notebook's folder) and
    return the executed notebook; a cell that raises raises ``nbclient.exceptions.CellExecutionError``.
    ``on_cell()`` is called after each code cell has run (the progress bar's tick)."""
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, QUORUM_SIZE=size)
    if figures is not None:
        env["QUORUM_FIGURES"] = str(figures.resolve())
    else:
        env.pop("QUORUM_FIGURES", None)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    with tempfile.TemporaryDirectory(prefix="quorum-kernel-") as sockets:
        # the kernel talks over Unix sockets in a private directory: no TCP port on localhost (and no
        # kernel warning about one on stderr, which stays silent when it is not a terminal)
        cfg = Config()
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = str(Path(sockets) / "kernel")
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            config=cfg,
        )
        if on_cell is not None:
            client.on_cell_executed = lambda **_: on_cell()
        client.execute(env=env)
    return nb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help=f"default: {', '.join(NOTEBOOKS)}")
    ap.add_argument("--size", choices=("small", "full"), default="small")
    ap.add_argument("--figures", type=Path, help="save every figure there as PNG")
    ap.add_argument("--save", type=Path, help="write the executed notebooks there")
    args = ap.parse_args(argv)
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from quorum.progress import bar

    paths = [Path(p) for p in args.notebooks] or [HERE / n for n in NOTEBOOKS]
    # one bar over the code cells of every notebook (a notebook at full size runs for minutes: a bar
    # that moved once per notebook would say nothing for that long)
    cells = sum(1 for p in paths for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code")
    progress = bar(cells, "notebooks", "cell")
    for p in paths:
        progress.set_postfix_str(p.name)
        t = time.monotonic()
        figures = None if args.figures is None else args.figures / p.stem
        try:
            nb = execute(p, size=args.size, figures=figures, on_cell=lambda: progress.update(1))
        except CellExecutionError as e:
            progress.close()
            print(f"{p}: a cell raised:\n{e}", file=sys.stderr)
            return 1
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.save / p.name)
        shown = f", figures in {figures}" if figures is not None else ""
        progress.write(
            f"{p}: ran at size {args.size} in {time.monotonic() - t:.0f} s{shown}", file=sys.stdout
        )
    progress.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
