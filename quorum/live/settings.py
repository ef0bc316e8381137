"""Configuration files of the live processes (YAML or JSON, validated by pydantic; unknown keys refused)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from quorum.core import QuorumConfig, Site
from quorum.core.config import Bool, Float, Int, Policy
from quorum.live.health import HealthSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


PAIR_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # what the API's ``pair`` fields and query accept
TOKEN_HASH = re.compile(r"^hmac-sha256\$[0-9a-f]{32}\$[0-9a-f]{64}$")  # `quorum token create`'s hash


def check_url(url: str) -> str:
    """An ``http(s)://host[:port][/path]`` URL, or a ValueError naming what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"malformed URL {url!r}: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"URL {url!r} must start with https:// (or http://)")
    if not parts.hostname:
        raise ValueError(f"URL {url!r} has no host")
    if port == 0:
        raise ValueError(f"URL {url!r}: port 0")
    return url


class TLSFiles(_Strict):
    cert: str
    key: str
    ca: str | None = Field(default=None, description="CA that verifies the other side (clients: the server)")


class PairConfig(_Strict):
    quorum: QuorumConfig = Field(default_factory=QuorumConfig)
    tokens: dict[str, str] = Field(
        default_factory=dict, description="'A', 'B' or 'operator' -> hash from `quorum token create`"
    )

    @field_validator("tokens")
    @classmethod
    def _tokens(cls, tokens: dict[str, str]) -> dict[str, str]:
        for role, stored in tokens.items():
            if role not in ("A", "B", "operator"):
                raise ValueError(f"unknown role {role!r}: a token is for 'A', 'B' or 'operator'")
            if not TOKEN_HASH.match(stored):
                raise ValueError(
                    f"tokens.{role}: not a hash from `quorum token create` (hmac-sha256$<32 hex>$<64 hex>);"
                    " the witness stores hashes, never tokens"
                )
        for role in ("A", "B"):
            if role not in tokens:
                raise ValueError(f"no token for site {role}: its agent could never be heard")
        return tokens


class WitnessSettings(_Strict):
    host: str = "127.0.0.1"
    port: Int = Field(default=8443, ge=0, le=65535)
    db: str = "witness.db"
    tls: TLSFiles | None = None
    insecure_http: Bool = False
    max_body: Int = Field(default=16384, ge=256)
    auth_fail_limit: Int = Field(default=20, ge=1, description="failed authentications per minute per client")
    pairs: dict[str, PairConfig]

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, pairs: dict[str, PairConfig]) -> dict[str, PairConfig]:
        if not pairs:
            raise ValueError("no pairs: the witness would serve nobody")
        for name in pairs:
            if not PAIR_NAME.match(name):
                raise ValueError(
                    f"pair name {name!r} cannot be addressed by the API: use 1-64 letters, digits, '_', '.', '-'"
                )
        return pairs


class Endpoint(_Strict):
    url: str
    token: str | None = None
    token_file: str | None = None
    ca: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return check_url(url)

    @model_validator(mode="after")
    def _one_token(self) -> Endpoint:
        if (self.token is None) == (self.token_file is None):
            raise ValueError("give exactly one of token and token_file")
        return self

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
    timeout: Float = Field(default=10.0, gt=0)


class StandInStorage(_Strict):
    """The lab's stand-in for mirrored storage (``quorum.live.storage``): resync by the ``resync`` hook."""

    kind: Literal["stand-in"] = "stand-in"


class PostgresStorage(_Strict):
    """A PostgreSQL server at this site, replicating synchronously with the peer site's server
    (``quorum.live.storage_pg``: what each of the core's actions does to it)."""

    kind: Literal["postgres"]
    data_dir: str = Field(description="the server's data directory (PGDATA)")
    bin_dir: str | None = Field(
        default=None, description="directory of pg_ctl, pg_rewind...; default: found (PATH, pg_config)"
    )
    host: str = Field(default="127.0.0.1", description="where the agent reaches its own server")
    port: Int = Field(default=5432, ge=1, le=65535)
    peer_host: str = Field(description="where this site reaches the peer site's server (replication)")
    peer_port: Int = Field(default=5432, ge=1, le=65535)
    user: str = Field(default="postgres", description="database role (superuser: CHECKPOINT, pg_rewind)")
    dbname: str = "postgres"
    libpq: dict[str, str] = Field(
        default_factory=dict, description="more libpq parameters for every connection (sslmode, passfile...)"
    )
    os_user: str | None = Field(
        default=None,
        description="run pg_ctl/pg_rewind as this OS user (required when the agent runs as root)",
    )
    log_file: str | None = Field(default=None, description="server log (pg_ctl -l); default DATA_DIR.log")
    promote_timeout: Float = Field(default=10.0, gt=0)
    start_timeout: Float = Field(default=30.0, gt=0)
    rewind_timeout: Float = Field(default=300.0, gt=0)
    resync_timeout: Float = Field(default=300.0, gt=0, description="standby catch-up, then ResyncFailed")
    check_interval: Float = Field(default=0.25, gt=0, description="seconds between checks of the server")
    watchdog: Bool = Field(
        default=True,
        description="a separate process stops the server at the agent's deadline unless the agent renews it",
    )
    watchdog_s: Float | None = Field(
        default=None, gt=0, description="the deadline while not solo (default: quorum.lease_duration)"
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if not Path(v).is_absolute():
            raise ValueError(f"data_dir {v!r} must be an absolute path")
        return v

    @model_validator(mode="after")
    def _root_needs_os_user(self) -> PostgresStorage:
        if self.os_user is None and hasattr(os, "geteuid") and os.geteuid() == 0:
            raise ValueError(
                "the agent runs as root and PostgreSQL's tools refuse root: give os_user (e.g. postgres)"
            )
        return self


class AgentSettings(_Strict):
    site: Site
    pair: str = "default"
    quorum: QuorumConfig = Field(default_factory=QuorumConfig)
    accept_split_brain: Bool = Field(
        default=False,
        validate_default=True,
        description="the plain statement that runs policy both-continue, under which each site serves"
        " alone when it loses its peer (split-brain); refused without it",
    )
    witness: Endpoint | None = Field(
        default=None,
        validate_default=True,
        description="the witness (required by every policy that uses one; refused by the others)",
    )
    peer: Endpoint
    host: str = "127.0.0.1"
    port: Int = Field(default=8444, ge=0, le=65535)
    tls: TLSFiles | None = None
    insecure_http: Bool = False
    peer_token_hash: str | None = Field(default=None, description="hash of the token the peer presents")
    state_db: str = "site.db"
    trace: str = "trace.jsonl"
    status_file: str | None = None
    hooks: Hooks = Field(default_factory=Hooks)
    health: HealthSettings = Field(default_factory=HealthSettings)
    storage: StandInStorage | PostgresStorage = Field(
        default_factory=StandInStorage,
        discriminator="kind",
        description="what the site protects: 'stand-in' (lab) or 'postgres'",
    )
    storage_url: str | None = Field(default=None, description="lab: epoch-checking storage stub")
    write_interval: Float = Field(default=0.1, gt=0)
    journal_max_age_days: Float = Field(default=90.0, gt=0)
    journal_max_rows: Int = Field(default=100_000, ge=1)
    trust_env: Bool = Field(default=True, description="honour HTTP(S)_PROXY / NO_PROXY")
    peer_lanes: Int = Field(
        default=2,
        ge=1,
        le=4,
        description="each peer heartbeat goes out on this many independent connections at once",
    )

    @field_validator("accept_split_brain")
    @classmethod
    def _split_brain_stated(cls, accept: bool, info: ValidationInfo) -> bool:
        quorum = info.data.get("quorum")
        if isinstance(quorum, QuorumConfig) and quorum.policy is Policy.BOTH_CONTINUE and not accept:
            raise ValueError(
                "quorum.policy=both-continue lets each site serve alone when the sites lose each other"
                " (split-brain); the agent runs it only with accept_split_brain: true in this file"
            )
        return accept

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
    from quorum.inputs import InputError, load_yaml, read_text, show

    p = Path(path)
    try:
        data, _ = load_yaml(read_text(p), str(p))
    except InputError as e:
        raise SettingsError(str(e)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{p}: expected a mapping of settings, got {show(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        value = first.get("input")
        shown = "" if isinstance(value, dict) else f" (got {show(value)})"
        raise SettingsError(f"{p}: field '{loc or '(top level)'}': {msg}{shown}") from None


def _readable(field: str, path: str | None, problems: list[str]) -> None:
    if path is None:
        return
    p = Path(path)
    if not p.is_file():
        problems.append(f"{field}: {path!r} {'is not a file' if p.exists() else 'does not exist'}")
    elif not os.access(p, os.R_OK):
        problems.append(f"{field}: {path!r} is not readable (permission denied)")


def _writable_db(field: str, path: str, problems: list[str]) -> None:
    p = Path(path)
    if p.exists():
        if not p.is_file():
            problems.append(f"{field}: {path!r} is not a file")
        elif not os.access(p, os.R_OK | os.W_OK):
            problems.append(f"{field}: {path!r} is not readable and writable (permission denied)")
        return
    parent = p.parent
    if not parent.is_dir():
        problems.append(f"{field}: directory {str(parent)!r} of {path!r} does not exist")
    elif not os.access(parent, os.W_OK | os.X_OK):
        problems.append(f"{field}: cannot create {path!r} (directory not writable)")


def _tls(field: str, tls: TLSFiles | None, problems: list[str]) -> None:
    import ssl

    if tls is None:
        return
    before = len(problems)
    _readable(f"{field}.cert", tls.cert, problems)
    _readable(f"{field}.key", tls.key, problems)
    _readable(f"{field}.ca", tls.ca, problems)
    if len(problems) > before:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls.cert, tls.key)
    except (ssl.SSLError, OSError, ValueError) as e:
        problems.append(f"{field}: {tls.cert!r} and {tls.key!r} are not a PEM certificate and its key ({e})")
        return
    if tls.ca is not None:
        _ca(f"{field}.ca", tls.ca, problems)


def _ca(field: str, ca: str | None, problems: list[str]) -> None:
    import ssl

    if ca is None:
        return
    before = len(problems)
    _readable(field, ca, problems)
    if len(problems) > before:
        return
    try:
        ssl.create_default_context(cafile=ca)
    except (ssl.SSLError, OSError, ValueError) as e:
        problems.append(f"{field}: {ca!r} is not a PEM CA certificate ({e})")


def _endpoint(field: str, ep: Endpoint | None, problems: list[str]) -> None:
    if ep is None:
        return
    _ca(f"{field}.ca", ep.ca, problems)
    if ep.token_file is not None:
        before = len(problems)
        _readable(f"{field}.token_file", ep.token_file, problems)
        if len(problems) == before:
            try:
                token = Path(ep.token_file).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                token = ""
            if not token or any(c.isspace() for c in token):
                problems.append(f"{field}.token_file: {ep.token_file!r} does not hold one token")


def preflight(settings: WitnessSettings | AgentSettings, insecure_http: bool = False) -> list[str]:
    """Every file a process will need, checked before it starts: ``field: problem`` lines.

    TLS files (present, readable, a certificate and its key, a CA), token files (one token), the
    databases (creatable or writable) and the trace: a misconfigured process refuses to start with the
    reason instead of starting without its listener or failing on its first request.
    """
    problems: list[str] = []
    if isinstance(settings, WitnessSettings):
        if not (insecure_http or settings.insecure_http) and settings.tls is None:
            problems.append("tls: TLS is on by default: give tls.cert and tls.key, or --insecure-http")
        _tls("tls", settings.tls, problems)
        _writable_db("db", settings.db, problems)
        return problems
    if not (insecure_http or settings.insecure_http) and settings.tls is None:
        problems.append("tls: TLS is on by default: give tls.cert and tls.key, or --insecure-http")
    _tls("tls", settings.tls, problems)
    _endpoint("witness", settings.witness, problems)
    _endpoint("peer", settings.peer, problems)
    _writable_db("state_db", settings.state_db, problems)
    _writable_db("trace", settings.trace, problems)
    if settings.peer_token_hash is not None and not TOKEN_HASH.match(settings.peer_token_hash):
        problems.append("peer_token_hash: not a hash from `quorum token create`")
    if isinstance(settings.storage, PostgresStorage):
        from quorum.live.pgserver import PgMissing, find_bin_dir

        try:
            find_bin_dir(settings.storage.bin_dir)
        except PgMissing as e:
            problems.append(f"storage.bin_dir: {e}")
        if not Path(settings.storage.data_dir).is_dir():
            problems.append(f"storage.data_dir: {settings.storage.data_dir!r} is not a directory")
    return problems
