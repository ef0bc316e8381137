"""The promotion gate (site health, pre-promote check) and the witness's maintenance mode.

Each only withholds a promotion, so each can cost availability and never safety; the property
tests explore them among the other faults (``unhealthy``, ``veto`` and ``maintenance`` steps).
"""

from __future__ import annotations

from pathlib import Path

from quorum.core import (
    CheckPromotion,
    Decision,
    Maintenance,
    Mode,
    OperatorResult,
    PersistWitness,
    PromotionChecked,
    QuorumConfig,
    Role,
    Send,
    Site,
    SiteHealth,
    SiteMachine,
    Switchover,
    Verdict,
    Want,
    WitnessMachine,
    WitnessReply,
    WitnessRequest,
)
from quorum.testing import Driver
from quorum.testing.schedule import Crash, Cut, MaintenanceStep, Schedule, Unhealthy, Veto


def drive(config: QuorumConfig, *steps: object, until: float) -> Driver:
    d = Driver(config, Schedule(seed=3, steps=tuple(steps)))  # type: ignore[arg-type]
    d.advance(until)
    assert not d.checker.violations, [v.as_dict() for v in d.checker.violations]
    return d


def first_solo(d: Driver) -> tuple[float, str] | None:
    for e in d.trace:
        if e.kind == "role" and "-> solo" in e.text:
            return e.t, e.node
    return None


def request(site: Site, want: Want, epoch: int = 1, role: Role = Role.FROZEN, seq: int = 1) -> WitnessRequest:
    return WitnessRequest(site, seq, 0.0, want, epoch, role, True)


def replies(acts: list[object]) -> list[WitnessReply]:
    return [a.message for a in acts if isinstance(a, Send) and isinstance(a.message, WitnessReply)]


# ---- maintenance --------------------------------------------------------------------------------
def test_maintenance_suspends_automatic_failover_and_is_durable() -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    acts = w.handle(0.0, Maintenance(True, "storage firmware"))
    assert any(isinstance(a, PersistWitness) and a.state.maintenance for a in acts)
    (dec,) = [a for a in acts if isinstance(a, Decision)]
    assert dec.actor == "operator" and "storage firmware" in dec.reason
    (r,) = replies(w.handle(1.0, request(Site.A, Want.SOLO)))
    assert r.verdict is Verdict.WAIT and "maintenance" in r.reason
    # a witness restarted from its store is still in maintenance
    w2 = WitnessMachine(QuorumConfig(), 2.0, w.d)
    (r,) = replies(w2.handle(3.0, request(Site.A, Want.SOLO)))
    assert r.verdict is Verdict.WAIT
    w2.handle(4.0, Maintenance(False))
    (r,) = replies(w2.handle(5.0, request(Site.A, Want.SOLO, seq=2)))
    assert r.verdict is Verdict.GRANT_SOLO and r.epoch == 2


def test_maintenance_twice_is_reported_not_repeated() -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    w.handle(0.0, Maintenance(True))
    acts = w.handle(1.0, Maintenance(True))
    assert not [a for a in acts if isinstance(a, PersistWitness | Decision)]
    assert [a.detail for a in acts if isinstance(a, OperatorResult)] == ["maintenance already on"]


def test_maintenance_still_allows_a_planned_switchover() -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    w.handle(0.0, Maintenance(True))
    w.handle(0.5, Switchover(Site.B))
    (r,) = replies(w.handle(1.0, request(Site.B, Want.REPORT, role=Role.MIRRORED)))
    assert r.verdict is Verdict.GRANT_SOLO and r.holder is Site.B


def test_link_cut_during_maintenance_freezes_until_it_ends() -> None:
    d = drive(QuorumConfig(), MaintenanceStep(at=1, duration=40), Cut(at=5, src="A", dst="B"), until=80)
    t, node = first_solo(d) or (None, None)
    assert t is not None and t >= 41 and node == "A"
    assert d.witness.d.maintenance is False and d.witness.d.mode is Mode.SOLO


# ---- site health --------------------------------------------------------------------------------
def test_unhealthy_preferred_site_does_not_contend_the_other_wins() -> None:
    d = drive(QuorumConfig(), Unhealthy(at=1, site="A", duration=200), Cut(at=5, src="A", dst="B"), until=60)
    assert first_solo(d) is not None and first_solo(d)[1] == "B"  # type: ignore[index]
    assert d.sites[Site.A].role is Role.FENCED


def test_healthy_preferred_site_wins_the_same_cut() -> None:
    d = drive(QuorumConfig(), Cut(at=5, src="A", dst="B"), until=60)
    assert first_solo(d)[1] == "A"  # type: ignore[index]


def test_unhealthy_sites_never_promote_then_recover() -> None:
    """Both sites unhealthy when A dies: B waits; once healthy it takes over."""
    d = drive(
        QuorumConfig(),
        Unhealthy(at=1, site="B", duration=30),
        Crash(at=5, node="A"),
        until=80,
    )
    t, node = first_solo(d)  # type: ignore[misc]
    assert node == "B" and t >= 31


def test_static_preferred_unhealthy_site_does_not_continue_alone() -> None:
    m = SiteMachine(QuorumConfig(policy="static-preferred"), Site.A, 0.0)
    m.handle(0.0, SiteHealth(False, "disk full"))
    assert m.promotion_blocked() == "site unhealthy: disk full"
    m.handle_timer(10.0)  # peer silent: A would continue alone, but it is unhealthy
    assert m.role is Role.FROZEN
    m.handle(11.0, SiteHealth(True))
    m.handle_timer(12.0)
    assert m.role is Role.SOLO


# ---- pre-promote check --------------------------------------------------------------------------
def test_pre_promote_check_runs_before_the_site_asks_to_serve_alone() -> None:
    cfg = QuorumConfig(pre_promote_check=True)
    m = SiteMachine(cfg, Site.B, 0.0)
    acts = m.handle_timer(cfg.detection_timeout + 0.01)  # peer lost: B freezes
    assert m.role is Role.FROZEN
    checks = [a for a in acts if isinstance(a, CheckPromotion)]
    assert checks == [CheckPromotion(Site.B, 1)]
    wants = [a.message.want for a in acts if isinstance(a, Send) and isinstance(a.message, WitnessRequest)]
    assert wants and Want.SOLO not in wants  # not before the check passed
    acts = m.handle(5.0, PromotionChecked(1, True))
    wants = [a.message.want for a in acts if isinstance(a, Send) and isinstance(a.message, WitnessRequest)]
    assert Want.SOLO in wants


def test_failed_pre_promote_check_aborts_the_promotion_then_retries() -> None:
    cfg = QuorumConfig(pre_promote_check=True, pre_promote_retry=20)
    d = drive(cfg, Veto(at=0, site="B", duration=10), Crash(at=2, node="A"), until=120)
    notes = [e for e in d.trace if "pre-promote check" in e.text]
    assert len(notes) >= 2  # the failed check, then the retry
    t, node = first_solo(d)  # type: ignore[misc]
    assert node == "B" and t >= 2 + 20


def test_a_stale_check_answer_is_ignored() -> None:
    cfg = QuorumConfig(pre_promote_check=True)
    m = SiteMachine(cfg, Site.B, 0.0)
    m.handle_timer(cfg.detection_timeout + 0.01)
    m.handle(5.0, PromotionChecked(7, True))  # not the epoch asked for
    assert m.promotion_blocked() == "pre-promote check pending"


def test_pre_commit_runs_the_checks_of_make_test() -> None:
    """.pre-commit-config.yaml: local hooks (no network) calling the venv's ruff check, ruff format
    --check and mypy --strict, as make test does."""
    import yaml

    root = Path(__file__).resolve().parent.parent
    cfg = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for r in cfg["repos"] for h in r["hooks"]]
    assert all(r["repo"] == "local" for r in cfg["repos"])
    entries = [h["entry"] for h in hooks]
    for needed in (".venv/bin/ruff check", ".venv/bin/ruff format --check", ".venv/bin/mypy --strict"):
        assert any(e.startswith(needed) for e in entries), needed
    assert any(".venv/bin/cog -I docs/gen --check" in e for e in entries), "cog --check (quoted outputs)"


def test_status_says_what_a_site_does_when_its_peer_runs_other_rules() -> None:
    """Issue 22 item 4: B had heard A's heartbeats carrying another configuration, so its status said
    ``promotion_blocked: peer runs configuration ...``, yet when A went silent B asked the witness to
    serve alone and won: that guard only binds a policy without a witness (whose witness judges the
    configuration otherwise). The status now derives from the same gate the decision uses."""
    from quorum.core import PeerHeartbeat

    cfg = QuorumConfig()
    other = QuorumConfig(lease_duration=20, lease_margin=6).fingerprint()
    b = SiteMachine(cfg, Site.B, 0.0)
    w = WitnessMachine(cfg, 0.0)
    for i in range(1, 4):
        hb = PeerHeartbeat(Site.A, 1, i, b.epoch, Role.MIRRORED, True, Site.A, config=other)
        b.handle(float(i), hb)
    asked: list[WitnessRequest] = []
    won = False
    t = 4.0
    while t < 40.0 and not won:
        for a in b.handle_timer(t):
            if isinstance(a, Send) and isinstance(a.message, WitnessRequest):
                asked.append(a.message)
                for r in replies(w.handle(t, a.message)):
                    b.handle(t, r)
                    won = won or r.verdict is Verdict.GRANT_SOLO
        t += 0.5
    solo_asks = [r for r in asked if r.want is Want.SOLO]
    assert solo_asks and won and b.role is Role.SOLO  # what the site did: contend, and win
    assert b.promotion_blocked() is None  # what its status says now (before: "peer runs configuration")
    # a policy without a witness is where the peer's rules do block: status and decision agree there too
    s = SiteMachine(QuorumConfig(policy="static-preferred"), Site.A, 0.0)
    s.handle(1.0, PeerHeartbeat(Site.B, 1, 1, s.epoch, Role.MIRRORED, True, Site.A, config=other))
    assert "peer runs configuration" in str(s.promotion_blocked())
    s.handle_timer(30.0)
    assert s.role is not Role.SOLO
