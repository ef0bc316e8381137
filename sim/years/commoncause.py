"""Common causes in years mode: legacy groups and beta-factor groups.

A ``common_cause`` entry is either a list of component names (nodes ``A``/``B``/``W`` or link names, a
link standing for all its paths) or a mapping ``{members: [...], beta: B}``.

* **List form** (kept as it always was): *every* failure of a member takes the whole group down.
* **Beta-factor form** (Fleming's beta-factor model, as in IEC 61508-6 Annex D and NUREG/CR-5485): a
  member's declared failure law is its *total* failure law; the fraction ``beta`` of its failures are
  common-cause events that take every member of the group down at once, the rest are independent. With
  ``n`` members of failure rate ``λ`` each, each member keeps an independent failure process of rate
  ``(1 - beta) λ`` (same law kind and shape, mean divided by ``1 - beta``) and the group gets one shock
  process, exponential, of rate ``beta λ``; a shock takes down the members that are still up (from a
  state with one member already down the survivor fails at ``(1 - beta) λ + beta λ = λ``, as in the
  Markov model of the textbook). Members with different laws: the shock rate is ``beta`` times the mean
  of the members' failure rates (members without a failure law contribute no rate but are still taken
  down by a shock). ``0 < beta < 1``; the list form is the old "every failure is common" reading.

``plan`` turns a scenario's groups into what :class:`sim.years.engine.Years` runs: the member laws (scaled for
beta groups), the legacy group map, and the shock processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sim.story import scenario as S


@dataclass
class CommonCausePlan:
    laws: dict[str, tuple[S.Law, S.Law]]
    groups: dict[str, set[str]] = field(default_factory=dict)  # list form: member -> whole group
    shocks: list[tuple[str, S.Law, frozenset[str]]] = field(default_factory=list)  # (name, law, members)


def _scaled(law: S.Law, factor: float) -> S.Law:
    return law.model_copy(update={"mean": law.mean * factor})


def plan(
    sc: S.Scenario, laws: dict[str, tuple[S.Law, S.Law]], expand: Callable[[str], list[str]]
) -> CommonCausePlan:
    out = CommonCausePlan(laws=dict(laws))
    for i, grp in enumerate(sc.common_cause):
        if not isinstance(grp, S.CommonCause):
            members = {m for name in grp for m in expand(name)}
            for m in members:
                out.groups.setdefault(m, set()).update(members)
            continue
        members = {m for name in grp.members for m in expand(name)}
        rates = [1.0 / laws[m][0].mean for m in sorted(members) if m in laws]
        if not rates:
            continue
        shock_mean = 1.0 / (grp.beta * sum(rates) / len(rates))
        out.shocks.append((f"cc{i}", S.Law(kind="exponential", mean=shock_mean), frozenset(members)))
        for m in members:
            if m not in laws:
                continue
            fail, repair = out.laws[m]
            out.laws[m] = (_scaled(fail, 1.0 / (1.0 - grp.beta)), repair)
    return out
