"""The site state machine. Every rule by which a site changes role lives in this file.

Roles and the only transitions allowed (``TRANSITIONS``; anything else is a bug and raises):

| from \\ to  | MIRRORED                         | SOLO                              | FROZEN                     | FENCED                            |
|------------|----------------------------------|-----------------------------------|----------------------------|-----------------------------------|
| STARTING   | peer mirrors us / pair unfreezes | witness grant / pre-elected       | —                          | witness denies / peer solo newer  |
| MIRRORED   | —                                | switchover grant                  | peer lost / mirror failed  | peer solo newer / witness says so |
| SOLO       | resync of peer done              | —                                 | lease ran out              | witness says another epoch        |
| FROZEN     | peer back, both current          | witness grant / policy self-promo | —                          | witness denies / peer solo newer  |
| FENCED     | peer mirrors us                  | witness grant (forced / bounded)  | —                          | —                                 |

Theory, in five rules (DESIGN section 3):

1. *I/O freeze.* A MIRRORED site acknowledges a write only once both copies hold it; when it loses
   its peer (detector or failed mirror write) it freezes reads and writes until it holds a solo epoch
   or is fenced. So a write is never acknowledged on one copy alone without authority.
2. *Epochs are fencing tokens.* A solo epoch comes from the witness (or, for policies without a
   witness and for a pre-elected winner, from the site itself, always above any epoch it has seen).
   Storage rejects writes carrying an older epoch than it has seen.
3. *Leases.* A solo site serves only while ``now < sent_at + lease_duration - lease_margin`` on its own
   clock, ``sent_at`` being when it sent the request the witness answered (``quorum.core.config``).
4. *Data currency.* A site that learns that its peer served alone at an epoch newer than its own
   marks its copy stale; the witness separately tracks which copies are current and never grants a
   stale copy automatically in ``synchronous`` mode.

5. *Promotion gate.* A site contends to serve alone (asks the witness for a solo epoch, promotes
   itself, or resumes alone) only while it is healthy (``SiteHealth``) and, with
   ``pre_promote_check``, once the pre-promote check asked for by ``CheckPromotion`` passed at its
   current epoch. The gate only withholds requests, so it can cost availability, never safety.

The machine never reads a clock: ``now`` is the caller's monotonic reading; ``next_deadline()`` says
when it must be called again at the latest.
"""

from __future__ import annotations

from quorum.core.config import Policy, QuorumConfig, Site
from quorum.core.messages import (
    Action,
    CheckPromotion,
    Input,
    MirrorWriteFailed,
    Mode,
    PeerHeartbeat,
    PersistSite,
    PromotionChecked,
    ResyncDone,
    ResyncFailed,
    Role,
    RoleChanged,
    Send,
    SiteDurable,
    SiteHealth,
    StartResync,
    Verdict,
    Want,
    WitnessReply,
    WitnessRequest,
    WriteAuthority,
)
from quorum.core.policies import spec

R = Role
TRANSITIONS: dict[Role, frozenset[Role]] = {
    R.STARTING: frozenset({R.MIRRORED, R.SOLO, R.FENCED}),
    R.MIRRORED: frozenset({R.SOLO, R.FROZEN, R.FENCED}),
    R.SOLO: frozenset({R.MIRRORED, R.FROZEN, R.FENCED}),
    R.FROZEN: frozenset({R.MIRRORED, R.SOLO, R.FENCED}),
    R.FENCED: frozenset({R.MIRRORED, R.SOLO}),
}

_EPS = 1e-9


class InvalidTransition(RuntimeError):
    """Raised when a rule asks for a role change the table forbids: a bug in the core."""


class SiteMachine:
    """One site's decisions for its mirrored volume group.

    ``durable`` is what the site persisted before it stopped (``None`` for a fresh pair, which
    starts MIRRORED at epoch 1 with both copies in sync). A restarted site starts STARTING and
    serves nothing until it has learnt the situation from its peer or the witness.
    """

    def __init__(
        self,
        config: QuorumConfig,
        site: Site,
        now: float,
        durable: SiteDurable | None = None,
    ) -> None:
        self.cfg = config
        self.site = site
        self.peer = site.peer
        self.spec = spec(config.policy)
        restarted = durable is not None
        d = durable if durable is not None else SiteDurable(tie_site=config.preferred_site)
        self.epoch = d.epoch
        self.current = d.current
        self.tie_site = d.tie_site
        self.preelect_win = d.preelect_win
        self.preelect_commit = d.preelect_commit
        # served alone at this epoch: a site that went solo -> frozen/fenced and restarted still holds the
        # epoch alone (its durable holder), so its copy may be ahead of its peer's (S2)
        self.was_solo = d.role is Role.SOLO or (d.role is not Role.MIRRORED and d.holder is site)
        self.boot = d.boot + 1 if restarted else d.boot
        self._boot_unpersisted = restarted
        self.role = Role.STARTING if restarted else d.role
        self.role_since = now
        self.lease_end: float | None = None
        self.sticky = False
        self.hb_seq = 0
        self.next_hb = now
        # failure detectors (a fresh pair starts with everything seen "now")
        self.peer_up = not restarted
        self.peer_last_rx: float | None = None if restarted else now
        self.peer_rise = 0
        self.peer_seq: tuple[int, int] = (-1, -1)
        self.peer_state: PeerHeartbeat | None = None
        self.witness_up = True
        self.witness_last_rx = now
        self.witness_view: WitnessReply | None = None
        self.resyncing = False
        self.recover_epoch: int | None = None
        self.epoch_holder: Site | None = (
            d.holder if d.holder is not None else (site if self.was_solo else None)
        )
        # configuration agreement: our fingerprint, the one the witness last accepted (durable), why
        # the witness refused ours (if it did), and the fingerprint our peer's heartbeats carry
        self.fingerprint = config.fingerprint()
        self.accepted_config = d.accepted_config
        self.config_refused: str | None = None
        self.peer_config: str | None = d.peer_config  # durable: the guard outlives a restart
        # promotion gate: local health and the pre-promote check (``pre_promote_check``)
        self.healthy = True
        self.health_detail = ""
        self.check_epoch: int | None = None  # the epoch the last CheckPromotion was asked for
        self.check_ok: bool | None = None  # its answer (None: pending)
        self.check_failed_at = now
        self.check_detail = ""

    # ---- public API -------------------------------------------------------------------------------
    def handle(self, now: float, event: Input) -> list[Action]:
        """Feed one input (a received message or a local event); return the actions to perform."""
        acts: list[Action] = []
        if isinstance(event, PeerHeartbeat):
            self._on_heartbeat(now, event, acts)
        elif isinstance(event, WitnessReply):
            self._on_reply(now, event, acts)
        elif isinstance(event, MirrorWriteFailed):
            if self.role is Role.MIRRORED:
                self._peer_lost(now, f"mirror write failed: {event.reason}", acts)
            elif self.role is Role.SOLO:
                self.resyncing = False
        elif isinstance(event, ResyncDone):
            self.resyncing = False
            if self._holds_latest() and event.epoch == self.epoch and self.peer_up:
                self.sticky = False
                self.lease_end = None
                self.epoch_holder = None
                self._set_role(now, Role.MIRRORED, "peer copy resynchronised", acts)
                self._request(now, acts)
            elif self._recovers() and event.epoch == self.recover_epoch and self.peer_up:
                self._set_epoch(event.epoch, acts, holder=None)
                self._set_role(
                    now, Role.MIRRORED, f"peer resynchronised; mirror at epoch {event.epoch}", acts
                )
                self._request(now, acts)
            self.recover_epoch = None
        elif isinstance(event, ResyncFailed):
            self.resyncing = False
            self.recover_epoch = None
        elif isinstance(event, SiteHealth):
            was = self.healthy
            self.healthy, self.health_detail = event.healthy, event.detail
            if event.healthy and not was:
                self._request(now, acts)  # contend at once if a decision is pending
                if self.role is Role.FROZEN:
                    self._maybe_self_promote(now, acts)
        elif isinstance(event, PromotionChecked):
            if event.epoch == self.check_epoch and self.check_ok is None:
                self.check_ok, self.check_detail = event.ok, event.detail
                if event.ok:
                    self._request(now, acts)
                    if self.role is Role.FROZEN:
                        self._maybe_self_promote(now, acts)
                else:
                    self.check_failed_at = now
        self._tick(now, acts)
        return acts

    def handle_timer(self, now: float) -> list[Action]:
        """Called at (or after) ``next_deadline()``; sends heartbeats, runs detectors and leases."""
        acts: list[Action] = []
        self._tick(now, acts)
        return acts

    def next_deadline(self) -> float:
        """The latest time at which ``handle_timer`` must be called."""
        t = self.next_hb
        if self.role is Role.SOLO and not self.sticky and self.lease_end is not None:
            t = min(t, self.lease_end)
        if self.peer_up and self.peer_last_rx is not None:
            t = min(t, self.peer_last_rx + self.cfg.detection_timeout)
        if self.witness_up:
            t = min(t, self.witness_last_rx + self.cfg.detection_timeout)
        return t

    def write_authority(self, now: float) -> WriteAuthority | None:
        """What this site may do with a write at ``now`` (``None``: I/O is frozen or fenced)."""
        if self.role is Role.MIRRORED:
            return WriteAuthority(self.site, self.epoch, mirrored=True)
        if self.role is Role.SOLO and (self.sticky or (self.lease_end is not None and now < self.lease_end)):
            return WriteAuthority(self.site, self.epoch, mirrored=False)
        return None

    def durable(self) -> SiteDurable:
        return SiteDurable(
            epoch=self.epoch,
            role=self.role,
            current=self.current,
            tie_site=self.tie_site,
            preelect_win=self.preelect_win,
            preelect_commit=self.preelect_commit,
            boot=self.boot,
            holder=self.epoch_holder,
            accepted_config=self.accepted_config,
            peer_config=self.peer_config,
        )

    # ---- rules ----------------------------------------------------------------------------------------
    def _set_role(
        self, now: float, new: Role, reason: str, acts: list[Action], data_loss: bool = False
    ) -> None:
        old = self.role
        if new is old:
            return
        if new not in TRANSITIONS[old]:
            raise InvalidTransition(f"site {self.site}: {old} -> {new} ({reason})")
        self.role = new
        self.role_since = now
        if new is Role.SOLO:
            self.was_solo = True
        elif new is Role.MIRRORED:
            self.was_solo = False
        if new is not Role.SOLO:
            self.lease_end = None
            self.sticky = False
        acts.append(PersistSite(self.site, self.durable()))
        acts.append(RoleChanged(self.site, old, new, self.epoch, reason, data_loss))

    def _recovers(self) -> bool:
        """Not serving, but our copy is current: we may resynchronise a lagging peer when nobody
        serves. A site fenced by a witness denial (not by a newer epoch) still holds the latest copy
        if it served alone last; without this, losing the witness would leave the pair down for good."""
        if not self.current:
            return False
        return self.role in (Role.FROZEN, Role.STARTING) or (self.role is Role.FENCED and self.was_solo)

    def _holds_latest(self) -> bool:
        """We served alone at our epoch (and may still): our copy is the one to copy from."""
        if self.role is Role.SOLO:
            return True
        return self.role in (Role.FROZEN, Role.STARTING) and self.was_solo and self.current

    def _set_epoch(self, epoch: int, acts: list[Action], holder: Site | None) -> None:
        if epoch > self.epoch:
            self.epoch_holder = holder
            self.epoch = epoch
            self.preelect_win = None
            self.preelect_commit = None
            acts.append(PersistSite(self.site, self.durable()))

    def _tick(self, now: float, acts: list[Action]) -> None:
        if self._boot_unpersisted:
            self._boot_unpersisted = False
            acts.append(PersistSite(self.site, self.durable()))
        # lease
        if (
            self.role is Role.SOLO
            and not self.sticky
            and self.lease_end is not None
            and now >= self.lease_end - _EPS
        ):
            self._set_role(now, Role.FROZEN, "solo lease ran out", acts)
            self._request(now, acts)
        # detectors
        timeout = self.cfg.detection_timeout
        if self.peer_up and self.peer_last_rx is not None and now - self.peer_last_rx >= timeout - _EPS:
            self.peer_up = False
            self.peer_rise = 0
            self._peer_lost(now, f"peer silent for {now - self.peer_last_rx:.3g}s", acts)
        if self.witness_up and now - self.witness_last_rx >= timeout - _EPS:
            self.witness_up = False
        if (
            self.role in (Role.FROZEN, Role.STARTING)
            and not self.peer_up
            and now - self.role_since >= timeout - _EPS
        ):
            self._maybe_self_promote(now, acts)
        # heartbeats
        if now >= self.next_hb - _EPS:
            while self.next_hb <= now + _EPS:
                self.next_hb += self.cfg.heartbeat_interval
            self._heartbeat(now, acts)
            self._request(now, acts)

    def _peer_lost(self, now: float, reason: str, acts: list[Action]) -> None:
        self.resyncing = False
        if self.role is Role.MIRRORED:
            self._set_role(now, Role.FROZEN, reason, acts)
        if self.role in (Role.FROZEN, Role.STARTING):
            self._maybe_self_promote(now, acts)
        if self.role in (Role.FROZEN, Role.STARTING, Role.FENCED):
            self._request(now, acts)

    def promotion_blocked(self) -> str | None:
        """Why this site may not contend to serve alone right now (``None``: it may).

        Derived from the guards the decisions apply (the agent's status shows it): a configuration
        the witness refused (every request of ours is refused), the peer's other rules under a policy
        without a witness (``_peer_rules_differ``, as ``_self_promotes``), health and the pre-promote
        check (as ``_may_promote``). Under a witness policy the peer's rules block nothing here: the
        witness judges each site's configuration, and a site it accepts contends and may win."""
        if self.config_refused is not None:
            return f"configuration refused by the witness: {self.config_refused}"
        if not self.spec.uses_witness and self._peer_rules_differ():
            return f"peer runs configuration {self.peer_config}, this site {self.fingerprint}"
        if not self.healthy:
            return f"site unhealthy: {self.health_detail or 'a health check fails'}"
        if not self.cfg.pre_promote_check:
            return None
        if self.check_epoch != self.epoch:
            return None  # not run at this epoch yet: it runs when the site would contend
        if self.check_ok is None:
            return "pre-promote check pending"
        if not self.check_ok:
            return f"pre-promote check failed: {self.check_detail or 'no detail'}"
        return None

    def _may_promote(self, now: float, acts: list[Action]) -> bool:
        """The promotion gate: healthy, and the pre-promote check passed at this epoch. Asks for the
        check (``CheckPromotion``) when it has not been run at this epoch, or failed long enough ago."""
        if not self.healthy:
            return False
        if not self.cfg.pre_promote_check:
            return True
        retry = (
            self.check_epoch == self.epoch
            and self.check_ok is False
            and now - self.check_failed_at >= self.cfg.pre_promote_retry - _EPS
        )
        if self.check_epoch != self.epoch or retry:
            self.check_epoch, self.check_ok, self.check_detail = self.epoch, None, ""
            acts.append(CheckPromotion(self.site, self.epoch))
            return False
        return self.check_ok is True

    def _peer_rules_differ(self) -> bool:
        """Our peer's heartbeats carried another configuration fingerprint than ours."""
        return self.peer_config is not None and self.peer_config != self.fingerprint

    def _self_promotes(self) -> bool:
        """The policy lets this site serve alone without a witness grant, and our peer (the only
        other party of a pair without a witness) has not shown us a different configuration."""
        if self._peer_rules_differ():
            return False
        how = self.spec.self_promote
        return how == "any" or (how == "preferred" and self.site is self.cfg.preferred_site)

    def _maybe_self_promote(self, now: float, acts: list[Action]) -> None:
        """Serve alone without a witness grant: only the policies (and options) that allow it."""
        if self.role not in (Role.FROZEN, Role.STARTING) or self.peer_up:
            return
        if self._self_promotes():
            if self.role is Role.STARTING and not self.current:
                return
            reason = f"{self.cfg.policy.value}: continue alone"
        elif (
            self.preelect_win == self.epoch
            and not self.witness_up
            and self.current
            and self.accepted_config == self.fingerprint  # never alone on rules the witness refused
        ):
            reason = f"pre-elected at epoch {self.epoch}; witness and peer lost"
        else:
            return
        if not self._may_promote(now, acts):
            return
        self._set_epoch(self.epoch + 1, acts, holder=self.site)
        self.current = True
        self.sticky = True
        self._set_role(now, Role.SOLO, reason, acts)

    def _on_heartbeat(self, now: float, hb: PeerHeartbeat, acts: list[Action]) -> None:
        if hb.src is not self.peer or (hb.boot, hb.seq) <= self.peer_seq:
            return  # duplicate or reordered: carries no news
        self.peer_seq = (hb.boot, hb.seq)
        if hb.config and hb.config != self.peer_config:
            self.peer_config = hb.config
            acts.append(PersistSite(self.site, self.durable()))
        if not self.peer_up:
            gap_ok = (
                self.peer_last_rx is not None
                and now - self.peer_last_rx
                <= 2 * self.cfg.heartbeat_interval + 2 * self.cfg.max_message_delay
            )
            self.peer_rise = self.peer_rise + 1 if gap_ok else 1
            if self.peer_rise >= self.cfg.rise_threshold:
                self.peer_up = True
        self.peer_last_rx = now
        self.peer_state = hb
        self._preelection_messages(hb, acts)
        if self.peer_up:
            self._reconcile_with_peer(now, hb, acts)

    def _preelection_messages(self, hb: PeerHeartbeat, acts: list[Action]) -> None:
        if not self.cfg.pre_election or hb.epoch != self.epoch:
            return
        if (
            hb.preelect is self.peer
            and self.role is Role.MIRRORED
            and self.tie_site is self.peer
            and self.preelect_commit is None
            and self._mirror_settled()
        ):
            self.preelect_commit = self.peer  # persisted before the ack can leave
            acts.append(PersistSite(self.site, self.durable()))
        if hb.preelect_ack is self.site and self.preelect_win != self.epoch:
            self.preelect_win = self.epoch
            acts.append(PersistSite(self.site, self.durable()))

    def _reconcile_with_peer(self, now: float, p: PeerHeartbeat, acts: list[Action]) -> None:
        if p.role is Role.SOLO and p.epoch > self.epoch:
            # the peer served alone at an epoch we were not part of: our copy is stale
            self._set_epoch(p.epoch, acts, holder=self.peer)
            self.current = False
            if self.role is not Role.FENCED:
                self._set_role(now, Role.FENCED, f"peer serves alone at epoch {p.epoch}", acts)
            else:
                acts.append(PersistSite(self.site, self.durable()))
            return
        if p.role is Role.MIRRORED and p.epoch >= self.epoch and self.role is not Role.SOLO:
            # the peer acknowledges writes only on both copies: ours is current
            self._set_epoch(p.epoch, acts, holder=None)
            self.current = True
            if self.role is not Role.MIRRORED:
                self._set_role(now, Role.MIRRORED, f"peer mirrors us at epoch {p.epoch}", acts)
            return
        if self._holds_latest() and p.role is not Role.SOLO and p.epoch <= self.epoch:
            if (
                self.role in (Role.FROZEN, Role.STARTING)
                and self._self_promotes()
                and self._may_promote(now, acts)
            ):
                # a policy without a witness: the site that served alone resumes at once (the peer may
                # not hear us back, so waiting for the resync could wait forever), then resyncs the peer
                self._set_epoch(self.epoch + 1, acts, holder=self.site)
                self.sticky = True
                self._set_role(
                    now,
                    Role.SOLO,
                    f"{self.cfg.policy.value}: resume alone; peer behind at epoch {p.epoch}",
                    acts,
                )
                self.resyncing = False
            if not self.resyncing:
                self.resyncing = True
                acts.append(StartResync(self.site, self.peer, self.epoch))
            return
        if (
            self._recovers()
            and p.role in (Role.FENCED, Role.FROZEN, Role.STARTING)
            and (
                p.epoch < self.epoch
                or (
                    not p.current
                    and (
                        (p.epoch == self.epoch and p.holder is not self.peer)
                        or (p.epoch > self.epoch and p.holder is self.site)
                    )
                )
            )
        ):
            # nobody serves; our copy is current and the peer is behind us, or at an epoch granted to
            # us that never reached us: resynchronise the peer, then mirror at the higher epoch. A
            # peer at an older epoch is behind whatever its own flag says: what it acknowledged there
            # is in our copy or was recorded lost when our epoch was granted (it may even hold our
            # copy already: a resync whose end it never heard of, the link cut again just then).
            if not self.resyncing:
                self.resyncing = True
                self.recover_epoch = max(p.epoch, self.epoch)
                acts.append(StartResync(self.site, self.peer, self.recover_epoch))
            return
        if (
            self.role in (Role.FROZEN, Role.STARTING, Role.FENCED)
            and p.role in (Role.FROZEN, Role.STARTING, Role.FENCED)
            and p.epoch <= self.epoch
            and p.holder is not self.peer
            and self.current
            and p.current
            and not self.was_solo
        ):
            # both copies hold every acknowledged write (the peer, at an older epoch, adopts ours)
            self._set_role(now, Role.MIRRORED, "peer back; both copies current", acts)
            return
        if self.spec.self_promote == "any" and self.role is Role.SOLO and p.role is Role.SOLO:
            # the unsafe baseline's "resolution": the non-preferred site gives up its writes
            if self.site is not self.cfg.preferred_site:
                self.current = False
                self._set_role(now, Role.FENCED, "both served alone; preferred site keeps its data", acts)

    def _on_reply(self, now: float, r: WitnessReply, acts: list[Action]) -> None:
        if r.site is not self.site:
            return
        if r.verdict is Verdict.REFUSED or (r.config and r.config != self.fingerprint):
            # the witness runs the pair on other rules: nothing it says applies to us, and we
            # never serve alone on a configuration it has not accepted
            self.config_refused = r.reason or f"the witness runs configuration {r.config}"
            if self.accepted_config is not None:
                self.accepted_config = None
                acts.append(PersistSite(self.site, self.durable()))
            return
        if r.config:
            self.config_refused = None
            if self.accepted_config != r.config:
                self.accepted_config = r.config
                acts.append(PersistSite(self.site, self.durable()))
        self.witness_last_rx = now
        self.witness_up = True
        if r.epoch >= self.epoch:
            self.witness_view = r
            if r.tie_site is not self.tie_site:
                self.tie_site = r.tie_site
        if r.epoch == self.epoch and r.mode is Mode.SOLO and r.holder is not None:
            if r.holder is not self.epoch_holder:
                self.epoch_holder = r.holder  # the witness knows who holds our epoch (after a restart)
                acts.append(PersistSite(self.site, self.durable()))
        v = r.verdict
        if (
            self.preelect_commit is not None
            and v in (Verdict.GRANT_SOLO, Verdict.RENEWED)
            and not r.peer_fenced
        ):
            return  # we promised the peer it wins a split at this epoch: never serve alone instead
        if v is Verdict.GRANT_SOLO and r.epoch > self.epoch and r.holder is self.site:
            self._set_epoch(r.epoch, acts, holder=self.site)
            self.current = True
            if self.role is Role.SOLO:
                self._start_lease(now, r)
                return
            self.lease_end = None
            self._start_lease(now, r)
            if self.sticky or (self.lease_end is not None and now < self.lease_end):
                self._set_role(now, Role.SOLO, f"witness grant: {r.reason}", acts, r.data_loss)
            return
        if v is Verdict.RENEWED and r.epoch == self.epoch and r.holder is self.site:
            if self.role is Role.SOLO:
                self._start_lease(now, r)
            elif self.role is Role.FROZEN and self.was_solo and self.current and self.healthy:
                # a renewal (of a request sent while solo at this epoch) arrived after the lease ran out;
                # not for a site that became unhealthy meanwhile (it would serve alone again)
                self._start_lease(now, r)
                if self.sticky or (self.lease_end is not None and now < self.lease_end):
                    self._set_role(now, Role.SOLO, "late lease renewal", acts)
            return
        if r.mode is Mode.MIRRORED and r.epoch > self.epoch and self.role is Role.MIRRORED:
            self._set_epoch(r.epoch, acts, holder=None)
            return
        if r.mode is Mode.SOLO and r.holder is not self.site and r.epoch > self.epoch:
            self._set_epoch(r.epoch, acts, holder=r.holder)
            self.current = False
            if self.role is not Role.FENCED:
                self._set_role(
                    now, Role.FENCED, f"witness: {r.reason or 'another site holds the epoch'}", acts
                )
            else:
                acts.append(PersistSite(self.site, self.durable()))
            return
        if v is Verdict.DENY and self.role in (Role.FROZEN, Role.STARTING):
            self._set_role(now, Role.FENCED, f"witness denied: {r.reason}", acts)
        elif v is Verdict.DENY and self.role is Role.SOLO:
            self._set_role(now, Role.FENCED, f"witness denied renewal: {r.reason}", acts)

    def _start_lease(self, now: float, r: WitnessReply) -> None:
        if r.sticky:
            self.sticky = True
            self.lease_end = None
            return
        end = r.sent_at + self.cfg.lease_duration - self.cfg.lease_margin
        if self.lease_end is None or end > self.lease_end:
            self.lease_end = end

    # ---- outgoing ----------------------------------------------------------------------------------------
    def _heartbeat(self, now: float, acts: list[Action]) -> None:
        self.hb_seq += 1
        preelect = None
        if (
            self.cfg.pre_election
            and self.role is Role.MIRRORED
            and not self.witness_up
            and self.peer_up
            and self.tie_site is self.site
            and self._mirror_settled()
        ):
            preelect = self.site
        acts.append(
            Send(
                self.peer,
                PeerHeartbeat(
                    src=self.site,
                    boot=self.boot,
                    seq=self.hb_seq,
                    epoch=self.epoch,
                    role=self.role,
                    current=self.current,
                    tie_site=self.tie_site,
                    holder=self.epoch_holder,
                    preelect=preelect,
                    preelect_ack=self.preelect_commit,
                    config=self.fingerprint,
                ),
            )
        )

    def _want(self) -> Want:
        role = self.role
        if role is Role.SOLO:
            return Want.RENEW
        if role is Role.MIRRORED:
            if self.preelect_commit is not None or self.preelect_win == self.epoch:
                return Want.REPORT  # a pre-election binds this epoch: never ask the witness to move it
            return Want.REPORT if self._mirror_settled() else Want.MIRROR
        if not self.spec.uses_witness:
            return Want.REPORT
        if role is Role.FROZEN and self.was_solo and self.current:
            return Want.RENEW  # our solo lease ran out: renew it at the same epoch
        p = self.peer_state
        if self.peer_up and p is not None and p.role in (Role.MIRRORED, Role.SOLO):
            return Want.REPORT  # the serving peer will resynchronise us
        return Want.SOLO

    def _mirror_settled(self) -> bool:
        """The witness (as last heard) records our pair mirrored at our epoch: no request of ours
        can make it mint a new epoch. Only then may a pre-election be proposed or accepted."""
        w = self.witness_view
        return w is not None and w.epoch == self.epoch and w.mode is Mode.MIRRORED

    def _request(self, now: float, acts: list[Action]) -> None:
        if not self.spec.uses_witness:
            return
        self.hb_seq += 1
        holder: Site | None = None
        if self.role is Role.SOLO:
            holder = self.site
        elif not self.current and self.peer_state is not None and self.peer_state.role is Role.SOLO:
            holder = self.peer
        preelected: Site | None = None
        if self.preelect_commit is not None:
            preelected = self.preelect_commit
        elif self.preelect_win == self.epoch:
            preelected = self.site
        want = self._want()
        if want is Want.SOLO and not self._may_promote(now, acts):
            want = Want.REPORT  # unhealthy, or the pre-promote check has not passed: do not contend
        elif want is Want.RENEW and self.role is not Role.SOLO and not self.healthy:
            # a lapsed lease renewed is serving alone again: an unhealthy site never contends (a serving
            # site's own renewals go on: health checks keep a site from contending, they do not demote it)
            want = Want.REPORT
        acts.append(
            Send(
                None,
                WitnessRequest(
                    site=self.site,
                    seq=self.hb_seq,
                    sent_at=now,
                    want=want,
                    epoch=self.epoch,
                    role=self.role,
                    current=self.current,
                    solo_holder=holder,
                    preelected=preelected,
                    config=self.fingerprint,
                ),
            )
        )


def policy_self_promotes(policy: Policy) -> bool:
    """Whether a policy lets a site serve alone without any witness (documentation helper)."""
    return spec(policy).self_promote != "none"
