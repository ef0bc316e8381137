"""Progress bars for every long run (``quorum check``, ``quorum sim run --years``, ``sim availability``,
``compare``, ``sweep``, ``make figures``): one library, tqdm, on stderr, and only when stderr is a
terminal (piped or in tests nothing is printed)."""

from __future__ import annotations

import shutil
import sys
from typing import Any

from tqdm import tqdm


def bar(total: float | None, desc: str, unit: str, *, quiet: bool = False) -> tqdm[Any]:
    """A bar of ``total`` ``unit``s; disabled (prints nothing at all) when ``quiet`` or when stderr is
    not a terminal (disabling a bar after it is made is too late: tqdm draws its first line at once)."""
    b: tqdm[Any] = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        leave=False,
        # a pseudo-terminal may report 0 x 0, and tqdm then draws nothing
        ncols=shutil.get_terminal_size((80, 20)).columns or 80,
        nrows=shutil.get_terminal_size((80, 20)).lines or 20,
        disable=quiet or not sys.stderr.isatty(),
    )
    return b


def advance_to(b: tqdm[Any], done: float) -> None:
    """Move ``b`` to ``done`` (callers report totals so far, not increments)."""
    if done > b.n:
        b.update(done - b.n)
