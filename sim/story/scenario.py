"""Scenario files: a dual-site design, a failure story and its expected outcomes (pydantic, YAML).

Nodes are ``A`` and ``B`` (the sites) and ``W`` (the witness). Every model forbids unknown fields;
a bad file raises :class:`ScenarioError` whose one-line message names the file, the line and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from quorum.core.config import QuorumConfig
from quorum.inputs import InputError, load_yaml, read_text, show
from quorum.testing import schedule as sch

Node = Literal["A", "B", "W"]
SiteName = Literal["A", "B"]


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid (one line: file, line, field)."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SiteSpec(_M):
    tier: Literal["I", "II", "III", "IV"] | None = Field(
        default=None,
        description="Tier preset of the site's infrastructure laws in years mode (sim/years/tiers.py)",
    )
    hosts: int = Field(default=4, ge=1)
    vms: int = Field(default=50, ge=0)
    users: int = Field(default=100, ge=0, description="users whose sessions run on this site's VMs")


class Law(_M):
    """A failure or repair law; ``mean`` in seconds (fixed: the value)."""

    kind: Literal["exponential", "weibull", "lognormal", "fixed"] = "exponential"
    mean: float = Field(gt=0, description="seconds (finite)")
    shape: float = Field(
        default=1.0,
        ge=0.1,
        le=10,
        description="weibull shape k, lognormal sigma (0.1 to 10: below, a Weibull's scale overflows)",
    )


class LinkSpec(_M):
    name: str = Field(min_length=1)
    between: tuple[Node, Node]
    paths: int = Field(default=1, ge=1, le=8, description="redundant paths; the link is up while one is")
    latency: float = Field(default=0.002, ge=0, le=10, description="one-way seconds")
    bandwidth: float = Field(default=1.25e9, gt=0, description="bytes/s per path (resync speed)")
    fail: Law | None = None
    repair: Law | None = None

    @model_validator(mode="after")
    def _ends(self) -> LinkSpec:
        if self.between[0] == self.between[1]:
            raise ValueError("a link joins two different nodes")
        return self


class ComponentLaws(_M):
    fail: Law
    repair: Law


class CommonCause(_M):
    """A beta-factor common-cause group (years mode, :mod:`sim.years.commoncause`)."""

    members: tuple[str, ...] = Field(min_length=1, description="nodes or link names (a link: all its paths)")
    beta: float = Field(
        gt=0, lt=1, description="fraction of a member's failures that take the whole group down"
    )


def _group_kind(v: Any) -> str:
    return "group-beta" if isinstance(v, dict | CommonCause) else "group-list"


Group = Annotated[
    Annotated[tuple[str, ...], Tag("group-list")] | Annotated[CommonCause, Tag("group-beta")],
    Discriminator(_group_kind),
]


def _two_sites() -> dict[SiteName, SiteSpec]:
    return {"A": SiteSpec(), "B": SiteSpec()}


class Topology(_M):
    sites: dict[SiteName, SiteSpec] = Field(default_factory=_two_sites)
    witness_site: str = Field(default="C", description="name of the third location hosting the witness")
    witness_tier: Literal["I", "II", "III", "IV"] | None = Field(
        default=None, description="Tier preset of the witness site's infrastructure laws (sim/years/tiers.py)"
    )
    links: tuple[LinkSpec, ...] = (
        LinkSpec(name="ab", between=("A", "B"), paths=2),
        LinkSpec(name="aw", between=("A", "W"), latency=0.01),
        LinkSpec(name="bw", between=("B", "W"), latency=0.01),
    )
    components: dict[Node, ComponentLaws] = Field(
        default_factory=dict, description="failure/repair laws of sites and witness (years mode)"
    )

    @model_validator(mode="after")
    def _check(self) -> Topology:
        names = [lk.name for lk in self.links]
        if len(set(names)) != len(names):
            raise ValueError("link names must be unique")
        ends = [frozenset(lk.between) for lk in self.links]
        for e in ends:
            if ends.count(e) > 1:
                pair = " and ".join(sorted(e))
                raise ValueError(f"two links join {pair}: give one link several paths instead")
        return self


class Volume(_M):
    name: str
    size: float = Field(default=500e9, gt=0, description="bytes")
    write_rate: float = Field(default=5e6, ge=0, description="bytes/s written while serving")
    vms: tuple[str, ...] = ()


class _Fault(_M):
    at: float = Field(ge=0, description="seconds after the start")


class Crash(_Fault):
    do: Literal["crash"]
    node: Node


class Restore(_Fault):
    do: Literal["restore"]
    node: Node


class Cut(_Fault):
    do: Literal["cut"]
    link: str
    path: int | None = Field(default=None, ge=0, description="one path only; default: every path")
    src: Node | None = Field(default=None, description="one-way: drop only traffic sent by src")


class Heal(_Fault):
    do: Literal["heal"]
    link: str
    path: int | None = Field(default=None, ge=0)
    src: Node | None = Field(default=None, description="one-way: traffic sent by src flows again")


class Isolate(_Fault):
    do: Literal["isolate"]
    node: Node


class HealAll(_Fault):
    do: Literal["heal_all"]


class Degrade(_Fault):
    do: Literal["degrade"]
    link: str
    src: Node | None = Field(default=None, description="one-way: only traffic sent by src")
    delay: float = Field(default=0.0, ge=0, le=3600, description="extra one-way seconds")
    loss: float = Field(default=0.0, ge=0, le=1)
    duplicate: float = Field(default=0.0, ge=0, le=1)
    reorder: float = Field(default=0.0, ge=0, le=3600, description="random extra delay up to this")


class Flap(_Fault):
    do: Literal["flap"]
    link: str
    period: float = Field(gt=0, le=1e7)
    count: int = Field(ge=1, le=10000)


class Delay(_Fault):
    do: Literal["delay"]
    link: str
    extra: float = Field(ge=0, le=3600, description="extra one-way seconds (0 restores)")


class Pause(_Fault):
    do: Literal["pause"]
    node: Node
    duration: float = Field(gt=0, le=1e7)


class Drift(_Fault):
    do: Literal["drift"]
    node: Node
    rate: float = Field(gt=0.1, lt=10)


class Maintenance(_Fault):
    do: Literal["maintenance"]
    site: SiteName
    duration: float = Field(gt=0)


class Unhealthy(_Fault):
    do: Literal["unhealthy"]
    site: SiteName
    duration: float = Field(gt=0, le=1e7, description="seconds the site's health checks fail")


class Veto(_Fault):
    do: Literal["veto"]
    site: SiteName
    duration: float = Field(
        gt=0, le=1e7, description="seconds the pre-promote check fails (pre_promote_check)"
    )


class MaintenanceMode(_Fault):
    do: Literal["maintenance_mode"]
    duration: float = Field(gt=0, le=1e7, description="seconds the witness suspends automatic failover")
    reason: str = ""


class Switchover(_Fault):
    do: Literal["switchover"]
    to: SiteName


class Takeover(_Fault):
    do: Literal["takeover"]
    to: SiteName
    fence: bool = False


class CrashAfterPersist(_Fault):
    """The node crashes right after its next durable write, before it sends what follows."""

    do: Literal["crash_after_persist"]
    node: Node


class Lie(sch.LieClaim, _Fault):
    """A forged request with a site's credentials (a lying or misconfigured process): the witness's
    answer goes to the forger, never to the site; the honest processes must keep S1-S3."""

    do: Literal["lie"]


Fault = Annotated[
    Crash
    | Restore
    | Cut
    | Heal
    | Isolate
    | HealAll
    | Degrade
    | Flap
    | Delay
    | Pause
    | Drift
    | Maintenance
    | Unhealthy
    | Veto
    | MaintenanceMode
    | Switchover
    | Takeover
    | CrashAfterPersist
    | Lie,
    Field(discriminator="do"),
]


class ServingAt(_M):
    """Who accepts writes at ``at``: exactly ``sites``, or exactly one site among ``one_of`` (the
    natural expectation for a race: ``{at: 30, one_of: [A, B]}``). Give one of the two."""

    at: float = Field(ge=0)
    sites: tuple[SiteName, ...] | None = Field(
        default=None, description="exactly the sites accepting writes at that time"
    )
    one_of: tuple[SiteName, ...] | None = Field(
        default=None, min_length=1, description="exactly one site accepts writes, and it is one of these"
    )

    @model_validator(mode="after")
    def _one_form(self) -> ServingAt:
        if (self.sites is None) == (self.one_of is None):
            raise ValueError("give either 'sites' (exactly these serve) or 'one_of' (exactly one of these)")
        return self

    def holds(self, got: tuple[str, ...]) -> bool:
        """Whether the sites serving (sorted) meet this expectation."""
        if self.one_of is not None:
            return len(got) == 1 and got[0] in self.one_of
        return sorted(self.sites or ()) == list(got)

    def expected(self) -> list[str] | str:
        if self.one_of is not None:
            return "exactly one of " + " and ".join(sorted(self.one_of))
        return sorted(self.sites or ())


class Expect(_M):
    serving: tuple[ServingAt, ...] = ()
    no_split_brain: bool | None = None
    max_split_brain_s: float | None = Field(default=None, ge=0)
    min_split_brain_s: float | None = Field(default=None, ge=0)
    max_downtime_s: float | None = Field(default=None, ge=0)
    min_downtime_s: float | None = Field(default=None, ge=0)
    data_lost_bytes: float | None = Field(default=None, ge=0, description="equals")
    min_data_lost_bytes: float | None = Field(default=None, ge=0)
    failovers: int | None = Field(default=None, ge=0)
    min_failovers: int | None = Field(default=None, ge=0)
    max_failovers: int | None = Field(default=None, ge=0)
    min_stale_writes_rejected: int | None = Field(default=None, ge=0)
    witness_alarm: bool | None = None
    min_resync_s: float | None = Field(default=None, ge=0)
    redundant_at_end: bool | None = None
    max_disconnections: int | None = Field(default=None, ge=0)


# ---- designs as they are run (years mode): maintenance calendar, backups, corruption (issue 12) --------
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PERIOD_S = {"day": 86400.0, "week": 7 * 86400.0, "month": 28 * 86400.0}  # month: its shortest length


class MaintenanceWindow(_M):
    """A recurring planned window (sim/years/calendar.py): switchover away, site down, rejoin and resync."""

    site: SiteName
    every: Literal["day", "week", "month"] = "month"
    weekday: Weekday = Field(default="saturday", description="week/month: the day of the window")
    nth: int = Field(default=1, ge=1, le=4, description="month: the nth such weekday of the month")
    start: str = Field(default="02:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM (UTC)")
    duration: float = Field(ge=60, description="seconds the site is down for the window")
    offset_days: int = Field(
        default=0, ge=0, le=27, description="days after that date (site B a week later: 7)"
    )

    @model_validator(mode="after")
    def _fits(self) -> MaintenanceWindow:
        period = PERIOD_S[self.every]
        if self.duration >= period:
            raise ValueError(
                f"duration: a window of {self.duration:g} s is not shorter than its period "
                f"({self.every}: {period:g} s)"
            )
        return self


class Backups(_M):
    """Daily incrementals, weekly fulls, monthly fulls kept longer (sim/years/backups.py)."""

    at: str = Field(default="01:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM (UTC)")
    incremental: bool = Field(default=True, description="a daily incremental on the days without a full")
    full_weekday: Weekday = Field(default="sunday", description="the weekly full backup's day")
    keep_incremental_days: float = Field(default=28, gt=0, description="retention of incrementals")
    keep_full_days: float = Field(default=28, gt=0, description="retention of weekly fulls")
    keep_monthly_days: float = Field(
        default=365, ge=0, description="retention of the month's first full (0: no monthly backups)"
    )
    restore_throughput: float = Field(gt=0, description="bytes/s a restore writes back")

    @model_validator(mode="after")
    def _retention(self) -> Backups:
        if self.incremental and self.keep_incremental_days < 1:
            raise ValueError(
                f"keep_incremental_days: {self.keep_incremental_days:g} days is shorter than the "
                "backup interval (incrementals: every day)"
            )
        if self.keep_full_days < 7:
            raise ValueError(
                f"keep_full_days: {self.keep_full_days:g} days is shorter than the backup interval "
                "(fulls: every week)"
            )
        if 0 < self.keep_monthly_days < 31:
            raise ValueError(
                f"keep_monthly_days: {self.keep_monthly_days:g} days is shorter than the backup "
                "interval (monthlies: every month; 0 for none)"
            )
        return self


class Corruption(_M):
    """Logical corruption (a bad batch job, ransomware): mirrored to both sites at once."""

    every: Law = Field(description="time between corruptions")
    detect: Law = Field(description="time from the corruption until it is noticed")


class YearsExpect(_M):
    """Expected figures of a years run (``quorum sim run FILE --years``; checked by :mod:`sim.years.check`)."""

    years: float = Field(gt=0, le=1e6, description="simulated years of the check")
    seed: int = 0
    min: dict[str, float] = Field(default_factory=dict, description="figure -> lowest allowed value")
    max: dict[str, float] = Field(default_factory=dict, description="figure -> highest allowed value")


MAX_STEPS = 1_000_000  # heartbeats or workload samples in one message-level run


class Scenario(_M):
    name: str
    description: str = ""
    quorum: QuorumConfig = Field(default_factory=QuorumConfig)
    topology: Topology = Field(default_factory=Topology)
    volumes: tuple[Volume, ...] = (Volume(name="vol0"),)
    duration: float = Field(default=600.0, gt=0, le=1e7, description="seconds simulated")
    write_interval: float = Field(default=1.0, gt=0, le=60, description="workload sampling, seconds")
    session_timeout: float = Field(
        default=30.0, gt=0, description="an outage this long disconnects every user session"
    )
    monitoring_interval: float = Field(default=300.0, gt=0, description="probe period (years mode)")
    transit: tuple[Node, ...] = Field(default=(), description="nodes that route traffic for others")
    world: Literal["simulator", "checker"] = Field(
        default="simulator",
        description="checker: run in the world of `quorum check` (links of no latency with the full message"
        " delay drawn, each site writing 0 bytes every write_interval half an interval apart, a resync"
        " taking 2 s): the same run as `quorum check --replay`",
    )
    faults: tuple[Fault, ...] = ()
    replay: str | None = Field(default=None, description="a `quorum check --save` file; its steps are added")
    crews: int = Field(default=1, ge=1, description="repair crews shared by all components (years mode)")
    common_cause: tuple[Group, ...] = Field(
        default=(),
        description="groups of components (nodes or link names): a list fails together on every member "
        "failure; {members, beta} is a beta-factor group",
    )
    expect: Expect = Field(default_factory=Expect)
    maintenance: tuple[MaintenanceWindow, ...] = Field(default=(), description="planned windows (years mode)")
    backups: Backups | None = Field(
        default=None, description="backup scheme (years mode, sim/years/backups.py)"
    )
    corruption: Corruption | None = Field(default=None, description="logical corruption law (years mode)")
    years_expect: YearsExpect | None = Field(default=None, description="figures a years run must show")

    @model_validator(mode="after")
    def _bounded(self) -> Scenario:
        """Ratios, not only signs: a run must stay bounded (a 1e-300 s heartbeat is positive too)."""
        hb = self.quorum.heartbeat_interval
        if self.duration / hb > MAX_STEPS:
            raise ValueError(
                f"duration: {self.duration:g} s at heartbeat_interval={hb:g} s is {self.duration / hb:.3g}"
                f" heartbeats, more than {MAX_STEPS:,}: shorten duration or lengthen the interval"
            )
        if self.duration / self.write_interval > MAX_STEPS:
            raise ValueError(
                f"duration: {self.duration:g} s at write_interval={self.write_interval:g} s is"
                f" {self.duration / self.write_interval:.3g} samples, more than {MAX_STEPS:,}"
            )
        for i, want in enumerate(self.expect.serving):
            if want.at > self.duration:
                raise ValueError(
                    f"expect.serving.{i}.at: {want.at:g} s is after the end of the run (duration"
                    f" {self.duration:g} s): it would never be checked"
                )
        return self

    @model_validator(mode="after")
    def _refs(self) -> Scenario:
        links = {lk.name: lk for lk in self.topology.links}
        for i, f in enumerate(self.faults):
            name = getattr(f, "link", None)
            if name is not None and name not in links:
                raise ValueError(f"faults.{i}.link: unknown link {name!r} (known: {', '.join(links)})")
            path = getattr(f, "path", None)
            if name is not None and path is not None and path >= links[name].paths:
                raise ValueError(f"faults.{i}.path: link {name!r} has {links[name].paths} path(s)")
            src = getattr(f, "src", None)
            if name is not None and src is not None and src not in links[name].between:
                raise ValueError(f"faults.{i}.src: {src} is not an end of link {name!r}")
        for i, grp in enumerate(self.common_cause):
            names = grp.members if isinstance(grp, CommonCause) else grp
            for name in names:
                if name not in links and name not in ("A", "B", "W"):
                    raise ValueError(
                        f"common_cause.{i}: unknown component {name!r} (nodes A, B, W or a link)"
                    )
        return self


# ---- loading with line numbers ------------------------------------------------------------------
def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through composed YAML nodes; return the deepest line."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            continue  # union tags and similar: not part of the document
    return line


def parse_scenario(text: str, source: str, base: Path | None = None) -> Scenario:
    try:
        data, root = load_yaml(text, source)
    except InputError as e:
        raise ScenarioError(str(e)) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of scenario fields")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = tuple(first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        own = _OWN_FIELD.match(msg)
        if not loc and own:  # a cross-field error names its own field
            field, msg = own.group(1), msg[own.end() :]
            loc = tuple(int(p) if p.isdigit() else p for p in field.split("."))
        if loc and loc[0] in _BLOCKS and first["type"] == "value_error" and ": " in msg:
            sub, _, rest = msg.partition(": ")  # a block's own check names the field it is about
            if sub.isidentifier():
                loc, msg = (*loc, sub), rest
        clean = tuple(p for i, p in enumerate(loc) if not (i > 0 and isinstance(p, str) and p in _UNION_TAGS))
        line = _line_of(root, clean)
        where = f":{line}" if line else ""
        value = first.get("input")
        shown = "" if isinstance(value, dict) or own else f" (got {show(value)})"
        field = ".".join(str(p) for p in clean) or "(top level)"
        raise ScenarioError(f"{source}{where}: field '{field}': {msg}{shown}") from None
    if sc.replay is not None:
        sc = _with_replay(sc, (base or Path(".")) / sc.replay, source)
    return sc


_OWN_FIELD = re.compile(r"^((?:faults|duration|expect|common_cause)(?:\.[A-Za-z0-9_]+)*): ")

_BLOCKS = {"maintenance", "backups", "corruption"}  # blocks whose validators name their field first
_UNION_TAGS = {
    "group-list",
    "group-beta",
    "crash",
    "restore",
    "cut",
    "heal",
    "isolate",
    "heal_all",
    "degrade",
    "flap",
    "delay",
    "pause",
    "drift",
    "maintenance",
    "unhealthy",
    "veto",
    "maintenance_mode",
    "switchover",
    "takeover",
    "crash_after_persist",
    "lie",
}


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in the YAML or JSON file ``path`` (a notebook may pass a string); a bad file raises
    :class:`ScenarioError` with one line naming the field."""
    path = Path(path)
    try:
        text = read_text(path)
    except InputError as e:
        raise ScenarioError(str(e)) from None
    return parse_scenario(text, str(path), path.parent)


def _link_between(sc: Scenario, a: str, b: str) -> LinkSpec | None:
    for lk in sc.topology.links:
        if set(lk.between) == {a, b}:
            return lk
    return None


def scenario_steps(sc: Scenario) -> list[sch.Step]:
    """The scenario's faults as the world's fault steps (the vocabulary of ``quorum check``), by time.

    ``maintenance`` of a site is three steps: a switchover away from it that shuts it down as soon as
    the other site serves alone (at the latest once the switchover had time to complete), and its
    restart after ``duration``."""
    links = {lk.name: lk for lk in sc.topology.links}
    lead = sc.quorum.detection_timeout + 2 * sc.quorum.heartbeat_interval
    out: list[sch.Step] = []
    for f in sc.faults:
        at = f.at
        if at > sc.duration:
            continue  # never happens
        if isinstance(f, Crash | Restore | Isolate | Pause | Drift):
            kind: dict[str, type[sch.Crash | sch.Restart | sch.Isolate]]
            kind = {"crash": sch.Crash, "restore": sch.Restart, "isolate": sch.Isolate}
            if isinstance(f, Pause):
                out.append(sch.Pause(at=at, node=f.node, duration=f.duration))
            elif isinstance(f, Drift):
                out.append(sch.Drift(at=at, node=f.node, rate=f.rate))
            else:
                out.append(kind[f.do](at=at, node=f.node))
        elif isinstance(f, HealAll):
            out.append(sch.HealAll(at=at))
        elif isinstance(f, Cut | Heal | Flap | Delay | Degrade):
            a, b = links[f.link].between
            src = getattr(f, "src", None)
            ends = {"src": src, "dst": b if src == a else a, "oneway": True} if src else {"src": a, "dst": b}
            if isinstance(f, Cut | Heal):
                step = sch.Cut if isinstance(f, Cut) else sch.Heal
                out.append(step(at=at, path=None if src else f.path, **ends))
            elif isinstance(f, Flap):
                out.append(sch.Flap(at=at, src=a, dst=b, period=f.period, count=f.count))
            elif isinstance(f, Delay):
                out.append(sch.Degrade(at=at, src=a, dst=b, delay=f.extra))
            else:
                deg = {"delay": f.delay, "loss": f.loss, "duplicate": f.duplicate, "reorder": f.reorder}
                out.append(sch.Degrade(at=at, **ends, **deg))
        elif isinstance(f, Maintenance):
            # the site goes down as soon as the other serves alone (no rejoin as a mirror, so no
            # freeze and no unplanned failover when it goes); at the latest after ``lead``
            out.append(sch.SwitchoverStep(at=at, to="B" if f.site == "A" else "A", stop_other=True))
            out.append(sch.Crash(at=at + lead, node=f.site))
            if at + lead + f.duration <= sc.duration:  # (years mode leaves it down: duration 1e9)
                out.append(sch.Restart(at=at + lead + f.duration, node=f.site))
        elif isinstance(f, Unhealthy | Veto):
            step2 = sch.Unhealthy if isinstance(f, Unhealthy) else sch.Veto
            out.append(step2(at=at, site=f.site, duration=f.duration))
        elif isinstance(f, MaintenanceMode):
            out.append(sch.MaintenanceStep(at=at, duration=f.duration, reason=f.reason))
        elif isinstance(f, Switchover):
            out.append(sch.SwitchoverStep(at=at, to=f.to))
        elif isinstance(f, CrashAfterPersist):
            out.append(sch.CrashAfterPersist(at=at, node=f.node))
        elif isinstance(f, Lie):
            out.append(sch.Lie(at=at, **f.model_dump(exclude={"at", "do"})))
        else:
            out.append(sch.TakeoverStep(at=at, to=f.to, fence=f.fence))
    return sorted(out, key=lambda s: s.at)


def step_faults(sc: Scenario, steps: list[sch.Step]) -> list[Any]:
    """Fault steps (of a ``quorum check --save`` file) as this scenario's faults, each meaning the
    same. A step the topology cannot express raises :class:`ScenarioError` naming it."""
    out: list[Any] = []
    for i, s in enumerate(steps):
        at = s.at
        if isinstance(s, sch.Cut | sch.Heal | sch.Flap | sch.Degrade):
            lk = _link_between(sc, s.src, s.dst)
            if lk is None:
                raise ScenarioError(f"step {i} ({sch.describe_step(s)}): no link joins {s.src} and {s.dst}")
            one = s.src if not isinstance(s, sch.Flap) and s.oneway else None
            path = getattr(s, "path", None)
            if path is not None and path >= lk.paths:
                raise ScenarioError(
                    f"step {i} ({sch.describe_step(s)}): link {lk.name!r} has {lk.paths} path(s)"
                )
            if isinstance(s, sch.Cut):
                out.append(Cut(at=at, do="cut", link=lk.name, src=one, path=None if one else path))
            elif isinstance(s, sch.Heal):
                out.append(Heal(at=at, do="heal", link=lk.name, src=one, path=None if one else path))
            elif isinstance(s, sch.Flap):
                out.append(Flap(at=at, do="flap", link=lk.name, period=s.period, count=s.count))
            else:
                deg = {"delay": s.delay, "loss": s.loss, "duplicate": s.duplicate, "reorder": s.reorder}
                out.append(Degrade(at=at, do="degrade", link=lk.name, src=one, **deg))
        elif isinstance(s, sch.Crash | sch.Restart | sch.Isolate):
            kinds = {"crash": Crash, "restart": Restore, "isolate": Isolate}
            out.append(
                kinds[s.fault].model_validate(
                    {"at": at, "do": s.fault.replace("restart", "restore"), "node": s.node}
                )
            )
        elif isinstance(s, sch.HealAll):
            out.append(HealAll(at=at, do="heal_all"))
        elif isinstance(s, sch.Pause):
            out.append(Pause(at=at, do="pause", node=s.node, duration=s.duration))
        elif isinstance(s, sch.Drift):
            out.append(Drift(at=at, do="drift", node=s.node, rate=s.rate))
        elif isinstance(s, sch.SwitchoverStep):
            out.append(Switchover(at=at, do="switchover", to=s.to))
        elif isinstance(s, sch.TakeoverStep):
            out.append(Takeover(at=at, do="takeover", to=s.to, fence=s.fence))
        elif isinstance(s, sch.Unhealthy):
            out.append(Unhealthy(at=at, do="unhealthy", site=s.site, duration=s.duration))
        elif isinstance(s, sch.Veto):
            out.append(Veto(at=at, do="veto", site=s.site, duration=s.duration))
        elif isinstance(s, sch.MaintenanceStep):
            out.append(MaintenanceMode(at=at, do="maintenance_mode", duration=s.duration, reason=s.reason))
        elif isinstance(s, sch.CrashAfterPersist):
            out.append(CrashAfterPersist(at=at, do="crash_after_persist", node=s.node))
        elif isinstance(s, sch.Lie):
            out.append(Lie(do="lie", **s.model_dump(exclude={"fault"})))
        else:  # a step added to the checker's vocabulary and not to this one
            raise ScenarioError(f"step {i} ({sch.describe_step(s)}): no scenario fault expresses it")
    return out


def _with_replay(sc: Scenario, path: Path, source: str) -> Scenario:
    """Turn the steps of a saved counterexample into this scenario's faults (and its config)."""
    from quorum.testing.explore import load_replay

    try:
        config, schedule = load_replay(path)
    except sch.ScheduleFileError as e:
        raise ScenarioError(f"{source}: replay: {e}") from None
    try:
        faults = faults_from_schedule(sc, schedule)
    except ScenarioError as e:
        raise ScenarioError(f"{source}: replay {path.name}: {e}") from None
    return sc.model_copy(update={"faults": (*sc.faults, *faults), "quorum": config})


def faults_from_schedule(sc: Scenario, schedule: sch.Schedule) -> tuple[Any, ...]:
    """The fault steps of a checker ``Schedule`` as this scenario's faults: a step means the same
    thing in both (``step_faults``); a step the topology cannot express raises ``ScenarioError``."""
    return tuple(step_faults(sc, schedule.sorted_steps()))


def json_schema() -> dict[str, Any]:
    return Scenario.model_json_schema()
