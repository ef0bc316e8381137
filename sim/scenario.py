"""Scenario files: a dual-site design and a failure story in one YAML file, validated by pydantic.

Errors name the file, the line and the field (``ScenarioError``). ``quorum sim schema`` prints the
JSON Schema of ``Scenario`` so editors can validate files as they are written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from quorum.core.config import QuorumConfig

NodeName = Literal["A", "B", "W"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSpec(_Model):
    tier: Literal["I", "II", "III", "IV"] = "IV"
    vms: int = Field(default=10, ge=0, le=100_000, description="virtual servers running online-online")


def _two_sites() -> dict[Literal["A", "B"], SiteSpec]:
    return {"A": SiteSpec(), "B": SiteSpec()}


class LinkSpec(_Model):
    name: str = Field(min_length=1, max_length=40)
    between: tuple[NodeName, NodeName]
    paths: int = Field(default=1, ge=1, le=8, description="redundant physical paths")
    latency_ms: float = Field(default=1.0, ge=0, le=10_000)
    bandwidth_mbps: float = Field(default=10_000.0, gt=0, le=10_000_000)

    @model_validator(mode="after")
    def _distinct(self) -> LinkSpec:
        if self.between[0] == self.between[1]:
            raise ValueError(f"link {self.name!r} joins {self.between[0]} to itself")
        return self


class VolumeSpec(_Model):
    name: str = Field(min_length=1, max_length=40)
    size_gb: float = Field(default=100.0, gt=0, le=1e7)
    write_mb_s: float = Field(default=10.0, ge=0, le=1e6, description="steady write rate")


class Topology(_Model):
    sites: dict[Literal["A", "B"], SiteSpec] = Field(default_factory=lambda: _two_sites())
    links: tuple[LinkSpec, ...] = (
        LinkSpec(name="ab", between=("A", "B"), paths=2, latency_ms=1.0),
        LinkSpec(name="aw", between=("A", "W"), latency_ms=5.0),
        LinkSpec(name="bw", between=("B", "W"), latency_ms=5.0),
    )
    monitoring_interval_s: float = Field(default=300.0, gt=0, description="probe interval (alarms)")

    @model_validator(mode="after")
    def _links(self) -> Topology:
        names = [ln.name for ln in self.links]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate link name {sorted(dup)[0]!r}")
        pairs = {frozenset(ln.between) for ln in self.links}
        for need in ({"A", "B"}, {"A", "W"}, {"B", "W"}):
            if frozenset(need) not in pairs:
                raise ValueError(f"no link between {' and '.join(sorted(need))}")
        return self


class _Fault(_Model):
    at: float = Field(ge=0, le=1e9, description="seconds after the start")


class NodeFault(_Fault):
    action: Literal["crash", "restore", "isolate"]
    target: NodeName


class LinkFault(_Fault):
    action: Literal["cut", "heal"]
    target: str = Field(description="link name")
    path: int | None = Field(default=None, ge=0, description="one path only (redundancy loss)")
    direction: NodeName | None = Field(default=None, description="one-way: only traffic from this end")


class FlapFault(_Fault):
    action: Literal["flap"]
    target: str
    period: float = Field(gt=0, le=3600)
    count: int = Field(ge=1, le=10_000)


class DelayFault(_Fault):
    action: Literal["delay"]
    target: str
    extra_ms: float = Field(ge=0, le=3_600_000)
    loss: float = Field(default=0.0, ge=0, le=1)


class PauseFault(_Fault):
    action: Literal["pause"]
    target: NodeName
    duration: float = Field(gt=0, le=86_400)


class DriftFault(_Fault):
    action: Literal["drift"]
    target: NodeName
    rate: float = Field(gt=0.1, lt=10)


class MaintenanceFault(_Fault):
    action: Literal["maintenance"]
    target: Literal["A", "B"] = Field(description="site taken out by a planned switchover")
    duration: float = Field(gt=0, le=30 * 86_400)


class OperatorFault(_Fault):
    action: Literal["takeover", "switchover"]
    target: Literal["A", "B"]
    fence: bool = False


Fault = Annotated[
    NodeFault
    | LinkFault
    | FlapFault
    | DelayFault
    | PauseFault
    | DriftFault
    | MaintenanceFault
    | OperatorFault,
    Field(discriminator="action"),
]


class ServingAt(_Model):
    at: float = Field(ge=0)
    sites: tuple[Literal["A", "B"], ...] = Field(description="sites serving at that instant (empty: none)")


class Expect(_Model):
    """Outcomes the run must show; each one is reported pass/fail."""

    no_split_brain: bool | None = None
    split_brain_min_s: float | None = Field(default=None, ge=0)
    serving_at: tuple[ServingAt, ...] = ()
    downtime_max_s: float | None = Field(default=None, ge=0)
    downtime_min_s: float | None = Field(default=None, ge=0)
    failovers: int | None = Field(default=None, ge=0)
    failovers_max: int | None = Field(default=None, ge=0)
    data_lost_bytes: float | None = Field(default=None, ge=0)
    data_lost_min_bytes: float | None = Field(default=None, ge=0)
    stale_writes_accepted: int | None = Field(default=None, ge=0)
    resynced: bool | None = None
    final_serving: tuple[Literal["A", "B"], ...] | None = None


class Scenario(_Model):
    """One file: the design (topology, volumes, policy) and the story (faults) with its expectations."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    seed: int = Field(default=0, ge=0)
    duration: float = Field(default=300.0, gt=0, le=10 * 86_400, description="seconds simulated")
    quorum: QuorumConfig = Field(default_factory=QuorumConfig)
    topology: Topology = Field(default_factory=Topology)
    volumes: tuple[VolumeSpec, ...] = (VolumeSpec(name="data"),)
    faults: tuple[Fault, ...] = ()
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        links = {ln.name: ln for ln in self.topology.links}
        for i, f in enumerate(self.faults):
            if isinstance(f, LinkFault | FlapFault | DelayFault):
                if f.target not in links:
                    raise ValueError(f"faults[{i}]: unknown link {f.target!r} (links: {', '.join(links)})")
                link = links[f.target]
                if isinstance(f, LinkFault):
                    if f.path is not None and f.path >= link.paths:
                        raise ValueError(
                            f"faults[{i}]: link {f.target!r} has {link.paths} path(s), no path {f.path}"
                        )
                    if f.direction is not None and f.direction not in link.between:
                        raise ValueError(f"faults[{i}]: {f.direction} is not an end of link {f.target!r}")
            if f.at > self.duration:
                raise ValueError(
                    f"faults[{i}]: at={f.at} is after the end of the run (duration={self.duration})"
                )
        return self


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid; the message names file, line and field."""


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
        if node is None:
            break
    return line


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop pydantic's union-tag segments (``faults.0.crash.target`` → ``faults.0.target``)."""
    tags = {"crash", "restore", "isolate", "cut", "heal", "flap", "delay", "pause", "drift", "maintenance",
            "takeover", "switchover", "NodeFault", "LinkFault"}  # fmt: skip
    out: list[int | str] = []
    for i, part in enumerate(loc):
        if i > 0 and isinstance(loc[i - 1], int) and part in tags:
            continue
        out.append(part)
    return tuple(out)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate YAML text. Raises ``ScenarioError`` with file:line: field: message."""
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ScenarioError(f"{source}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: expected a mapping of scenario fields, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = _clean_loc(tuple(first["loc"]))
        line = _line_of(root, loc)
        field = ".".join(str(p) for p in loc) or "(top level)"
        msg = first["msg"].removeprefix("Value error, ")
        value = first.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        more = f" [and {len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
        raise ScenarioError(f"{source}:{line or 1}: field '{field}': {msg}{shown}{more}") from None


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror}") from None
    return parse_scenario(text, str(path))
