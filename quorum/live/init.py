"""``quorum witness init`` / ``quorum agent init``: a working, commented configuration to start from.

``witness init DIR`` writes a private CA with a server certificate for 127.0.0.1/localhost
(``DIR/certs``), a bearer token per client (``DIR/tokens/*.token``, mode 0600: A, B, operator and the
two peer tokens) and ``DIR/witness.yaml`` holding only their salted hashes. ``agent init DIR --site S``
writes ``DIR/agentS.yaml`` using those files. Copy each site's files to its host; for real host names
use certificates from your own CA (the ``tls`` and ``ca`` fields take any PEM files).
"""

from __future__ import annotations

import os
from pathlib import Path

from quorum.inputs import InputError, read_text
from quorum.live.auth import hash_token, new_token
from quorum.live.certs import init_certs
from quorum.live.settings import PAIR_NAME, check_url

ROLES = ("A", "B", "operator", "peerA", "peerB")


# the pair's safety settings, written once into the witness's pair and into each agent's `quorum:`
# (the witness refuses an agent whose settings differ)
QUORUM_DEFAULTS = (
    ("policy", "witness-preferred"),
    ("preferred_site", "A"),
    ("heartbeat_interval", "1.0"),
    ("miss_threshold", "3"),
    ("lease_duration", "10.0"),
    ("lease_margin", "3.0"),
)


def _quorum_block(indent: str) -> str:
    return "\n".join(f"{indent}{k}: {v}" for k, v in QUORUM_DEFAULTS)


def _write(path: Path, text: str, mode: int = 0o644, force: bool = False) -> None:
    if path.exists() and not force:
        raise InputError(f"{path}: exists already (give --force to overwrite)")
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def witness_init(directory: Path, pair: str, host: str, port: int, force: bool = False) -> list[Path]:
    if not PAIR_NAME.match(pair):
        raise InputError(f"--pair {pair!r}: use 1-64 letters, digits, '_', '.', '-'")
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be in 1..65535 (got {port})")
    directory.mkdir(parents=True, exist_ok=True)
    certs = directory / "certs"
    if not (certs / "ca.pem").exists() or force:
        init_certs(certs, days=365, names=("server",))
    tokens = directory / "tokens"
    tokens.mkdir(exist_ok=True)
    os.chmod(tokens, 0o700)
    hashes = {}
    for role in ROLES:
        tok = new_token()
        _write(tokens / f"{role}.token", tok + "\n", 0o600, force)
        hashes[role] = hash_token(tok)
    cfg = directory / "witness.yaml"
    _write(
        cfg,
        f"""# quorum witness configuration (written by `quorum witness init`; every field: README, Live controller)
host: {host}               # address to listen on
port: {port}
db: {directory / "witness.db"}   # SQLite, WAL, fsync before every grant: keep it on a local disk
tls:                           # HTTPS is the default; plain HTTP only with --insecure-http
  cert: {certs / "server.pem"}
  key: {certs / "server.key"}
max_body: 16384                # bytes; larger bodies get 413
auth_fail_limit: 20            # failed authentications a minute per client before 429
pairs:
  {pair}:                      # the name agents and operators give as `pair`
    quorum:                    # the pair's safety settings: each agent's `quorum:` must be the same
{_quorum_block("      ")}
    tokens:                    # salted hashes only (`quorum token create`); the tokens are in {tokens}
      A: "{hashes["A"]}"
      B: "{hashes["B"]}"
      operator: "{hashes["operator"]}"
""",
        0o644,
        force,
    )
    return [cfg, certs / "ca.pem", tokens]


def storage_block(
    storage: str, data_dir: str | None, pg_port: int, peer_host: str | None, peer_port: int, os_user: str
) -> str:
    """The ``storage:`` block of an agent's file (``--storage stand-in`` or ``postgres``)."""
    if storage == "stand-in":
        return "storage:                       # what this site protects (README, Live controller)\n  kind: stand-in\n"
    if storage != "postgres":
        raise InputError(f"--storage must be stand-in or postgres (got {storage!r})")
    if not data_dir or not Path(data_dir).is_absolute():
        raise InputError("--storage postgres needs --pg-data-dir, the server's absolute data directory")
    if not peer_host:
        raise InputError("--storage postgres needs --pg-peer-host, where this site reaches the peer's server")
    for flag, p in (("--pg-port", pg_port), ("--pg-peer-port", peer_port)):
        if not 1 <= p <= 65535:
            raise InputError(f"{flag} must be in 1..65535 (got {p})")
    return f"""storage:                       # PostgreSQL (README, "Protecting PostgreSQL")
  kind: postgres
  data_dir: {data_dir}   # this site's server; postgresql.conf gets include_if_exists = 'quorum.conf'
  port: {pg_port}                   # where the agent reaches it (host: 127.0.0.1)
  peer_host: {peer_host}   # the peer site's server: replication, pg_rewind, base backup
  peer_port: {peer_port}
  user: postgres               # a superuser role (CHECKPOINT on the peer, pg_rewind)
  os_user: {os_user}             # pg_ctl / pg_rewind run as this OS user when the agent runs as root
  libpq: {{}}                    # more connection parameters, e.g. {{sslmode: require, passfile: /etc/quorum/pgpass}}
  promote_timeout: 10.0        # a promote slower than this is a failure (logged, site unhealthy)
  watchdog: true               # a separate process stops the server at the agent's deadline
"""


def agent_init(
    directory: Path,
    site: str,
    pair: str,
    port: int,
    witness_url: str,
    peer_url: str,
    force: bool = False,
    storage: str = "stand-in",
    pg_data_dir: str | None = None,
    pg_port: int = 5432,
    pg_peer_host: str | None = None,
    pg_peer_port: int = 5432,
    pg_os_user: str = "postgres",
) -> Path:
    peer = "B" if site == "A" else "A"
    block = storage_block(storage, pg_data_dir, pg_port, pg_peer_host, pg_peer_port, pg_os_user)
    for flag, url in (("--witness-url", witness_url), ("--peer-url", peer_url)):
        try:
            check_url(url)
        except ValueError as e:
            raise InputError(f"{flag}: {e}") from None
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be in 1..65535 (got {port})")
    tokens, certs = directory / "tokens", directory / "certs"
    peer_token = read_text(tokens / f"peer{peer}.token").strip()  # the token the peer presents to us
    for need in (tokens / f"{site}.token", tokens / f"peer{site}.token", certs / "ca.pem"):
        if not need.is_file():
            raise InputError(f"{need}: missing: run `quorum witness init {directory}` first")
    cfg = directory / f"agent{site}.yaml"
    _write(
        cfg,
        f"""# quorum agent of site {site} (written by `quorum agent init`; every field: README, Live controller)
site: {site}
pair: {pair}
quorum:                        # must equal the witness's pairs.{pair}.quorum
{_quorum_block("  ")}
witness:                       # outbound HTTPS to the witness (HTTP(S)_PROXY honoured unless trust_env: false)
  url: {witness_url}
  token_file: {tokens / f"{site}.token"}
  ca: {certs / "ca.pem"}
peer:                          # the other site's agent endpoint (its `port` below)
  url: {peer_url}
  token_file: {tokens / f"peer{site}.token"}
  ca: {certs / "ca.pem"}
host: 127.0.0.1                # this agent's peer endpoint: POST /v1/peer, GET /v1/status
port: {port}
tls:
  cert: {certs / "server.pem"}
  key: {certs / "server.key"}
peer_token_hash: "{hash_token(peer_token)}"   # the peer's token, hashed
state_db: {directory / f"site{site}.db"}     # durable role and epoch, and the event journal
trace: {directory / f"trace{site}.jsonl"}    # every core call: `quorum replay` checks it
status_file: {directory / f"status{site}.json"}
hooks:                         # shell commands run on role changes (QUORUM_* environment), with a timeout
  promote: null
  demote: null
  fence: null
  timeout: 10.0
health:                        # local checks; an unhealthy site never contends
  interval: 5.0
{block}""",
        0o644,
        force,
    )
    return cfg
