"""The witness state machine. Every rule by which the witness grants, renews or denies lives here.

The witness only ever *answers*: sites connect outbound and send a ``WitnessRequest`` every heartbeat
interval, so the witness needs no timers of its own (``next_deadline`` is informative: when the next
pending decision could change). Its durable state (``WitnessDurable``) is persisted by the adapter
before any reply that follows a ``PersistWitness`` action: an epoch is durable before its grant
leaves, so epochs never go back across a witness crash (property S3).

Decision table for a request from site X (Y is the other site):

| durable mode     | X wants            | rule                                                                    |
|------------------|--------------------|-------------------------------------------------------------------------|
| any              | another config     | REFUSED: the request's configuration fingerprint is not the pair's; an  |
|                  | fingerprint        | ALARM once, nothing else (the site is not even counted as heard)        |
| MIRRORED         | a pre-election of  | ALARM, DENY: the pair pre-elects the tie site we told both sites at     |
|                  | the non-tie site   | this epoch (it proposes, the other commits to it)                       |
| (no state)       | epoch > ours       | recovering (lost database or new pair, until both sites were heard or   |
|                  |                    | the witness mints an epoch): adopt the higher epoch first               |
| MIRRORED         | epoch = ours + 1   | pre-election on, the claimed holder current and not outvoted by a       |
|                  |                    | recorded pre-election (or the other site reports that epoch too):       |
|                  |                    | adopt (a pre-elected winner minted it); otherwise ALARM                  |
| any              | any other epoch >  | ALARM: an audit line, a DENY reply, and nothing else changes (a site's  |
|                  | ours               | claim is not the witness's truth)                                       |
| SOLO(Y)          | X solo at our epoch| adopt X as holder if X may have minted it as pre-elected winner: we     |
|                  |                    | granted it from a mirrored epoch with no pre-election of Y recorded     |
|                  |                    | there (``from_mirrored``), and Y's requests since show Y committed      |
|                  |                    | to X and never took our grant; otherwise ALARM                          |
| SOLO(X)          | RENEW at our epoch | renew the lease (last-man-standing: sticky after ``last_man_window``)    |
| SOLO(X)          | any, epoch < ours  | send the persisted grant again (recorded once per epoch)                 |
| SOLO(X)          | SOLO               | fresh grant at epoch+1 (X froze or restarted; same copy, no one else)    |
| SOLO(X)          | MIRROR at our epoch| epoch+1, MIRRORED, both copies current                                   |
| SOLO(Y)          | SOLO               | sticky → deny; X stale → deny (synchronous) or, once Y's lease surely    |
|                  |                    | expired, grant with recorded data loss (bounded-loss); else wait         |
| MIRRORED         | SOLO               | pre-elected Y → deny; otherwise the policy's tie rule (``_arbitrate``)   |
|                  |                    | (with pre-election on, any grant from MIRRORED is sticky: X may be a    |
|                  |                    | pre-elected winner our grant misses, minting that epoch itself)         |
| any              | REPORT / other     | answer with the durable view; the site reconciles                        |
|                  |                    | (and X no longer contends: its next SOLO opens a new arbitration window) |

Operator inputs (``Switchover``, ``ForcedTakeover``) are validated at once and executed on the
target's next request, so the lease is always counted from a request the target actually sent.
``Maintenance`` (durable) suspends automatic failover: while it is on, a request that would need the
tie rule, or a bounded-loss promotion, is answered ``WAIT``; renewals and operator actions still work.
"""

from __future__ import annotations

from dataclasses import replace

from quorum.core.config import Consistency, Policy, QuorumConfig, Site
from quorum.core.messages import (
    Action,
    Alarm,
    Decision,
    ForcedTakeover,
    Input,
    Maintenance,
    Mode,
    OperatorResult,
    PersistWitness,
    Role,
    Send,
    Switchover,
    Verdict,
    Want,
    WitnessDurable,
    WitnessReply,
    WitnessRequest,
)
from quorum.core.policies import spec

BOTH = frozenset({Site.A, Site.B})


class WitnessMachine:
    """The third-site arbiter for one site pair.

    ``durable`` is the state restored from storage after a restart (``None`` for a fresh pair).
    After a restart the witness assumes the holder may hold a full lease from just before the
    crash and grants no one else until ``regrant_wait`` has passed on its own clock.

    A witness judges only silence it has observed: a site it has not heard since it started counts
    as heard at ``started`` (its start), so for one detection timeout after a (re)start the tie rule
    waits for both sites instead of taking a site it never heard for a silent one.
    """

    def __init__(self, config: QuorumConfig, now: float, durable: WitnessDurable | None = None) -> None:
        self.cfg = config
        self.spec = spec(config.policy)
        self.d = durable if durable is not None else WitnessDurable(tie_site=config.preferred_site)
        self.lease_expiry: float | None = None
        if durable is not None and self.d.mode is Mode.SOLO:
            self.lease_expiry = now + config.regrant_wait
        self.solo_since: float | None = now if self.d.mode is Mode.SOLO else None
        self.started = now  # silence is measured from here for a site not heard since
        self.first_request: dict[Site, float] = {}
        self.last_seen: dict[Site, float] = {}
        self.last_request: dict[Site, WitnessRequest] = {}
        self.pending: Switchover | ForcedTakeover | None = None
        self.pending_since = now
        # an operator action waits this long for its target to report, then lapses
        self.operator_timeout = 2 * config.regrant_wait
        self.fenced_epoch: int | None = None  # epoch granted with the other site confirmed fenced
        self.resent_epoch: int | None = None  # the persisted grant last sent again (recorded once)
        # no durable state (a new pair, or a lost database): the sites' reports are all the witness
        # has, so it adopts higher epochs until it has heard both sites or minted an epoch itself
        self.recovering = durable is None
        self.alarmed: dict[Site, tuple[int, Role]] = {}  # last claim alarmed per site (one line each)
        self.fingerprint = config.fingerprint()
        self.refused: dict[Site, str] = {}  # a site's last refused configuration fingerprint

    # ---- public API ------------------------------------------------------------------------------------
    def handle(self, now: float, event: Input) -> list[Action]:
        """Feed a request or an operator input; return actions (persist first, then replies)."""
        acts: list[Action] = []
        if isinstance(event, WitnessRequest):
            self._on_request(now, event, acts)
        elif isinstance(event, Switchover):
            self._on_switchover(now, event, acts)
        elif isinstance(event, ForcedTakeover):
            self._on_forced(now, event, acts)
        elif isinstance(event, Maintenance):
            self._on_maintenance(event, acts)
        return acts

    def handle_timer(self, now: float) -> list[Action]:
        """The witness has no time-driven actions; present for a uniform adapter interface."""
        return []

    def next_deadline(self) -> float | None:
        """Always ``None``: the witness is purely reactive.

        Sites send a request every heartbeat interval, so a decision that becomes possible (a
        lease that ran out, an arbitration window that closed) is taken on the next request.
        """
        return None

    def tie(self) -> Site:
        """The site that wins a tie now."""
        if self.cfg.keep_active_partition and self.d.last_solo is not None:
            return self.d.last_solo
        return self.d.tie_site

    def lease_live(self, now: float) -> bool:
        """Whether the current holder may still be serving under a lease the witness granted."""
        if self.d.mode is not Mode.SOLO:
            return False
        if self.d.sticky:
            return True
        return self.lease_expiry is not None and now < self.lease_expiry

    # ---- requests --------------------------------------------------------------------------------------
    def _reply(
        self, req: WitnessRequest, verdict: Verdict, reason: str = "", data_loss: bool = False
    ) -> Send:
        d = self.d
        return Send(
            req.site,
            WitnessReply(
                site=req.site,
                seq=req.seq,
                sent_at=req.sent_at,
                verdict=verdict,
                epoch=d.epoch,
                mode=d.mode,
                holder=d.holder,
                tie_site=self.tie(),
                sticky=d.sticky and d.holder is req.site,
                data_loss=data_loss or (verdict is Verdict.GRANT_SOLO and d.lossy),
                peer_fenced=self._peer_released(req, verdict),
                reason=reason,
                config=self.fingerprint,
            ),
        )

    def _peer_released(self, req: WitnessRequest, verdict: Verdict) -> bool:
        """Whether the requester's peer can no longer serve alone by a pre-election at the
        requester's epoch: the operator confirmed it fenced, or it has since reported a newer epoch
        (a site's epoch only grows, and a pre-election binds one epoch)."""
        if verdict not in (Verdict.GRANT_SOLO, Verdict.RENEWED):
            return False
        if verdict is Verdict.GRANT_SOLO and self.fenced_epoch == self.d.epoch:
            return True
        last = self.last_request.get(req.site.peer)
        return last is not None and last.epoch > req.epoch and last.preelected is not last.site

    def _persist(self, new: WitnessDurable, acts: list[Action]) -> None:
        if new != self.d:
            if new.epoch != self.d.epoch:
                self.first_request.clear()
            self.d = new
            acts.append(PersistWitness(new))

    def _on_request(self, now: float, req: WitnessRequest, acts: list[Action]) -> None:
        x = req.site
        d = self.d
        if req.config and req.config != self.fingerprint:
            # a site that disagrees with us on the rules does not take part: not even as "heard"
            refusal = (
                f"{x} runs configuration {req.config}, the pair's is {self.fingerprint}:"
                " request refused (its settings differ from the witness's)"
            )
            if self.refused.get(x) != req.config:
                self.refused[x] = req.config
                acts.append(Alarm(x, req.epoch, refusal))
            acts.append(self._reply(req, Verdict.REFUSED, refusal))
            return
        self.refused.pop(x, None)
        same_epoch_claim = (
            req.epoch == d.epoch
            and req.role is Role.SOLO
            and d.mode is Mode.SOLO
            and d.holder is not None
            and d.holder is not req.site
            and self.fenced_epoch != d.epoch
        )
        why: str | None = None
        if (
            req.preelected is not None
            and req.epoch == d.epoch
            and d.mode is Mode.MIRRORED
            and not self.recovering
            and req.preelected is not self.tie()
        ):
            # the pair pre-elects the tie site we told both of them at this epoch (it proposes, the
            # other commits to it), so no honest site reports another winner here
            why = (
                f"{x} reports a pre-election of {req.preelected} at epoch {d.epoch}, but a pair"
                f" pre-elects its tie site, {self.tie()}: not taken"
            )
        elif req.epoch > d.epoch or same_epoch_claim:
            why = self._unaccountable(req)
        if why is not None:
            # a site's claim is not the witness's truth: alarm, refuse, change nothing
            if self.alarmed.get(x) != (req.epoch, req.role):
                self.alarmed[x] = (req.epoch, req.role)
                acts.append(Alarm(x, req.epoch, why))
            acts.append(self._reply(req, Verdict.DENY, why))
            return
        self.last_seen[x] = now
        self.last_request[x] = req
        if req.want is not Want.SOLO:
            # x no longer contends (its peer is back, or it serves): a later contention starts its
            # own arbitration window. Without this, a site that asked once, recovered, and asks again
            # (or whose delayed old request arrives late) was granted at once over a live preferred
            # site by the window of the first ask.
            self.first_request.pop(x, None)
        holder_claim = req.role is Role.SOLO or (req.want is Want.RENEW and req.current)
        if self.recovering and req.epoch == d.epoch and d.mode is Mode.SOLO and d.holder is None:
            # recovering, the holder not yet known: the site that held the epoch alone says so (its
            # lease may have run out while we were away: a FROZEN site asking to renew)
            if holder_claim:
                self._adopt(now, req, acts)
                d = self.d
        if req.epoch > d.epoch or same_epoch_claim:
            # a higher epoch the witness can account for (see ``_unaccountable``), or x serving alone
            # at an epoch we granted to the other site: x minted it itself as the pre-elected winner,
            # so the other site had committed to x and never used our grant (a grant answering a
            # request sent just before its commitment). x holds the epoch.
            self._adopt(now, req, acts)
            d = self.d
        if self.recovering and len(self.last_request) == 2:
            # both sites heard: what they reported is now the witness's own durable truth
            self.recovering = False
            acts.append(PersistWitness(self.d))
        if (
            req.preelected is not None
            and req.epoch == d.epoch
            and d.preelected is None
            and (d.mode is Mode.MIRRORED or d.holder is None)
        ):
            # the pair agreed who wins a split at this epoch; the winner may serve alone without us.
            # (A pair pre-elects only once we told it it is mirrored at this epoch: never at an epoch
            # we granted to one site; with the holder unknown, after a lost state, it may have.)
            self._persist(replace(d, preelected=req.preelected), acts)
            acts.append(Decision(d.epoch, d.holder, d.mode, f"pre-election recorded: {req.preelected} wins"))
            d = self.d
        op = self.pending
        if op is not None and now - self.pending_since > self.operator_timeout:
            self.pending = op = None
            acts.append(OperatorResult(False, "pending operator action expired: its target never reported"))
        if isinstance(op, ForcedTakeover) and op.fence_confirmed and op.to is not x:
            # the operator declared x fenced (powered off): whatever x says, it may not serve
            acts.append(self._reply(req, Verdict.DENY, f"{x} was declared fenced by the operator"))
            return
        if self.pending is not None and self.pending.to is x and req.want is not Want.RENEW:
            if self._execute_pending(now, req, acts):
                return
        if req.want is Want.RENEW:
            self._on_renew(now, req, acts)
        elif req.want is Want.SOLO:
            self._on_solo(now, req, acts)
        elif req.want is Want.MIRROR:
            self._on_mirror(now, req, acts)
        else:
            acts.append(self._reply(req, Verdict.OK))

    def _unaccountable(self, req: WitnessRequest) -> str | None:
        """Why the witness cannot adopt the epoch ``req`` claims (``None``: it can).

        Epochs come from the witness, so a site can legitimately hold one the witness does not know
        in two cases only: the witness lost its state (``recovering``), or a pre-elected winner
        minted the next epoch itself while the pair was mirrored at ours. Anything else is a site
        that is wrong (misconfigured, buggy, or lying) and must not move the pair.
        """
        d = self.d
        if self.recovering:
            return None
        x = req.site
        claim = x if req.role is Role.SOLO else req.solo_holder
        if req.epoch == d.epoch:  # x claims an epoch we granted to the other site
            h = d.holder
            last = self.last_request.get(h) if h is not None else None
            if (
                self.cfg.pre_election
                and d.from_mirrored
                and last is not None
                and last.epoch < d.epoch
                and last.preelected is x
            ):
                return None  # the holder committed to x's pre-election and never took our grant
            return (
                f"{x} claims to serve alone at epoch {req.epoch}, which the witness granted to {h}"
                f" (no pre-election of {x} can account for it): not adopted"
            )
        if req.epoch == d.epoch + 1 and d.mode is Mode.MIRRORED and self.cfg.pre_election:
            peer = self.last_request.get(x.peer)
            if claim is None and req.current:
                # x names no holder but says its copy is current: a pre-elected winner minted the next
                # epoch and the pair mirrored at it while we were away (x may have frozen since). x
                # holds it as far as we can know: what a SOLO report of x would give, no more.
                claim = x
            if claim is not None and claim in d.current and d.preelected in (None, claim):
                return None  # a pre-elected winner minted the next epoch without us
            if peer is not None and peer.epoch == req.epoch:
                return None  # both sites report the next epoch: it exists
        return (
            f"{x} reports epoch {req.epoch} ({req.role.value}) but the witness holds epoch {d.epoch}"
            f" ({d.mode.value}) and nothing it knows can account for it: not adopted"
        )

    def _adopt(self, now: float, req: WitnessRequest, acts: list[Action]) -> None:
        """A site reports an epoch above ours that ``_unaccountable`` accepted: a pre-elected winner
        served alone without us, or we are recovering a lost state from the sites' reports."""
        holder_claim = req.role is Role.SOLO or (self.recovering and req.want is Want.RENEW and req.current)
        holder = req.site if holder_claim else req.solo_holder
        if holder is None and req.current and not self.recovering and req.epoch == self.d.epoch + 1:
            holder = req.site  # the next epoch minted by a pre-elected winner, x current in it
        new = replace(
            self.d,
            from_mirrored=(
                self.d.from_mirrored
                if req.epoch == self.d.epoch
                else self.d.mode is Mode.MIRRORED and req.epoch == self.d.epoch + 1
            ),
            epoch=req.epoch,
            mode=Mode.SOLO,
            holder=holder,
            current=frozenset({holder}) if holder is not None else frozenset(),
            sticky=True,
            last_solo=holder if holder is not None else self.d.last_solo,
            preelected=None,
            lossy=False,
        )
        self.solo_since = now
        self._persist(new, acts)
        acts.append(
            Decision(req.epoch, holder, Mode.SOLO, f"adopted epoch {req.epoch} reported by {req.site}")
        )

    def _on_renew(self, now: float, req: WitnessRequest, acts: list[Action]) -> None:
        d = self.d
        x = req.site
        if d.mode is Mode.SOLO and d.holder is x and req.epoch < d.epoch:
            self._resend_grant(now, req, acts)
            return
        if d.mode is Mode.SOLO and d.holder is x and req.epoch == d.epoch:
            # x is SOLO, or FROZEN after its lease ran out without having mirrored since
            self._extend(now)
            if (
                self.spec.sticky_after_window
                and not d.sticky
                and self.solo_since is not None
                and now - self.solo_since >= self.cfg.last_man_window
            ):
                self._persist(replace(d, sticky=True), acts)
                acts.append(Decision(d.epoch, x, Mode.SOLO, f"last man standing: {x} keeps serving alone"))
            acts.append(self._reply(req, Verdict.RENEWED))
            return
        acts.append(self._reply(req, Verdict.DENY, self._why_not(x)))

    def _on_mirror(self, now: float, req: WitnessRequest, acts: list[Action]) -> None:
        d = self.d
        x = req.site
        if (
            d.mode is Mode.SOLO
            and d.holder in (x, None)
            and req.epoch == d.epoch
            and req.role is Role.MIRRORED
            and d.preelected is None  # a pre-elected winner may mint epoch+1 itself: never race it
        ):
            tie = self.cfg.preferred_site if self.cfg.auto_failback else d.tie_site
            self.recovering = False  # the witness mints an epoch: from now on it is its own truth
            new = replace(
                d,
                from_mirrored=False,
                epoch=d.epoch + 1,
                mode=Mode.MIRRORED,
                holder=None,
                current=BOTH,
                sticky=False,
                preelected=None,
                tie_site=tie,
                lossy=False,
            )
            self._persist(new, acts)
            self.lease_expiry = None
            self.solo_since = None
            acts.append(Decision(new.epoch, None, Mode.MIRRORED, f"{x} reports the mirror restored"))
            acts.append(self._reply(req, Verdict.GRANT_MIRROR, "mirror restored"))
            return
        acts.append(self._reply(req, Verdict.OK))

    def _on_solo(self, now: float, req: WitnessRequest, acts: list[Action]) -> None:
        d = self.d
        x = req.site
        if d.mode is Mode.SOLO:
            if d.holder is x:
                if req.epoch < d.epoch:
                    self._resend_grant(now, req, acts)
                else:  # x froze or restarted at our epoch: a fresh epoch, same copy
                    self._grant(now, req, acts, f"{x} holds the current copy", failover=False)
                return
            if d.sticky:
                acts.append(self._reply(req, Verdict.DENY, f"{d.holder} holds a sticky lease"))
                return
            if d.preelected is not None and d.preelected is not x:
                acts.append(self._reply(req, Verdict.DENY, f"{d.preelected} was pre-elected"))
                return
            if x in d.current:  # holder unknown (adopted) and x current: cannot happen, be safe
                acts.append(self._reply(req, Verdict.WAIT, "holder unknown"))
                return
            if self.cfg.consistency is Consistency.SYNCHRONOUS:
                acts.append(
                    self._reply(req, Verdict.DENY, f"{x}'s copy is stale; {d.holder} holds epoch {d.epoch}")
                )
                return
            if self.lease_live(now):
                acts.append(self._reply(req, Verdict.WAIT, f"{d.holder}'s lease may still run"))
                return
            if d.maintenance:
                acts.append(self._reply(req, Verdict.WAIT, "maintenance mode: no automatic failover"))
                return
            self._grant(now, req, acts, f"bounded-loss: {d.holder}'s lease expired", data_loss=True)
            return
        # MIRRORED: both copies current
        if x not in d.current:
            acts.append(self._reply(req, Verdict.DENY, f"{x}'s copy is stale"))
            return
        if d.preelected is not None:
            if d.preelected is x:
                self._grant(now, req, acts, f"{x} was pre-elected")
            else:
                acts.append(self._reply(req, Verdict.DENY, f"{d.preelected} was pre-elected"))
            return
        if d.maintenance:
            acts.append(self._reply(req, Verdict.WAIT, "maintenance mode: no automatic failover"))
            return
        verdict, reason = self._arbitrate(now, x)
        if verdict is Verdict.GRANT_SOLO:
            self._grant(now, req, acts, reason)
        else:
            acts.append(self._reply(req, verdict, reason))

    def _arbitrate(self, now: float, x: Site) -> tuple[Verdict, str]:
        """The policy's tie rule between two sites that both hold a current copy."""
        self.first_request.setdefault(x, now)
        y = x.peer
        tie = self.tie()
        timeout = self.cfg.detection_timeout
        heard = self.last_seen.get(y)
        # a site this incarnation never heard is silent since our start, not since forever
        y_alive = now - (self.started if heard is None else heard) < timeout
        y_contending = y in self.first_request and y_alive
        silent = (
            f"silent for {timeout:.3g}s"
            if heard is not None
            else f"not heard in the {now - self.started:.3g}s since the witness started"
        )
        if self.spec.first_come:
            return Verdict.GRANT_SOLO, f"{x} reached the witness first"
        if self.spec.immediate_tie_site:  # witness-preferred
            if x is tie:
                return Verdict.GRANT_SOLO, f"{x} is the preferred site"
            if not y_alive:
                return Verdict.GRANT_SOLO, f"preferred site {y} {silent}"
            if y_contending:
                return Verdict.WAIT, f"preferred site {y} is contending"
            if now - self.first_request[x] >= self.cfg.arbitration_window:
                return Verdict.GRANT_SOLO, f"preferred site {y} did not contend"
            return Verdict.WAIT, "waiting for the preferred site"
        # majority / last-man-standing: collect votes for a window, then tie-breaker
        start = min(self.first_request.values())
        if y_alive and now - start < self.cfg.arbitration_window:
            return Verdict.WAIT, "collecting votes"
        if y_contending and tie is y:
            return Verdict.WAIT, f"tie-breaker: {y}"
        if y_contending:
            return Verdict.GRANT_SOLO, f"tie-breaker: {x}"
        if not y_alive:
            return Verdict.GRANT_SOLO, f"{x} has 2 of 3 votes ({y} {silent})"
        return Verdict.GRANT_SOLO, f"{x} has 2 of 3 votes ({y} not contending)"

    def _grant(
        self,
        now: float,
        req: WitnessRequest,
        acts: list[Action],
        reason: str,
        data_loss: bool = False,
        failover: bool = True,
        move_tie: bool = True,
        actor: str = "witness",
        peer_fenced: bool = False,
    ) -> None:
        d = self.d
        x = req.site
        if d.preelected is not None and d.preelected is not x and not peer_fenced:
            # the pre-elected winner may already serve alone on an epoch it minted itself
            acts.append(self._reply(req, Verdict.DENY, f"{d.preelected} was pre-elected at epoch {d.epoch}"))
            return
        if d.mode is Mode.SOLO and d.holder is x and d.lossy:
            data_loss = True  # x may never have applied the lossy grant: the loss stays recorded
        tie = d.tie_site
        if failover and move_tie and not self.cfg.auto_failback:
            tie = x
        self.recovering = False  # the witness mints an epoch: from now on it is its own truth
        new = replace(
            d,
            # the other site may have been pre-elected at the mirrored epoch and mint this one itself:
            # not if the pair's recorded pre-election names x (a site's claim otherwise is an alarm)
            from_mirrored=d.mode is Mode.MIRRORED and d.preelected is not x,
            epoch=d.epoch + 1,
            mode=Mode.SOLO,
            holder=x,
            current=frozenset({x}),
            # Sticky (the epoch never moves to the other site on our clock: only with the holder
            # back, or the operator confirming it fenced) in two cases found by make deep-test's
            # lying-site exploration. From a mirrored epoch with pre-election on, x may be the pair's
            # pre-elected winner: if our grant never reaches it, it mints this same epoch itself,
            # sticky, once it loses us and its peer; its lease is none of ours to time. And a fresh
            # epoch for the holder of a sticky one: x may go on serving alone on the old one (the
            # request for a new epoch need not come from the process that serves).
            sticky=(d.mode is Mode.MIRRORED and self.cfg.pre_election)
            or (d.mode is Mode.SOLO and d.holder is x and d.sticky),
            last_solo=x,
            preelected=None,
            tie_site=tie,
            lossy=data_loss,
        )
        self._persist(new, acts)
        self.fenced_epoch = new.epoch if peer_fenced else None
        self.lease_expiry = now + self.cfg.regrant_wait
        if d.mode is not Mode.SOLO or d.holder is not x:
            self.solo_since = now
        self.pending = None
        acts.append(Decision(new.epoch, x, Mode.SOLO, reason, actor, data_loss))
        acts.append(self._reply(req, Verdict.GRANT_SOLO, reason, data_loss))

    def _resend_grant(self, now: float, req: WitnessRequest, acts: list[Action]) -> None:
        """Our persisted grant has not reached its holder (lost, or we crashed before answering):
        send it again, and record it once per epoch (the history shows every grant a site used)."""
        d = self.d
        x = req.site
        self._extend(now)
        if self.resent_epoch != d.epoch:
            self.resent_epoch = d.epoch
            acts.append(
                Decision(
                    d.epoch,
                    x,
                    Mode.SOLO,
                    f"grant of epoch {d.epoch} to {x} sent again ({x} still reports epoch {req.epoch})",
                    data_loss=d.lossy,
                )
            )
        acts.append(self._reply(req, Verdict.GRANT_SOLO, f"{x} holds epoch {d.epoch}"))

    def _extend(self, now: float) -> None:
        expiry = now + self.cfg.regrant_wait
        if self.lease_expiry is None or expiry > self.lease_expiry:
            self.lease_expiry = expiry

    def _why_not(self, x: Site) -> str:
        d = self.d
        if d.mode is Mode.SOLO and d.holder is not x:
            return f"{d.holder} holds epoch {d.epoch}"
        return f"no lease for {x} at epoch {d.epoch}"

    # ---- operator --------------------------------------------------------------------------------------
    def _on_maintenance(self, op: Maintenance, acts: list[Action]) -> None:
        d = self.d
        state = "on" if op.on else "off"
        if d.maintenance is op.on:
            acts.append(OperatorResult(True, f"maintenance already {state}"))
            return
        self._persist(replace(d, maintenance=op.on), acts)
        why = f"maintenance {state}" + (f": {op.reason}" if op.reason else "")
        if op.on:
            why += " (no automatic failover until it is off)"
        acts.append(Decision(d.epoch, d.holder, d.mode, why, actor="operator"))
        acts.append(OperatorResult(True, why))

    def _on_switchover(self, now: float, op: Switchover, acts: list[Action]) -> None:
        d = self.d
        if d.mode is Mode.SOLO and d.holder is op.to:
            acts.append(OperatorResult(True, f"{op.to} already serves alone"))
            return
        if d.mode is not Mode.MIRRORED or op.to not in d.current:
            acts.append(OperatorResult(False, f"{op.to}'s copy is not current; wait for the mirror"))
            return
        if d.preelected is not None and d.preelected is not op.to:
            acts.append(OperatorResult(False, f"{d.preelected} was pre-elected at epoch {d.epoch}"))
            return
        if op.dry_run:
            acts.append(OperatorResult(True, f"would move service to {op.to} at epoch {d.epoch + 1}"))
            return
        self.pending, self.pending_since = op, now
        acts.append(OperatorResult(True, f"switchover to {op.to} on its next request", pending=True))

    def _on_forced(self, now: float, op: ForcedTakeover, acts: list[Action]) -> None:
        d = self.d
        if d.mode is Mode.SOLO and d.holder is op.to:
            acts.append(OperatorResult(True, f"{op.to} already serves alone"))
            return
        stale = op.to not in d.current or (d.preelected is not None and d.preelected is not op.to)
        if stale and not op.allow_data_loss:
            acts.append(
                OperatorResult(False, f"{op.to}'s copy may miss acknowledged writes: allow_data_loss needed")
            )
            return
        if d.mode is Mode.SOLO and d.sticky and not op.fence_confirmed:
            acts.append(
                OperatorResult(False, f"{d.holder} holds a sticky lease: confirm it is fenced (powered off)")
            )
            return
        if d.preelected is not None and d.preelected is not op.to and not op.fence_confirmed:
            acts.append(
                OperatorResult(False, f"{d.preelected} was pre-elected: confirm it is fenced (powered off)")
            )
            return
        self.pending, self.pending_since = op, now
        acts.append(OperatorResult(True, f"forced takeover by {op.to} on its next request", pending=True))

    def _execute_pending(self, now: float, req: WitnessRequest, acts: list[Action]) -> bool:
        op = self.pending
        d = self.d
        if op is None:
            return False
        if (
            d.preelected is not None
            and d.preelected is not req.site
            and not (isinstance(op, ForcedTakeover) and op.fence_confirmed)
        ):
            self.pending = None
            acts.append(
                OperatorResult(
                    False, f"{op.to}: cancelled, {d.preelected} was pre-elected at epoch {d.epoch}"
                )
            )
            return False
        if isinstance(op, Switchover):
            if d.mode is Mode.MIRRORED and req.site in d.current and req.role is Role.MIRRORED:
                self._grant(
                    now,
                    req,
                    acts,
                    f"planned switchover to {req.site}",
                    move_tie=False,
                    actor="operator",
                )
                return True
            if d.mode is not Mode.MIRRORED:
                self.pending = None
            return False
        # forced takeover: never while a bounded lease of the other site may still run
        if d.mode is Mode.SOLO and d.holder is not req.site:
            if d.sticky and not op.fence_confirmed:
                return False
            if not d.sticky and self.lease_live(now):
                acts.append(self._reply(req, Verdict.WAIT, f"forced takeover waits for {d.holder}'s lease"))
                return True
        # overriding a pre-elected winner: it may have served alone on an epoch it minted itself
        loss = req.site not in d.current or (d.preelected is not None and d.preelected is not req.site)
        self._grant(
            now,
            req,
            acts,
            f"operator forced takeover by {req.site}",
            data_loss=loss,
            actor="operator",
            peer_fenced=op.fence_confirmed,
        )
        return True


def describe(policy: Policy) -> str:
    return spec(policy).summary
