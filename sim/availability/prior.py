"""What the design says before any simulation: the structural outage it should expect.

Theory. For independent components in their stationary regime, component ``c`` is down with probability
``u_c = MDT_c / (MTTF_c + MDT_c)`` whatever its laws, and the joint law of the down set is the product of
the marginals. Summing it over the down sets the structural rule (:func:`sim.years.structure.rule`, both
copies current) calls an outage gives the *prior* structural unavailability; the rate at which the
structure enters an outage is the sum, over serving down sets ``D`` and components ``c`` up in them whose
failure stops the structure, of ``P(D) / MTTF_c`` (a component up fails at rate ``1/MTTF`` on average). It
is exact for independent components (a crew each, no common cause); with shared crews, common causes or
history (stale copies) it is an order of magnitude, which is all the stopping rule needs: it says which
rare events must have been *seen* before a figure may claim precision (:func:`events_needed`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

from sim.story import scenario as S
from sim.years.engine import Years
from sim.years.laws import mean_down
from sim.years.structure import rule

MAX_COMPONENTS = 14  # 2^14 down sets at most


@dataclass(frozen=True, slots=True)
class Prior:
    structural_unavailability: float
    outage_rate_per_s: float  # structural outages per second
    longest_mean_down_s: float  # the longest mean down time of a component (bounds an overlap's mean)

    def to_dict(self) -> dict[str, float]:
        return {
            "structural_unavailability": self.structural_unavailability,
            "structural_outages_per_year": self.outage_rate_per_s * 365.25 * 86400.0,
            "longest_mean_down_s": self.longest_mean_down_s,
        }


def prior(sc: S.Scenario) -> Prior | None:
    """The prior of ``sc`` (None with more than :data:`MAX_COMPONENTS` failing components)."""
    y = Years(sc, 1.0, 0)
    comps = sorted(y.laws)
    if not comps or len(comps) > MAX_COMPONENTS:
        return None
    m = sc.monitoring_interval
    mdt = {c: mean_down(y.laws[c][1], m) for c in comps}
    u = {c: mdt[c] / (y.laws[c][0].mean + mdt[c]) for c in comps}
    groups = y.groups
    settle = rule(sc)
    both = frozenset({"A", "B"})
    p_down = 0.0
    rate = 0.0
    for k in range(len(comps) + 1):
        for combo in combinations(comps, k):
            down = frozenset(combo)
            p = math.prod(u[c] if c in down else 1.0 - u[c] for c in comps)
            if p == 0.0:
                continue
            if not settle(down, both)[0]:
                p_down += p
                continue
            for c in comps:
                if c in down:
                    continue
                hit = down | {c} | groups.get(c, set())
                if not settle(frozenset(hit), both)[0]:
                    rate += p / y.laws[c][0].mean
    return Prior(p_down, rate, max(mdt.values()))


def events_needed(precision: float, confidence: float) -> int:
    """Observed events a relative half-width of ``precision`` needs at least: a Poisson count of ``k``
    has relative half-width about ``z / sqrt(k)``."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return math.ceil((z / precision) ** 2)
