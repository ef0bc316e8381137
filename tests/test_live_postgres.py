"""The live controller protecting two real PostgreSQL servers (``quorum lab --storage postgres``).

Each test runs the lab as a user would, through the CLI with ``--json``: a fresh pair of servers
(site A primary, site B its synchronous standby, replication through the fault proxy), a workload of
numbered commits through whichever site serves, one fault, heal, resynchronisation, and the checker
reading the final primary. They assert outcomes: commits acknowledged, none lost, no split brain,
no replay difference, the pair resynchronised, and what each fault must do to the servers. A
missing PostgreSQL is a failure, never a skip (``make test`` installs it when it can).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quorum.cli import main
from quorum.live.pglab import split_brain
from quorum.live.pgserver import find_bin_dir


def lab(fault: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    find_bin_dir()  # PgMissing (with how to install) if the server binaries are not there
    args = ["lab", "--storage", "postgres", "--fault", fault, "--timings", "tolerant", "--json"]
    rc = main([*args, "--workdir", str(tmp_path / "lab")])
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    st = out["storage"]
    assert st["kind"] == "postgres"
    assert st["acknowledged_commits"] > 0, st
    assert st["lost_acknowledged_commits"] == 0, st
    assert st["split_brain"] is False and out["split_brain"] is False, st
    assert out["replay_differences"] == 0
    assert st["resynced"] is True and st["synchronous_standby_at_end"] is not None, st
    assert rc == 0
    return out


def epochs(st: dict[str, Any], site: str, role: str) -> list[int]:
    return [e["epoch"] for e in st["epochs_recorded"] if e["site"] == site and e["role"] == role]


def test_kill_serving_agent_postgres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """kill -9 of site A's agent: its watchdog stops A's server, B's standby is promoted at a new epoch
    and serves; A's agent, restarted, rewinds A onto B and follows it; nothing acknowledged is lost."""
    out = lab("kill-serving", tmp_path, capsys)
    st = out["storage"]
    assert st["final_primary"] == "B" and st["synchronous_standby_at_end"] == "A"
    solo = epochs(st, "B", "solo")
    assert solo and min(solo) >= 2  # the epoch B served alone at, recorded in B's database
    assert any(k.startswith("B@") for k in st["by_site_epoch"])  # commits acknowledged by B
    assert any(k.startswith("A@") for k in st["by_site_epoch"])  # ... and by A before the fault
    log = (tmp_path / "lab" / "A.log").read_text()
    assert "quorum watchdog" in log and "pg_rewind from the peer done" in log


def test_cut_link_postgres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Inter-site cut (replication cut too): A, the preferred site, is granted a solo epoch, drops the
    synchronous standby only then and commits alone; B's standby is fenced; after the heal B catches
    up and A's commits wait for it again."""
    out = lab("cut-link", tmp_path, capsys)
    st = out["storage"]
    assert st["final_primary"] == "A" and st["synchronous_standby_at_end"] == "B"
    solo = epochs(st, "A", "solo")
    assert solo and min(solo) >= 2
    assert any(k == f"A@{e}" for k in st["by_site_epoch"] for e in solo)  # acknowledged alone
    assert not any(k.startswith("B@") for k in st["by_site_epoch"])  # B never accepted a commit


def test_cut_witness_postgres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Witness unreachable for a while: no role change, A keeps committing synchronously at epoch 1."""
    out = lab("cut-witness", tmp_path, capsys)
    st = out["storage"]
    assert out["failover"] is False and out["role_changes"] == []
    assert st["final_primary"] == "A" and st["by_site_epoch"] == {"A@1": st["acknowledged_commits"]}


@pytest.mark.deep
@pytest.mark.parametrize("fault", ["kill-postgres", "pause-serving", "flap-link", "lossy-link"])
def test_other_faults_postgres(fault: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The other faults (make deep-test): the same outcomes (nothing lost, no split brain, resynced)."""
    out = lab(fault, tmp_path, capsys)
    if fault == "kill-postgres":  # the agent restarts its server: no failover
        assert out["storage"]["final_primary"] == "A" and out["failover"] is False


def test_split_brain_check_sees_interleaved_and_stale_commits() -> None:
    """The checker's split-brain rule: two servers' acknowledgements interleaving, or an older epoch's
    acknowledged after a newer one's, is a split brain; a failover (A@1 then B@2) is not."""
    from quorum.live.pglab import Ack

    def ack(i: int, site: str, epoch: int) -> Ack:
        return Ack(i, site, epoch, 0, float(i), float(i) + 0.5)

    clean = [ack(1, "A", 1), ack(2, "A", 1), ack(3, "B", 2), ack(4, "B", 2)]
    assert split_brain(clean)["split_brain"] is False
    both = [ack(1, "A", 1), ack(2, "B", 2), ack(3, "A", 2)]  # A again after B began
    assert split_brain(both)["interleaved_runs"] == 1 and split_brain(both)["split_brain"]
    stale = [ack(1, "A", 1), ack(2, "B", 2), ack(3, "A", 1)]
    assert split_brain(stale)["stale_epoch_commits"] == 1
    # one server's commits released by its own change of epoch (cut-link: waiting at epoch 1, acknowledged
    # once the site serves alone at 2) are not stale
    released = [ack(1, "A", 1), ack(2, "A", 2), ack(3, "A", 1), ack(4, "A", 2)]
    assert split_brain(released)["split_brain"] is False


def test_agent_init_writes_a_postgres_storage_block_that_loads(tmp_path: Path) -> None:
    """``quorum agent init --storage postgres`` writes a file the agent accepts, with the server's fields."""
    from quorum.live.settings import AgentSettings, PostgresStorage, load

    d = tmp_path / "cfg"
    assert main(["witness", "init", str(d)]) == 0
    urls = ["--witness-url", "https://127.0.0.1:8443", "--peer-url", "https://127.0.0.1:8445"]
    pg = [
        "--storage",
        "postgres",
        "--pg-data-dir",
        "/var/lib/postgresql/15/main",
        "--pg-peer-host",
        "10.0.0.2",
    ]
    assert main(["agent", "init", str(d), "--site", "A", *urls, *pg]) == 0
    s = load(d / "agentA.yaml", AgentSettings)
    assert isinstance(s.storage, PostgresStorage)
    assert (s.storage.data_dir, s.storage.peer_host, s.storage.port, s.storage.os_user) == (
        "/var/lib/postgresql/15/main",
        "10.0.0.2",
        5432,
        "postgres",
    )
    assert main(["agent", "init", str(d), "--site", "B", *urls, "--storage", "postgres"]) == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"kind": "mysql"}, "storage", "postgres"),
        ({"data_dir": "relative/dir"}, "storage.postgres.data_dir", "absolute"),
        ({"promote_timeout": 0}, "storage.postgres.promote_timeout", "greater than 0"),
        ({"os_user": None}, "storage.postgres", "os_user"),
    ],
)
def test_bad_postgres_settings_name_the_field(
    tmp_path: Path, change: dict[str, Any], field: str, words: str
) -> None:
    """A bad ``storage`` block is refused with one line naming the field (as root, ``os_user`` is needed)."""
    import os

    import yaml

    from quorum.live.settings import AgentSettings, SettingsError, load

    if change.get("os_user", "") is None and os.geteuid() != 0:
        change = {"port": 0}
        field, words = "storage.postgres.port", "greater than or equal to 1"
    storage = {"kind": "postgres", "data_dir": "/srv/pg", "peer_host": "10.0.0.2", "os_user": "postgres"}
    cfg = {
        "site": "A",
        "quorum": {"policy": "static-preferred"},
        "peer": {"url": "https://127.0.0.1:8445", "token": "x"},
        "storage": {**storage, **change},
    }
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(SettingsError) as e:
        load(path, AgentSettings)
    assert f"field '{field}" in str(e.value) and words in str(e.value), str(e.value)


def test_agent_preflight_names_a_missing_data_directory_and_bin_dir(tmp_path: Path) -> None:
    """Before it starts, an agent checks its server's files: a missing data directory or a ``bin_dir``
    without the server's tools is a problem line naming the field."""
    from quorum.live.settings import AgentSettings, preflight

    cfg = {
        "site": "A",
        "quorum": {"policy": "static-preferred"},
        "peer": {"url": "https://127.0.0.1:8445", "token": "x"},
        "insecure_http": True,
        "state_db": str(tmp_path / "site.db"),
        "trace": str(tmp_path / "trace.jsonl"),
        "storage": {
            "kind": "postgres",
            "data_dir": str(tmp_path / "nope"),
            "bin_dir": str(tmp_path),
            "peer_host": "10.0.0.2",
            "os_user": "postgres",
        },
    }
    problems = preflight(AgentSettings.model_validate(cfg))
    assert any(p.startswith("storage.data_dir:") for p in problems), problems
    assert any(p.startswith("storage.bin_dir:") and "lacks initdb" in p for p in problems), problems


def test_lab_without_postgresql_says_how_to_install_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No server binaries anywhere: ``quorum lab --storage postgres`` prints one line saying how to
    install them and exits 2 (binaries that exist are never replaced by a guess: see find_bin_dir)."""
    import quorum.live.pgserver as pgserver

    monkeypatch.setattr(pgserver.shutil, "which", lambda name: None)
    monkeypatch.setattr(pgserver.glob, "glob", lambda pattern: [])
    with pytest.raises(pgserver.PgMissing, match="apt-get install -y postgresql"):
        pgserver.find_bin_dir()
    assert main(["lab", "--storage", "postgres", "--fault", "kill-serving", "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install -y postgresql" in err[0]
