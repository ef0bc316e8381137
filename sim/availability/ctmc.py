"""Exact answers to check the Monte Carlo against: the structure's continuous-time Markov chain.

Theory. When every failure and repair law of a scenario is exponential, the component process of years
mode is a continuous-time Markov chain once the monitoring delay has a phase form. A state gives, for each
failing component (sites, witness, each link path), one of: up; down and not yet noticed (monitoring
phase 1..3); waiting for a crew; under repair; plus the FIFO order of the waiting ones (SimPy's
``Resource`` serves requests in order) and the set of current copies (:func:`sim.years.structure.rule`: a copy
that missed its peer's solo writes cannot serve alone). Transitions:

* an up component fails at rate ``1/mean``; a plain ``common_cause`` group goes down with any of its
  members; a beta-factor group (``{members, beta}``) splits each member's rate into an independent
  ``(1 - beta)`` part and a group shock of rate ``beta`` times the members' mean rate (``sim.years.commoncause``);
* the monitoring delay, uniform on ``[0, monitoring_interval]`` in years mode, is an Erlang-3 stage of the
  same mean and variance (``m/2``, ``m^2/12``); once noticed the component takes a free crew or queues;
* a repair ends at rate ``1/mean``; the crew takes the first queued component.

Each state is structurally up or down by :func:`sim.years.structure.rule`. The steady state ``pi`` solves
``pi Q = 0``; the unavailability is ``pi . d`` (``d`` = 1 on down states). The expected structural downtime
over ``[0, T]`` from the all-up start is ``U T + p0 . g`` with ``g`` the solution of the Poisson equation
``Q g = U 1 - d``, ``pi g = 0`` (the transient correction; exact up to ``p(T) . g``, negligible once ``T``
is many repair times long). This is what the control-variate estimator subtracts.

Exactness: the only approximation is the monitoring stage's shape; with a ``monitoring_interval`` that is
small beside the repair means, or crews for every component and no common cause (then each component is
independent and its availability depends only on means), the result is exact for years mode's structure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.story import scenario as S
from sim.years.structure import failing_components, rule

PHASES = 3  # Erlang phases of the monitoring delay
UP, WAIT, REPAIR = 0, PHASES + 1, PHASES + 2
MAX_STATES = 100_000


class NotExactError(ValueError):
    """The scenario has no exact model (a non-exponential law, or too many states): one line."""


@dataclass(frozen=True)
class ExactResult:
    """The structure's exact steady state."""

    unavailability: float
    states: int
    components: tuple[str, ...]
    approximation: str  # what is not exact, or "" when the answer is exact for years mode
    transient_s: float  # p0 . g: expected structural downtime (s) a run from all-up adds to U*T

    @property
    def availability(self) -> float:
        return 1.0 - self.unavailability

    def expected_downtime(self, horizon_s: float) -> float:
        """Expected structural downtime (seconds) over ``[0, horizon_s]`` starting with all up."""
        return self.unavailability * horizon_s + self.transient_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "unavailability": self.unavailability,
            "availability": self.availability,
            "states": self.states,
            "components": list(self.components),
            "approximation": self.approximation,
            "method": "CTMC steady state (structural rule)",
        }


def _first_non_exponential(sc: S.Scenario) -> str | None:
    if getattr(sc, "maintenance", ()):
        return "maintenance.0: a planned calendar window"
    for node, cl in sc.topology.components.items():
        for which, law in (("fail", cl.fail), ("repair", cl.repair)):
            if law.kind != "exponential":
                return f"topology.components.{node}.{which}.kind: {law.kind}"
    for i, lk in enumerate(sc.topology.links):
        pair: tuple[tuple[str, S.Law | None], ...] = (("fail", lk.fail), ("repair", lk.repair))
        for which, maybe in pair:
            if maybe is not None and maybe.kind != "exponential":
                return f"topology.links.{i}.{which}.kind ({lk.name}): {maybe.kind}"
    for comp, (fail, repair) in failing_components(sc).items():  # Tier presets (sim.years.tiers)
        for kind, preset in (("fail", fail), ("repair", repair)):
            if preset.kind != "exponential":
                where = f"topology.sites.{comp}.tier" if comp in ("A", "B") else "topology.witness_tier"
                return f"{where} (preset {kind} law): {preset.kind}"
    return None


def _groups(
    sc: S.Scenario, comps: list[str], lam: list[float]
) -> tuple[list[frozenset[int]], list[tuple[frozenset[int], float]], list[float]]:
    """(every-failure groups, beta shocks as (members, rate), each component's own failure rate).

    A plain list group takes the whole group down on every member failure. A beta-factor group
    (``{members, beta}``) leaves each member an independent rate ``(1 - beta) lam`` and adds one shock of
    rate ``beta`` times the members' mean rate that takes every member still up down (``sim.years.commoncause``).
    """
    index = {c: i for i, c in enumerate(comps)}

    def expand(name: str) -> set[int]:
        if name in index:
            return {index[name]}
        return {i for c, i in index.items() if "#" in c and c.partition("#")[0] == name}

    plain: list[frozenset[int]] = []
    shocks: list[tuple[frozenset[int], float]] = []
    own = list(lam)
    for grp in sc.common_cause:
        beta = getattr(grp, "beta", None)
        names: tuple[str, ...] = tuple(
            grp.members if isinstance(grp, S.CommonCause) else getattr(grp, "members", grp)
        )
        members = frozenset(i for name in names for i in expand(name))
        if not members:
            continue
        if beta is None:
            plain.append(members)
            continue
        rate = float(beta) * sum(lam[i] for i in members) / len(members)
        shocks.append((members, rate))
        for i in members:
            own[i] *= 1.0 - float(beta)
    return plain, shocks, own


def exact(sc: S.Scenario) -> ExactResult:
    """Solve the structure's CTMC. Raises :class:`NotExactError` naming the first non-exponential law."""
    bad = _first_non_exponential(sc)
    if bad is not None:
        raise NotExactError(f"{bad} is not exponential: the exact model needs exponential laws")
    laws = failing_components(sc)
    comps = sorted(laws)
    n = len(comps)
    lam = [1.0 / laws[c][0].mean for c in comps]
    mu = [1.0 / laws[c][1].mean for c in comps]
    phase_rate = PHASES / (sc.monitoring_interval / 2.0)
    crews = sc.crews
    plain, shocks, own = _groups(sc, comps, lam)
    serves = rule(sc)

    both = frozenset({"A", "B"})
    State = tuple[tuple[int, ...], tuple[int, ...], frozenset[str]]
    start: State = ((UP,) * n, (), both)
    index: dict[State, int] = {start: 0}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    todo: deque[State] = deque([start])

    def add(src: int, nxt: tuple[tuple[int, ...], tuple[int, ...]], cur: frozenset[str], rate: float) -> None:
        if rate <= 0:
            return
        ds = frozenset(comps[k] for k, s in enumerate(nxt[0]) if s != UP)
        dst: State = (nxt[0], nxt[1], serves(ds, cur)[1])
        j = index.get(dst)
        if j is None:
            if len(index) >= MAX_STATES:
                raise NotExactError(f"the exact model has more than {MAX_STATES} states ({n} components)")
            j = index[dst] = len(index)
            todo.append(dst)
        rows.append(src)
        cols.append(j)
        vals.append(rate)

    def fail_set(st: tuple[int, ...], hit: set[int]) -> tuple[int, ...]:
        return tuple(1 if (i in hit and s == UP) else s for i, s in enumerate(st))

    while todo:
        state = todo.popleft()
        st, queue, cur = state
        i0 = index[state]
        busy = sum(1 for s in st if s == REPAIR)
        for members, rate in shocks:
            if any(st[i] == UP for i in members):
                add(i0, (fail_set(st, set(members)), queue), cur, rate)
        for c in range(n):
            s = st[c]
            if s == UP:
                hit = {c}.union(*(g for g in plain if c in g))
                add(i0, (fail_set(st, hit), queue), cur, own[c])
            elif 1 <= s <= PHASES:
                nxt = list(st)
                q = queue
                if s < PHASES:
                    nxt[c] = s + 1
                elif busy < crews:
                    nxt[c] = REPAIR
                else:
                    nxt[c] = WAIT
                    q = (*queue, c)
                add(i0, (tuple(nxt), q), cur, phase_rate)
            elif s == REPAIR:
                nxt = list(st)
                nxt[c] = UP
                q = queue
                if q:
                    nxt[q[0]] = REPAIR
                    q = q[1:]
                add(i0, (tuple(nxt), q), cur, mu[c])

    m = len(index)
    down = np.zeros(m)
    for (st, _q, cur), i in index.items():
        ds = frozenset(comps[k] for k, s in enumerate(st) if s != UP)
        down[i] = 0.0 if serves(ds, cur)[0] else 1.0
    if m == 1:
        return ExactResult(float(down[0]), 1, tuple(comps), "", 0.0)
    pi, g = _solve(m, rows, cols, vals, down)
    u = float(pi @ down)
    approx = ""
    if crews < n or plain or shocks:
        approx = (
            f"monitoring delay (uniform 0-{sc.monitoring_interval:g} s) as an Erlang-{PHASES} stage of the"
            " same mean and variance"
        )
    return ExactResult(u, m, tuple(comps), approx, float(g[0]))


def _solve(
    m: int, rows: list[int], cols: list[int], vals: list[float], down: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Steady state ``pi`` and the Poisson solution ``g`` (``Q g = U 1 - d``, ``pi g = 0``).

    Both use the chain killed in the all-up state 0, whose sub-generator is invertible (the chain is
    irreducible): ``pi[0] = 1``, ``Q[1:,1:]^T pi[1:] = -Q[0,1:]``; ``g[0] = 0``, ``Q[1:,1:] g[1:] = (U - d)[1:]``.
    Dense below 2,000 states (no scipy import), sparse LU above."""
    if m <= 2000:
        q = np.zeros((m, m))
        np.add.at(q, (np.array(rows, dtype=int), np.array(cols, dtype=int)), np.array(vals))
        q[np.diag_indices(m)] = -q.sum(axis=1)
        sub = q[1:, 1:]
        pi = np.empty(m)
        pi[0] = 1.0
        pi[1:] = np.linalg.solve(sub.T, -q[0, 1:])
        pi = np.clip(pi, 0.0, None)
        pi /= pi.sum()
        g = np.zeros(m)
        g[1:] = np.linalg.solve(sub, (float(pi @ down) - down)[1:])
    else:
        from scipy import sparse
        from scipy.sparse.linalg import splu

        qs = sparse.csr_matrix((vals, (rows, cols)), shape=(m, m))
        qs = (qs - sparse.diags(np.asarray(qs.sum(axis=1)).ravel())).tocsc()
        subs = qs[1:, 1:].tocsc()
        pi = np.empty(m)
        pi[0] = 1.0
        pi[1:] = splu(subs.T.tocsc()).solve(-np.asarray(qs[0, 1:].todense()).ravel())
        pi = np.clip(pi, 0.0, None)
        pi /= pi.sum()
        g = np.zeros(m)
        g[1:] = splu(subs).solve((float(pi @ down) - down)[1:])
    g -= float(pi @ g)
    return pi, g
