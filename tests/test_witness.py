"""The witness state machine, rule by rule: grants, waits, denials, persistence order, operators."""

from __future__ import annotations

import pytest

from quorum.core import (
    ForcedTakeover,
    Mode,
    OperatorResult,
    PersistWitness,
    QuorumConfig,
    Role,
    Send,
    Site,
    Switchover,
    Verdict,
    Want,
    WitnessDurable,
    WitnessMachine,
    WitnessReply,
    WitnessRequest,
)

A, B = Site.A, Site.B


def req(site: Site, want: Want, epoch: int = 1, role: Role = Role.FROZEN, **kw: object) -> WitnessRequest:
    return WitnessRequest(
        site=site, seq=1, sent_at=0.0, want=want, epoch=epoch, role=role, current=True, **kw
    )  # type: ignore[arg-type]


def reply_of(acts: list[object]) -> WitnessReply:
    replies = [a.message for a in acts if isinstance(a, Send) and isinstance(a.message, WitnessReply)]
    assert len(replies) == 1
    return replies[0]


def test_every_grant_is_persisted_before_it_is_sent() -> None:
    """An epoch is durable before its grant leaves: PersistWitness precedes the Send."""
    w = WitnessMachine(QuorumConfig(), 0.0)
    acts = w.handle(1.0, req(A, Want.SOLO))
    kinds = [type(a).__name__ for a in acts]
    assert kinds.index("PersistWitness") < kinds.index("Send")
    persisted = next(a for a in acts if isinstance(a, PersistWitness))
    assert persisted.state.epoch == reply_of(acts).epoch == 2


def test_preferred_site_wins_at_once_the_other_waits_for_the_window() -> None:
    cfg = QuorumConfig()
    w = WitnessMachine(cfg, 0.0)
    w.handle(0.0, req(A, Want.REPORT, role=Role.MIRRORED))
    assert reply_of(w.handle(0.5, req(B, Want.SOLO))).verdict is Verdict.WAIT
    assert reply_of(w.handle(0.6, req(A, Want.SOLO))).verdict is Verdict.GRANT_SOLO
    r = reply_of(w.handle(0.7, req(B, Want.SOLO)))
    assert r.verdict is Verdict.DENY and r.holder is A


def test_non_preferred_site_wins_when_the_preferred_site_does_not_contend() -> None:
    cfg = QuorumConfig()
    w = WitnessMachine(cfg, 0.0)
    w.handle(0.0, req(A, Want.REPORT, role=Role.MIRRORED))
    assert reply_of(w.handle(1.0, req(B, Want.SOLO))).verdict is Verdict.WAIT
    w.handle(2.0, req(A, Want.REPORT, role=Role.MIRRORED))  # alive but not contending
    r = reply_of(w.handle(1.0 + cfg.arbitration_window, req(B, Want.SOLO)))
    assert r.verdict is Verdict.GRANT_SOLO and r.holder is B


def test_the_arbitration_window_restarts_when_a_site_stops_contending() -> None:
    """B asks to serve alone, then its peer is back (B reports mirrored); seconds later B asks again
    (or its delayed first request arrives late): the preferred site A is alive and has not contended,
    so B waits a fresh window instead of being granted at once. Seen live: A fenced, no failure."""
    cfg = QuorumConfig()
    w = WitnessMachine(cfg, 0.0)
    w.handle(0.0, req(A, Want.REPORT, role=Role.MIRRORED))
    assert reply_of(w.handle(1.0, req(B, Want.SOLO))).verdict is Verdict.WAIT
    w.handle(1.1, req(B, Want.REPORT, role=Role.MIRRORED))  # B's peer is back: B stops contending
    t = 1.0 + 2 * cfg.arbitration_window
    w.handle(t - 0.1, req(A, Want.REPORT, role=Role.MIRRORED))
    assert reply_of(w.handle(t, req(B, Want.SOLO))).verdict is Verdict.WAIT
    w.handle(t + cfg.heartbeat_interval, req(A, Want.REPORT, role=Role.MIRRORED))  # A alive, not contending
    r = reply_of(w.handle(t + cfg.arbitration_window, req(B, Want.SOLO)))
    assert r.verdict is Verdict.GRANT_SOLO and r.holder is B  # a contention of its own still wins


def test_race_first_request_wins() -> None:
    w = WitnessMachine(QuorumConfig(policy="witness-race"), 0.0)
    assert reply_of(w.handle(1.0, req(B, Want.SOLO))).verdict is Verdict.GRANT_SOLO
    assert reply_of(w.handle(1.1, req(A, Want.SOLO))).verdict is Verdict.DENY


def test_majority_collects_votes_for_a_window_then_breaks_the_tie() -> None:
    cfg = QuorumConfig(policy="majority")
    w = WitnessMachine(cfg, 0.0)
    w.handle(0.5, req(A, Want.REPORT, role=Role.MIRRORED))
    assert reply_of(w.handle(1.0, req(B, Want.SOLO))).verdict is Verdict.WAIT
    assert reply_of(w.handle(1.2, req(A, Want.SOLO))).verdict is Verdict.WAIT
    assert reply_of(w.handle(3.0, req(B, Want.SOLO))).verdict is Verdict.WAIT
    assert reply_of(w.handle(3.1, req(A, Want.SOLO))).verdict is Verdict.WAIT
    t = 1.0 + cfg.arbitration_window
    assert reply_of(w.handle(t, req(B, Want.SOLO))).verdict is Verdict.WAIT
    assert reply_of(w.handle(t + 0.1, req(A, Want.SOLO))).verdict is Verdict.GRANT_SOLO


def test_stale_copy_is_denied_in_synchronous_mode_and_waits_out_the_lease_in_bounded_loss() -> None:
    for mode, after_lease in (("synchronous", Verdict.DENY), ("bounded-loss", Verdict.GRANT_SOLO)):
        cfg = QuorumConfig(consistency=mode)
        w = WitnessMachine(cfg, 0.0)
        w.handle(0.0, req(A, Want.SOLO))
        early = reply_of(w.handle(1.0, req(B, Want.SOLO, epoch=2, role=Role.FENCED)))
        assert early.verdict in (Verdict.DENY, Verdict.WAIT)
        late = reply_of(w.handle(cfg.regrant_wait + 0.01, req(B, Want.SOLO, epoch=2, role=Role.FENCED)))
        assert late.verdict is after_lease
        if after_lease is Verdict.GRANT_SOLO:
            assert late.data_loss


def test_restarted_witness_holds_the_lease_it_may_have_granted() -> None:
    """After a restart the witness waits a full lease before granting anyone else (bounded-loss)."""
    cfg = QuorumConfig(consistency="bounded-loss")
    durable = WitnessDurable(epoch=5, mode=Mode.SOLO, holder=A, current=frozenset({A}))
    w = WitnessMachine(cfg, 100.0, durable)
    assert reply_of(w.handle(101.0, req(B, Want.SOLO, epoch=5, role=Role.FENCED))).verdict is Verdict.WAIT
    r = reply_of(w.handle(100.0 + cfg.regrant_wait + 0.1, req(B, Want.SOLO, epoch=5, role=Role.FENCED)))
    assert r.verdict is Verdict.GRANT_SOLO and r.epoch == 6


def test_renewal_and_last_man_standing_turns_the_lease_sticky() -> None:
    cfg = QuorumConfig(policy="last-man-standing", last_man_window=20)
    w = WitnessMachine(cfg, -10.0)  # up for 10 s without a word from B: B is silent, A gets 2 of 3
    w.handle(0.0, req(A, Want.SOLO))
    w.handle(10.0, req(A, Want.RENEW, epoch=2, role=Role.SOLO))
    assert not w.d.sticky
    r = reply_of(w.handle(20.0, req(A, Want.RENEW, epoch=2, role=Role.SOLO)))
    assert r.verdict is Verdict.RENEWED and r.sticky and w.d.sticky
    assert reply_of(w.handle(500.0, req(B, Want.SOLO, epoch=2, role=Role.FENCED))).verdict is Verdict.DENY


def test_mirror_restored_bumps_the_epoch_and_marks_both_copies_current() -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    w.handle(0.0, req(A, Want.SOLO))
    r = reply_of(w.handle(5.0, req(A, Want.MIRROR, epoch=2, role=Role.MIRRORED)))
    assert r.verdict is Verdict.GRANT_MIRROR and r.epoch == 3
    assert w.d.mode is Mode.MIRRORED and w.d.current == frozenset({A, B})


def test_a_higher_epoch_reported_by_a_pre_elected_winner_is_adopted() -> None:
    w = WitnessMachine(QuorumConfig(pre_election=True), 0.0)
    acts = w.handle(1.0, req(A, Want.RENEW, epoch=4, role=Role.SOLO))
    assert w.d.epoch == 4 and w.d.holder is A and w.d.sticky
    assert any(isinstance(a, PersistWitness) for a in acts)


def test_pre_election_recorded_from_a_request_denies_the_other_site() -> None:
    w = WitnessMachine(QuorumConfig(pre_election=True), 0.0)
    r = reply_of(w.handle(1.0, req(B, Want.SOLO, preelected=A)))
    assert r.verdict is Verdict.DENY and "pre-elected" in r.reason
    assert reply_of(w.handle(1.1, req(A, Want.SOLO))).verdict is Verdict.GRANT_SOLO


def test_switchover_is_refused_for_a_stale_target_and_executed_on_the_targets_request() -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    ok = w.handle(0.0, Switchover(B))
    assert isinstance(ok[0], OperatorResult) and ok[0].ok and ok[0].pending
    r = reply_of(w.handle(0.5, req(B, Want.REPORT, role=Role.MIRRORED)))
    assert r.verdict is Verdict.GRANT_SOLO and r.holder is B
    refused = w.handle(1.0, Switchover(A))
    assert isinstance(refused[0], OperatorResult) and not refused[0].ok


def test_dry_run_switchover_changes_nothing() -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    res = w.handle(0.0, Switchover(B, dry_run=True))
    assert isinstance(res[0], OperatorResult) and res[0].ok and "would" in res[0].detail
    assert w.pending is None and w.d.epoch == 1


@pytest.mark.parametrize("allow", [False, True])
def test_forced_takeover_of_a_stale_copy_needs_data_loss_accepted(allow: bool) -> None:
    w = WitnessMachine(QuorumConfig(), 0.0)
    w.handle(0.0, req(A, Want.SOLO))
    res = w.handle(1.0, ForcedTakeover(B, allow_data_loss=allow))
    assert isinstance(res[0], OperatorResult) and res[0].ok is allow


def test_witness_never_reads_a_deadline_it_does_not_need() -> None:
    assert WitnessMachine(QuorumConfig(), 0.0).next_deadline() is None
