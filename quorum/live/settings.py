"""Configuration files of the live processes (YAML or JSON, validated by pydantic; unknown keys refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from quorum.core import QuorumConfig, Site
from quorum.live.health import HealthSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TLSFiles(_Strict):
    cert: str
    key: str
    ca: str | None = Field(default=None, description="CA that verifies the other side (clients: the server)")


class PairConfig(_Strict):
    quorum: QuorumConfig = Field(default_factory=QuorumConfig)
    tokens: dict[str, str] = Field(
        default_factory=dict, description="'A', 'B' or 'operator' -> hash from `quorum token create`"
    )


class WitnessSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65535)
    db: str = "witness.db"
    tls: TLSFiles | None = None
    insecure_http: bool = False
    max_body: int = Field(default=16384, ge=256)
    auth_fail_limit: int = Field(default=20, ge=1, description="failed authentications per minute per client")
    pairs: dict[str, PairConfig]


class Endpoint(_Strict):
    url: str
    token: str | None = None
    token_file: str | None = None
    ca: str | None = None

    def bearer(self) -> str:
        if self.token is not None:
            return self.token
        if self.token_file is not None:
            return Path(self.token_file).read_text().strip()
        raise ValueError("endpoint needs token or token_file")


class Hooks(_Strict):
    pre_promote: str | None = Field(
        default=None,
        description="run before the site asks to serve alone; a non-zero exit (or timeout) aborts the"
        " promotion, and it is run again after quorum.pre_promote_retry seconds",
    )
    promote: str | None = None
    demote: str | None = None
    fence: str | None = None
    resync: str | None = None
    timeout: float = Field(default=10.0, gt=0)


class AgentSettings(_Strict):
    site: Site
    pair: str = "default"
    quorum: QuorumConfig = Field(default_factory=QuorumConfig)
    witness: Endpoint | None = Field(
        default=None,
        validate_default=True,
        description="the witness (required by every policy that uses one; refused by the others)",
    )
    peer: Endpoint
    host: str = "127.0.0.1"
    port: int = Field(default=8444, ge=0, le=65535)
    tls: TLSFiles | None = None
    insecure_http: bool = False
    peer_token_hash: str | None = Field(default=None, description="hash of the token the peer presents")
    state_db: str = "site.db"
    trace: str = "trace.jsonl"
    status_file: str | None = None
    hooks: Hooks = Field(default_factory=Hooks)
    health: HealthSettings = Field(default_factory=HealthSettings)
    storage_url: str | None = Field(default=None, description="lab: epoch-checking storage stub")
    write_interval: float = Field(default=0.1, gt=0)
    journal_max_age_days: float = Field(default=90.0, gt=0)
    journal_max_rows: int = Field(default=100_000, ge=1)
    trust_env: bool = Field(default=True, description="honour HTTP(S)_PROXY / NO_PROXY")
    peer_lanes: int = Field(
        default=2,
        ge=1,
        le=4,
        description="each peer heartbeat goes out on this many independent connections at once",
    )

    @field_validator("witness")
    @classmethod
    def _witness_matches_policy(cls, witness: Endpoint | None, info: ValidationInfo) -> Endpoint | None:
        quorum = info.data.get("quorum")
        if not isinstance(quorum, QuorumConfig):
            return witness  # quorum itself is invalid: that error is reported
        policy = quorum.policy.value
        if quorum.uses_witness and witness is None:
            raise ValueError(f"quorum.policy={policy} decides with a witness: give witness.url")
        if not quorum.uses_witness and witness is not None:
            raise ValueError(
                f"quorum.policy={policy} decides without a witness, but a witness is configured: the"
                " witness arbitrates the pair by its own rules and this site would serve alone beside"
                " them (split-brain); remove 'witness' or use the pair's policy"
            )
        return witness


M = TypeVar("M", bound=BaseModel)


class SettingsError(Exception):
    """A configuration file that cannot be read or validated (one line)."""


def load(path: Path | str, model: type[M]) -> M:
    p = Path(path)
    try:
        data: Any = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise SettingsError(f"{p}: cannot read: {e.strerror}") from None
    except yaml.YAMLError:
        raise SettingsError(f"{p}: not valid YAML/JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise SettingsError(f"{p}: field '{loc}': {first['msg']}") from None
