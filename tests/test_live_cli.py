"""The live subcommands of ``quorum``: tokens, certificates, replay, and the operator CLI against a lab."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from quorum.cli import main
from quorum.live.auth import verify
from quorum.live.lab import TOLERANT_TIMINGS, Lab


def test_token_create_prints_a_token_and_its_hash(capsys: pytest.CaptureFixture[str]) -> None:
    """`quorum token create --json` gives a token that verifies against the printed hash."""
    assert main(["token", "create", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert verify(out["token"], out["hash"])


def test_certs_init_writes_ca_and_certificates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`quorum certs init DIR` writes a CA and server/client key pairs."""
    assert main(["certs", "init", str(tmp_path / "c")]) == 0
    for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key"):
        assert (tmp_path / "c" / name).is_file()


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Missing files and missing acknowledgements are one `quorum: error:` line, exit 2."""
    assert main(["replay", str(tmp_path / "none.jsonl")]) == 2
    assert main(["takeover", "--to", "B", "--url", "https://127.0.0.1:1", "--token", "x"]) == 2
    bad = tmp_path / "w.yaml"
    bad.write_text("pairs: {p: {quorum: {lease_margin: 99}}}\n")
    assert main(["witness", "serve", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("quorum: error: ") for e in err)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path / "lab", quorum=TOLERANT_TIMINGS)  # asserts outcomes, not timing
    try:
        lab.start(timeout=60)
        yield lab
    finally:
        lab.cleanup()


def test_operator_commands_against_a_lab(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """status, switchover --dry-run, maintenance, history and replay work against live processes."""
    common = [
        "--url",
        f"https://127.0.0.1:{lab.witness_port}",
        "--ca",
        lab.ca,
        "--token",
        lab.tokens["operator"],
        "--pair",
        "lab",
    ]
    heard = lambda: set(lab.operator("GET", "/v1/state", params={"pair": "lab"})["sites"]) == {"A", "B"}  # noqa: E731
    lab.wait_for(heard, 30, "the witness has heard both sites")
    log = (lab.dir / "W.log").read_text()  # the witness says where it listens and what it serves
    assert f"witness starting on https://127.0.0.1:{lab.witness_port}" in log and "1 pair(s): lab (" in log
    assert main(["status", "--json", *common]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["durable"]["epoch"] == 1 and set(st["sites"]) == {"A", "B"}
    assert main(["switchover", "--to", "B", "--dry-run", *common]) == 0
    assert "would move service to B" in capsys.readouterr().out
    assert main(["maintenance", "on", "--reason", "kernel update", *common]) == 0
    assert main(["history", *common]) == 0
    assert "maintenance on: kernel update" in capsys.readouterr().out
    bad = [*common[:4], "--token", "not-a-token", "--pair", "lab"]
    assert main(["status", *bad]) == 2
    assert "401" in capsys.readouterr().err
    lab.close()
    assert main(["replay", str(lab.dir / "traceA.jsonl")]) == 0
    assert ", 0 differences" in capsys.readouterr().out
