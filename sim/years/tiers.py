"""Tier presets: a site's infrastructure (power, cooling, distribution) failure and repair laws.

Source. The availability figures are the Uptime Institute Tier classification (Turner, Seader, Brill,
*Tier Classifications Define Site Infrastructure Performance*, Uptime Institute white paper), as the
source document of this project quotes them (``/work/shared/seeds/000_*.txt``, "Tier 1 ... expected
availability of 99.671%" ... "Tier 4 ... 99.995%"): 99.671 %, 99.741 %, 99.982 % and 99.995 %, i.e. about
28.8, 22.7, 1.6 and 0.4 hours of site-caused downtime a year (the white paper rounds Tier II to 22 h).

Calibration. A site with one alternating failure/repair process is unavailable ``MTTR / (MTBF + MTTR)``
of the time (renewal-reward theorem; it holds for any law, only the means matter). The Tier figures fix
that ratio only; the split between how often and how long is this project's assumption, stated here
and overridable: Tier I and II sites restore in 12 hours on average (no concurrent maintainability:
shutdowns and single-path failures wait for a repair), Tier III and IV sites in 4 hours. Then
``MTBF = MTTR * A / (1 - A)``: 2.4, 1.9, 0.39 and 0.11 site outages a year. Failures are exponential;
repairs lognormal with sigma 1 (a long tail of slow restorations). Years mode starts a repair only once
monitoring notices the failure (uniform within ``monitoring_interval``, mean half of it), so the preset's
repair law gets ``MTTR - monitoring_interval / 2``: with detection the restoration time is the Tier's.

Use. ``tier: I|II|III|IV`` on a site (``topology.sites.A.tier``) and ``topology.witness_tier`` for the
witness's site give those nodes these laws in years mode unless ``topology.components`` gives explicit
``fail``/``repair`` laws (explicit laws override the preset). Tiers may be mixed. A site without a
``tier`` has no infrastructure failures (as before). ``quorum sim tiers`` prints the table;
``quorum sim tiers --verify`` runs a single-site design per Tier and prints the estimate beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sim.story import scenario as S

TierName = Literal["I", "II", "III", "IV"]
HOUR = 3600.0
YEAR = 365.25 * 86400.0


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    availability: float  # the Uptime Institute figure
    mttr_h: float  # mean restoration time (this project's assumption, see the module docstring)
    definition: str

    @property
    def downtime_h(self) -> float:
        return (1.0 - self.availability) * YEAR / HOUR

    @property
    def mtbf_s(self) -> float:
        return self.mttr_h * HOUR * self.availability / (1.0 - self.availability)

    @property
    def outages_per_year(self) -> float:
        return YEAR / (self.mtbf_s + self.mttr_h * HOUR)

    def laws(self, monitoring_interval: float) -> tuple[S.Law, S.Law]:
        """(fail, repair) for a scenario whose probes run every ``monitoring_interval`` seconds."""
        repair = max(self.mttr_h * HOUR - monitoring_interval / 2.0, 1.0)
        return (
            S.Law(kind="exponential", mean=self.mtbf_s),
            S.Law(kind="lognormal", mean=repair, shape=1.0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.name,
            "availability": self.availability,
            "downtime_h_per_year": self.downtime_h,
            "outages_per_year": self.outages_per_year,
            "mtbf_h": self.mtbf_s / HOUR,
            "mttr_h": self.mttr_h,
            "definition": self.definition,
        }


TIERS: dict[str, Tier] = {
    "I": Tier("I", 0.99671, 12.0, "basic: non-redundant capacity, a single distribution path"),
    "II": Tier("II", 0.99741, 12.0, "redundant capacity components, a single distribution path"),
    "III": Tier("III", 0.99982, 4.0, "concurrently maintainable: multiple paths, dual-powered IT"),
    "IV": Tier("IV", 0.99995, 4.0, "fault tolerant: independent dual-powered cooling, storage"),
}


def preset_components(sc: S.Scenario) -> dict[str, tuple[S.Law, S.Law]]:
    """Laws the Tier presets give the nodes that have a Tier and no explicit ``components`` entry."""
    out: dict[str, tuple[S.Law, S.Law]] = {}
    tiers: dict[str, str | None] = {site: spec.tier for site, spec in sc.topology.sites.items()}
    tiers["W"] = sc.topology.witness_tier
    for node, tier in tiers.items():
        if tier is None or node in sc.topology.components:
            continue
        out[node] = TIERS[tier].laws(sc.monitoring_interval)
    return out


def single_site(tier: str, *, name: str | None = None, monitoring_interval: float = 300.0) -> S.Scenario:
    """One site of ``tier`` alone: site A serves, nothing else fails (``static-preferred``, preferred A:
    B never takes over), so the service is down exactly while A's infrastructure is (plus the seconds
    the core takes to bring it back)."""
    from quorum.core.config import Policy, QuorumConfig

    return S.Scenario.model_validate(
        {
            "name": name or f"single-site-tier-{tier}",
            "quorum": QuorumConfig(policy=Policy.STATIC_PREFERRED).model_dump(mode="json"),
            "topology": {"sites": {"A": {"tier": tier}, "B": {}}},
            "monitoring_interval": monitoring_interval,
        }
    )


def table_text() -> str:
    rows = [
        f"{'tier':<5} {'availability':>12} {'downtime h/yr':>14} {'outages/yr':>11} {'MTBF h':>9} "
        f"{'MTTR h':>7}  definition"
    ]
    for t in TIERS.values():
        d = t.to_dict()
        rows.append(
            f"{t.name:<5} {100 * t.availability:>11.3f}% {d['downtime_h_per_year']:>14.2f} "
            f"{d['outages_per_year']:>11.3f} {d['mtbf_h']:>9.0f} {t.mttr_h:>7.1f}  {t.definition}"
        )
    rows.append(
        "source: Uptime Institute Tier classification (as quoted by the source document); MTTR split is "
        "an assumption (sim/years/tiers.py), only MTTR/(MTBF+MTTR) is the Tier figure"
    )
    return "\n".join(rows)
