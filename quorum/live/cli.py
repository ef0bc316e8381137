"""Subcommands of the live controller, registered into ``quorum.cli`` by ``register(sub)``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from quorum.inputs import UsageError


def _settings(path: str, model: Any) -> Any:
    from quorum.live.settings import SettingsError, load

    try:
        return load(path, model)
    except SettingsError as e:
        raise UsageError(str(e)) from None


def _preflight(path: str, s: Any) -> None:
    from quorum.live.settings import preflight

    problems = preflight(s)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"{path}: {problems[0]}{more}")


def cmd_witness_serve(args: argparse.Namespace) -> int:
    import sqlite3

    from quorum.live.settings import WitnessSettings
    from quorum.live.witness import serve

    s = _settings(args.config, WitnessSettings)
    if args.insecure_http:
        s = s.model_copy(update={"insecure_http": True})
    _preflight(args.config, s)
    try:
        serve(s)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{args.config}: db {s.db!r}: {e}") from None
    return 0


def cmd_agent_run(args: argparse.Namespace) -> int:
    import sqlite3

    from quorum.live.agent import AgentFailed, SettingsChanged, run_agent
    from quorum.live.settings import AgentSettings
    from quorum.live.store import StoreInUse

    s = _settings(args.config, AgentSettings)
    if args.insecure_http:
        s = s.model_copy(update={"insecure_http": True})
    _preflight(args.config, s)
    try:
        run_agent(s)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{args.config}: state_db {s.state_db!r}: {e}") from None
    except SettingsChanged as e:
        raise UsageError(
            f"{args.config}: {e}; if the change is meant, run: quorum agent reset --config {args.config}"
        ) from None
    except StoreInUse as e:
        raise UsageError(f"{args.config}: state_db {e}") from None
    except AgentFailed as e:
        print(f"quorum: agent {s.site.value} stopped: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_agent_reset(args: argparse.Namespace) -> int:
    """Accept the configuration file's settings on a site's state database (refused while its agent
    runs). The peer's last fingerprint stays the guard unless ``--forget-peer``."""
    import dataclasses
    import sqlite3

    from quorum.live.agent import changed_settings, run_settings
    from quorum.live.settings import AgentSettings
    from quorum.live.store import SiteStore, StoreInUse

    s = _settings(args.config, AgentSettings)
    if not Path(s.state_db).is_file():
        raise UsageError(f"{args.config}: state_db {s.state_db!r} does not exist: nothing to reset")
    try:
        store = SiteStore(s.state_db)
    except StoreInUse as e:
        raise UsageError(f"{args.config}: state_db {e}") from None
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{args.config}: state_db {s.state_db!r}: {e}") from None
    try:
        cfg = s.quorum
        if s.hooks.pre_promote is not None:
            cfg = cfg.model_copy(update={"pre_promote_check": True})
        new = run_settings(s, cfg)
        old = store.run_settings()
        diffs = changed_settings(old, new) if old is not None else []
        durable = store.load()
        peer = durable.peer_config if durable is not None else None
        store.set_run_settings(new)
        if args.forget_peer and durable is not None and peer is not None:
            store.save(dataclasses.replace(durable, peer_config=None))
    finally:
        store.close()
    where = f"site {s.site.value}, state_db {s.state_db!r}"
    if diffs:
        print(f"{where}: now runs with the settings of {args.config}; changed: {'; '.join(diffs)}")
    else:
        print(f"{where}: already runs with the settings of {args.config}; nothing changed")
    if peer is not None and peer != cfg.fingerprint():
        if args.forget_peer:
            print(
                f"forgot the peer's last configuration {peer}: this site may serve alone without hearing it"
            )
        else:
            print(
                f"the peer was last heard on configuration {peer}, this site's is {cfg.fingerprint()}:"
                " it does not serve alone until it hears its peer on the same settings (--forget-peer"
                " drops that guard)"
            )
    return 0


def cmd_witness_init(args: argparse.Namespace) -> int:
    from quorum.live.init import witness_init

    out = witness_init(Path(args.dir), args.pair, args.host, args.port, args.force)
    print(
        f"wrote {out[0]} (CA {out[1]}, tokens in {out[2]}); start it: quorum witness serve --config {out[0]}"
    )
    return 0


def cmd_agent_init(args: argparse.Namespace) -> int:
    from quorum.live.init import agent_init

    out = agent_init(
        Path(args.dir),
        args.site,
        args.pair,
        args.port,
        args.witness_url,
        args.peer_url,
        args.force,
        storage=args.storage,
        pg_data_dir=args.pg_data_dir,
        pg_port=args.pg_port,
        pg_peer_host=args.pg_peer_host,
        pg_peer_port=args.pg_peer_port,
        pg_os_user=args.pg_os_user,
    )
    print(f"wrote {out}; start it: quorum agent run --config {out}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from quorum.live.trace import TraceError, replay

    if not Path(args.trace).is_file():
        there = Path(args.trace).exists()
        raise UsageError(f"{args.trace}: {'not a regular file' if there else 'no such trace file'}")
    try:
        rep = replay(args.trace, strict=True)
    except TraceError as e:
        raise UsageError(str(e)) from None
    if args.json:
        print(json.dumps({"calls": rep.calls, "segments": rep.segments, "differences": rep.differences}))
    else:
        print(
            f"{args.trace}: {rep.calls} core calls in {rep.segments} run(s), {len(rep.differences)} differences"
        )
        for d in rep.differences[:20]:
            print(json.dumps(d))
    return 1 if rep.differences else 0


def cmd_certs_init(args: argparse.Namespace) -> int:
    from quorum.live.certs import init_certs

    out = init_certs(Path(args.dir), days=args.days, names=("server", "client"))
    for k, p in out.items():
        print(f"{k}: {p}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from quorum.live.auth import hash_token, new_token

    tok = new_token()
    h = hash_token(tok)
    if args.json:
        print(json.dumps({"token": tok, "hash": h}))
    else:
        print(
            f"token: {tok}\nhash:  {h}\n(put the hash in the witness configuration; give the token to the client)"
        )
    return 0


# ---- operator commands --------------------------------------------------------------------------
def _client(args: argparse.Namespace) -> Any:
    import ssl

    import httpx

    from quorum.inputs import read_text
    from quorum.live.settings import check_url

    url = args.url or os.environ.get("QUORUM_URL")
    token = args.token or os.environ.get("QUORUM_TOKEN")
    if args.token_file:
        token = read_text(args.token_file, limit=4096).strip()
        if not token:
            raise UsageError(f"--token-file {args.token_file}: the file is empty")
    ca = args.ca or os.environ.get("QUORUM_CA")
    if not url:
        raise UsageError("no witness URL: give --url or set QUORUM_URL")
    try:
        check_url(url)
    except ValueError as e:
        raise UsageError(f"--url: {e}") from None
    if not token:
        raise UsageError("no operator token: give --token/--token-file or set QUORUM_TOKEN")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError("the operator token holds spaces or control characters: is it the right file?")
    verify: Any = True
    if ca:
        try:
            verify = ssl.create_default_context(cafile=ca)
        except FileNotFoundError:
            raise UsageError(f"--ca {ca}: no such file") from None
        except (ssl.SSLError, OSError, ValueError) as e:
            raise UsageError(f"--ca {ca}: not a readable PEM CA certificate ({e})") from None
    return httpx.Client(
        base_url=url, verify=verify, timeout=5.0, headers={"authorization": f"Bearer {token}"}
    )


def _call(args: argparse.Namespace, method: str, path: str, **kw: Any) -> Any:
    import httpx

    try:
        with _client(args) as c:
            r = c.request(method, path, **kw)
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        raise UsageError(f"witness unreachable: {e or type(e).__name__}") from None
    from quorum.inputs import show

    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code >= 400:
        detail = body.get("detail", r.text) if isinstance(body, dict) else r.text
        raise UsageError(f"witness answered {r.status_code}: {str(detail)[:300]}")
    if not isinstance(body, dict):
        raise UsageError(f"{r.url} did not answer like a quorum witness (got {show(r.text)})")
    return body


def cmd_status(args: argparse.Namespace) -> int:
    st = _call(args, "GET", "/v1/state", params=_pair(args))
    if args.json:
        print(json.dumps(st))
        return 0
    d = st["durable"]
    print(
        f"pair {st['pair']}  policy {st['policy']}  epoch {d['epoch']}  mode {d['mode']}  holder {d['holder']}"
        f"  lease_live {st['lease_live']}  tie {st['tie_site']}"
    )
    if st.get("maintenance") and st["maintenance"]["on"]:
        print(f"MAINTENANCE: {st['maintenance'].get('reason', '')}")
    cfg = st.get("config") or {}
    for site, why in sorted((cfg.get("refused") or {}).items()):
        print(f"CONFIGURATION REFUSED for site {site}: {why['detail']}")
    print(f"{'site':<5} {'role':<9} {'epoch':>5} {'current':<8} {'want':<7} {'last seen':>10}")
    for site, v in sorted(st["sites"].items()):
        print(
            f"{site:<5} {v['role']:<9} {v['epoch']:>5} {v['current']!s:<8} {v['want']:<7} {v['last_seen_s']:>9.2f}s"
        )
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    h = _call(args, "GET", "/v1/history", params={**_pair(args), "limit": args.limit})
    if args.json:
        print(json.dumps(h))
        return 0
    for row in h["history"]:
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(row["at"]))
        print(f"{when}Z {row['kind']:<14} {row['actor']:<9} epoch={row['epoch']} {row['reason']}")
    return 0


def _operator_result(res: dict[str, Any]) -> int:
    print(("ok: " if res["ok"] else "refused: ") + res["detail"])
    return 0 if res["ok"] else 1


def cmd_switchover(args: argparse.Namespace) -> int:
    body = {**_pair(args), "to": args.to, "dry_run": args.dry_run}
    return _operator_result(_call(args, "POST", "/v1/switchover", json=body))


def cmd_takeover(args: argparse.Namespace) -> int:
    if not args.accept_data_loss:
        raise UsageError("a forced takeover needs --accept-data-loss")
    body = {
        **_pair(args),
        "to": args.to,
        "accept_data_loss": True,
        "fence_confirmed": args.fence_confirmed,
    }
    return _operator_result(_call(args, "POST", "/v1/failover", json=body))


def cmd_maintenance(args: argparse.Namespace) -> int:
    body = {**_pair(args), "on": args.state == "on", "reason": args.reason}
    return _operator_result(_call(args, "PUT", "/v1/maintenance", json=body))


def cmd_lab(args: argparse.Namespace) -> int:
    import signal
    import threading

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # the lab's cleanup runs as on Ctrl-C: processes stopped, keys removed

    if threading.current_thread() is not threading.main_thread():
        return _lab(args)
    old = signal.signal(signal.SIGTERM, terminated)
    try:
        return _lab(args)
    except KeyboardInterrupt:  # SIGTERM or SIGINT: a stop asked for, not a failure (the cleanup has run)
        print("quorum lab: stopped by a signal; its processes are stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, old)


def _lab(args: argparse.Namespace) -> int:
    from quorum.inputs import number
    from quorum.live.lab import FAULTS, TOLERANT_TIMINGS, run_lab

    number("--loss", args.loss, ge=0.0, lt=1.0)
    number("--window", args.window, gt=0.0, le=3600.0)
    if args.storage == "postgres":
        from quorum.live.pglab import PG_FAULTS
        from quorum.live.pgserver import PgMissing, find_bin_dir

        try:
            find_bin_dir()
        except PgMissing as e:
            print(f"quorum lab: {e}", file=sys.stderr)
            return 2
        faults: tuple[str, ...] = PG_FAULTS
    else:
        faults = tuple(f for f in FAULTS if f != "kill-postgres")
    if args.fault not in faults:
        raise UsageError(
            f"--fault must be one of {', '.join(faults)} with --storage {args.storage} (got {args.fault!r})"
        )
    result = run_lab(
        args.fault,
        workdir=Path(args.workdir) if args.workdir else None,
        verbose=not args.json,
        loss=args.loss,
        loss_window=args.window,
        seed=args.seed,
        storage=args.storage,
        quorum=TOLERANT_TIMINGS if args.timings == "tolerant" else None,
    )
    if args.json:
        from quorum.inputs import dumps

        print(dumps(result))
    lost = result["storage"].get("lost_acknowledged_commits", 0)
    ok = not result["split_brain"] and result["stale_writes_accepted"] == 0 and lost == 0
    return 0 if ok else 1


def _operator_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="witness URL (or QUORUM_URL)")
    p.add_argument("--token", help="operator token (or QUORUM_TOKEN)")
    p.add_argument("--token-file", help="file holding the operator token")
    p.add_argument("--ca", help="CA certificate that signed the witness's (or QUORUM_CA)")
    p.add_argument("--pair", help="site pair name (default: the pair the operator token belongs to)")


def _pair(args: argparse.Namespace) -> dict[str, str]:
    """The ``pair`` field of a request: given, or left out (the witness takes the token's pair)."""
    return {} if args.pair is None else {"pair": args.pair}


def register(sub: Any) -> None:
    """Add the live subcommands to ``quorum``'s subparsers."""
    w = sub.add_parser("witness", help="the witness service")
    wsub = w.add_subparsers(dest="witness_command", metavar="ACTION", required=True)
    ws = wsub.add_parser("serve", help="serve the witness API (HTTPS)")
    ws.add_argument("--config", required=True, metavar="FILE")
    ws.add_argument("--insecure-http", action="store_true", help="plain HTTP (logged loudly)")
    ws.set_defaults(func=cmd_witness_serve)
    wi = wsub.add_parser("init", help="write a commented witness.yaml, a CA and certificates, and tokens")
    wi.add_argument("dir", metavar="DIR")
    wi.add_argument("--pair", default="default", help="site pair name (default)")
    wi.add_argument("--host", default="127.0.0.1", help="listen address (127.0.0.1)")
    wi.add_argument("--port", type=int, default=8443, help="listen port (8443)")
    wi.add_argument("--force", action="store_true", help="overwrite existing files")
    wi.set_defaults(func=cmd_witness_init)

    a = sub.add_parser("agent", help="the site agent")
    asub = a.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    ar = asub.add_parser("run", help="run the site agent")
    ar.add_argument("--config", required=True, metavar="FILE")
    ar.add_argument("--insecure-http", action="store_true", help="plain HTTP (logged loudly)")
    ar.set_defaults(func=cmd_agent_run)
    rs = asub.add_parser(
        "reset",
        help="accept a changed configuration on a site's state database (the agent refuses to start"
        " on settings other than those it ran with)",
    )
    rs.add_argument("--config", required=True, metavar="FILE")
    rs.add_argument(
        "--forget-peer",
        action="store_true",
        help="also drop the peer's last configuration fingerprint (the guard that keeps a site from"
        " serving alone beside a peer on other rules): only when the peer is gone for good",
    )
    rs.set_defaults(func=cmd_agent_reset)
    ai = asub.add_parser("init", help="write a commented agent configuration (after `quorum witness init`)")
    ai.add_argument("dir", metavar="DIR", help="the directory `quorum witness init` wrote")
    ai.add_argument("--site", required=True, choices=["A", "B"])
    ai.add_argument("--pair", default="default", help="site pair name (default)")
    ai.add_argument("--port", type=int, default=8444, help="this agent's peer endpoint port (8444)")
    ai.add_argument("--witness-url", required=True, help="e.g. https://127.0.0.1:8443")
    ai.add_argument(
        "--peer-url", required=True, help="the other agent's endpoint, e.g. https://127.0.0.1:8445"
    )
    ai.add_argument("--force", action="store_true", help="overwrite an existing file")
    ai.add_argument(
        "--storage", choices=["stand-in", "postgres"], default="stand-in", help="what the site protects"
    )
    ai.add_argument("--pg-data-dir", help="postgres: this site's data directory (absolute)")
    ai.add_argument("--pg-port", type=int, default=5432, help="postgres: this site's server port (5432)")
    ai.add_argument("--pg-peer-host", help="postgres: where this site reaches the peer site's server")
    ai.add_argument("--pg-peer-port", type=int, default=5432, help="postgres: the peer's server port (5432)")
    ai.add_argument("--pg-os-user", default="postgres", help="postgres: OS user of the server's tools")
    ai.set_defaults(func=cmd_agent_init)

    r = sub.add_parser("replay", help="replay an agent trace through the core and report differences")
    r.add_argument("trace", metavar="TRACE")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_replay)

    c = sub.add_parser("certs", help="lab certificates")
    csub = c.add_subparsers(dest="certs_command", metavar="ACTION", required=True)
    ci = csub.add_parser("init", help="make a private CA and server/client certificates for 127.0.0.1")
    ci.add_argument("dir", metavar="DIR")
    ci.add_argument("--days", type=float, default=30.0)
    ci.set_defaults(func=cmd_certs_init)

    t = sub.add_parser("token", help="bearer tokens")
    tsub = t.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    tc = tsub.add_parser("create", help="a new 256-bit token and the hash the witness stores")
    tc.add_argument("--json", action="store_true")
    tc.set_defaults(func=cmd_token_create)

    s = sub.add_parser("status", help="the witness's view of a pair")
    _operator_args(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    h = sub.add_parser("history", help="the audit history of a pair")
    _operator_args(h)
    h.add_argument("--limit", type=int, default=50)
    h.add_argument("--json", action="store_true")
    h.set_defaults(func=cmd_history)

    so = sub.add_parser("switchover", help="planned switchover to SITE")
    _operator_args(so)
    so.add_argument("--to", required=True, choices=["A", "B"])
    so.add_argument("--dry-run", action="store_true")
    so.set_defaults(func=cmd_switchover)

    m = sub.add_parser(
        "maintenance", help="maintenance mode on/off: no automatic failover while on (audited)"
    )
    _operator_args(m)
    m.add_argument("state", choices=["on", "off"])
    m.add_argument("--reason", required=True)
    m.set_defaults(func=cmd_maintenance)

    tk = sub.add_parser("takeover", help="forced takeover (data loss accepted and recorded)")
    _operator_args(tk)
    tk.add_argument("--to", required=True, choices=["A", "B"])
    tk.add_argument("--accept-data-loss", action="store_true")
    tk.add_argument("--fence-confirmed", action="store_true", help="the other site is powered off / cut")
    tk.set_defaults(func=cmd_takeover)

    lab = sub.add_parser("lab", help="a witness and two agents on 127.0.0.1, with one injected fault")
    lab.add_argument(
        "--fault", default="kill-serving", help="kill-serving|cut-link|cut-witness|...|lossy-link"
    )
    lab.add_argument("--loss", type=float, default=0.2, help="lossy-link: packet loss on every link (0.2)")
    lab.add_argument("--window", type=float, default=30.0, help="lossy-link: seconds of loss (30)")
    lab.add_argument("--seed", type=int, default=0, help="lossy-link: seed of the loss draws (0)")
    lab.add_argument(
        "--storage",
        choices=["stand-in", "postgres"],
        default="stand-in",
        help="what the pair protects: the stand-in (default) or two real PostgreSQL servers",
    )
    lab.add_argument(
        "--timings",
        choices=["lab", "tolerant"],
        default="lab",
        help="lab: heartbeat 0.2 s, detection 0.8 s, lease 2 s (default); tolerant: detection 2.6 s,"
        " lease 3 s, for a starved machine (what the tests use)",
    )
    lab.add_argument("--json", action="store_true")
    lab.add_argument("--workdir", help="keep the lab's files here (default: a temporary directory)")
    lab.set_defaults(func=cmd_lab)


_ = sys
