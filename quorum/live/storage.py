"""What the agent calls on the storage it protects (``StorageAdapter``) and the stand-in: the agent's
side (``StandInAdapter``) and the lab's epoch-checking stub (``StorageStub``); PostgreSQL is the other
implementation of the interface (``quorum.live.storage_pg``).

The stub: an epoch-checking storage stub for the lab: two copies, each with a fence (the highest epoch it saw).

``POST /write`` with ``{"site", "epoch", "mirrored", "seq", "boot"}``. A mirrored write needs the
inter-site link and the peer copy; if either is down it stalls (503: not acknowledged). A write whose
epoch is below a target copy's fence is rejected with 409 (when ``enforce``). Independently the stub
*detects* split-brain: any accepted write whose epoch is below the newest epoch already written
anywhere is a stale write accepted; two sites writing alone at the same epoch is a split brain.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from quorum.core import ResyncDone, ResyncFailed, RoleChanged, StartResync


class StorageAdapter(Protocol):
    """The storage integration of one agent. The agent calls ``role_changed`` for every role change
    (before the role's hook), ``resync`` for every ``StartResync`` (its answer goes back to the core),
    ``tick`` after every call of the core, runs ``run`` in the background and ``close`` at the end."""

    async def role_changed(self, a: RoleChanged) -> None: ...

    async def resync(self, a: StartResync) -> ResyncDone | ResyncFailed: ...

    def tick(self, now: float) -> None: ...

    async def run(self) -> None: ...

    async def close(self) -> None: ...


class StandInAdapter:
    """The stand-in: storage replicates by itself; a resync is the ``resync`` hook's exit status (no
    hook: done at once). Role changes act through the hooks only."""

    def __init__(self, resync_hook: Callable[[StartResync], Awaitable[int | None]] | None) -> None:
        self.resync_hook = resync_hook

    async def role_changed(self, a: RoleChanged) -> None:
        return None

    async def resync(self, a: StartResync) -> ResyncDone | ResyncFailed:
        if self.resync_hook is None:
            return ResyncDone(a.epoch)
        rc = await self.resync_hook(a)
        return ResyncDone(a.epoch) if rc == 0 else ResyncFailed(a.epoch)

    def tick(self, now: float) -> None:
        return None

    async def run(self) -> None:
        return None

    async def close(self) -> None:
        return None


class StorageStub:
    def __init__(self, enforce: bool = True) -> None:
        self.enforce = enforce
        self.lock = threading.Lock()
        self.fence = {"A": 0, "B": 0}
        self.copy_up = {"A": True, "B": True}
        self.link_up = True
        self.max_epoch = 0
        self.first_write: dict[int, float] = {}
        self.solo_sites: dict[int, set[str]] = {}
        self.accepted = 0
        self.stalled = 0
        self.stale_rejected = 0
        self.stale_accepted = 0
        self.log: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("content-length", "0"))
                try:
                    body = json.loads(self.rfile.read(n))
                    code, text = stub.write(body)
                except (ValueError, KeyError) as e:
                    code, text = 400, str(e)
                data = text.encode()
                self.send_response(code)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle(self) -> None:
                # the agent went away mid-answer (stopped or killed): its write is counted already
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="storage-stub", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/write"

    def write(self, w: dict[str, Any]) -> tuple[int, str]:
        site, epoch, mirrored = str(w["site"]), int(w["epoch"]), bool(w["mirrored"])
        peer = "B" if site == "A" else "A"
        with self.lock:
            targets = [site]
            if mirrored:
                if not (self.link_up and self.copy_up[peer]):
                    self.stalled += 1
                    return 503, "peer copy unreachable: write stalls"
                targets.append(peer)
            fenced = [t for t in targets if epoch < self.fence[t]]
            if fenced and self.enforce:
                self.stale_rejected += 1
                self.log.append({"t": time.time(), "site": site, "epoch": epoch, "result": "rejected"})
                return 409, f"epoch {epoch} below fence {max(self.fence[t] for t in fenced)}"
            if epoch < self.max_epoch:
                self.stale_accepted += 1
            if epoch > self.max_epoch:
                self.max_epoch = epoch
            self.first_write.setdefault(epoch, time.time())
            if not mirrored:
                self.solo_sites.setdefault(epoch, set()).add(site)
            for t in targets:
                self.fence[t] = max(self.fence[t], epoch)
            self.accepted += 1
            return 200, "ok"

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {
                "accepted": self.accepted,
                "stalled": self.stalled,
                "stale_writes_rejected": self.stale_rejected,
                "stale_writes_accepted": self.stale_accepted,
                "split_brain_epochs": sorted(e for e, s in self.solo_sites.items() if len(s) > 1),
                "fences": dict(self.fence),
            }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
