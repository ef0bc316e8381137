"""Invariant checkers for the properties of DESIGN section 4, fed by a driver as a run unfolds.

* **S1 no split-brain** — at no instant do two sites hold solo write authority (a SOLO role whose
  lease is still valid on the site's own clock, or sticky), in the processes that are running.
  A MIRRORED site cannot acknowledge a write unless both copies take it (storage checks the epoch),
  so two sites acknowledging divergent writes requires two solo authorities.
* **S2 no lost acknowledged write** — every acknowledgement lands on copies that already hold every
  earlier acknowledged write, and every site that becomes SOLO holds them all; writes given up by a
  recorded operator-forced takeover or a bounded-loss promotion are exempt (and counted).
* **S3 epochs never go back** — the witness's persisted epoch never decreases (across restarts),
  grants carry strictly increasing epochs, and a site's persisted epoch never decreases.
* **L1 liveness** — once faults stop, if the policy promises it (``liveness_promise``), some site
  serves within ``QuorumConfig.liveness_bound()``. Where the policy does not promise it, a run
  with no serving site counts as an *availability loss*, not a violation.
* **L2 no false failover** — under loss and delay that stay below the detection timeout no role
  changes at all (checked when the driver is told ``expect_no_role_change``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from quorum.core import (
    Mode,
    Role,
    RoleChanged,
    Site,
    SiteDurable,
    WitnessDurable,
    WitnessReply,
    WriteAuthority,
)
from quorum.core.policies import spec

if TYPE_CHECKING:
    from quorum.testing.driver import Copy, Driver

PROPERTIES = ("S1", "S2", "S3", "L1", "L2")
SAFETY = ("S1", "S2", "S3")


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken property: which, when (true time, seconds) and what happened."""

    property: str
    at: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"property": self.property, "at": round(self.at, 6), "detail": self.detail}


class Checker:
    """Collects violations for one run. ``stop`` turns true at the first safety violation."""

    def __init__(self, driver: Driver, *, expect_no_role_change: bool = False) -> None:
        self.d = driver
        self.expect_no_role_change = expect_no_role_change
        self.violations: list[Violation] = []
        self.stop = False
        self.witness_epoch = 0
        self.grant_epoch = 0
        self.grants: dict[int, tuple[str, Site]] = {}
        self.site_epoch: dict[Site, int] = {}
        self.liveness_check_at: float | None = None
        self.liveness_checked = False
        self.availability_loss: str | None = None
        self.unserved_since: float | None = None

    def _fail(self, prop: str, detail: str) -> None:
        v = Violation(prop, self.d.now, detail)
        self.violations.append(v)
        self.d.note("violation", "-", f"{prop} violated: {detail}")
        if prop in SAFETY:
            self.stop = True

    # ---- S1 -------------------------------------------------------------------------------------------
    def solo_authorities(self) -> list[WriteAuthority]:
        out = []
        d = self.d
        for s, m in d.sites.items():
            node = s.value
            if not d.up[node] or d.now < d.paused_until[node]:
                continue
            auth = m.write_authority(d.local(node))
            if auth is not None and not auth.mirrored:
                out.append(auth)
        return out

    def serving(self) -> list[WriteAuthority]:
        out = []
        d = self.d
        for s, m in d.sites.items():
            node = s.value
            if not d.up[node] or d.now < d.paused_until[node]:
                continue
            auth = m.write_authority(d.local(node))
            if auth is not None:
                out.append(auth)
        return out

    def after_event(self) -> None:
        solo = self.solo_authorities()
        if len(solo) > 1:
            desc = " and ".join(f"{a.site.value} (epoch {a.epoch})" for a in solo)
            self._fail("S1", f"{desc} both serve alone")

    # ---- S2 -------------------------------------------------------------------------------------------
    def on_ack(self, site: Site, auth: WriteAuthority, wid: int, targets: list[Copy]) -> None:
        need = self.d.acked - self.d.lost
        for c in targets:
            missing = need - c.writes
            if missing:
                which = "both copies" if len(targets) > 1 else f"{site.value}'s copy"
                self._fail(
                    "S2",
                    f"{site.value} acknowledged a write on {which} missing {len(missing)} earlier"
                    f" acknowledged write(s) (epoch {auth.epoch})",
                )
                return

    def on_role(self, change: RoleChanged) -> None:
        if self.expect_no_role_change:
            self._fail(
                "L2",
                f"{change.site.value} {change.old.value} -> {change.new.value}: {change.reason}",
            )
        if change.new is Role.SOLO and not change.data_loss:
            need = self.d.acked - self.d.lost
            missing = need - self.d.copies[change.site].writes
            if missing:
                self._fail(
                    "S2",
                    f"{change.site.value} serves alone at epoch {change.epoch} on a copy missing"
                    f" {len(missing)} acknowledged write(s) ({change.reason})",
                )

    # ---- S3 -------------------------------------------------------------------------------------------
    def on_persist_witness(self, state: WitnessDurable) -> None:
        if state.epoch < self.witness_epoch:
            self._fail("S3", f"witness persisted epoch {state.epoch} after epoch {self.witness_epoch}")
        self.witness_epoch = max(self.witness_epoch, state.epoch)

    def on_grant(self, reply: WitnessReply) -> None:
        key = (reply.verdict.value, reply.site)
        if reply.epoch < self.grant_epoch:
            self._fail("S3", f"witness granted epoch {reply.epoch} after granting epoch {self.grant_epoch}")
        elif self.grants.setdefault(reply.epoch, key) != key:
            other = self.grants[reply.epoch]
            self._fail(
                "S3",
                f"epoch {reply.epoch} granted twice ({other[0]} to {other[1].value}, then {key[0]} to {key[1].value})",
            )
        self.grant_epoch = max(self.grant_epoch, reply.epoch)

    def on_persist_site(self, site: Site, state: SiteDurable) -> None:
        before = self.site_epoch.get(site, 0)
        if state.epoch < before:
            self._fail("S3", f"site {site.value} persisted epoch {state.epoch} after epoch {before}")
        self.site_epoch[site] = max(before, state.epoch)

    def on_crash(self, node: str) -> None:
        pass

    # ---- L1 -------------------------------------------------------------------------------------------
    def at_end(self) -> None:
        if not self.liveness_checked and self.liveness_check_at is not None:
            self.check_liveness()

    def check_liveness(self) -> None:
        self.liveness_checked = True
        if self.serving():
            return
        reason = liveness_promise(self.d)
        if reason is None:
            self._fail(
                "L1",
                f"no site serves {self.d.now - self.d.last_fault_at:.3g}s after the last fault"
                f" (bound {self.d.cfg.liveness_bound():.3g}s)",
            )
        else:
            self.availability_loss = reason
            self.d.note("note", "-", f"availability loss (not promised by the policy): {reason}")


def truly_current(d: Driver, site: Site) -> bool:
    return not ((d.acked - d.lost) - d.copies[site].writes)


def liveness_promise(d: Driver) -> str | None:
    """``None`` if the policy promises that some site serves in the run's final situation,
    else the reason it does not (an availability loss the README documents)."""
    cfg = d.cfg
    if d.drift_beyond_bound:
        return "a clock drifts beyond the configured bound"
    sp = spec(cfg.policy)
    if not sp.safe:
        return f"{cfg.policy.value} promises nothing"

    def up(n: str) -> bool:
        return d.up[n]

    if any(ln.delay or ln.loss or ln.reorder for ln in d.links.values()):
        return "a link is still degraded (delay, loss or reordering): faults have not stopped"
    if not sp.uses_witness:
        pref = cfg.preferred_site
        if up(pref.value) and truly_current(d, pref):
            return None
        return f"{cfg.policy.value}: the preferred site {pref.value} is down"

    def clean(a: str, b: str) -> bool:
        ab, ba = d.links[(a, b)], d.links[(b, a)]
        return all(ln.up and not (ln.delay or ln.loss or ln.reorder) for ln in (ab, ba))

    w = d.witness.d if up("W") else d.witness_store
    committed = False
    for x in (Site.A, Site.B):
        if not up(x.value) or not truly_current(d, x):
            continue
        peer = x.peer
        if up(peer.value) and clean(x.value, peer.value) and d.sites[x].current:
            return None  # the pair can restore the mirror by itself (x knows its copy is current)
        if d.sites[x].preelect_commit is peer:
            committed = True
            continue  # x promised the unreachable peer it wins a split: it may be serving alone
        if not (up("W") and clean(x.value, "W")):
            continue
        if w is not None:
            if x not in w.current:
                continue  # the witness has not been told this copy is current
            if w.mode is Mode.SOLO and w.holder is not x and w.sticky:
                continue  # a sticky holder (last man standing / pre-elected) is away
            if w.mode is Mode.MIRRORED and w.preelected is not None and w.preelected is not x:
                continue
        return None
    if committed:
        return "the site that can reach the witness committed to its unreachable peer winning a split"
    return "no site with a current copy (as the system knows it) can reach the witness or its peer"
