"""Issue 22 item 1: a site restarted on a changed configuration must not serve alone beside its peer.

The attack, from the set-up of the operations guide (docs/live.md) with real processes: the pair runs mirrored; agent A stops; B
serves alone through the witness (epoch 2); A is started again on its old state database with
``policy: both-continue``, no witness, cut off from B. Before the fix A went solo at epoch 2 beside B,
and the witness later recorded A's journalled "solo at epoch 2" beside its own grant without an alarm.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from quorum.live.settings import AgentSettings, SettingsError, load
from tests.readme_setup import ReadmeSetup, free_port

AGENT_A = "setup/agentA.yaml"


def _edit(path: str, **changes: Any) -> None:
    """Set (a mapping: update) or, with ``None``, remove top-level fields of an agent file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        elif isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    Path(path).write_text(yaml.safe_dump(data), encoding="utf-8")


def _status_of(site: str) -> dict[str, Any]:
    path = Path(f"setup/status{site}.json")
    return json.loads(path.read_text()) if path.exists() else {}


def _run(site: str) -> list[dict[str, Any]]:
    """The lines of the site's trace since its agent last started (its last ``init`` line)."""
    lines = [json.loads(x) for x in Path(f"setup/trace{site}.jsonl").read_text(encoding="utf-8").splitlines()]
    starts = [i for i, x in enumerate(lines) if "init" in x]
    return lines[starts[-1] :] if starts else []


def _span(site: str) -> float:
    """Core seconds covered by the site's current run."""
    run = _run(site)
    return float(run[-1].get("now", 0.0)) - float(run[0]["init"]["now"]) if len(run) > 1 else 0.0


def _roles(site: str) -> list[str]:
    """The roles the site's core took in its current run (``role@epoch``)."""
    return [
        f"{a['new']}@{a['epoch']}"
        for x in _run(site)
        for a in x.get("actions", [])
        if a.get("type") == "RoleChanged"
    ]


def test_both_continue_needs_a_plain_statement(tmp_path: Path) -> None:
    """The live agent refuses ``both-continue`` unless its file says ``accept_split_brain: true``."""
    base = {"site": "A", "peer": {"url": "https://127.0.0.1:9", "token": "x" * 43}}
    f = tmp_path / "agent.yaml"
    f.write_text(yaml.safe_dump({**base, "quorum": {"policy": "both-continue"}}))
    try:
        load(f, AgentSettings)
        raise AssertionError("both-continue accepted without accept_split_brain")
    except SettingsError as e:
        assert "field 'accept_split_brain'" in str(e) and "split-brain" in str(e), e
        assert "\n" not in str(e)
    f.write_text(yaml.safe_dump({**base, "quorum": {"policy": "both-continue"}, "accept_split_brain": True}))
    assert load(f, AgentSettings).accept_split_brain


def test_a_site_restarted_on_other_rules_does_not_serve_beside_its_peer(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    setup = ReadmeSetup()
    try:
        setup.run()

        def mirrored() -> bool:
            sites = setup.status().get("sites", {})
            return {s: v["role"] for s, v in sites.items()} == {"A": "mirrored", "B": "mirrored"}

        setup.wait_for("the pair mirrored", mirrored)
        setup.wait_for("A has heard B", lambda: _status_of("A").get("config", {}).get("peer"))
        assert setup.stop(AGENT_A) == 0

        def b_alone() -> bool:
            d = setup.status().get("durable", {})
            return d.get("mode") == "solo" and d.get("holder") == "B" and d.get("epoch") == 2

        setup.wait_for("B serving alone at epoch 2 through the witness", b_alone)

        original = Path(AGENT_A).read_text(encoding="utf-8")
        # A again, on its old state database, under both-continue, no witness, cut off from B
        # (its own endpoint moved too, so B's heartbeats do not reach it: neither hears the other)
        _edit(
            AGENT_A,
            quorum={"policy": "both-continue"},
            witness=None,
            peer={"url": f"https://127.0.0.1:{free_port()}"},
            port=int(free_port()),
        )
        out = setup.quorum("agent", "run", "--config", AGENT_A)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
        assert "accept_split_brain" in out.stderr and "Traceback" not in out.stderr

        _edit(AGENT_A, accept_split_brain=True)
        out = setup.quorum("agent", "run", "--config", AGENT_A)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
        assert "policy: was 'witness-preferred', now 'both-continue'" in out.stderr, out.stderr
        assert f"quorum agent reset --config {AGENT_A}" in out.stderr

        # the operator accepts the change: the peer's last configuration still guards
        out = setup.quorum("agent", "reset", "--config", AGENT_A)
        assert out.returncode == 0, out.stderr
        assert "does not serve alone until it hears its peer" in out.stdout, out.stdout
        setup.start(["agent", "run", "--config", AGENT_A])
        setup.wait_for("A started", lambda: _status_of("A").get("pid") == setup.procs[AGENT_A].pid)
        st = setup.wait_for(
            "A saying why it may not serve alone",
            lambda: (
                "peer runs configuration" in str(_status_of("A").get("promotion_blocked")) and _status_of("A")
            ),
        )
        assert st["role"] in ("starting", "fenced", "frozen"), st
        # three detection timeouts (4 s at the README's timings) by A's own clock: never alone
        setup.wait_for("A's core to run 12 s", lambda: _span("A") >= 12.0)
        assert setup.procs[AGENT_A].poll() is None
        assert not any(r.startswith("solo@") for r in _roles("A")), _roles("A")
        assert _status_of("A")["role"] != "solo"
        assert setup.stop(AGENT_A) == 0

        # the operator drops the guard as well: A serves alone at epoch 2 beside B (split-brain, as
        # its file says it accepts)...
        out = setup.quorum("agent", "reset", "--forget-peer", "--config", AGENT_A)
        assert out.returncode == 0 and "forgot the peer's last configuration" in out.stdout, out.stdout
        setup.start(["agent", "run", "--config", AGENT_A])
        try:
            setup.wait_for("A alone at epoch 2", lambda: _status_of("A").get("role") == "solo")
        except AssertionError:
            raise AssertionError(f"{_status_of('A')}\n{Path(AGENT_A + '.log').read_text()[-3000:]}") from None
        assert _status_of("A")["epoch"] == 2 and "solo@2" in _roles("A"), _roles("A")
        assert setup.stop(AGENT_A) == 0

        # ...and once A is back on the pair's settings, its journal reaches the witness: an alarm
        Path(AGENT_A).write_text(original, encoding="utf-8")
        assert setup.quorum("agent", "run", "--config", AGENT_A).returncode == 2
        assert setup.quorum("agent", "reset", "--config", AGENT_A).returncode == 0
        setup.start(["agent", "run", "--config", AGENT_A])

        def alarm() -> list[dict[str, Any]]:
            return [
                h for h in setup.history() if h["kind"] == "alarm" and "SPLIT-BRAIN at epoch 2" in h["reason"]
            ]

        found = setup.wait_for("the witness's split-brain alarm", alarm)
        assert "site A reports serving alone" in found[0]["reason"], found
        assert "granted epoch 2 to site B" in found[0]["reason"], found
    finally:
        setup.close()
