"""The live side under misconfiguration (issue 16, items 5 and 6): one line and exit 2 for bad files,
URLs and tokens; loud failures instead of silent ones. Each case failed before issue 16 (a traceback,
a process that ran without its listener, a lab that left its processes and keys behind, an empty trace
that replayed with "0 differences").
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from quorum.cli import main
from quorum.live.auth import hash_token, new_token
from quorum.live.certs import init_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return init_certs(tmp_path_factory.mktemp("certs"), names=("server",))


def _err(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("quorum: error: "), err
    return lines[0]


def _witness_cfg(tmp: Path, certs: dict[str, Path], **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "port": 1,
        "db": str(tmp / "w.db"),
        "tls": {"cert": str(certs["server"]), "key": str(certs["server_key"])},
        "pairs": {"prod": {"tokens": {k: hash_token(new_token()) for k in ("A", "B", "operator")}}},
    }
    cfg.update(over)
    return cfg


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"tls": {"cert": "/nonexistent/c.pem", "key": "/nonexistent/k.pem"}}, "tls.cert"),
        ({"tls": {"cert": "GARBAGE", "key": "GARBAGE"}}, "not a PEM certificate"),
        ({"db": "/nonexistent/dir/w.db"}, "db"),
        ({"pairs": {}}, "no pairs"),
        ({"pairs": {"prod": {"tokens": {}}}}, "no token for site A"),
        ({"pairs": {"prod": {"tokens": {"A": "plain-token", "B": "x"}}}}, "not a hash"),
        ({"pairs": {"a pair/with spaces?": {}}}, "cannot be addressed"),
        ({"max_body": float("nan")}, "max_body"),
        ({"port": True}, "port"),
    ],
)
def test_witness_refuses_bad_configurations(
    change: dict[str, Any],
    needle: str,
    tmp_path: Path,
    certs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = _witness_cfg(tmp_path, certs, **change)
    if cfg["tls"]["cert"] == "GARBAGE":
        (tmp_path / "g.pem").write_text("not a certificate\n")
        cfg["tls"] = {"cert": str(tmp_path / "g.pem"), "key": str(tmp_path / "g.pem")}
    f = tmp_path / "w.yaml"
    f.write_text(yaml.safe_dump(cfg))
    assert needle in _err(["witness", "serve", "--config", str(f)], capsys)


def _agent_cfg(tmp: Path, certs: dict[str, Path], **over: Any) -> dict[str, Any]:
    (tmp / "peer.token").write_text(new_token() + "\n")
    cfg: dict[str, Any] = {
        "site": "A",
        "pair": "prod",
        "witness": {"url": "https://127.0.0.1:1", "token": new_token(), "ca": str(certs["ca"])},
        "peer": {"url": "https://127.0.0.1:2", "token_file": str(tmp / "peer.token"), "ca": str(certs["ca"])},
        "port": 0,
        "tls": {"cert": str(certs["server"]), "key": str(certs["server_key"])},
        "state_db": str(tmp / "site.db"),
        "trace": str(tmp / "trace.jsonl"),
    }
    cfg.update(over)
    return cfg


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"peer": {"url": "https://127.0.0.1:2", "token_file": "/nonexistent/t"}}, "peer.token_file"),
        ({"peer": {"url": "https://127.0.0.1:2", "token": "x", "ca": "/nonexistent/ca.pem"}}, "peer.ca"),
        ({"witness": {"url": "htps//nowhere", "token": "x"}}, "witness.url"),
        ({"witness": {"url": "https://[::1", "token": "x"}}, "witness.url"),
        ({"tls": {"cert": "/nonexistent/c.pem", "key": "/nonexistent/k.pem"}}, "tls.cert"),
        ({"state_db": "/nonexistent/dir/site.db"}, "state_db"),
        ({"quorum": {"miss_threshold": True}}, "quorum.miss_threshold"),
    ],
)
def test_agent_refuses_bad_configurations(
    change: dict[str, Any],
    needle: str,
    tmp_path: Path,
    certs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(_agent_cfg(tmp_path, certs, **change)))
    assert needle in _err(["agent", "run", "--config", str(f)], capsys)


def test_config_files_that_are_binary_deep_or_bombs_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "w.yaml"
    for data in (b"\xff\xfe\x00 binary", ("pairs: " + "[" * 5000 + "]" * 5000).encode(), b"a: &a [*a]\n"):
        f.write_bytes(data)
        assert str(f) in _err(["witness", "serve", "--config", str(f)], capsys)
        assert str(f) in _err(["agent", "run", "--config", str(f)], capsys)


def test_status_refuses_missing_files_and_malformed_urls(
    tmp_path: Path, certs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ok = ["--url", "https://127.0.0.1:1", "--token", new_token()]
    assert "--url" in _err(["status", "--url", "htp:/x", "--token", "t"], capsys)
    assert "--url" in _err(["status", "--url", "https://[::1", "--token", "t"], capsys)
    assert "--url" in _err(["status", "--url", "https://127.0.0.1:99999", "--token", "t"], capsys)
    assert "missing.token" in _err(
        ["status", *ok[:2], "--token-file", str(tmp_path / "missing.token")], capsys
    )
    (tmp_path / "bin.token").write_bytes(b"\xff\xfe")
    assert "bin.token" in _err(["status", *ok[:2], "--token-file", str(tmp_path / "bin.token")], capsys)
    assert "--ca" in _err(["status", *ok, "--ca", str(tmp_path / "none.pem")], capsys)
    (tmp_path / "bad.pem").write_text("not a CA\n")
    assert "--ca" in _err(["status", *ok, "--ca", str(tmp_path / "bad.pem")], capsys)


def test_replay_of_an_empty_or_truncated_trace_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`quorum replay` used to report "0 differences" (exit 0) for an empty or cut trace."""
    from quorum.core import QuorumConfig, Site, SiteMachine
    from quorum.live.trace import TraceWriter

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "empty trace" in _err(["replay", str(empty)], capsys)
    good = tmp_path / "t.jsonl"
    w = TraceWriter(good)
    machine = SiteMachine(QuorumConfig(), Site.A, 0.0, None)
    w.init(QuorumConfig(), Site.A, 0.0, None)
    for i in range(1, 4):
        w.call(float(i), None, machine.handle_timer(float(i)))
    w.close()
    assert main(["replay", str(good)]) == 0
    text = good.read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[: len(text) - 7])  # the last record cut short
    assert "cut short" in _err(["replay", str(cut)], capsys) or "complete" in _err(
        ["replay", str(cut)], capsys
    )
    headless = tmp_path / "headless.jsonl"
    headless.write_text("\n".join(text.splitlines()[1:]) + "\n")
    assert "before any init" in _err(["replay", str(headless)], capsys)
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"init": 5}\n[1, 2]\n')
    assert "not a trace record" in _err(["replay", str(junk)], capsys)


def test_nan_sent_at_is_refused_by_the_witness(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from quorum.live.settings import WitnessSettings
    from quorum.live.witness import create_app

    tok = new_token()
    s = WitnessSettings.model_validate(
        {
            "db": str(tmp_path / "w.db"),
            "insecure_http": True,
            "pairs": {"p": {"tokens": {"A": hash_token(tok), "B": hash_token(new_token())}}},
        }
    )
    with TestClient(create_app(s)) as c:
        for nan in ('"NaN"', '"-Infinity"', "1e999"):
            body = (
                '{"pair": "p", "request": {"site": "A", "seq": 1, "sent_at": SENT, "want": "report",'
                ' "epoch": 1, "role": "mirrored", "current": true}}'
            ).replace("SENT", nan)
            headers = {"authorization": f"Bearer {tok}", "content-type": "application/json"}
            r = c.post("/v1/heartbeat", content=body, headers=headers)
            assert r.status_code == 400 and "sent_at" in r.text, (nan, r.text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_agent_whose_listener_fails_stops_with_the_reason(tmp_path: Path, certs: dict[str, Path]) -> None:
    """An agent that cannot serve its peer endpoint used to run on without it, silently."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        f = tmp_path / "a.yaml"
        f.write_text(yaml.safe_dump(_agent_cfg(tmp_path, certs, port=port)))
        proc = subprocess.run(
            [sys.executable, "-m", "quorum.cli", "agent", "run", "--config", str(f)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("quorum: agent A stopped: its peer endpoint on 127.0.0.1:") and "listen" in last, (
        last
    )


def test_lab_stopped_by_sigterm_stops_its_processes_and_removes_its_keys(tmp_path: Path) -> None:
    """SIGTERM used to kill `quorum lab` alone: the witness and agents ran on, the CA key stayed."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "quorum.cli", "lab", "--fault", "lossy-link", "--window", "120", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        pids: list[int] = []
        end = time.time() + 90
        while time.time() < end and len(pids) < 2:
            pids = []
            for st in tmp_path.glob("quorum-lab-*/status[AB].json"):
                with contextlib.suppress(OSError, ValueError, KeyError):
                    pids.append(int(json.loads(st.read_text())["pid"]))
            time.sleep(0.2)
        assert len(pids) == 2, "the lab's agents never came up"
        assert list(tmp_path.glob("quorum-lab-*/certs/ca.key"))
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    for pid in pids:
        gone = False
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                gone = True
                break
            time.sleep(0.1)
        assert gone, f"agent process {pid} still running after the lab was stopped"
    assert not list(tmp_path.glob("quorum-lab-*")), "the lab's keys and files were left behind"
