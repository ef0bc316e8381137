"""The policy table: what each arbitration policy does, in one place.

| policy              | witness | when a site loses its peer                | witness tie rule                       |
|---------------------|---------|-------------------------------------------|----------------------------------------|
| witness-preferred   | yes     | freeze, ask the witness                   | tie site at once; other after a window |
| witness-race        | yes     | freeze, ask the witness                   | first request wins                     |
| majority            | yes     | freeze, ask the witness (1 vote + W's)     | collect a window, then the tie site    |
| last-man-standing   | yes     | as majority; a long solo lease turns sticky| as majority                            |
| static-preferred    | no      | preferred: serve alone; other: stay frozen| —                                      |
| both-continue       | no      | serve alone (UNSAFE: split-brain)         | —                                      |

The *tie site* is the configured preferred site, moved to the survivor after a failover unless
``auto_failback`` is set, and overridden by the last site that served alone when
``keep_active_partition`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from quorum.core.config import Policy


@dataclass(frozen=True, slots=True)
class PolicySpec:
    name: Policy
    uses_witness: bool
    self_promote: str  # "none", "preferred" or "any": who goes solo without a witness grant
    immediate_tie_site: bool  # the witness grants the tie site without waiting the window
    first_come: bool  # the first requester wins at once
    sticky_after_window: bool  # last-man-standing
    safe: bool
    summary: str


# fmt: off
POLICIES: dict[Policy, PolicySpec] = {
    Policy.WITNESS_PREFERRED: PolicySpec(
        Policy.WITNESS_PREFERRED, True, "none", True, False, False, True,
        "witness arbitration; the preferred (tie) site wins a tie (vSAN / WSFC style)",
    ),
    Policy.WITNESS_RACE: PolicySpec(
        Policy.WITNESS_RACE, True, "none", False, True, False, True,
        "witness arbitration; the first site to reach the witness wins (IBM SVC style)",
    ),
    Policy.MAJORITY: PolicySpec(
        Policy.MAJORITY, True, "none", False, False, False, True,
        "2-of-3 votes; the witness votes for one partition, tie-breaker the tie site (qdevice ffsplit)",
    ),
    Policy.LAST_MAN_STANDING: PolicySpec(
        Policy.LAST_MAN_STANDING, True, "none", False, False, True, True,
        "majority, and a site alone long enough keeps serving through a later witness loss",
    ),
    Policy.STATIC_PREFERRED: PolicySpec(
        Policy.STATIC_PREFERRED, False, "preferred", False, False, False, True,
        "no witness: the preferred site always continues, the other always stops",
    ),
    Policy.BOTH_CONTINUE: PolicySpec(
        Policy.BOTH_CONTINUE, False, "any", False, False, False, False,
        "UNSAFE baseline: each site continues alone; exists to show split-brain",
    ),
}
# fmt: on


def spec(policy: Policy) -> PolicySpec:
    return POLICIES[policy]
