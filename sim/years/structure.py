"""The structure of a design: which sets of failed components leave some site able to serve.

Theory. Years mode knows, at every instant, the set of components that are down (sites ``A``/``B``,
witness ``W``, each path ``link#i`` of a link). The *structural rule* of a policy says whether some site
may serve in that state once the core has had time to decide, ignoring the seconds detection and
failover take and anything that depends on history:

* witness policies (``witness-preferred``, ``witness-race``, ``majority``, ``last-man-standing``): a site
  that is up serves if it reaches its peer (the pair stays mirrored) or the witness (a solo grant): two of
  the three voters connected;
* ``static-preferred``: the preferred site is up;
* ``both-continue``: some site is up;

and, in ``synchronous`` consistency, only a site whose copy is current may serve alone: a site that was
down while its peer served alone is stale until it is back and resynchronised, so a second failure of
the survivor leaves it down (the quorum's data-currency rule). The structure therefore carries the set of
current copies with the down set (:func:`rule` gives the pure transition).

Reachability follows the runner's routing: a link is up while one of its paths is, and only ``transit``
nodes relay traffic for others. History-dependent options (``pre_election``, the sticky lease of
``last-man-standing``, a stale copy in ``synchronous`` mode) can make the quorum serve where the rule says
no or stop where it says yes; the rule is what the exact model (:mod:`sim.availability.ctmc`) solves and what the
control-variate estimator (:mod:`sim.availability.estimate`) uses, whose validity needs only that its mean is known.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from quorum.core.config import Consistency, Policy
from sim.story import scenario as S
from sim.years.calendar import MAINT

SITES = ("A", "B")


def failing_components(sc: S.Scenario) -> dict[str, tuple[S.Law, S.Law]]:
    """Every component that fails, by name (``A``, ``B``, ``W``, ``link#path``), with its two laws."""
    laws: dict[str, tuple[S.Law, S.Law]] = {}
    for node, cl in sc.topology.components.items():
        laws[node] = (cl.fail, cl.repair)
    from sim.years.tiers import preset_components  # Tier presets where no explicit law is given

    for name, preset in preset_components(sc).items():
        laws.setdefault(name, preset)
    for lk in sc.topology.links:
        if lk.fail is not None and lk.repair is not None:
            for i in range(lk.paths):
                laws[f"{lk.name}#{i}"] = (lk.fail, lk.repair)
    return laws


BOTH = frozenset(SITES)


def rule(sc: S.Scenario) -> Callable[[frozenset[str], frozenset[str]], tuple[bool, frozenset[str]]]:
    """``settle(down, current) -> (serves, current')`` for the scenario's policy and topology.

    ``current`` is the set of sites whose copy holds every acknowledged write. A site is a *candidate*
    if it is up, its copy is current (``synchronous`` consistency only: a stale copy is never promoted
    automatically) and the policy lets it serve (see the module's rule). Two candidates that reach each
    other serve together (mirrored); two that do not: the preferred site serves alone. A site serving alone
    makes its peer's copy stale unless the peer is up and reachable (then it is resynchronised: current
    again). Memoised per (down, current)."""
    links = [(lk.name, lk.between, lk.paths) for lk in sc.topology.links]
    transit = frozenset(sc.transit)
    policy = sc.quorum.policy
    preferred = sc.quorum.preferred_site.value
    currency = sc.quorum.consistency is Consistency.SYNCHRONOUS and policy is not Policy.BOTH_CONTINUE

    def reach(down: frozenset[str], src: str, dst: str) -> bool:
        if gone(down, src) or gone(down, dst):
            return False
        allowed = {src, dst} | {n for n in transit if not gone(down, n)}
        adj: dict[str, set[str]] = {}
        for name, (a, b), paths in links:
            if a not in allowed or b not in allowed:
                continue
            if all(f"{name}#{i}" in down for i in range(paths)):
                continue
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
        seen, todo = {src}, [src]
        while todo:
            n = todo.pop()
            for m in adj.get(n, ()):
                if m == dst:
                    return True
                if m not in seen and (m in transit):
                    seen.add(m)
                    todo.append(m)
        return False

    def gone(down: frozenset[str], node: str) -> bool:
        return node in down or node + MAINT in down  # failed, or in a planned window (sim.years.calendar)

    def may_serve(down: frozenset[str], s: str) -> bool:
        if gone(down, s):
            return False
        if policy is Policy.BOTH_CONTINUE:
            return True
        if policy is Policy.STATIC_PREFERRED:
            return s == preferred
        return reach(down, s, "B" if s == "A" else "A") or reach(down, s, "W")

    @lru_cache(maxsize=8192)
    def settle(down: frozenset[str], current: frozenset[str]) -> tuple[bool, frozenset[str]]:
        cands = [s for s in SITES if may_serve(down, s) and (s in current or not currency)]
        if not cands:
            return False, current
        if not currency:
            return True, BOTH
        if len(cands) == 2 and reach(down, "A", "B"):
            return True, BOTH
        s = cands[0] if len(cands) == 1 else preferred
        peer = "B" if s == "A" else "A"
        return True, BOTH if reach(down, s, peer) else frozenset({s})

    return settle
