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

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from quorum.core import (
    Mode,
    Role,
    RoleChanged,
    Site,
    SiteDurable,
    SiteMachine,
    WitnessDurable,
    WitnessMachine,
    WitnessReply,
    WriteAuthority,
)
from quorum.core.config import QuorumConfig
from quorum.core.policies import spec


class CopyView(Protocol):
    """What the checker reads of a site's copy: the acknowledged writes it lacks."""

    lacks: set[int]


class ClockView(Protocol):
    rate: float

    def true_at(self, local: float) -> float: ...


class World(Protocol):
    """What the checker reads of the world it watches (:class:`quorum.testing.world.World` provides it;
    the checker never imports the world, the world builds its checker)."""

    cfg: QuorumConfig
    sites: dict[Site, SiteMachine]
    witness: WitnessMachine
    witness_store: WitnessDurable | None
    drift_beyond_bound: bool
    last_fault_at: float
    up: dict[str, bool]

    @property
    def now(self) -> float: ...

    @property
    def copies(self) -> Mapping[Site, CopyView]: ...

    @property
    def clocks(self) -> Mapping[str, ClockView]: ...

    def note(self, kind: str, node: str, text: str) -> None: ...

    def local(self, node: str) -> float: ...

    def running(self, node: str) -> bool: ...

    def serving(self) -> dict[Site, WriteAuthority]: ...

    def degraded(self) -> bool: ...

    def clean(self, a: str, b: str) -> bool: ...


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
    """Collects violations for one run of a world. With ``stop_on_safety`` (the checker's driver),
    ``stop`` turns true at the first safety violation; the simulator runs on and measures.

    S1 is computed from intervals: while a site holds solo write authority, its stint runs from when
    it got it to when its lease ends by its own clock, mapped to true time (open while sticky); a
    crash, a pause or a role change closes it early. Two stints that overlap are a violation, and
    ``overlaps`` holds every overlap measured (true time)."""

    def __init__(
        self, world: World, *, stop_on_safety: bool = True, expect_no_role_change: bool = False
    ) -> None:
        self.d = world
        self.stop_on_safety = stop_on_safety
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
        self.stint: dict[Site, tuple[float, float, int] | None] = {Site.A: None, Site.B: None}
        self.overlaps: list[tuple[float, float]] = []  # closed overlaps of solo stints, true time
        self._overlap: tuple[float, int] | None = None  # (start, index of its S1 violation)

    def _fail(self, prop: str, detail: str) -> None:
        v = Violation(prop, self.d.now, detail)
        self.violations.append(v)
        self.d.note("violation", "-", f"{prop} violated: {detail}")
        if prop in SAFETY and self.stop_on_safety:
            self.stop = True

    # ---- S1 -------------------------------------------------------------------------------------------
    def site_changed(self, site: Site) -> None:
        """Re-read ``site``'s solo write authority after anything that may have changed it."""
        d = self.d
        m = d.sites[site]
        cur = self.stint[site]
        if cur is None and m.role is not Role.SOLO:
            return  # the hot path: no solo stint before or now
        now = d.now
        node = site.value
        auth = m.write_authority(d.local(node)) if d.running(node) else None
        if cur is not None and cur[1] <= now:
            cur = None  # it ended by its lease before this event
        if auth is None or auth.mirrored:
            if cur is not None:
                self.stint[site] = (cur[0], now, cur[2])
            self._settle(now)
            self.stint[site] = None
            return
        end = math.inf if m.sticky or m.lease_end is None else d.clocks[node].true_at(m.lease_end)
        self.stint[site] = (now if cur is None else cur[0], max(end, now), auth.epoch)
        self._settle(now)

    def _settle(self, now: float) -> None:
        """Open or close the overlap of the two current stints."""
        a, b = self.stint[Site.A], self.stint[Site.B]
        live = a is not None and b is not None and a[1] > now and b[1] > now
        if self._overlap is not None and not live:  # it ended now, or when a lease ran out
            ends = [st[1] for st in (a, b) if st is not None]
            self._close(self._overlap, max(self._overlap[0], min([now, *ends])))
        if live and self._overlap is None and a is not None and b is not None:
            self._overlap = (now, len(self.violations))
            ms = (min(a[1], b[1]) - now) * 1000
            lasting = "until an event ends it" if math.isinf(ms) else f"overlap {ms:.0f} ms by their leases"
            self._fail(
                "S1",
                f"A (epoch {a[2]}) and B (epoch {b[2]}) both serve alone ({lasting}){self._drift_note()}",
            )

    def _drift_note(self) -> str:
        """Why the lease rule could not hold: a clock drifting beyond ``max_clock_drift``."""
        d = self.d
        if not d.drift_beyond_bound:
            return ""
        rho = d.cfg.max_clock_drift
        rates = ", ".join(
            f"{n} {c.rate:g}" for n, c in sorted(d.clocks.items()) if abs(c.rate - 1.0) > rho + 1e-12
        )
        drifted = f" (rates now: {rates})" if rates else ""
        return (
            f" — caused by clock drift beyond max_clock_drift={rho:g}{drifted}: leases are safe only"
            f" while every clock runs at 1 ± {rho:g}"
        )

    def _close(self, ov: tuple[float, int], end: float) -> None:
        start, i = ov
        self._overlap = None
        self.overlaps.append((start, end))
        if i < len(self.violations) and self.violations[i].property == "S1":
            v = self.violations[i]
            base, sep, rest = v.detail.partition(" — ")
            head = base.rsplit(" (", 1)[0]
            note = sep + rest
            self.violations[i] = dataclasses.replace(
                v, detail=f"{head} (overlap {(end - start) * 1000:.0f} ms){note}"
            )

    def finish(self, t: float) -> None:
        """At the end of a run: close a stint overlap still open at ``t`` (at its projected end, if
        sooner), so ``overlaps`` and the S1 details carry measured figures."""
        if self._overlap is not None:
            a, b = self.stint[Site.A], self.stint[Site.B]
            end = min(t, a[1] if a else t, b[1] if b else t)
            self._close(self._overlap, max(self._overlap[0], end))

    def split_brain_s(self, t0: float = 0.0, t1: float = math.inf) -> float:
        """Seconds of overlapping solo authority within ``[t0, t1]`` (closed overlaps and the open one)."""
        spans = list(self.overlaps)
        if self._overlap is not None:
            a, b = self.stint[Site.A], self.stint[Site.B]
            spans.append((self._overlap[0], min(a[1] if a else 0.0, b[1] if b else 0.0)))
        return sum(max(0.0, min(e, t1) - max(s, t0)) for s, e in spans)

    def overlapping_at(self, t: float) -> bool:
        """Two solo authorities overlap at ``t`` (an overlap cut off by the run's end counts)."""
        if self._overlap is not None and self._overlap[0] <= t:
            a, b = self.stint[Site.A], self.stint[Site.B]
            if min(a[1] if a else 0.0, b[1] if b else 0.0) > t:
                return True
        return any(s <= t <= e for s, e in self.overlaps)

    def solo_authorities(self) -> list[WriteAuthority]:
        return [a for a in self.d.serving().values() if not a.mirrored]

    def serving(self) -> list[WriteAuthority]:
        return list(self.d.serving().values())

    def after_event(self) -> None:
        """Re-read both sites (for drivers that change the world outside its own events)."""
        for s in (Site.A, Site.B):
            self.site_changed(s)

    # ---- S2 -------------------------------------------------------------------------------------------
    def on_ack(self, site: Site, auth: WriteAuthority, wid: int, targets: Sequence[CopyView]) -> None:
        for c in targets:
            missing = c.lacks  # the acknowledged writes this copy lacks (kept by the world)
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
            missing = self.d.copies[change.site].lacks
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


def truly_current(d: World, site: Site) -> bool:
    return not d.copies[site].lacks  # (acked - lost) - the copy's writes


def liveness_promise(d: World) -> str | None:
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

    if d.degraded():
        return "a link is still degraded (delay, loss or reordering): faults have not stopped"
    if not sp.uses_witness:
        pref = cfg.preferred_site
        if up(pref.value) and truly_current(d, pref):
            return None
        return f"{cfg.policy.value}: the preferred site {pref.value} is down"

    w = d.witness.d if up("W") else d.witness_store
    committed = False
    for x in (Site.A, Site.B):
        if not up(x.value) or not truly_current(d, x):
            continue
        peer = x.peer
        if up(peer.value) and d.clean(x.value, peer.value) and d.sites[x].current:
            return None  # the pair can restore the mirror by itself (x knows its copy is current)
        if d.sites[x].preelect_commit is peer:
            committed = True
            continue  # x promised the unreachable peer it wins a split: it may be serving alone
        if not (up("W") and d.clean(x.value, "W")):
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
