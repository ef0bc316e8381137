"""SQLite stores: the witness's durable state and audit history; a site's durable state and journal.

Every database runs in WAL mode with ``synchronous=FULL``: a committed transaction is on disk
(fsynced) when ``commit`` returns, so an epoch is durable before the grant that follows it is sent.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from quorum.core import Decision, SiteDurable, WitnessDurable
from quorum.live.codec import decode, encode


def connect(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


class WitnessStore:
    """Durable witness state per pair and the audit history of every decision."""

    def __init__(self, path: Path | str) -> None:
        self.db = connect(path)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS witness_state (pair TEXT PRIMARY KEY, state TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS history (
                id INTEGER PRIMARY KEY AUTOINCREMENT, pair TEXT NOT NULL, at REAL NOT NULL,
                kind TEXT NOT NULL, actor TEXT NOT NULL, epoch INTEGER, holder TEXT, mode TEXT,
                reason TEXT NOT NULL, data_loss INTEGER NOT NULL DEFAULT 0, uid TEXT UNIQUE);
            CREATE TABLE IF NOT EXISTS maintenance (
                pair TEXT PRIMARY KEY, on_ INTEGER NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS known_tokens (
                digest BLOB PRIMARY KEY, pair TEXT NOT NULL, role TEXT NOT NULL, stored TEXT NOT NULL);
            """
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic, fsynced commit for everything written inside (state and its audit lines):
        a crash or an error leaves either all of it on disk or none of it. Re-entrant: inside an
        open transaction it joins it (a request is one transaction however its parts nest)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def load(self, pair: str) -> WitnessDurable | None:
        row = self.db.execute("SELECT state FROM witness_state WHERE pair=?", (pair,)).fetchone()
        if row is None:
            return None
        value = decode(json.loads(row[0]))
        assert isinstance(value, WitnessDurable)
        return value

    def save(self, pair: str, state: WitnessDurable) -> None:
        """Persist (fsync) ``state``; epochs never go back, so a lower epoch here is a bug."""
        old = self.load(pair)
        if old is not None and state.epoch < old.epoch:
            raise RuntimeError(f"epoch would go back for {pair}: {old.epoch} -> {state.epoch}")
        self.db.execute(
            "INSERT INTO witness_state(pair, state) VALUES(?, ?) "
            "ON CONFLICT(pair) DO UPDATE SET state=excluded.state",
            (pair, json.dumps(encode(state))),
        )

    def remember_token(self, digest: bytes, pair: str, role: str, stored: str) -> None:
        """A token that verified, by its SHA-256 digest, with the configured hash it matched (a
        changed or removed hash forgets it at the next start)."""
        self.db.execute(
            "INSERT OR REPLACE INTO known_tokens(digest, pair, role, stored) VALUES(?,?,?,?)",
            (digest, pair, role, stored),
        )

    def known_tokens(self) -> list[tuple[bytes, str, str, str]]:
        rows = self.db.execute("SELECT digest, pair, role, stored FROM known_tokens").fetchall()
        return [(bytes(d), str(p), str(r), str(s)) for d, p, r, s in rows]

    def record(self, pair: str, kind: str, actor: str, reason: str, **kw: Any) -> bool:
        """Append an audit line; with ``uid`` the line is recorded at most once (returns False if seen)."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO history(pair, at, kind, actor, epoch, holder, mode, reason, data_loss, uid)"
            " VALUES(?,?,?,?,?,?,?,?,?,?)",
            (
                pair,
                kw.get("at", time.time()),
                kind,
                actor,
                kw.get("epoch"),
                kw.get("holder"),
                kw.get("mode"),
                reason,
                int(bool(kw.get("data_loss", False))),
                kw.get("uid"),
            ),
        )
        return cur.rowcount == 1

    def record_decision(self, pair: str, d: Decision) -> None:
        self.record(
            pair,
            "decision",
            d.actor,
            d.reason,
            epoch=d.epoch,
            holder=d.holder.value if d.holder else None,
            mode=d.mode.value,
            data_loss=d.data_loss,
        )

    def history(self, pair: str, limit: int = 200) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT id, at, kind, actor, epoch, holder, mode, reason, data_loss, uid FROM history"
            " WHERE pair=? ORDER BY id DESC LIMIT ?",
            (pair, limit),
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in reversed(cur.fetchall())]

    def set_maintenance(self, pair: str, on: bool, reason: str) -> None:
        self.db.execute(
            "INSERT INTO maintenance(pair, on_, reason, at) VALUES(?,?,?,?) ON CONFLICT(pair) DO UPDATE"
            " SET on_=excluded.on_, reason=excluded.reason, at=excluded.at",
            (pair, int(on), reason, time.time()),
        )

    def split_claims(self, pair: str, epoch: int, site: str, grants: bool) -> list[str]:
        """What contradicts ``site`` serving alone at ``epoch``: the other site's reports of serving
        alone at it and, with ``grants``, the witness's grants of it to the other site, unless the
        witness has since adopted ``site`` as its holder (a pre-elected winner's epoch: the core
        accounts for those, or raises its own alarm)."""
        claims = [
            f"{a} reported serving alone at epoch {epoch}"
            for (a,) in self.db.execute(
                "SELECT DISTINCT actor FROM history WHERE pair=? AND kind='site-role' AND epoch=?"
                " AND actor<>? AND reason LIKE '%new=solo, old=%'",
                (pair, epoch, f"site {site}"),
            ).fetchall()
        ]
        if not grants:
            return claims
        holders = {
            str(h)
            for (h,) in self.db.execute(
                "SELECT DISTINCT holder FROM history WHERE pair=? AND kind='decision' AND mode='solo'"
                " AND epoch=? AND holder IS NOT NULL",
                (pair, epoch),
            ).fetchall()
        }
        if site in holders:
            return claims
        return [f"the witness granted epoch {epoch} to site {h}" for h in sorted(holders)] + claims

    def maintenance_note(self, pair: str) -> dict[str, Any] | None:
        """The reason and wall-clock time of the last maintenance change (whether maintenance is on is
        the witness machine's durable state, not this table's)."""
        row = self.db.execute("SELECT reason, at FROM maintenance WHERE pair=?", (pair,)).fetchone()
        return None if row is None else {"reason": row[0], "at": row[1]}


class StoreInUse(Exception):
    """Another process (a running agent) holds the site's state database."""


class SiteStore:
    """A site's durable state and its event journal (buffer for the witness, bounded by age and size).

    One process at a time: the store holds an exclusive lock on ``<state_db>.lock`` while it is open,
    so a second agent (or ``quorum agent reset``) on the same state cannot run beside the first.
    It also keeps the settings the site ran with (``run_settings``): its safety settings, its site
    and its pair, so that a start on other settings is refused (``quorum agent reset`` accepts them).
    """

    def __init__(self, path: Path | str, max_age: float = 90 * 86400.0, max_rows: int = 100_000) -> None:
        self._lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise StoreInUse(
                f"{path} is in use by another process (a running agent?): stop it first"
            ) from None
        self.db = connect(path)
        self.max_age = max_age
        self.max_rows = max_rows
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS site_state (k INTEGER PRIMARY KEY CHECK (k = 0), state TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS run_settings (
                k INTEGER PRIMARY KEY CHECK (k = 0), settings TEXT NOT NULL, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS journal (
                id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT UNIQUE NOT NULL, at REAL NOT NULL,
                kind TEXT NOT NULL, epoch INTEGER NOT NULL, detail TEXT NOT NULL,
                sent INTEGER NOT NULL DEFAULT 0);
            """
        )

    def load(self) -> SiteDurable | None:
        row = self.db.execute("SELECT state FROM site_state WHERE k=0").fetchone()
        if row is None:
            return None
        value = decode(json.loads(row[0]))
        assert isinstance(value, SiteDurable)
        return value

    def save(self, state: SiteDurable) -> None:
        self.db.execute(
            "INSERT INTO site_state(k, state) VALUES(0, ?) ON CONFLICT(k) DO UPDATE SET state=excluded.state",
            (json.dumps(encode(state)),),
        )

    def close(self) -> None:
        self.db.close()
        os.close(self._lock)  # closing the descriptor releases the lock

    def run_settings(self) -> dict[str, Any] | None:
        """The settings the site last ran with (``None``: never recorded)."""
        row = self.db.execute("SELECT settings FROM run_settings WHERE k=0").fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        assert isinstance(value, dict)
        return value

    def set_run_settings(self, settings: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO run_settings(k, settings, at) VALUES(0, ?, ?) ON CONFLICT(k) DO UPDATE"
            " SET settings=excluded.settings, at=excluded.at",
            (json.dumps(settings, sort_keys=True), time.time()),
        )

    def journal(self, kind: str, epoch: int, detail: dict[str, Any]) -> str:
        uid = uuid.uuid4().hex
        self.db.execute(
            "INSERT INTO journal(uid, at, kind, epoch, detail) VALUES(?,?,?,?,?)",
            (uid, time.time(), kind, epoch, json.dumps(detail, default=str)),
        )
        self.prune()
        return uid

    def unsent(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT uid, at, kind, epoch, detail FROM journal WHERE sent=0 ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [
            {"uid": u, "at": at, "kind": k, "epoch": e, "detail": json.loads(d)} for u, at, k, e, d in rows
        ]

    def mark_sent(self, uids: list[str]) -> None:
        self.db.executemany("UPDATE journal SET sent=1 WHERE uid=?", [(u,) for u in uids])

    def counts(self) -> tuple[int, int]:
        """(unsent, sent) journal rows."""
        un = self.db.execute("SELECT count(*) FROM journal WHERE sent=0").fetchone()[0]
        se = self.db.execute("SELECT count(*) FROM journal WHERE sent=1").fetchone()[0]
        return int(un), int(se)

    def prune(self) -> None:
        """Drop rows older than ``max_age`` and the oldest rows beyond ``max_rows``."""
        self.db.execute("DELETE FROM journal WHERE at < ?", (time.time() - self.max_age,))
        self.db.execute(
            "DELETE FROM journal WHERE id <= (SELECT id FROM journal ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.max_rows,),
        )
