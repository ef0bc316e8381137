"""Same answer on any executor: a Dask LocalCluster on loopback, local processes, one worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quorum.cli import main
from sim.availability.estimate import estimate
from sim.availability.executors import DaskExecutor, ExecutorError, LocalExecutor, make_executor
from sim.story.scenario import load_scenario

ROOT = Path(__file__).parent.parent
TWO = ROOT / "scenarios" / "two-of-three.yaml"


def _figures(d: dict[str, Any]) -> dict[str, Any]:
    d = dict(d)
    d.pop("run")  # time and worker count: the only machine-dependent part
    return d


def test_dask_cluster_gives_the_figures_of_local_processes_and_one_worker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Plain estimator (a few hundred replications, so batches and chunking matter), seed 11: the Dask
    cluster, two local processes and one worker agree to the last digit; so does the command line."""
    distributed = pytest.importorskip("distributed")
    sc = load_scenario(TWO)
    kw: dict[str, Any] = {"precision": 0.25, "seed": 11, "estimator": "plain"}
    with LocalExecutor(1) as one:
        want = _figures(estimate(sc, executor=one, **kw).to_dict())
    with LocalExecutor(2) as two:
        assert _figures(estimate(sc, executor=two, **kw).to_dict()) == want
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with DaskExecutor(cluster.scheduler_address) as dx:
            assert dx.workers == 2
            got = _figures(estimate(sc, executor=dx, **kw).to_dict())
        assert got == want
        args = ["sim", "availability", str(TWO), "--json", "--precision", "0.25", "--seed", "11"]
        assert (
            main(
                [
                    *args,
                    "--estimator",
                    "plain",
                    "--executor",
                    "dask",
                    "--scheduler",
                    cluster.scheduler_address,
                ]
            )
            == 0
        )
        assert _figures(json.loads(capsys.readouterr().out)) == want
    assert want["replications"] > 40


def test_unreachable_scheduler_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    args = ["sim", "availability", str(TWO), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in err


def test_make_executor_rejects_bad_requests() -> None:
    with pytest.raises(ExecutorError, match="--workers"):
        make_executor("local", 0)
    with pytest.raises(ExecutorError, match="--scheduler"):
        make_executor("dask", None, None)
    with pytest.raises(ExecutorError, match="--executor"):
        make_executor("ray")
