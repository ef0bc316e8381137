"""Pydantic models of the HTTP bodies: the edge where untrusted text becomes core values.

The fields match ``quorum.core.messages`` one for one; ``to_core`` / ``from_core`` convert.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quorum.core import (
    ForcedTakeover,
    Mode,
    PeerHeartbeat,
    Role,
    Site,
    Switchover,
    Verdict,
    Want,
    WitnessReply,
    WitnessRequest,
)

PAIR = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # `sent_at: NaN` is refused (400)


class WitnessRequestModel(_Body):
    site: Site
    seq: int = Field(ge=0)
    sent_at: float
    want: Want
    epoch: int = Field(ge=0)
    role: Role
    current: bool
    solo_holder: Site | None = None
    preelected: Site | None = None

    def to_core(self) -> WitnessRequest:
        return WitnessRequest(**self.model_dump())


class WitnessReplyModel(_Body):
    site: Site
    seq: int
    sent_at: float
    verdict: Verdict
    epoch: int
    mode: Mode
    holder: Site | None
    tie_site: Site
    sticky: bool = False
    data_loss: bool = False
    peer_fenced: bool = False
    reason: str = ""

    @classmethod
    def from_core(cls, r: WitnessReply) -> WitnessReplyModel:
        return cls(**{k: getattr(r, k) for k in cls.model_fields})

    def to_core(self) -> WitnessReply:
        return WitnessReply(**self.model_dump())


class PeerHeartbeatModel(_Body):
    src: Site
    boot: int = Field(ge=0)
    seq: int = Field(ge=0)
    epoch: int = Field(ge=0)
    role: Role
    current: bool
    tie_site: Site
    holder: Site | None = None
    preelect: Site | None = None
    preelect_ack: Site | None = None

    @classmethod
    def from_core(cls, hb: PeerHeartbeat) -> PeerHeartbeatModel:
        return cls(**{k: getattr(hb, k) for k in cls.model_fields})

    def to_core(self) -> PeerHeartbeat:
        return PeerHeartbeat(**self.model_dump())


class HeartbeatBody(_Body):
    """``POST /v1/heartbeat``: one site's request to the witness for one pair."""

    pair: str = PAIR
    request: WitnessRequestModel


class HeartbeatReply(_Body):
    reply: WitnessReplyModel | None


class SiteEvent(_Body):
    uid: str = Field(min_length=8, max_length=80)
    at: float = Field(description="wall-clock seconds since the epoch, when the site recorded it")
    kind: str = Field(min_length=1, max_length=40)
    epoch: int = Field(ge=0)
    detail: dict[str, Any] = Field(default_factory=dict)


class EventsBody(_Body):
    """``POST /v1/events``: journalled site events, replayed in order; ``uid`` makes them idempotent."""

    pair: str = PAIR
    site: Site
    events: list[SiteEvent] = Field(max_length=500)


class EventsReply(_Body):
    accepted: int
    duplicates: int


class SwitchoverBody(_Body):
    pair: str = PAIR
    to: Site
    dry_run: bool = False

    def to_core(self) -> Switchover:
        return Switchover(self.to, self.dry_run)


class FailoverBody(_Body):
    """Forced takeover: ``accept_data_loss`` and ``fence_confirmed`` are the operator's statements."""

    pair: str = PAIR
    to: Site
    accept_data_loss: bool = False
    fence_confirmed: bool = False

    def to_core(self) -> ForcedTakeover:
        return ForcedTakeover(self.to, self.accept_data_loss, self.fence_confirmed)


class MaintenanceBody(_Body):
    pair: str = PAIR
    on: bool
    reason: str = Field(min_length=1, max_length=500)


class OperatorReply(_Body):
    ok: bool
    detail: str
    pending: bool = False
