"""The site state machine, rule by rule (time is an argument; no driver)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from quorum.core import (
    TRANSITIONS,
    Mode,
    PeerHeartbeat,
    PersistSite,
    Policy,
    QuorumConfig,
    Role,
    RoleChanged,
    Send,
    Site,
    SiteDurable,
    SiteHealth,
    SiteMachine,
    Verdict,
    Want,
    WitnessReply,
    WitnessRequest,
)
from quorum.core.site import InvalidTransition

CFG = QuorumConfig()


def requests(acts: list[object]) -> list[WitnessRequest]:
    return [a.message for a in acts if isinstance(a, Send) and isinstance(a.message, WitnessRequest)]


def roles(acts: list[object]) -> list[tuple[Role, Role]]:
    return [(a.old, a.new) for a in acts if isinstance(a, RoleChanged)]


def reply(site: Site, req: WitnessRequest, verdict: Verdict, epoch: int, **kw: object) -> WitnessReply:
    base = dict(
        site=site, seq=req.seq, sent_at=req.sent_at, verdict=verdict, epoch=epoch,
        mode=Mode.SOLO, holder=site, tie_site=Site.A,
    )  # fmt: skip
    base.update(kw)
    return WitnessReply(**base)  # type: ignore[arg-type]


def test_transition_table_has_no_self_loops_and_no_way_back_to_starting() -> None:
    for src, dsts in TRANSITIONS.items():
        assert src not in dsts
        assert Role.STARTING not in dsts


def test_forbidden_transition_raises() -> None:
    """A rule asking for a transition outside the table is a bug, and raises."""
    m = SiteMachine(CFG, Site.A, 0.0)
    with pytest.raises(InvalidTransition):
        m._set_role(0.0, Role.STARTING, "test", [])


def test_fresh_site_serves_mirrored_and_heartbeats() -> None:
    m = SiteMachine(CFG, Site.A, 0.0)
    acts = m.handle_timer(0.0)
    assert m.role is Role.MIRRORED
    assert any(isinstance(a, Send) and isinstance(a.message, PeerHeartbeat) for a in acts)
    auth = m.write_authority(0.0)
    assert auth is not None and auth.mirrored


def test_peer_silence_freezes_then_witness_grant_gives_a_lease() -> None:
    """Missed heartbeats freeze I/O; a grant makes the site solo until sent_at+lease-margin."""
    m = SiteMachine(CFG, Site.A, 0.0)
    m.handle_timer(0.0)
    t = CFG.detection_timeout
    acts = m.handle_timer(t)
    assert (Role.MIRRORED, Role.FROZEN) in roles(acts)
    assert m.write_authority(t) is None
    req = next(r for r in requests(acts) if r.want is Want.SOLO)
    acts = m.handle(t + 0.2, reply(Site.A, req, Verdict.GRANT_SOLO, 2))
    assert m.role is Role.SOLO and m.epoch == 2
    stop = req.sent_at + CFG.lease_duration - CFG.lease_margin
    assert m.write_authority(stop - 0.01) is not None
    assert m.write_authority(stop) is None
    assert m.next_deadline() <= stop


def test_lease_runs_out_without_renewal() -> None:
    m = SiteMachine(CFG, Site.A, 0.0)
    t = CFG.detection_timeout
    req = next(r for r in requests(m.handle_timer(t)) if r.want is Want.SOLO)
    m.handle(t, reply(Site.A, req, Verdict.GRANT_SOLO, 2))
    acts = m.handle_timer(req.sent_at + CFG.lease_duration - CFG.lease_margin)
    assert (Role.SOLO, Role.FROZEN) in roles(acts)


def test_hysteresis_one_heartbeat_does_not_bring_a_lost_peer_back() -> None:
    """A lost peer counts as back only after rise_threshold heartbeats in a row."""
    m = SiteMachine(CFG, Site.A, 0.0)
    t = CFG.detection_timeout
    m.handle_timer(t)
    assert not m.peer_up
    hb = PeerHeartbeat(src=Site.B, boot=0, seq=100, epoch=1, role=Role.FROZEN, current=True, tie_site=Site.A)
    m.handle(t + 0.1, hb)
    assert not m.peer_up
    m.handle(t + 1.1, PeerHeartbeat(**{**_fields(hb), "seq": 101}))
    assert m.peer_up
    assert m.role is Role.MIRRORED  # both frozen at the same epoch, both current: mirror again


def test_old_or_duplicate_heartbeats_carry_no_news() -> None:
    m = SiteMachine(CFG, Site.A, 0.0)
    solo = PeerHeartbeat(src=Site.B, boot=0, seq=5, epoch=7, role=Role.SOLO, current=True, tie_site=Site.A)
    m.handle(0.5, solo)
    assert m.role is Role.FENCED and not m.current
    m2 = SiteMachine(CFG, Site.A, 0.0)
    m2.handle(
        0.4,
        PeerHeartbeat(src=Site.B, boot=0, seq=9, epoch=1, role=Role.MIRRORED, current=True, tie_site=Site.A),
    )
    m2.handle(0.5, solo)  # seq 5 < 9: reordered, ignored
    assert m2.role is Role.MIRRORED


def test_restarted_site_starts_without_serving() -> None:
    m = SiteMachine(CFG, Site.B, 50.0, SiteDurable(epoch=4, role=Role.SOLO, current=True))
    assert m.role is Role.STARTING
    assert m.write_authority(50.0) is None
    assert m.boot == 1


def test_static_preferred_non_preferred_site_never_serves_alone() -> None:
    cfg = QuorumConfig(policy="static-preferred")
    a, b = SiteMachine(cfg, Site.A, 0.0), SiteMachine(cfg, Site.B, 0.0)
    t = cfg.detection_timeout
    a.handle_timer(t)
    b.handle_timer(t)
    assert a.role is Role.SOLO and a.sticky
    assert b.role is Role.FROZEN
    b.handle_timer(t + 100)
    assert b.role is Role.FROZEN


def _fields(hb: PeerHeartbeat) -> dict[str, object]:
    return {k: getattr(hb, k) for k in hb.__dataclass_fields__}


def test_the_peers_configuration_guard_outlives_a_restart() -> None:
    """Issue 22 item 1: a site that heard its peer run other rules does not serve alone beside it,
    and that guard is durable. A restarted on its old state under ``both-continue``, cut off from its
    peer, stays out (before the fix the guard lived in memory: A self-promoted to epoch 2); a state
    that never heard the peer self-promotes as ``both-continue`` says."""
    pair = QuorumConfig()
    m = SiteMachine(pair, Site.A, 0.0)
    hb = PeerHeartbeat(Site.B, 0, 1, 1, Role.MIRRORED, True, Site.A, config=pair.fingerprint())
    acts = m.handle(0.5, hb)
    saved = [a.state for a in acts if isinstance(a, PersistSite)]
    assert saved and saved[-1].peer_config == pair.fingerprint()
    unsafe = QuorumConfig(policy=Policy.BOTH_CONTINUE)
    for durable, serves in ((saved[-1], False), (replace(saved[-1], peer_config=None), True)):
        r = SiteMachine(unsafe, Site.A, 100.0, durable)
        got = [x for t in range(100, 130) for x in roles(r.handle_timer(float(t)))]
        assert ((Role.STARTING, Role.SOLO) in got) is serves, (durable, got)
        if not serves:
            assert "peer runs configuration" in str(r.promotion_blocked())


def test_an_unhealthy_site_does_not_renew_a_lapsed_lease() -> None:
    """A solo site whose lease ran out renews it at the same epoch only while healthy: renewing is serving
    alone again, and an unhealthy site never contends. A renewal arriving late does not bring it back
    either; once healthy it asks again and serves."""
    m = SiteMachine(CFG, Site.A, 0.0)
    t = CFG.detection_timeout
    req = next(r for r in requests(m.handle_timer(t)) if r.want is Want.SOLO)
    m.handle(t, reply(Site.A, req, Verdict.GRANT_SOLO, 2))
    renew = next(r for r in requests(m.handle_timer(t + 1.0)) if r.want is Want.RENEW)
    lapse = req.sent_at + CFG.lease_duration - CFG.lease_margin
    assert (Role.SOLO, Role.FROZEN) in roles(m.handle_timer(lapse))
    m.handle(lapse + 0.1, SiteHealth(healthy=False, detail="disk free 1 %"))
    asks = requests(m.handle_timer(lapse + 1.0))
    assert asks and all(r.want is Want.REPORT for r in asks)
    m.handle(lapse + 1.1, reply(Site.A, renew, Verdict.RENEWED, 2))  # the late answer to a renewal
    assert m.role is Role.FROZEN and m.write_authority(lapse + 1.1) is None
    acts = m.handle(lapse + 2.0, SiteHealth(healthy=True))
    again = next(r for r in requests(acts) if r.want is Want.RENEW)
    m.handle(lapse + 2.1, reply(Site.A, again, Verdict.RENEWED, 2))
    assert m.role is Role.SOLO and m.write_authority(lapse + 2.1) is not None
