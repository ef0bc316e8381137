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

Classes of rare events. Every structural outage happens in a down set that contains a *minimal cut* (a
set of components whose joint failure stops the structure, none of whose subsets does). The prior gives
each minimal cut ``C`` its a-priori unavailability ``U_C = prod_{c in C} u_c`` (the probability that all of
``C`` is down, exact for independent components; the cuts' events overlap, so the ``U_C`` add up to a
little more than the structural U). An observed outage is classified by the cut of largest ``U_C`` it
contains (``other`` when it contains none: an outage that history made, a stale copy). The stopping rule
(:func:`requirements`) asks each *material* class, one whose ``U_C`` could move the estimate by more than
a fraction of the precision, to have been seen ``k_C`` times, the Poisson count rule applied to its share:
with ``k_C = ceil(k s_C)`` (``k`` = :func:`events_needed`, ``s_C`` its share among the material classes)
the classes' relative errors ``z / sqrt(k_C)`` weighted by their shares add up in quadrature to the
precision; at least :data:`MIN_CLASS_EVENTS` each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

from sim.story import scenario as S
from sim.years.engine import Years
from sim.years.laws import mean_down
from sim.years.structure import rule

MAX_COMPONENTS = 14  # 2^14 down sets at most
MIN_CLASS_EVENTS = 30  # a material class of outages must have been seen at least this many times
OTHER = "other"  # the class of an outage whose down set contains no minimal cut (history: a stale copy)


@dataclass(frozen=True, slots=True)
class Cut:
    """A minimal cut of the structure and its a-priori unavailability (all of it down at once)."""

    components: frozenset[str]
    unavailability: float

    @property
    def name(self) -> str:
        return "+".join(sorted(self.components))


@dataclass(frozen=True, slots=True)
class Prior:
    structural_unavailability: float
    outage_rate_per_s: float  # structural outages per second
    longest_mean_down_s: float  # the longest mean down time of a component (bounds an overlap's mean)
    cuts: tuple[Cut, ...] = ()  # minimal cuts, largest a-priori unavailability first

    def to_dict(self) -> dict[str, Any]:
        return {
            "structural_unavailability": self.structural_unavailability,
            "structural_outages_per_year": self.outage_rate_per_s * 365.25 * 86400.0,
            "longest_mean_down_s": self.longest_mean_down_s,
            "minimal_cuts": {c.name: c.unavailability for c in self.cuts},
        }

    def classify(self, down: frozenset[str]) -> str:
        """The class of an outage whose down set is ``down``: its minimal cut of largest a-priori U."""
        for c in self.cuts:
            if c.components <= down:
                return c.name
        return OTHER


@dataclass(frozen=True, slots=True)
class Requirement:
    """How many outages of one class precision needs, and how many were seen."""

    cut: str
    prior_unavailability: float
    needed: int
    observed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "cut": self.cut,
            "prior_unavailability": self.prior_unavailability,
            "needed": self.needed,
            "observed": self.observed,
        }


def requirements(
    pr: Prior, estimate: float, precision: float, confidence: float, observed: dict[str, int]
) -> list[Requirement]:
    """The material classes of ``pr`` and what each needs, given the current ``estimate`` of U.

    The classes of smallest a-priori U are left out while their *sum* stays below half the precision
    times the estimate (together they cannot move it by more); every other class is material and needs
    ``max(MIN_CLASS_EVENTS, ceil(events_needed x its share among the material classes))`` observed
    outages (see the module's theory)."""
    by_u = sorted(pr.cuts, key=lambda c: c.unavailability)
    left, i = 0.0, 0
    while i < len(by_u) and left + by_u[i].unavailability < precision / 2.0 * max(estimate, 0.0):
        left += by_u[i].unavailability
        i += 1
    material = [c for c in by_u[i:] if c.unavailability > 0.0]
    total = sum(c.unavailability for c in material)
    k = events_needed(precision, confidence)
    out = [
        Requirement(
            c.name,
            c.unavailability,
            max(MIN_CLASS_EVENTS, math.ceil(k * c.unavailability / total)),
            observed.get(c.name, 0),
        )
        for c in material
    ]
    return sorted(out, key=lambda r: -r.prior_unavailability)


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
    cuts: list[frozenset[str]] = []
    for k in range(len(comps) + 1):
        for combo in combinations(comps, k):
            down = frozenset(combo)
            if not settle(down, both)[0] and not any(c <= down for c in cuts):
                cuts.append(down)
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
    ranked = sorted(
        (Cut(c, math.prod(u[x] for x in c)) for c in cuts), key=lambda c: (-c.unavailability, c.name)
    )
    return Prior(p_down, rate, max(mdt.values()), tuple(ranked))


def events_needed(precision: float, confidence: float) -> int:
    """Observed events a relative half-width of ``precision`` needs at least: a Poisson count of ``k``
    has relative half-width about ``z / sqrt(k)``."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return math.ceil((z / precision) ** 2)
