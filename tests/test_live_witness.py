"""The witness service in-process (FastAPI test client): auth, validation, durability, audit, metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from quorum.core import QuorumConfig, Role, Site, SiteDurable, SiteMachine, WitnessDurable
from quorum.live.auth import hash_token, new_token, verify
from quorum.live.codec import decode, encode
from quorum.live.settings import PairConfig, WitnessSettings
from quorum.live.store import WitnessStore
from quorum.live.trace import TraceWriter, replay
from quorum.live.witness import create_app

QCFG = QuorumConfig(heartbeat_interval=0.2, max_message_delay=0.1, lease_duration=2.0, lease_margin=0.5)


@pytest.fixture
def tokens() -> dict[str, str]:
    return {k: new_token() for k in ("A", "B", "operator")}


def make_client(tmp_path: Path, tokens: dict[str, str], **kw: Any) -> TestClient:
    settings = WitnessSettings(
        db=str(tmp_path / "w.db"),
        insecure_http=True,
        pairs={"p": PairConfig(quorum=QCFG, tokens={k: hash_token(v) for k, v in tokens.items()})},
        **kw,
    )
    return TestClient(create_app(settings))


def req(
    site: str, want: str = "report", epoch: int = 1, role: str = "mirrored", seq: int = 1
) -> dict[str, Any]:
    return {
        "pair": "p",
        "request": {
            "site": site,
            "seq": seq,
            "sent_at": 1.0,
            "want": want,
            "epoch": epoch,
            "role": role,
            "current": True,
            "config": QCFG.fingerprint(),
        },
    }


def auth(tok: str) -> dict[str, str]:
    return {"authorization": f"Bearer {tok}"}


def test_token_hash_verifies_only_the_token() -> None:
    """A token verifies against its salted hash; another token does not; the hash hides the token."""
    t = new_token()
    h = hash_token(t)
    assert len(t) >= 43 and t not in h
    assert verify(t, h) and not verify(new_token(), h) and not verify(t, "garbage")


def test_tokens_carry_256_random_bits_and_never_read_as_an_option() -> None:
    """Every token is ``qrm_`` + 32 random bytes; none starts with ``-`` (bare base64url does 1 time in 64)."""
    import base64

    toks = [new_token() for _ in range(2_000)]
    assert len(set(toks)) == len(toks)
    for t in toks:
        assert t.startswith("qrm_") and not t.startswith("-"), t
        assert len(base64.urlsafe_b64decode(t[4:] + "=")) == 32


def test_codec_round_trips_core_values() -> None:
    """Every core value survives encode → JSON → decode unchanged."""
    m = SiteMachine(QCFG, Site.A, 0.0)
    acts = m.handle_timer(0.0) + m.handle_timer(5.0)
    for v in [*acts, WitnessDurable(holder=Site.B, current=frozenset({Site.B})), SiteDurable(role=Role.SOLO)]:
        assert decode(json.loads(json.dumps(encode(v)))) == v


def test_bad_token_is_401_and_repeated_failures_are_429(tmp_path: Path, tokens: dict[str, str]) -> None:
    """A wrong or missing bearer token gets 401; past the per-minute limit, 429 for each further failure
    (with Retry-After); a valid token always passes, one that verified before and one never presented
    (issue 22 item 2: it used to get 429 while another client of its address kept failing), also after
    a restart."""
    settings = WitnessSettings(
        db=str(tmp_path / "w.db"),
        insecure_http=True,
        auth_fail_limit=3,
        pairs={"p": PairConfig(quorum=QCFG, tokens={k: hash_token(v) for k, v in tokens.items()})},
    )
    c = TestClient(create_app(settings))
    assert c.post("/v1/heartbeat", json=req("A"), headers=auth(tokens["A"])).status_code == 200
    assert c.post("/v1/heartbeat", json=req("A")).status_code == 401
    for _ in range(2):
        assert c.post("/v1/heartbeat", json=req("A"), headers=auth("wrong")).status_code == 401
    limited = c.post("/v1/heartbeat", json=req("A"), headers=auth("wrong"))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    # B's token was never presented: verified, it passes although the address is over the limit
    assert c.post("/v1/heartbeat", json=req("B"), headers=auth(tokens["B"])).status_code == 200
    assert c.post("/v1/heartbeat", json=req("A"), headers=auth("wrong")).status_code == 429
    assert c.post("/v1/heartbeat", json=req("A", seq=2), headers=auth(tokens["A"])).status_code == 200
    c2 = TestClient(create_app(settings))  # a restart: same database and configuration
    for _ in range(3):
        c2.post("/v1/heartbeat", json=req("A"), headers=auth("wrong"))
    assert c2.post("/v1/heartbeat", json=req("A", seq=3), headers=auth(tokens["A"])).status_code == 200


def test_token_rotation_is_not_locked_out_by_the_old_token(tmp_path: Path, tokens: dict[str, str]) -> None:
    """The rotation story: site A's token is replaced in the witness's configuration; the old agent on
    the same host keeps sending the rotated-out token (401, then 429 past the limit) while the new
    agent's token, never presented before, is accepted every time."""
    new_a = "n" * 43
    settings = WitnessSettings(
        db=str(tmp_path / "w.db"),
        insecure_http=True,
        auth_fail_limit=3,
        pairs={"p": PairConfig(quorum=QCFG, tokens={"A": hash_token(new_a), "B": hash_token(tokens["B"])})},
    )
    c = TestClient(create_app(settings))
    old = [c.post("/v1/heartbeat", json=req("A"), headers=auth(tokens["A"])).status_code for _ in range(4)]
    assert old == [401, 401, 401, 429]  # the old agent has put the host over the limit
    codes = []
    for seq in range(1, 4):  # the new agent starts now, its token never presented before
        assert c.post("/v1/heartbeat", json=req("A", seq=seq), headers=auth(new_a)).status_code == 200
        codes.append(c.post("/v1/heartbeat", json=req("A"), headers=auth(tokens["A"])).status_code)
    assert codes == [429, 429, 429]


def test_verified_tokens_are_remembered_by_digest_and_failures_are_forgotten(
    tmp_path: Path, tokens: dict[str, str]
) -> None:
    """A token that verified is remembered (by its SHA-256, not in clear); a bad one never is; clients
    whose failures are a minute old are dropped from the failure map once it is large."""
    c = make_client(tmp_path, tokens)
    svc = c.app.state.service
    for seq in (1, 2):
        assert c.post("/v1/heartbeat", json=req("A", seq=seq), headers=auth(tokens["A"])).status_code == 200
    assert c.post("/v1/heartbeat", json=req("A"), headers=auth("wrong")).status_code == 401
    assert len(svc.verified) == 1 and tokens["A"].encode() not in next(iter(svc.verified))
    old = time.monotonic() - 120.0
    for i in range(1024):
        svc._failed(f"10.0.{i // 256}.{i % 256}", old)
    svc._failed("10.9.9.9", time.monotonic())
    assert len(svc.failures) <= 2


def test_site_token_cannot_speak_for_the_other_site(tmp_path: Path, tokens: dict[str, str]) -> None:
    """A's token may not send B's heartbeat nor operate the pair."""
    c = make_client(tmp_path, tokens)
    assert c.post("/v1/heartbeat", json=req("B"), headers=auth(tokens["A"])).status_code == 403
    body = {"pair": "p", "to": "A", "dry_run": True}
    assert c.post("/v1/switchover", json=body, headers=auth(tokens["A"])).status_code == 403


def test_bad_body_is_400_with_field_errors(tmp_path: Path, tokens: dict[str, str]) -> None:
    """A malformed request names the offending fields."""
    c = make_client(tmp_path, tokens)
    bad = req("A")
    bad["request"]["want"] = "everything"
    bad["request"]["seq"] = -1
    r = c.post("/v1/heartbeat", json=bad, headers=auth(tokens["A"]))
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"request.want", "request.seq"} <= fields


def test_body_size_limit(tmp_path: Path, tokens: dict[str, str]) -> None:
    """Bodies above max_body are refused with 413 before parsing."""
    c = make_client(tmp_path, tokens, max_body=1024)
    big = req("A")
    big["pad"] = "x" * 5000
    assert c.post("/v1/heartbeat", json=big, headers=auth(tokens["A"])).status_code == 413
    # no declared length (chunked transfer): counted while reading
    h = {**auth(tokens["A"]), "content-type": "application/json"}
    chunks = [json.dumps(big).encode()[i : i + 500] for i in range(0, 6000, 500)]
    assert c.post("/v1/heartbeat", content=iter(chunks), headers=h).status_code == 413
    small = json.dumps(req("A")).encode()
    r = c.post("/v1/heartbeat", content=iter([small[:40], small[40:]]), headers=h)
    assert r.status_code == 200 and r.json()["reply"]["verdict"] == "ok"


def test_grant_is_durable_and_survives_restart(tmp_path: Path, tokens: dict[str, str]) -> None:
    """A solo grant is on disk when answered; a restarted witness holds the epoch and never grants it twice."""
    c = make_client(tmp_path, tokens)
    for seq in range(1, 4):
        assert c.post("/v1/heartbeat", json=req("B", seq=seq), headers=auth(tokens["B"])).status_code == 200
    r = c.post("/v1/heartbeat", json=req("A", want="solo", role="frozen", seq=9), headers=auth(tokens["A"]))
    reply = r.json()["reply"]
    assert reply["verdict"] == "grant-solo" and reply["epoch"] == 2
    stored = WitnessStore(tmp_path / "w.db").load("p")
    assert stored is not None and stored.epoch == 2 and stored.holder is Site.A
    c2 = make_client(tmp_path, tokens)  # restart from the same database
    r2 = c2.post(
        "/v1/heartbeat", json=req("B", want="solo", role="frozen", seq=10), headers=auth(tokens["B"])
    )
    assert r2.json()["reply"]["verdict"] != "grant-solo"
    assert r2.json()["reply"]["epoch"] >= 2
    kinds = [
        h["kind"] for h in c2.get("/v1/history?pair=p", headers=auth(tokens["operator"])).json()["history"]
    ]
    assert "decision" in kinds and kinds.count("start") == 2


def test_events_are_recorded_once(tmp_path: Path, tokens: dict[str, str]) -> None:
    """A journal batch sent twice (lost acknowledgement) is recorded once."""
    c = make_client(tmp_path, tokens)
    ev = {"uid": "0123456789abcdef", "at": 1.0, "kind": "role", "epoch": 2, "detail": {"new": "solo"}}
    body = {"pair": "p", "site": "A", "events": [ev]}
    assert c.post("/v1/events", json=body, headers=auth(tokens["A"])).json() == {
        "accepted": 1,
        "duplicates": 0,
    }
    assert c.post("/v1/events", json=body, headers=auth(tokens["A"])).json() == {
        "accepted": 0,
        "duplicates": 1,
    }


def test_operator_endpoints_health_and_metrics(tmp_path: Path, tokens: dict[str, str]) -> None:
    """Switchover dry-run, maintenance, state, health and Prometheus metrics answer."""
    c = make_client(tmp_path, tokens)
    op = auth(tokens["operator"])
    r = c.post("/v1/switchover", json={"pair": "p", "to": "B", "dry_run": True}, headers=op).json()
    assert r["ok"] and "would move" in r["detail"]
    assert c.put("/v1/maintenance", json={"pair": "p", "on": True, "reason": "patching"}, headers=op).json()[
        "ok"
    ]
    st = c.get("/v1/state?pair=p", headers=op).json()
    assert st["maintenance"]["on"] and st["durable"]["epoch"] == 1
    assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
    c.post("/v1/heartbeat", json=req("A"), headers=auth(tokens["A"]))
    text = c.get("/metrics").text
    assert 'quorum_witness_requests_total{pair="p",site="A"} 1' in text
    assert 'quorum_witness_epoch{pair="p"} 1' in text


def test_replay_reports_no_difference_and_catches_one(tmp_path: Path) -> None:
    """A trace replays with zero differences; a tampered action is reported."""
    path = tmp_path / "t.jsonl"
    w = TraceWriter(path)
    m = SiteMachine(QCFG, Site.A, 100.0)
    w.init(QCFG, Site.A, 100.0, None)
    t = 100.0
    for _ in range(20):
        t = m.next_deadline()
        w.call(t, None, m.handle_timer(t))
    w.close()
    rep = replay(path)
    assert rep.calls == 20 and rep.differences == []
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace('"frozen"', '"solo"').replace('"mirrored"', '"solo"')
    path.write_text("\n".join(lines) + "\n")
    assert len(replay(path).differences) == 1


def test_maintenance_mode_suspends_failover_durably(tmp_path: Path, tokens: dict[str, str]) -> None:
    """Maintenance on: a site asking to serve alone waits, across a witness restart; off: it is granted."""
    c = make_client(tmp_path, tokens)
    op = auth(tokens["operator"])
    body = {"pair": "p", "on": True, "reason": "storage firmware"}
    r = c.put("/v1/maintenance", json=body, headers=op).json()
    assert r["ok"] and "no automatic failover" in r["detail"]
    solo = req("A", want="solo", role="frozen", seq=5)
    reply = c.post("/v1/heartbeat", json=solo, headers=auth(tokens["A"])).json()["reply"]
    assert reply["verdict"] == "wait" and "maintenance" in reply["reason"]
    c2 = make_client(tmp_path, tokens)  # restart: the mode is part of the durable state
    st = c2.get("/v1/state?pair=p", headers=op).json()
    assert st["durable"]["maintenance"] is True
    assert st["maintenance"]["on"] is True and st["maintenance"]["reason"] == "storage firmware"
    solo["request"]["seq"] = 6
    assert c2.post("/v1/heartbeat", json=solo, headers=auth(tokens["A"])).json()["reply"]["verdict"] == "wait"
    c2.put("/v1/maintenance", json={"pair": "p", "on": False, "reason": "done"}, headers=op)
    solo["request"]["seq"] = 7
    reply = c2.post("/v1/heartbeat", json=solo, headers=auth(tokens["A"])).json()["reply"]
    assert reply["verdict"] == "grant-solo"
    reasons = [h["reason"] for h in c2.get("/v1/history?pair=p", headers=op).json()["history"]]
    assert any("maintenance on: storage firmware" in t for t in reasons)


# ---- errors are atomic; the OpenAPI document tells the truth (issue 16, item 4) ----------------------
def _history(c: TestClient, tokens: dict[str, str]) -> list[dict[str, Any]]:
    h = c.get("/v1/history", params={"pair": "p"}, headers=auth(tokens["operator"]))
    rows: list[dict[str, Any]] = h.json()["history"]
    return rows


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epoch", "7"),
        ("epoch", True),
        ("epoch", 7.0),
        ("seq", "1"),
        ("seq", False),
        ("current", 1),
        ("current", "true"),
        ("sent_at", "1.5"),
    ],
)
def test_the_heartbeat_api_is_as_strict_as_files(
    field: str, value: Any, tmp_path: Path, tokens: dict[str, str]
) -> None:
    """Issue 22: ``"epoch": "7"`` and ``"epoch": true`` were taken as epochs 7 and 1 (files refuse
    them): now a 400 whose error names the field, and nothing is decided or written."""
    c = make_client(tmp_path, tokens)
    before = _history(c, tokens)
    body = req("A", want="solo")
    body["request"][field] = value
    r = c.post("/v1/heartbeat", json=body, headers=auth(tokens["A"]))
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == f"request.{field}", r.text
    assert _history(c, tokens) == before
    ok = req("A")
    assert c.post("/v1/heartbeat", json=ok, headers=auth(tokens["A"])).status_code == 200  # ints still do
    for op, path, payload, key in (
        ("POST", "/v1/switchover", {"pair": "p", "to": "B", "dry_run": 1}, "dry_run"),
        ("POST", "/v1/failover", {"pair": "p", "to": "B", "accept_data_loss": "yes"}, "accept_data_loss"),
        ("PUT", "/v1/maintenance", {"pair": "p", "on": 1, "reason": "x"}, "on"),
    ):
        r = c.request(op, path, json=payload, headers=auth(tokens["operator"]))
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == key, r.text


def test_integers_beyond_the_edge_are_a_400_naming_the_field(tmp_path: Path, tokens: dict[str, str]) -> None:
    """Epochs and sequence numbers of 2^53 or more are refused at the edge, with the field named, and
    nothing is saved (before: 2^63 was a 500 after the state change was committed)."""
    c = make_client(tmp_path, tokens)
    assert c.post("/v1/heartbeat", json=req("A"), headers=auth(tokens["A"])).status_code == 200
    before = _history(c, tokens)
    for field, value in (("epoch", 2**63), ("seq", 2**63), ("epoch", 2**53)):
        body = req("A")
        body["request"][field] = value
        r = c.post("/v1/heartbeat", json=body, headers=auth(tokens["A"]))
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == f"request.{field}", r.text
    event = {"uid": "u" * 10, "at": 1.0, "kind": "role", "epoch": 2**63}
    r = c.post("/v1/events", json={"pair": "p", "site": "A", "events": [event]}, headers=auth(tokens["A"]))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "events.0.epoch"
    nan = c.post(
        "/v1/events",
        content=json.dumps({"pair": "p", "site": "A", "events": [{**event, "epoch": 1, "at": float("nan")}]}),
        headers={**auth(tokens["A"]), "content-type": "application/json"},
    )
    assert nan.status_code == 400 and nan.json()["errors"][0]["field"] == "events.0.at"
    assert _history(c, tokens) == before
    st = c.get("/v1/state", params={"pair": "p"}, headers=auth(tokens["operator"])).json()
    assert st["durable"]["epoch"] == 1


def test_an_event_batch_is_recorded_whole_or_not_at_all(
    tmp_path: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose third line fails to be written is rolled back whole (500); sent again, every
    line is recorded once."""
    c = make_client(tmp_path, tokens)
    c2 = TestClient(c.app, raise_server_exceptions=False)
    store = c.app.state.service.store
    events = [{"uid": f"uid-{i:05d}", "at": 1.0 + i, "kind": "role", "epoch": 1} for i in range(5)]
    body = {"pair": "p", "site": "A", "events": events}
    real = store.record
    calls = []

    def failing(*args: Any, **kw: Any) -> bool:
        calls.append(kw.get("uid"))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return bool(real(*args, **kw))

    monkeypatch.setattr(store, "record", failing)
    assert c2.post("/v1/events", json=body, headers=auth(tokens["A"])).status_code == 500
    monkeypatch.setattr(store, "record", real)
    assert not [h for h in _history(c, tokens) if h["uid"]]
    r = c.post("/v1/events", json=body, headers=auth(tokens["A"]))
    assert r.json() == {"accepted": 5, "duplicates": 0}


def test_a_failed_operator_request_changes_nothing(
    tmp_path: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maintenance on whose last write fails: 500, and neither the database nor the witness's memory
    says maintenance is on (the machine is reloaded from the database)."""
    c = make_client(tmp_path, tokens)
    c2 = TestClient(c.app, raise_server_exceptions=False)
    store = c.app.state.service.store

    def failing(*args: Any, **kw: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "set_maintenance", failing)
    body = {"pair": "p", "on": True, "reason": "kernel update"}
    assert c2.put("/v1/maintenance", json=body, headers=auth(tokens["operator"])).status_code == 500
    st = c.get("/v1/state", params={"pair": "p"}, headers=auth(tokens["operator"])).json()
    assert st["durable"]["maintenance"] is False and st["maintenance"]["on"] is False
    assert store.load("p") is None or store.load("p").maintenance is False
    assert not [h for h in _history(c, tokens) if "maintenance" in h["reason"]]


def test_the_openapi_document_lists_the_responses_really_given(
    tmp_path: Path, tokens: dict[str, str]
) -> None:
    """Every error status the heartbeat route gives (400, 401, 403, 404, 409, 413, 429) is in its
    OpenAPI responses, 422 (which the witness never answers) is not, and the bearer scheme is declared."""
    c = make_client(tmp_path, tokens, auth_fail_limit=2, max_body=1024)
    doc = c.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "422" not in op["responses"] and "413" in op["responses"], path
            if path.startswith("/v1/") and path != "/v1/ping":
                assert op["security"] == [{"bearer": []}], path
                assert {"400", "401", "403", "404", "429"} <= set(op["responses"]), path
    documented = set(doc["paths"]["/v1/heartbeat"]["post"]["responses"])
    seen = set()
    hb = "/v1/heartbeat"
    seen.add(c.post(hb, json=req("A"), headers=auth(tokens["A"])).status_code)
    seen.add(c.post(hb, json={"pair": "p"}, headers=auth(tokens["A"])).status_code)
    seen.add(c.post(hb, json=req("B"), headers=auth(tokens["A"])).status_code)
    seen.add(c.post(hb, json={**req("A"), "pair": "nope"}, headers=auth(tokens["A"])).status_code)
    other = req("A")
    other["request"]["config"] = "0" * 16
    seen.add(c.post(hb, json=other, headers=auth(tokens["A"])).status_code)
    seen.add(c.post(hb, content=b"x" * 2000, headers=auth(tokens["A"])).status_code)
    for _ in range(3):
        seen.add(c.post(hb, json=req("A"), headers=auth("wrong")).status_code)
    assert seen == {200, 400, 401, 403, 404, 409, 413, 429}
    assert {str(s) for s in seen} <= documented


def test_state_and_its_audit_line_commit_in_one_transaction(
    tmp_path: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure between writing the new state and writing its audit line leaves neither on disk (the
    witness never keeps a grant the history does not show); then a normal grant writes both."""
    c = make_client(tmp_path, tokens)
    svc = c.app.state.service  # type: ignore[attr-defined]
    real = svc.store.record_decision

    def crash(*args: object, **kw: object) -> None:
        raise RuntimeError("the process dies between the two writes")

    monkeypatch.setattr(svc.store, "record_decision", crash)
    with pytest.raises(RuntimeError):
        c.post("/v1/heartbeat", json=req("A", want="solo", role="frozen"), headers=auth(tokens["A"]))
    stored = WitnessStore(tmp_path / "w.db")
    assert stored.load("p") is None  # the state was rolled back with its audit line
    assert not [h for h in stored.history("p") if h["kind"] == "decision"]
    monkeypatch.setattr(svc.store, "record_decision", real)
    c2 = make_client(tmp_path, tokens)  # the restarted process grants the tie site A at once
    r = c2.post("/v1/heartbeat", json=req("A", want="solo", role="frozen", seq=2), headers=auth(tokens["A"]))
    assert r.json()["reply"]["verdict"] == "grant-solo" and r.json()["reply"]["epoch"] == 2
    state = stored.load("p")
    assert state is not None and state.epoch == 2
    decisions = [(h["epoch"], h["holder"]) for h in stored.history("p") if h["kind"] == "decision"]
    assert decisions == [(2, "A")]


def test_a_persisted_grant_sent_again_after_a_restart_is_recorded(
    tmp_path: Path, tokens: dict[str, str]
) -> None:
    """The witness persisted epoch 2 for A and restarted before A heard it: A asks again at epoch 1 and
    the grant it receives now is an audit line of its own (recorded once)."""
    store = WitnessStore(tmp_path / "w.db")
    from quorum.core import Mode

    store.save("p", WitnessDurable(epoch=2, mode=Mode.SOLO, holder=Site.A, current=frozenset({Site.A})))
    c = make_client(tmp_path, tokens)
    for seq in (1, 2):
        r = c.post(
            "/v1/heartbeat", json=req("A", want="solo", role="frozen", seq=seq), headers=auth(tokens["A"])
        )
        assert r.json()["reply"]["verdict"] == "grant-solo" and r.json()["reply"]["epoch"] == 2
    hist = c.get("/v1/history?pair=p", headers=auth(tokens["operator"])).json()["history"]
    again = [h for h in hist if h["kind"] == "decision" and "sent again" in h["reason"]]
    assert [(h["epoch"], h["holder"], h["mode"]) for h in again] == [(2, "A", "solo")]
