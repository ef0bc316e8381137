"""Where replications run: one interface, local processes or a Dask distributed cluster.

Contract. ``Executor.map(fn, args)`` runs ``fn`` on every argument and yields the results *in submission
order*, whatever order they complete in; callers aggregate in that order, so a seed gives the same figures
on every executor and any worker count. ``fn`` must be a picklable module-level function.

* :class:`LocalExecutor` (the default): ``workers`` local processes (default: every usable core, at most twice as many), forked from the
  caller so they start in milliseconds and inherit its imports; ``workers=1`` runs in the caller's
  process. Each worker process keeps its own caches across tasks (years mode's episode outcomes).
* :class:`DaskExecutor`: the same tasks on an existing ``distributed`` cluster, given the scheduler's
  address (``tcp://host:8786``). Workers need this package installed (``pip install 'quorum[dask]'``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ExecutorError(ValueError):
    """An executor cannot be made or reached (one line, for the command line's exit status 2)."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def max_workers() -> int:
    """The most local worker processes: twice the usable cores. Replications are CPU-bound, so more
    processes than cores only add memory and start-up (``--workers 40`` started 40 processes at once
    on 2 cores; 10^9 was accepted)."""
    return 2 * usable_cores()


class Executor(Protocol):
    """Runs tasks somewhere; ``map`` yields results in submission order."""

    workers: int

    def map(self, fn: Callable[[T], R], args: Iterable[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """``workers`` local processes (default: all cores); 1 runs in this process."""

    def __init__(self, workers: int | None = None) -> None:
        n = usable_cores() if workers is None else workers
        if not 1 <= n <= max_workers():
            raise ExecutorError(
                f"--workers must be from 1 to {max_workers()} (twice the {usable_cores()} usable cores;"
                f" got {workers})"
            )
        self.workers = n
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], args: Iterable[T]) -> Iterator[R]:
        if self.workers == 1:
            yield from map(fn, args)
            return
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        yield from self._pool.map(fn, args)  # Executor.map yields in submission order

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DaskExecutor:
    """The tasks on an existing Dask distributed cluster (``address`` of its scheduler)."""

    def __init__(self, address: str, *, timeout: float = 5.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(
                "--executor dask needs the 'distributed' package: pip install 'quorum[dask]'"
            ) from None
        from distributed.comm.addressing import parse_address, parse_host_port

        try:
            # a malformed address is refused before a Client exists: a Client whose constructor fails
            # still runs its __del__, which waited 10 s and printed a traceback after the one-line error
            parse_host_port(parse_address(address)[1])
        except ValueError as e:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address!r}: {e}") from None
        try:
            self.client: Any = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as e:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address!r}: {e}") from None
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def map(self, fn: Callable[[T], R], args: Iterable[T]) -> Iterator[R]:
        futures = self.client.map(fn, list(args), pure=False)
        try:
            for f in futures:  # in submission order
                yield f.result()
        finally:
            for f in futures:
                f.release()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(name: str = "local", workers: int | None = None, scheduler: str | None = None) -> Executor:
    """``local`` (``workers`` processes, default all cores) or ``dask`` (``scheduler`` address)."""
    if workers is not None and not 1 <= workers <= max_workers():
        raise ExecutorError(
            f"--workers must be from 1 to {max_workers()} (twice the {usable_cores()} usable cores;"
            f" got {workers})"
        )
    if name == "local":
        if scheduler is not None:
            raise ExecutorError("--scheduler is for --executor dask")
        return LocalExecutor(workers)
    if name == "dask":
        if not scheduler:
            raise ExecutorError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
        return DaskExecutor(scheduler)
    raise ExecutorError(f"--executor must be 'local' or 'dask' (got {name!r})")
