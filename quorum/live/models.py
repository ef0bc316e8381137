"""Pydantic models of the HTTP bodies: the edge where untrusted text becomes core values.

The fields match ``quorum.core.messages`` one for one; ``to_core`` / ``from_core`` convert.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict

from quorum.core import (
    ForcedTakeover,
    Mode,
    PeerHeartbeat,
    QuorumConfig,
    Role,
    Site,
    Switchover,
    Verdict,
    Want,
    WitnessReply,
    WitnessRequest,
)

FINGERPRINT = r"^[0-9a-f]{16}$"  # ``QuorumConfig.fingerprint()``
# Integers at the edge stay within what JSON numbers, SQLite INTEGER and ``epoch + 1`` hold exactly:
# above it a request is a 400 naming the field, never a 500 after a half-saved change.
MAX_INT = 2**53 - 1
PAIR = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
# an operator request without a pair speaks for the pair of its token (each token names one pair)
TOKEN_PAIR = Field(
    default=None,
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9_.-]+$",
    description="the site pair (default: the pair the operator's token belongs to)",
)


# Numbers and booleans in bodies are as strict as in files (``quorum.core.config``): ``"epoch": "7"``
# and ``"epoch": true`` are a 400 naming the field, not epoch 7 and epoch 1; a float field takes an int.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]


class _Body(BaseModel):
    # no NaN or infinity either: they cannot be written back as JSON (history, state)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class WitnessRequestModel(_Body):
    site: Site
    seq: Int = Field(ge=0, le=MAX_INT)
    sent_at: Float
    want: Want
    epoch: Int = Field(ge=0, le=MAX_INT)
    role: Role
    current: Bool
    solo_holder: Site | None = None
    preelected: Site | None = None
    config: str = Field(pattern=FINGERPRINT, description="the site's configuration fingerprint")

    def to_core(self) -> WitnessRequest:
        return WitnessRequest(**self.model_dump())


class WitnessReplyModel(_Body):
    site: Site
    seq: Int
    sent_at: Float
    verdict: Verdict
    epoch: Int
    mode: Mode
    holder: Site | None
    tie_site: Site
    sticky: Bool = False
    data_loss: Bool = False
    peer_fenced: Bool = False
    reason: str = ""
    config: str = ""

    @classmethod
    def from_core(cls, r: WitnessReply) -> WitnessReplyModel:
        return cls(**{k: getattr(r, k) for k in cls.model_fields})

    def to_core(self) -> WitnessReply:
        return WitnessReply(**self.model_dump())


class PeerHeartbeatModel(_Body):
    src: Site
    boot: Int = Field(ge=0, le=MAX_INT)
    seq: Int = Field(ge=0, le=MAX_INT)
    epoch: Int = Field(ge=0, le=MAX_INT)
    role: Role
    current: Bool
    tie_site: Site
    holder: Site | None = None
    preelect: Site | None = None
    preelect_ack: Site | None = None
    config: str = Field(default="", pattern=r"^([0-9a-f]{16})?$")

    @classmethod
    def from_core(cls, hb: PeerHeartbeat) -> PeerHeartbeatModel:
        return cls(**{k: getattr(hb, k) for k in cls.model_fields})

    def to_core(self) -> PeerHeartbeat:
        return PeerHeartbeat(**self.model_dump())


class HeartbeatBody(_Body):
    """``POST /v1/heartbeat``: one site's request to the witness for one pair."""

    pair: str = PAIR
    request: WitnessRequestModel
    settings: QuorumConfig | None = Field(
        default=None,
        description="the site's quorum settings, sent until the witness has accepted its fingerprint,"
        " so that a refusal can name the fields that differ",
    )


class HeartbeatReply(_Body):
    reply: WitnessReplyModel | None


class ConfigRefused(_Body):
    """``409`` to a heartbeat whose configuration fingerprint is not the pair's."""

    detail: str
    differs: list[str] = Field(description="the safety settings that differ (empty: not sent)")
    reply: WitnessReplyModel


class SiteEvent(_Body):
    uid: str = Field(min_length=8, max_length=80)
    at: Float = Field(description="wall-clock seconds since the epoch, when the site recorded it")
    kind: str = Field(min_length=1, max_length=40)
    epoch: Int = Field(ge=0, le=MAX_INT)
    detail: dict[str, Any] = Field(default_factory=dict)


class EventsBody(_Body):
    """``POST /v1/events``: journalled site events, replayed in order; ``uid`` makes them idempotent."""

    pair: str = PAIR
    site: Site
    events: list[SiteEvent] = Field(max_length=500)


class EventsReply(_Body):
    accepted: Int
    duplicates: Int


class SwitchoverBody(_Body):
    pair: str | None = TOKEN_PAIR
    to: Site
    dry_run: Bool = False

    def to_core(self) -> Switchover:
        return Switchover(self.to, self.dry_run)


class FailoverBody(_Body):
    """Forced takeover: ``accept_data_loss`` and ``fence_confirmed`` are the operator's statements."""

    pair: str | None = TOKEN_PAIR
    to: Site
    accept_data_loss: Bool = False
    fence_confirmed: Bool = False

    def to_core(self) -> ForcedTakeover:
        return ForcedTakeover(self.to, self.accept_data_loss, self.fence_confirmed)


class MaintenanceBody(_Body):
    pair: str | None = TOKEN_PAIR
    on: Bool
    reason: str = Field(min_length=1, max_length=500)


class ErrorReply(_Body):
    """Every error answer: 401, 403, 404, 413, 429 (and 500, a bug)."""

    detail: str


class FieldError(_Body):
    field: str
    error: str


class InvalidBody(_Body):
    """``400``: the body or a query parameter is invalid; each error names its field."""

    detail: str
    errors: list[FieldError]


class OperatorReply(_Body):
    ok: Bool
    detail: str
    pending: Bool = False
