"""The core's inputs and outputs: small immutable values (frozen, slotted dataclasses and enums).

Messages travel between processes (site ↔ site, site → witness → site); inputs come from the local
adapter (storage, operator); actions go out to the adapter, which performs them in list order.
The adapter must apply a ``PersistWitness`` / ``PersistSite`` action before sending any message that
follows it in the same list: that is how an epoch is durable before its grant leaves the witness.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quorum.core.config import Site


class Role(StrEnum):
    """What a site does with writes to its mirrored volume group."""

    STARTING = "starting"  # just (re)started: not serving, learning the situation
    MIRRORED = "mirrored"  # serving; a write is acknowledged only once both copies hold it
    SOLO = "solo"  # serving alone under a solo epoch (and a lease, unless the lease is sticky)
    FROZEN = "frozen"  # I/O frozen (reads too): the mirror is lost, a decision is pending
    FENCED = "fenced"  # not serving: lost arbitration, stale, or stepped down


SERVING_ROLES = frozenset({Role.MIRRORED, Role.SOLO})


class Want(StrEnum):
    """What a site asks of the witness in a request."""

    REPORT = "report"  # nothing: keep the witness informed
    SOLO = "solo"  # let me serve alone (new solo epoch)
    RENEW = "renew"  # renew my solo lease at my epoch
    MIRROR = "mirror"  # my peer is resynchronised and mirrored with me: record both copies current


class Verdict(StrEnum):
    """The witness's answer to a request."""

    GRANT_SOLO = "grant-solo"
    RENEWED = "renewed"
    GRANT_MIRROR = "grant-mirror"
    WAIT = "wait"
    DENY = "deny"
    OK = "ok"
    REFUSED = "refused"  # the request's configuration fingerprint is not the pair's: nothing decided


class Mode(StrEnum):
    """The witness's durable view of the pair."""

    MIRRORED = "mirrored"
    SOLO = "solo"


# ---- messages -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PeerHeartbeat:
    """Site → peer, every heartbeat interval. ``seq`` orders them; older ones carry no state."""

    src: Site
    boot: int  # the sender's incarnation: (boot, seq) orders heartbeats across restarts
    seq: int
    epoch: int
    role: Role
    current: bool
    tie_site: Site
    holder: Site | None = None  # who the sender believes holds ``epoch`` alone, if anyone
    preelect: Site | None = None  # proposal: this site wins a split at ``epoch`` (witness lost)
    preelect_ack: Site | None = None  # commitment: the sender will not contest ``preelect_ack``
    config: str = ""  # the sender's configuration fingerprint (``QuorumConfig.fingerprint``)


@dataclass(frozen=True, slots=True)
class WitnessRequest:
    """Site → witness, every heartbeat interval (and at once when a decision is needed)."""

    site: Site
    seq: int
    sent_at: float  # the site's own monotonic clock; echoed back so the lease counts from here
    want: Want
    epoch: int
    role: Role
    current: bool
    solo_holder: Site | None = None  # who the site believes holds ``epoch`` alone, if anyone
    preelected: Site | None = None  # a pre-election at ``epoch`` the site is part of
    # the site's configuration fingerprint (``QuorumConfig.fingerprint``); the witness answers a
    # different one with REFUSED and nothing else. Empty: not checked (hand-built requests in tests;
    # the live witness's HTTP edge requires one)
    config: str = ""


@dataclass(frozen=True, slots=True)
class WitnessReply:
    """Witness → site, answering one request."""

    site: Site
    seq: int
    sent_at: float  # echo of the request's ``sent_at``
    verdict: Verdict
    epoch: int
    mode: Mode
    holder: Site | None
    tie_site: Site
    sticky: bool = False  # the lease does not expire (last-man-standing / pre-elected holder)
    data_loss: bool = False  # the grant promotes a copy that may miss acknowledged writes
    peer_fenced: bool = False  # forced takeover: the operator confirmed the other site is fenced
    reason: str = ""
    config: str = ""  # the fingerprint of the configuration the witness runs the pair with


Message = PeerHeartbeat | WitnessRequest | WitnessReply


# ---- local inputs ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MirrorWriteFailed:
    """Storage → site: a mirrored write could not be written on the peer copy (rejected or timed out)."""

    reason: str = "peer copy rejected the write"


@dataclass(frozen=True, slots=True)
class ResyncDone:
    """Storage → site: the resynchronisation started by ``StartResync`` finished; copies are equal."""

    epoch: int


@dataclass(frozen=True, slots=True)
class ResyncFailed:
    """Storage → site: the resynchronisation was interrupted (link lost)."""

    epoch: int


@dataclass(frozen=True, slots=True)
class Switchover:
    """Operator → witness: planned switchover; ``to`` serves alone, the other steps down and rejoins."""

    to: Site
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class ForcedTakeover:
    """Operator → witness: make ``to`` serve alone even if its copy is stale (data loss is recorded).

    ``fence_confirmed`` is the operator's statement that the other site is powered off or cut from
    its storage; only then may the witness skip waiting out a lease that never expires.
    """

    to: Site
    allow_data_loss: bool = False
    fence_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Maintenance:
    """Operator → witness: maintenance mode on or off.

    While it is on, the witness makes no *automatic* failover: a request to serve alone that would need
    arbitration (or, in ``bounded-loss`` mode, promoting a lagging copy) is answered ``WAIT``. Renewals,
    planned switchovers and forced takeovers still work: the operator is in charge.
    """

    on: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SiteHealth:
    """Local health checks → site: whether this site can serve (host, disk, service port, DNS, SQL).

    An unhealthy site never asks to serve alone and never promotes itself; it keeps whatever role it has
    (a serving site is not demoted by its own checks: that is the operator's or the peer's decision).
    """

    healthy: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PromotionChecked:
    """Adapter → site: the outcome of the pre-promote check asked for by ``CheckPromotion``."""

    epoch: int
    ok: bool
    detail: str = ""


Input = (
    Message
    | MirrorWriteFailed
    | ResyncDone
    | ResyncFailed
    | Switchover
    | ForcedTakeover
    | Maintenance
    | SiteHealth
    | PromotionChecked
)


# ---- durable state ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WitnessDurable:
    """What the witness persists (fsync) before any grant leaves it. Epochs never go back."""

    epoch: int = 1
    mode: Mode = Mode.MIRRORED
    holder: Site | None = None
    current: frozenset[Site] = frozenset({Site.A, Site.B})
    sticky: bool = False
    tie_site: Site = Site.A
    last_solo: Site | None = None
    preelected: Site | None = None  # pre-election in force at ``epoch``
    lossy: bool = False  # the grant of ``epoch`` promoted a copy that may miss acknowledged writes
    maintenance: bool = False  # operator maintenance mode: no automatic failover
    # ``epoch`` was granted while the pair was mirrored at ``epoch - 1``: the other site may have been
    # pre-elected there and minted ``epoch`` itself (the one case where two sites claim one epoch)
    from_mirrored: bool = False


@dataclass(frozen=True, slots=True)
class SiteDurable:
    """What a site persists before acting on a new epoch or commitment (survives a restart)."""

    epoch: int = 1
    role: Role = Role.MIRRORED
    current: bool = True
    tie_site: Site = Site.A
    preelect_win: int | None = None  # epoch at which the peer committed to this site winning
    preelect_commit: Site | None = None  # this site committed to ``preelect_commit`` at ``epoch``
    boot: int = 0  # incarnation counter, incremented at every restart
    holder: Site | None = None  # who holds ``epoch`` alone, as far as the site knows
    accepted_config: str | None = None  # the fingerprint the witness last accepted (answered)
    # the fingerprint the peer's heartbeats last carried: a restarted site keeps the guard "my peer
    # runs other rules, so I do not serve alone beside it" before it hears its peer again
    peer_config: str | None = None


# ---- actions ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Send:
    """Send ``message`` to ``dst`` (a site, or ``None`` for the witness)."""

    dst: Site | None
    message: Message


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """The site's role changed: the adapter runs its promote/demote/fence hooks and tells storage.

    ``epoch`` is the fencing token storage must now enforce for this site's writes.
    """

    site: Site
    old: Role
    new: Role
    epoch: int
    reason: str
    data_loss: bool = False


@dataclass(frozen=True, slots=True)
class StartResync:
    """Copy ``src``'s copy onto ``dst``'s copy; answer with ``ResyncDone`` / ``ResyncFailed``."""

    src: Site
    dst: Site
    epoch: int


@dataclass(frozen=True, slots=True)
class CheckPromotion:
    """Run the pre-promote check (``pre_promote_check``) before the site asks to serve alone at
    ``epoch``; answer with ``PromotionChecked``. Until the answer, the site does not contend."""

    site: Site
    epoch: int


@dataclass(frozen=True, slots=True)
class PersistWitness:
    state: WitnessDurable


@dataclass(frozen=True, slots=True)
class PersistSite:
    site: Site
    state: SiteDurable


@dataclass(frozen=True, slots=True)
class Decision:
    """A witness decision worth an audit-history line (who, what, why)."""

    epoch: int
    holder: Site | None
    mode: Mode
    reason: str
    actor: str = "witness"
    data_loss: bool = False


@dataclass(frozen=True, slots=True)
class Alarm:
    """The witness refused to believe a site's claim (an epoch it cannot account for): an audit line
    and an operator alarm; the witness's state is unchanged."""

    site: Site
    epoch: int  # the epoch the site claimed
    detail: str


@dataclass(frozen=True, slots=True)
class OperatorResult:
    """The witness's answer to an operator input."""

    ok: bool
    detail: str
    pending: bool = False


Action = (
    Send
    | RoleChanged
    | StartResync
    | CheckPromotion
    | PersistWitness
    | PersistSite
    | Decision
    | Alarm
    | OperatorResult
)


@dataclass(frozen=True, slots=True)
class WriteAuthority:
    """What a site may do with a write right now (``None`` from ``write_authority`` means nothing).

    ``mirrored``: acknowledge only once both copies hold the write; ``epoch`` is the fencing token.
    """

    site: Site
    epoch: int
    mirrored: bool
