"""Configuration of a site pair and its witness (validated at the edge by pydantic).

Every timing figure is in seconds on a *monotonic* clock. The lease rule the core implements
(see ``quorum.core.site`` and ``quorum.core.witness``):

* the holder of a solo lease stops serving at ``send_time + lease_duration - lease_margin`` on its
  own clock, where ``send_time`` is when it sent the request the witness answered;
* the witness grants the lease to anyone else only once
  ``lease_duration * (1 + max_clock_drift) + max_message_delay`` has passed on *its* clock since it
  last renewed the holder.

If every clock runs at a rate within ``1 ± max_clock_drift``, the holder stops (in true time) no later
than ``(lease_duration - lease_margin) / (1 - max_clock_drift)`` after its send, and the witness
re-grants no earlier than ``lease_duration + max_message_delay / (1 + max_clock_drift)`` after it.
Safety therefore needs ``lease_margin >= lease_duration * max_clock_drift``; the model refuses
configurations that break it.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

# Numbers and booleans at the edge are strict: `miss_threshold: true` is not 1, `pre_election: 1` is
# not true, and `nan`/`inf` are refused (allow_inf_nan=False below). A float field still takes an int.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]

MAX_HEARTBEATS = 100_000  # heartbeats within the liveness bound: more and a checked run is unbounded


class Site(StrEnum):
    """One of the two data-center sites."""

    A = "A"
    B = "B"

    @property
    def peer(self) -> Site:
        return Site.B if self is Site.A else Site.A


class Policy(StrEnum):
    """Arbitration policies, by the names users select them with."""

    WITNESS_PREFERRED = "witness-preferred"
    WITNESS_RACE = "witness-race"
    MAJORITY = "majority"
    LAST_MAN_STANDING = "last-man-standing"
    STATIC_PREFERRED = "static-preferred"
    BOTH_CONTINUE = "both-continue"


class Consistency(StrEnum):
    """How a lagging copy is treated (DESIGN section 3)."""

    SYNCHRONOUS = "synchronous"
    BOUNDED_LOSS = "bounded-loss"


SITE_LOCAL_FIELDS = frozenset({"pre_promote_check", "pre_promote_retry"})


def settings_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """``field (a X vs b Y)`` for every safety setting that differs, sorted by field name."""
    return [
        f"{k} ({mine.get(k)!r} vs {theirs.get(k)!r})"
        for k in sorted(set(mine) | set(theirs))
        if mine.get(k) != theirs.get(k)
    ]


class QuorumConfig(BaseModel):
    """Everything the pure core needs to decide; shared by the checker, the simulator and live.

    Unknown fields are rejected so a typo in a configuration file is an error, not a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)

    policy: Policy = Field(default=Policy.WITNESS_PREFERRED, description="arbitration policy")
    preferred_site: Site = Field(default=Site.A, description="site that wins a tie")
    consistency: Consistency = Field(default=Consistency.SYNCHRONOUS)

    heartbeat_interval: Float = Field(default=1.0, gt=0, le=60, description="seconds")
    miss_threshold: Int = Field(default=3, ge=1, le=100, description="missed heartbeats → down")
    rise_threshold: Int = Field(
        default=2,
        ge=1,
        le=100,
        description="consecutive heartbeats before a lost peer counts as back",
    )
    lease_duration: Float = Field(default=10.0, gt=0, le=3600)
    lease_margin: Float = Field(default=3.0, ge=0)
    max_clock_drift: Float = Field(default=0.001, ge=0, lt=0.5, description="ρ, as a rate (0.001 = 1000 ppm)")
    max_message_delay: Float = Field(default=0.5, ge=0, le=60)

    pre_election: Bool = Field(
        default=False,
        description="on witness loss, the connected pair agrees now who wins a later split",
    )
    keep_active_partition: Bool = Field(
        default=False, description="the site that last served alone wins ties"
    )
    auto_failback: Bool = Field(
        default=False,
        description="after a failover the preferred site regains tie priority once it is mirrored again",
    )
    last_man_window: Float = Field(
        default=60.0,
        gt=0,
        le=31_557_600,
        description="last-man-standing: seconds alone before the lease becomes sticky",
    )
    pre_promote_check: Bool = Field(
        default=False,
        description="a site runs a pre-promote check (hook) before it asks to serve alone; a failed"
        " check keeps it out of the arbitration",
    )
    pre_promote_retry: Float = Field(
        default=30.0,
        gt=0,
        le=86400,
        description="seconds after a failed pre-promote check before it is run again",
    )

    @model_validator(mode="after")
    def _check_timing(self) -> QuorumConfig:
        needed = self.lease_duration * self.max_clock_drift
        if self.lease_margin < needed:
            raise ValueError(
                f"lease_margin={self.lease_margin} is below lease_duration*max_clock_drift={needed:.6g}:"
                " a holder could outlive its lease on a slow clock"
            )
        if self.lease_margin >= self.lease_duration:
            raise ValueError(
                f"lease_margin={self.lease_margin} must be smaller than lease_duration={self.lease_duration}"
            )
        usable = self.lease_duration - self.lease_margin
        if usable <= 2 * self.heartbeat_interval + 2 * self.max_message_delay:
            raise ValueError(
                f"lease_duration-lease_margin={usable:.6g} leaves no room to renew: it must exceed"
                f" 2*heartbeat_interval+2*max_message_delay="
                f"{2 * self.heartbeat_interval + 2 * self.max_message_delay:.6g}"
            )
        beats = self.liveness_bound() / self.heartbeat_interval
        if beats > MAX_HEARTBEATS:
            raise ValueError(
                f"heartbeat_interval={self.heartbeat_interval:g} is too short for the other timings: the"
                f" liveness bound ({self.liveness_bound():.6g} s) would span {beats:.3g} heartbeats"
                f" (at most {MAX_HEARTBEATS:,})"
            )
        if self.policy in (Policy.STATIC_PREFERRED, Policy.BOTH_CONTINUE) and self.pre_election:
            raise ValueError(f"pre_election=true needs a witness; policy={self.policy.value} has none")
        # options that would do nothing are refused, never accepted silently: they only move the tie
        # site, which a policy without a witness never consults, and witness-race consults only to
        # choose who proposes a pre-election (the first request wins before any tie rule)
        for option in ("keep_active_partition", "auto_failback"):
            if not getattr(self, option):
                continue
            if self.policy in (Policy.STATIC_PREFERRED, Policy.BOTH_CONTINUE):
                raise ValueError(
                    f"{option}=true has no effect under policy={self.policy.value} (no witness, no tie rule)"
                )
            if self.policy is Policy.WITNESS_RACE and option == "keep_active_partition":
                # Issue 22: with pre_election it was accepted, yet a flapping link still moved service
                # B>A>B>A (the promise is no ping-pong). Under the race a grant already makes its holder
                # the tie site (the pre-election proposer), so the option changed nothing there either;
                # making it act would turn the race into witness-preferred with the last solo site as
                # tie site, which witness-preferred + keep_active_partition already is.
                raise ValueError(
                    "keep_active_partition=true cannot hold under policy=witness-race: the first request"
                    " wins every split, so a returning site can win the next one (ping-pong); use"
                    " policy=witness-preferred or majority with keep_active_partition=true"
                )
            if self.policy is Policy.WITNESS_RACE and not self.pre_election:
                raise ValueError(
                    f"{option}=true has no effect under policy=witness-race: the first request wins"
                    " before any tie rule (it only picks who proposes a pre-election: set"
                    " pre_election=true, or use witness-preferred or majority)"
                )
        return self

    # ---- the configuration fingerprint -------------------------------------------------------------
    def safety_settings(self) -> dict[str, Any]:
        """The settings both sites and the witness must share: every field but the site-local
        pre-promote check (a hook of one site; it only withholds requests, never grants anything)."""
        dumped = self.model_dump(mode="json", warnings=False)
        return {k: v for k, v in dumped.items() if k not in SITE_LOCAL_FIELDS}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over ``safety_settings()`` (canonical JSON): equal fingerprints,
        equal safety-relevant settings. Every witness request and peer heartbeat carries it."""
        text = json.dumps(self.safety_settings(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # ---- derived timings (pure functions of the configuration) ---------------------------------
    @property
    def detection_timeout(self) -> float:
        """Silence after which a peer or the witness counts as lost."""
        return self.miss_threshold * self.heartbeat_interval + 2 * self.max_message_delay

    @property
    def regrant_wait(self) -> float:
        """Witness-clock seconds after a holder's last renewal before anyone else may be granted."""
        return self.lease_duration * (1 + self.max_clock_drift) + self.max_message_delay

    @property
    def arbitration_window(self) -> float:
        """How long the witness waits for the tie-winning site before granting the other."""
        return self.detection_timeout + self.heartbeat_interval

    @property
    def uses_witness(self) -> bool:
        return self.policy not in (Policy.STATIC_PREFERRED, Policy.BOTH_CONTINUE)

    def liveness_bound(self) -> float:
        """Seconds, after faults stop, within which some site serves (property L1).

        Detection, then the witness's longest wait (a lease that may still run, or a restart
        hold), then the arbitration window, then a round trip; each term allows for drift.
        """
        slow = 1 / (1 - self.max_clock_drift)
        check = self.pre_promote_retry + self.heartbeat_interval if self.pre_promote_check else 0.0
        return slow * (
            check
            + 2 * self.detection_timeout
            + 2 * self.regrant_wait
            + self.arbitration_window
            + (self.rise_threshold + 4) * self.heartbeat_interval
            + 4 * self.max_message_delay
        )
