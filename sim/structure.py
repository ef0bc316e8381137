"""The structure of a design: which sets of failed components leave some site able to serve.

Theory. Years mode knows, at every instant, the set of components that are down (sites ``A``/``B``,
witness ``W``, each path ``link#i`` of a link). The *structural rule* of a policy says whether some site
may serve in that state once the core has had time to decide, ignoring the seconds detection and
failover take and anything that depends on history:

* witness policies (``witness-preferred``, ``witness-race``, ``majority``, ``last-man-standing``): a site
  that is up serves if it reaches its peer (the pair stays mirrored) or the witness (a solo grant): two of
  the three voters connected;
* ``static-preferred``: the preferred site is up;
* ``both-continue``: some site is up.

Reachability follows the runner's routing: a link is up while one of its paths is, and only ``transit``
nodes relay traffic for others. History-dependent options (``pre_election``, the sticky lease of
``last-man-standing``, a stale copy in ``synchronous`` mode) can make the quorum serve where the rule says
no or stop where it says yes; the rule is what the exact model (:mod:`sim.analytic`) solves and what the
control-variate estimator (:mod:`sim.availability`) uses, whose validity needs only that its mean is known.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from quorum.core.config import Policy
from sim import scenario as S

SITES = ("A", "B")


def failing_components(sc: S.Scenario) -> dict[str, tuple[S.Law, S.Law]]:
    """Every component that fails, by name (``A``, ``B``, ``W``, ``link#path``), with its two laws."""
    laws: dict[str, tuple[S.Law, S.Law]] = {}
    for node, cl in sc.topology.components.items():
        laws[node] = (cl.fail, cl.repair)
    from sim.tiers import preset_components  # Tier presets where no explicit law is given

    for name, preset in preset_components(sc).items():
        laws.setdefault(name, preset)
    for lk in sc.topology.links:
        if lk.fail is not None and lk.repair is not None:
            for i in range(lk.paths):
                laws[f"{lk.name}#{i}"] = (lk.fail, lk.repair)
    return laws


def rule(sc: S.Scenario) -> Callable[[frozenset[str]], bool]:
    """``serves(down) -> bool`` for the scenario's policy and topology (memoised per down set)."""
    links = [(lk.name, lk.between, lk.paths) for lk in sc.topology.links]
    transit = frozenset(sc.transit)
    policy = sc.quorum.policy
    preferred = sc.quorum.preferred_site.value

    def reach(down: frozenset[str], src: str, dst: str) -> bool:
        if src in down or dst in down:
            return False
        allowed = {src, dst} | {n for n in transit if n not in down}
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

    @lru_cache(maxsize=4096)
    def serves(down: frozenset[str]) -> bool:
        if policy is Policy.BOTH_CONTINUE:
            return any(s not in down for s in SITES)
        if policy is Policy.STATIC_PREFERRED:
            return preferred not in down
        for s in SITES:
            peer = "B" if s == "A" else "A"
            if s not in down and (reach(down, s, peer) or reach(down, s, "W")):
                return True
        return False

    return serves
