"""Untrusted input at the edge: files, YAML/JSON documents, numbers from the command line, JSON out.

Every reader here turns hostile input into one clear line (an :class:`InputError` naming the file or
the flag and the value) instead of a traceback or a hang: binary files (``UnicodeDecodeError``),
FIFOs, devices and other files that are not regular files (refused before a byte is read: opening a
FIFO for reading waits for a writer), control characters in YAML (``ReaderError``), YAML documents
larger than :data:`MAX_YAML_CHARS` characters or of more than :data:`MAX_NODES` nodes (counted while
the parser composes them, before any Python object is built: a plain 4 MB list took 43 s and 1.5 GB),
documents nested deeper than :data:`MAX_DEPTH` (``RecursionError``), YAML aliases that expand to more
than :data:`MAX_VALUES` values (a 323-byte "billion laughs" file expands to a gigabyte), values echoed
in error messages (truncated by :func:`show`), ``nan``/``inf``/huge numbers given to a flag
(:func:`number`, :func:`int_flag`, :func:`float_flag`). :func:`dumps` writes JSON that never holds
``NaN`` or ``Infinity``. :class:`ArgumentParser` turns argparse's own errors (``--seed x``) into the
same one-line :class:`UsageError`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import yaml

MAX_FILE_BYTES = 16 * 1024 * 1024  # configuration and scenario files (not traces)
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_VALUES = 1_000_000  # values of a YAML document once its aliases are expanded
MAX_YAML_CHARS = 2 * 1024 * 1024  # a YAML (or JSON-as-YAML) document: the pure-Python parser's bound
MAX_NODES = 100_000  # scalars, lists, mappings and alias uses of one YAML document, as written


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-6`` and ``1e300`` as numbers (YAML 1.2; PyYAML's 1.1 wants ``1.0e-6``),
    and counts the nodes and the nesting it composes: past :data:`MAX_NODES` nodes or :data:`MAX_DEPTH`
    levels it stops (an :class:`InputError`) before composing, let alone constructing, the rest."""

    source = "input"
    nodes = 0
    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.nodes += 1
        self.depth += 1
        try:
            if self.nodes > MAX_NODES or self.depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                if self.depth > MAX_DEPTH:
                    raise InputError(f"{self.source}:{line}: nested deeper than {MAX_DEPTH} levels")
                raise InputError(
                    f"{self.source}:{line}: more than {MAX_NODES:,} YAML nodes (values, lists, mappings"
                    " and aliases, as written): too large for a configuration or scenario file"
                )
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class InputError(ValueError):
    """Bad input from the user: one line naming the file or flag and the value (exit status 2)."""


UsageError = InputError  # the one error type of every CLI: printed as one line, exit status 2


def show(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of a value for an error line (never serialises a whole document)."""
    if isinstance(value, str):
        text = json.dumps(value[: limit + 1])
        return text if len(value) <= limit else text[: limit + 1] + '..."'
    if isinstance(value, bytes):
        return show(value.decode("utf-8", "replace"), limit)
    if value is None or isinstance(value, bool | int | float):
        text = repr(value) if isinstance(value, float) else json.dumps(value)
        return text if len(text) <= limit else text[:limit] + "..."
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key{'s' if len(value) != 1 else ''}"
    return type(value).__name__


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_text(path: Path | str, *, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of ``path``; missing, unreadable, oversized or binary files are an InputError, and
    so is anything but a regular file (a FIFO, a device, a directory): it is opened without blocking
    (``O_NONBLOCK``: opening a FIFO for reading otherwise waits for a writer, forever) and refused by
    its type before a byte is read."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a file") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read: {e.strerror or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise InputError(f"{p}: is {kind}, not a regular file")
        with os.fdopen(fd, "rb") as f:
            fd = -1  # closed by the file object
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(f"{p}: cannot read: {e.strerror or e}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise InputError(f"{p}: larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{p}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}): a binary file?"
        ) from None


def _check_graph(root: yaml.Node, source: str) -> None:
    """Depth and expanded size of a composed YAML document (aliases counted each time they are used)."""
    size: dict[int, int] = {}
    # iterative post-order walk; a node on the current path reached again is a recursive alias
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for child in _children(node):
                total += size[id(child)]
                if total > MAX_VALUES:
                    break
            size[key] = total
            if total > MAX_VALUES:
                raise InputError(
                    f"{source}: its aliases expand to more than {MAX_VALUES:,} values (a YAML alias bomb?)"
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise InputError(f"{source}:{node.start_mark.line + 1}: a YAML alias refers to itself")
        if depth > MAX_DEPTH:
            raise InputError(f"{source}:{node.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) not in size:
                stack.append((child, depth + 1, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for kv in node.value for x in kv]
    return []


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML (or JSON) document safely; returns the data and its composed node (line numbers).

    Errors (control characters, syntax, more than :data:`MAX_YAML_CHARS` characters or :data:`MAX_NODES`
    nodes, nesting deeper than :data:`MAX_DEPTH`, alias expansion above :data:`MAX_VALUES`; ``.nan`` and
    ``.inf`` are left to the models, which refuse them) are one-line :class:`InputError`.
    """
    if len(text) > MAX_YAML_CHARS:
        raise InputError(
            f"{source}: larger than {MAX_YAML_CHARS:,} characters, the bound of a YAML configuration or"
            " scenario document"
        )
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as e:
        # a control character (NUL, BEL...): PyYAML's reader refuses the whole text before parsing
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        code = e.character if isinstance(e.character, int) else ord(e.character[:1] or b"\0")
        raise InputError(
            f"{source}:{line}: not valid YAML: character U+{code:04X} at column {column} is not allowed"
            " (YAML text holds no control characters but tab and line breaks)"
        ) from None
    loader.source = source
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_graph(root, source)
        return loader.construct_document(root), root
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or "syntax error"
        raise InputError(f"{source}{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to read (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _depth(obj: Any) -> int:
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, dict | list):
            deepest = max(deepest, d)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((c, d + 1) for c in (o.values() if isinstance(o, dict) else o))
    return deepest


def load_json(text: str, source: str) -> Any:
    """Parse JSON strictly: ``NaN``/``Infinity`` refused, nesting bounded; errors are one line."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"{source}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except ValueError as e:
        raise InputError(f"{source}: not valid JSON: {e}") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to read (more than {MAX_DEPTH} levels)") from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    return data


def number(
    flag: str,
    value: float,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> float:
    """``value`` if it is finite and within the bounds, else an InputError naming ``flag``.

    For command-line numbers (``--years``, ``--window``, ``--loss``...): ``float('nan')`` passes
    every comparison, so a sign check alone lets ``nan`` and ``inf`` through.
    """
    bounds = []
    if gt is not None:
        bounds.append(f"> {gt:g}")
    if ge is not None:
        bounds.append(f">= {ge:g}")
    if lt is not None:
        bounds.append(f"< {lt:g}")
    if le is not None:
        bounds.append(f"<= {le:g}")
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (gt is None or value > gt)
        and (ge is None or value >= ge)
        and (lt is None or value < lt)
        and (le is None or value <= le)
    )
    if not ok:
        want = " and ".join(bounds)
        raise InputError(f"{flag} must be a finite number{' ' + want if want else ''} (got {show(value)})")
    return float(value)


def finite(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None`` (JSON ``null``)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


def dumps(obj: Any, **kw: Any) -> str:
    """``json.dumps`` that never writes ``NaN``/``Infinity`` (non-finite floats become ``null``)."""
    return json.dumps(finite(obj), allow_nan=False, **kw)


# ---- the command line ------------------------------------------------------------------------------
class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors (``--seed x``, an unknown flag, a missing argument) raise
    :class:`UsageError` instead of printing the usage block and exiting: the command's ``main`` prints
    them as the one ``quorum: error:`` line every other error is (exit status 2). Subparsers made by
    ``add_subparsers`` are of the same class."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _range_text(lo: float | None, hi: float | None, fmt: str) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:{fmt}} to {hi:{fmt}}"
    if lo is not None:
        return f"at least {lo:{fmt}}"
    return f"at most {hi:{fmt}}" if hi is not None else ""


def int_flag(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number within ``[lo, hi]``; anything else (``nan``, ``1e3``,
    ``x``, out of range) is refused while the command line is parsed, naming the flag and the value."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = _range_text(lo, hi, ",")
            raise argparse.ArgumentTypeError(
                f"must be a whole number{' ' + bounds if bounds else ''} (got {show(text)})"
            )
        return value

    return whole_number


def float_flag(lo: float | None = None, hi: float | None = None) -> Callable[[str], float]:
    """An argparse ``type``: a finite number within ``[lo, hi]`` (``nan``, ``inf`` and out-of-range
    values are refused while the command line is parsed, naming the flag and the value)."""

    def finite_number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = _range_text(lo, hi, "g")
            raise argparse.ArgumentTypeError(
                f"must be a finite number{' ' + bounds if bounds else ''} (got {show(text)})"
            )
        return value

    return finite_number
