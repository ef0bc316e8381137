"""Compare designs built from one scenario: one site alone, two sites without a witness, two with one.

``designs(sc, names)`` derives the scenarios: ``single-site`` (site A alone: ``static-preferred`` with A
preferred, only A's failure law kept (its explicit law or its Tier preset), no maintenance windows: the
pair's planned switchovers do not exist; backups and corruption kept), ``no-witness`` (both sites,
``static-preferred``: the preferred site continues, the other stops), and ``witness`` (both sites and the
witness, once per safe witness policy: ``witness-preferred``, ``witness-race``, ``majority``,
``last-man-standing``). Each design is evaluated by :func:`sim.studies.evaluate.evaluate` (every figure with its
interval and method) and shown beside the Tier figures and the SLA. ``plot`` draws availability on a
"nines" axis (``-log10(1 - A)``) with error bars and a line per Tier and for the SLA.

Each design's ``tier_met_by_availability`` (table column "Tier met by availability") is the highest Uptime
Tier whose availability figure the interval's low end reaches: a statement about the achieved figure, not
the Tier of the sites the design is built from (two Tier IV sites whose restores after corruption cost
an hour a year meet Tier III's figure, not Tier IV's).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quorum.core.config import Policy, QuorumConfig
from sim.story import scenario as S
from sim.studies.evaluate import FIGURES, columns, evaluate_each
from sim.years.tiers import TIERS

DESIGNS = ("single-site", "no-witness", "witness")
WITNESS_POLICIES = (Policy.WITNESS_PREFERRED, Policy.WITNESS_RACE, Policy.MAJORITY, Policy.LAST_MAN_STANDING)


class CompareError(ValueError):
    """A bad --designs value (one line)."""


def _with_policy(sc: S.Scenario, policy: Policy, **extra: Any) -> S.Scenario:
    q = sc.quorum.model_dump(mode="json")
    q.update({"policy": policy.value, **extra})
    if policy in (Policy.STATIC_PREFERRED, Policy.BOTH_CONTINUE):
        q["pre_election"] = False
    return sc.model_copy(update={"quorum": QuorumConfig.model_validate(q)})


def single_site(sc: S.Scenario) -> S.Scenario:
    topo = sc.topology
    comps = {n: c for n, c in topo.components.items() if n == "A"}
    sites = {"A": topo.sites.get("A", S.SiteSpec()), "B": S.SiteSpec()}
    links = tuple(lk.model_copy(update={"fail": None, "repair": None}) for lk in topo.links)
    new_topo = topo.model_copy(
        update={"components": comps, "sites": sites, "links": links, "witness_tier": None}
    )
    alone = sc.model_copy(update={"topology": new_topo, "common_cause": (), "maintenance": ()})
    return _with_policy(alone, Policy.STATIC_PREFERRED, preferred_site="A")


def designs(sc: S.Scenario, names: list[str]) -> list[tuple[str, S.Scenario]]:
    out: list[tuple[str, S.Scenario]] = []
    for name in names:
        if name == "single-site":
            out.append(("single-site", single_site(sc)))
        elif name == "no-witness":
            out.append(("no-witness (static-preferred)", _with_policy(sc, Policy.STATIC_PREFERRED)))
        elif name == "witness":
            out.extend((f"witness ({p.value})", _with_policy(sc, p)) for p in WITNESS_POLICIES)
        else:
            raise CompareError(f"--designs: unknown design {name!r} (known: {', '.join(DESIGNS)})")
    return out


def compare(
    sc: S.Scenario,
    names: list[str],
    *,
    sla: float = 0.98,
    progress: Callable[[int, int], None] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """Every design of ``names`` evaluated; ``progress(done, total)`` after each design."""
    rows = []
    for label, d, figs in evaluate_each(designs(sc, names), progress=progress, sla=sla, **kw):
        a = figs["availability"]
        tier = next(
            (t.name for t in reversed(TIERS.values()) if a["low"] is not None and a["low"] >= t.availability),
            None,
        )
        rows.append(
            {
                "design": label,
                "policy": d.quorum.policy.value,
                **{f: figs[f] for f in FIGURES},
                "meets_sla": a["low"] is not None and a["low"] >= sla,
                "tier_met_by_availability": tier,
                "engine": figs["engine"],
                "downtime_by_cause_per_year_s": figs.get("downtime_by_cause_per_year_s", {}),
            }
        )
    return {
        "scenario": sc.name,
        "sla": sla,
        "tiers": {t.name: t.availability for t in TIERS.values()},
        "designs": rows,
    }


def _pct(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}"


def _digits(a: float | None) -> int:
    """Decimals of a percentage that show the first two significant digits of the unavailability."""
    if a is None or a >= 1.0:
        return 4
    return max(4, min(10, math.ceil(-math.log10(1.0 - a)) - 1))


def text(res: dict[str, Any]) -> str:
    lines = [
        f"{'design':<32} {'availability % [95% interval]':<34} {'downtime h/yr [interval]':<30} "
        f"{'months<SLA /yr [interval]':<24} {'SLA':<4} Tier met by availability"
    ]
    for r in res["designs"]:
        a, d, m = r["availability"], r["downtime_per_year_s"], r["months_below_sla_per_year"]
        k = _digits(a["mean"])
        dh = [None if x is None else x / 3600 for x in (d["mean"], d["low"], d["high"])]
        lines.append(
            f"{r['design']:<32} {_pct(a['mean'], k)} [{_pct(a['low'], k)}, {_pct(a['high'], k)}]".ljust(67)
            + f" {_num(dh[0])} [{_num(dh[1])}, {_num(dh[2])}]".ljust(31)
            + f" {_num(m['mean'])} [{_num(m['low'])}, {_num(m['high'])}]".ljust(25)
            + f" {'yes' if r['meets_sla'] else 'NO':<4} {r['tier_met_by_availability'] or '-'}"
        )
    for name, av in res["tiers"].items():
        lines.append(
            f"{'Tier ' + name + ' (one site, Uptime)':<32} {100 * av:.3f}".ljust(67)
            + f" {(1 - av) * 8766:.3g}"
        )
    lines.append(f"{'SLA':<32} {100 * res['sla']:.3f}".ljust(67) + f" {(1 - res['sla']) * 8766:.3g}")
    methods = sorted({r["availability"]["method"] for r in res["designs"]})
    lines.append("method: " + "; ".join(methods))
    lines.append("runs: " + "; ".join(f"{r['design']}: {r['engine']}" for r in res["designs"]))
    lines.append(
        "SLA yes: the interval's low end is at or above the SLA; Tier met by availability: the highest Uptime"
        " Tier figure (one site's observed availability) the interval's low end reaches, whatever the design"
        " is built from"
    )
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def rows_flat(res: dict[str, Any]) -> list[dict[str, Any]]:
    flat = []
    for r in res["designs"]:
        row: dict[str, Any] = {"scenario": res["scenario"], "design": r["design"], "policy": r["policy"]}
        row.update({k: v for k, v in columns(r).items() if k != "engine"})
        row.update(
            {
                "meets_sla": r["meets_sla"],
                "tier_met_by_availability": r["tier_met_by_availability"],
                "engine": r["engine"],
            }
        )
        flat.append(row)
    return flat


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [])
        w.writeheader()
        w.writerows(rows)


def write_json(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def nines(a: float) -> float:
    return -math.log10(max(1.0 - a, 1e-12))


def cause_shares(res: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """Each design's downtime split by cause, as shares of its mean downtime (adding up to 1); a design
    whose estimator gave no split, or no downtime, has an empty mapping."""
    out = []
    for r in res["designs"]:
        means = {c: f["mean"] or 0.0 for c, f in (r.get("downtime_by_cause_per_year_s") or {}).items()}
        total = sum(means.values())
        out.append((r["design"], {c: v / total for c, v in means.items() if v > 0} if total > 0 else {}))
    return out


def plot(res: dict[str, Any], path: Path) -> None:
    """:func:`figure` saved as PNG at ``path``."""
    fig = figure(res)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def figure(res: dict[str, Any]) -> Any:
    """The comparison as a matplotlib figure: availability on a nines axis (left), the downtime's causes
    as shares on a linear axis (right)."""
    from matplotlib.figure import Figure

    rows = res["designs"]
    fig = Figure(figsize=(15, 5))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    xs = list(range(len(rows)))
    ys = [nines(r["availability"]["mean"]) for r in rows]
    refs = [nines(av) for av in res["tiers"].values()] + [nines(res["sla"])]
    top = math.ceil(max([*ys, *refs]) + 0.5)
    bottom = max(0.0, math.floor(min([*ys, *refs]) - 0.3))
    lo = [
        y - nines(r["availability"]["low"]) if r["availability"]["low"] is not None else 0.0
        for y, r in zip(ys, rows, strict=True)
    ]
    hi = [
        min(top, nines(r["availability"]["high"])) - y if r["availability"]["high"] is not None else 0.0
        for y, r in zip(ys, rows, strict=True)
    ]
    ax.errorbar(
        xs,
        ys,
        yerr=[lo, hi],
        fmt="o",
        capsize=5,
        color="C0",
        label="design (95% interval; an interval reaching 100% is cut at the top)",
    )
    right = len(rows) + 0.9
    for i, (name, av) in enumerate(res["tiers"].items()):
        ax.axhline(nines(av), color=f"C{i + 1}", ls="--", lw=1)
        va = "top" if name == "I" else "bottom"  # Tiers I and II are close on this axis
        ax.annotate(f"Tier {name} {100 * av:.3f}%", (right, nines(av)), fontsize=8, va=va, ha="right")
    ax.axhline(nines(res["sla"]), color="red", lw=1.2)
    ax.annotate(
        f"SLA {100 * res['sla']:g}%",
        (right, nines(res["sla"])),
        fontsize=8,
        va="bottom",
        ha="right",
        color="red",
    )
    ax.set_xlim(-0.5, right + 0.1)
    ax.set_ylim(bottom, top)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xticks(xs, [r["design"] for r in rows], rotation=20, ha="right", fontsize=8)
    ticks = list(range(int(bottom), int(top) + 1))
    ax.set_yticks(ticks, [f"{100 * (1 - 10.0**-t):.{max(0, t - 2)}f}%" for t in ticks])
    ax.set_ylabel("availability (nines: -log10(1 - A))")
    ax.set_title(f"{res['scenario']}: availability by design")
    ax.grid(True, axis="y", alpha=0.3)
    # what the downtime is made of: shares on a linear 0-100 % axis (a bar's length means nothing on
    # the log axis of the left panel, so the split is drawn here, the totals there)
    shares = cause_shares(res)
    causes = sorted({c for _, s in shares for c in s})
    bottom_of = [0.0] * len(shares)
    for j, cause in enumerate(causes):
        vals = [100 * s.get(cause, 0.0) for _, s in shares]
        bx.bar(xs, vals, bottom=bottom_of, color=f"C{j % 10}", label=cause)
        bottom_of = [b + v for b, v in zip(bottom_of, vals, strict=True)]
    for i, ((_, s), r) in enumerate(zip(shares, rows, strict=True)):
        if not s:  # an estimate without the split (the key missing or empty), or no downtime at all
            said = "no downtime" if r.get("downtime_by_cause_per_year_s") else "no by-cause figures"
            bx.annotate(said, (i, 50), ha="center", va="center", fontsize=8, rotation=90)
    bx.set_ylim(0, 100)
    bx.set_ylabel("share of the design's downtime (%)")
    bx.set_xticks(xs, [r["design"] for r in rows], rotation=20, ha="right", fontsize=8)
    bx.set_title("downtime by cause (mean shares)")
    if causes:
        bx.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig
