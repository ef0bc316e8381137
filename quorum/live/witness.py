"""The witness service: an HTTPS adapter around one ``WitnessMachine`` per site pair.

Per request: authenticate (bearer token → pair and role), validate the body (pydantic, 400 with field
errors), call the machine with ``time.monotonic()``, then perform its actions *in order*: a
``PersistWitness`` is committed (fsync) before the ``Send`` that follows it becomes the HTTP answer,
so a restart can never grant the same epoch twice. Every ``Decision`` is a line of audit history.
All handlers are ``async def`` and never await between calling the machine and persisting: the
event loop serialises them, so the machine needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope
from starlette.types import Message as Message_
from starlette.types import Send as Send_

from quorum.core import (
    Action,
    Alarm,
    Decision,
    Input,
    Maintenance,
    Mode,
    OperatorResult,
    PersistWitness,
    Send,
    Verdict,
    WitnessMachine,
    WitnessReply,
)
from quorum.core.config import settings_differences
from quorum.live.auth import verify
from quorum.live.codec import encode
from quorum.live.models import (
    ConfigRefused,
    ErrorReply,
    EventsBody,
    EventsReply,
    FailoverBody,
    HeartbeatBody,
    HeartbeatReply,
    InvalidBody,
    MaintenanceBody,
    OperatorReply,
    SwitchoverBody,
    WitnessReplyModel,
)
from quorum.live.settings import PairConfig, WitnessSettings
from quorum.live.store import WitnessStore

log = logging.getLogger("quorum.witness")

# Test-only hook (tests/test_live_faults.py): when set to a file path, the witness process stops itself
# (SIGSTOP) right after it has committed a solo grant and before the reply leaves, once, after writing
# the granted epoch to that file; the test then inspects the database and kills it (kill -9).
STOP_AFTER_GRANT_ENV = "QUORUM_TEST_STOP_AFTER_GRANT"


@dataclass
class Pair:
    name: str
    cfg: PairConfig
    machine: WitnessMachine


@dataclass
class Metrics:
    started: float = field(default_factory=time.time)
    requests: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    auth_failures: int = 0
    auth_limited: int = 0
    bad_requests: int = 0
    decisions: int = 0
    alarms: int = 0
    events: int = 0
    event_duplicates: int = 0


@dataclass(frozen=True)
class Caller:
    pair: str
    role: str  # "A", "B" or "operator"


class WitnessService:
    """State shared by the handlers: machines, store, metrics, auth-failure counters."""

    def __init__(self, settings: WitnessSettings) -> None:
        self.settings = settings
        self.store = WitnessStore(settings.db)
        now = time.monotonic()
        self.pairs = {
            name: Pair(name, pc, WitnessMachine(pc.quorum, now, self.store.load(name)))
            for name, pc in settings.pairs.items()
        }
        self.metrics = Metrics()
        self.failures: dict[str, deque[float]] = {}  # client address -> failures in the last minute
        self.verified: dict[bytes, Caller] = {}  # SHA-256 of a token that verified -> its caller
        for digest, pair, role, stored in self.store.known_tokens():
            pc = settings.pairs.get(pair)
            if pc is not None and pc.tokens.get(role) == stored:  # still configured, same hash
                self.verified[digest] = Caller(pair, role)
        # (pair, site) -> why its last heartbeat was refused for its configuration (shown in status)
        self.config_refused: dict[tuple[str, str], dict[str, Any]] = {}
        for name, p in self.pairs.items():
            self.store.record(name, "start", "witness", f"witness started at epoch {p.machine.d.epoch}")
        self.stop_after_grant = os.environ.get(STOP_AFTER_GRANT_ENV) or None

    # ---- authentication ------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Caller:
        """The caller of a bearer token; 401 for a bad one, 429 while its address is over the limit.

        A token is checked against every stored hash (salted HMAC, constant-time comparison) the first
        time it is seen; then it is remembered by its SHA-256 digest (never the token itself, and in the
        database too, so it survives a restart), and a heartbeat costs one dictionary lookup instead of
        one HMAC per configured token (with 1,000 pairs that is 2,000+ HMACs, milliseconds per
        request). Only tokens that verified are remembered: at most one entry per configured token.

        Tokens are verified first, always: they are 256-bit random values, so testing a guess cannot
        let one through, and refusing a valid token buys nothing. What the limit governs is what fails:
        an address with ``auth_fail_limit`` failures in the last minute gets 429 (with Retry-After)
        instead of 401 for each further failure. A valid token from that address passes, whether the
        witness knew it or sees it for the first time: an old agent still sending a rotated-out token
        from the same host never locks its replacement out.
        """
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        key = hashlib.sha256(token.encode()).digest()
        found = self.verified.get(key) if token else None
        if found is not None:
            return found  # known valid: never refused for someone else's failures
        client = request.client.host if request.client else "?"
        now = time.monotonic()
        if token:
            for name, p in self.pairs.items():
                for role, stored in p.cfg.tokens.items():
                    if verify(token, stored) and found is None:
                        found = Caller(name, role)
                        self.store.remember_token(key, name, role, stored)
            if found is not None:
                self.verified[key] = found
                return found
        self.metrics.auth_failures += 1
        recent = self.failures.get(client)
        if recent is not None:
            while recent and recent[0] < now - 60.0:
                recent.popleft()
        over = recent is not None and len(recent) >= self.settings.auth_fail_limit
        self._failed(client, now)
        if over:
            assert recent is not None
            self.metrics.auth_limited += 1
            retry = max(1, int(recent[0] + 60.0 - now) + 1)
            raise HTTPException(
                429,
                "too many failed authentications from this address; retry later",
                headers={"Retry-After": str(retry)},
            )
        raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})

    def _failed(self, client: str, now: float) -> None:
        """Count a failed authentication; clients silent for a minute are forgotten (bounded map)."""
        if len(self.failures) >= 1024:
            for c in [c for c, q in self.failures.items() if not q or q[-1] < now - 60.0]:
                del self.failures[c]
        self.failures.setdefault(client, deque()).append(now)

    def pair_for(self, caller: Caller, pair: str, roles: tuple[str, ...]) -> Pair:
        if caller.pair != pair or caller.role not in roles:
            raise HTTPException(403, f"token not allowed for pair {pair!r} as {'/'.join(roles)}")
        return self.pairs[pair]

    # ---- performing the machine's actions -----------------------------------------------------------
    @contextmanager
    def atomic(self, p: Pair) -> Iterator[None]:
        """One request, one transaction: everything it writes commits together or not at all. On an
        error the pair's machine is rebuilt from what is on disk (as after a restart, holding off
        grants for ``regrant_wait``), so memory never runs ahead of the database."""
        try:
            with self.store.transaction():
                yield
        except BaseException:
            p.machine = WitnessMachine(p.cfg.quorum, time.monotonic(), self.store.load(p.name))
            log.exception("pair %s: request rolled back; machine reloaded from the database", p.name)
            raise

    def call(self, p: Pair, event: Input, actor: str) -> list[Action]:
        """Feed the machine; commit its new state and its audit lines in ONE transaction (fsynced,
        ``synchronous=FULL``) before any reply leaves: a crash never keeps a grant without its line.
        Inside a request's own transaction (``atomic``) it joins it."""
        acts = p.machine.handle(time.monotonic(), event)
        persisted = False
        if not any(isinstance(a, PersistWitness | Decision | Alarm) for a in acts):
            return acts  # a plain heartbeat: nothing to write
        with self.atomic(p):
            for a in acts:
                if isinstance(a, PersistWitness):
                    persisted = True
                    self.store.save(p.name, a.state)
                elif isinstance(a, Decision):
                    self.metrics.decisions += 1
                    self.store.record_decision(p.name, a)
                    if a.mode is Mode.SOLO and a.holder is not None:
                        what = f"the witness gave epoch {a.epoch} to site {a.holder}"
                        self.split_alarm(p, a.holder.value, a.epoch, what, grants=False)
                elif isinstance(a, Alarm):
                    # a claim the witness refused to believe: an audit line and a log line, nothing else
                    self.metrics.alarms += 1
                    self.store.record(p.name, "alarm", actor, a.detail, epoch=a.epoch)
                    log.warning("pair %s: ALARM: %s", p.name, a.detail)
        if self.stop_after_grant is not None and persisted:
            self._maybe_stop_after_grant(acts)
        return acts

    def split_alarm(self, p: Pair, site: str, epoch: int, what: str, grants: bool) -> None:
        """An alarm when ``site`` serving alone at ``epoch`` (``what``) meets a claim of the other
        site to the same epoch: the witness's grant of it, or the other site's report of serving
        alone at it. Two sites alone at one epoch is a split-brain no epoch fence can tell apart.
        Recorded once per site and epoch (the audit line's uid)."""
        claims = self.store.split_claims(p.name, epoch, site, grants)
        if not claims:
            return
        detail = f"SPLIT-BRAIN at epoch {epoch}: {what}, but {'; '.join(claims)}"
        if self.store.record(p.name, "alarm", "witness", detail, epoch=epoch, uid=f"split:{site}:{epoch}"):
            self.metrics.alarms += 1
            log.error("pair %s: ALARM: %s", p.name, detail)

    def _maybe_stop_after_grant(self, acts: list[Action]) -> None:
        """The test-only hook of ``STOP_AFTER_GRANT_ENV``: committed, reply not sent: stop here."""
        grants = [
            a.message
            for a in acts
            if isinstance(a, Send)
            and isinstance(a.message, WitnessReply)
            and a.message.verdict is Verdict.GRANT_SOLO
        ]
        if not grants or self.stop_after_grant is None:
            return
        path, self.stop_after_grant = self.stop_after_grant, None
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"epoch": grants[0].epoch, "site": grants[0].site.value, "pid": os.getpid()}, f)
        os.kill(os.getpid(), signal.SIGSTOP)

    def state(self, p: Pair) -> dict[str, Any]:
        m = p.machine
        now = time.monotonic()
        sites = {}
        for s, req in m.last_request.items():
            sites[s.value] = {
                "role": req.role.value,
                "epoch": req.epoch,
                "current": req.current,
                "want": req.want.value,
                "last_seen_s": round(now - m.last_seen.get(s, now), 3),
            }
        durable = encode(m.d)
        durable.pop("type")
        return {
            "pair": p.name,
            "policy": p.cfg.quorum.policy.value,
            "durable": durable,
            "lease_live": m.lease_live(now),
            "recovering": m.recovering,
            "tie_site": m.tie().value,
            "pending_operator": type(m.pending).__name__ if m.pending else None,
            # on/off is the machine's durable state; the table adds who-knows-why: reason and time
            "maintenance": {"on": m.d.maintenance, **(self.store.maintenance_note(p.name) or {})},
            "sites": sites,
            "config": {
                "fingerprint": m.fingerprint,
                "refused": {s: v for (pn, s), v in sorted(self.config_refused.items()) if pn == p.name},
            },
        }

    def metrics_text(self) -> str:
        mt = self.metrics
        lines = [
            "# HELP quorum_witness_requests_total Heartbeat requests answered, by pair and site.",
            "# TYPE quorum_witness_requests_total counter",
        ]
        for (pair, site), n in sorted(mt.requests.items()):
            lines.append(f'quorum_witness_requests_total{{pair="{pair}",site="{site}"}} {n}')
        lines += ["# TYPE quorum_witness_verdicts_total counter"]
        for v, n in sorted(mt.verdicts.items()):
            lines.append(f'quorum_witness_verdicts_total{{verdict="{v}"}} {n}')
        lines += [
            "# TYPE quorum_witness_auth_failures_total counter",
            f"quorum_witness_auth_failures_total {mt.auth_failures}",
            "# HELP quorum_witness_auth_limited_total Requests answered 429 (address over the limit).",
            "# TYPE quorum_witness_auth_limited_total counter",
            f"quorum_witness_auth_limited_total {mt.auth_limited}",
            "# TYPE quorum_witness_bad_requests_total counter",
            f"quorum_witness_bad_requests_total {mt.bad_requests}",
            "# TYPE quorum_witness_decisions_total counter",
            f"quorum_witness_decisions_total {mt.decisions}",
            "# HELP quorum_witness_alarms_total Site claims the witness refused to believe.",
            "# TYPE quorum_witness_alarms_total counter",
            f"quorum_witness_alarms_total {mt.alarms}",
            "# TYPE quorum_witness_events_total counter",
            f"quorum_witness_events_total {mt.events}",
            f"quorum_witness_event_duplicates_total {mt.event_duplicates}",
            "# TYPE quorum_witness_epoch gauge",
        ]
        for name, p in sorted(self.pairs.items()):
            lines.append(f'quorum_witness_epoch{{pair="{name}"}} {p.machine.d.epoch}')
            lines.append(f'quorum_witness_solo{{pair="{name}"}} {int(p.machine.d.mode.value == "solo")}')
        lines += [
            "# TYPE quorum_witness_uptime_seconds gauge",
            f"quorum_witness_uptime_seconds {time.time() - mt.started:.3f}",
        ]
        return "\n".join(lines) + "\n"


class BodyLimit:
    """Refuse bodies above ``limit`` bytes with 413 (declared length, or counted while reading).

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task group per body read,
    which doubled the cost of a heartbeat.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _too_large(self) -> JSONResponse:
        return JSONResponse({"detail": f"body larger than {self.limit} bytes"}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send_) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await self._too_large()(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server refuses more bytes than declared
            return
        if scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []  # no declared length (chunked): count while reading, then replay
        total, more = 0, True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            total += len(chunk)
            if total > self.limit:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(msg.get("more_body", False))
        body, replayed = b"".join(chunks), False

        async def replay() -> Message_:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="a token from `quorum token create`: site A's, site B's or the operator's for a pair",
)


async def _caller(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Caller:
    # async on purpose: a sync dependency costs a thread-pool hop per request (CPU-only work anyway);
    # BEARER only declares the scheme in the OpenAPI document, ``authenticate`` reads the header
    svc: WitnessService = request.app.state.service
    return svc.authenticate(request)


def _error(description: str, model: type[Any] = ErrorReply) -> dict[str, Any]:
    return {"model": model, "description": description}


# the answers each kind of route really gives (tests/test_live_witness.py checks them against the app)
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: _error("body larger than max_body bytes (declared or counted)")
}
AUTHED: dict[int | str, dict[str, Any]] = {
    400: _error("invalid body or query parameter; each error names its field", InvalidBody),
    401: _error("missing or invalid bearer token"),
    403: _error("the token is not allowed for this pair or role"),
    404: _error("unknown pair"),
    **TOO_LARGE,
    429: _error("too many failed authentications from this address (a valid token always passes)"),
}


CallerDep = Annotated[Caller, Depends(_caller)]


def create_app(settings: WitnessSettings) -> FastAPI:
    svc = WitnessService(settings)
    app = FastAPI(title="quorum witness", version="0.1.0", responses=TOO_LARGE)

    def openapi() -> dict[str, Any]:
        """FastAPI documents 422 for validation errors; this witness answers them 400 (``bad_body``)."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
            for ops in doc["paths"].values():
                for op in ops.values():
                    op.get("responses", {}).pop("422", None)
            schemas = doc.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = doc
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 (FastAPI's documented way to customise it)
    app.state.service = svc
    app.add_middleware(BodyLimit, limit=settings.max_body)

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        svc.metrics.bad_requests += 1
        errors = [
            {"field": ".".join(str(x) for x in e["loc"][1:]) or "body", "error": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "invalid body", "errors": errors}, status_code=400)

    def known(pair: str) -> None:
        if pair not in svc.pairs:
            raise HTTPException(404, f"unknown pair {pair!r}")

    def refuse_config(p: Pair, site: str, body: HeartbeatBody, reply: WitnessReply) -> Response:
        """409 naming the safety settings in which the site differs from the pair (site vs witness)."""
        mine = p.cfg.quorum.safety_settings()
        if body.settings is not None:
            diffs = settings_differences(body.settings.safety_settings(), mine)
            fields = [d.split(" ", 1)[0] for d in diffs]
            detail = (
                f"site {site}'s configuration differs from pair {p.name!r} at the witness"
                f" (site vs witness): {'; '.join(diffs)}; nothing decided"
            )
        else:
            fields = []
            detail = f"{reply.reason}; the site sent no settings to compare field by field"
        before = svc.config_refused.get((p.name, site))
        if before is None or before["detail"] != detail:
            log.warning("pair %s: REFUSED site %s: %s", p.name, site, detail)
        svc.config_refused[(p.name, site)] = {"detail": detail, "fields": fields, "at": time.time()}
        out = ConfigRefused(
            detail=detail,
            differs=fields,
            reply=WitnessReplyModel.from_core(reply).model_copy(update={"reason": detail}),
        )
        return Response(out.model_dump_json(), status_code=409, media_type="application/json")

    @app.post(
        "/v1/heartbeat",
        response_model=HeartbeatReply,
        responses={
            **AUTHED,
            409: _error("the site's configuration fingerprint is not the pair's", ConfigRefused),
        },
    )
    async def heartbeat(body: HeartbeatBody, who: CallerDep) -> Response:
        known(body.pair)
        site = body.request.site.value
        p = svc.pair_for(who, body.pair, (site,))
        if body.settings is not None and body.settings.fingerprint() != body.request.config:
            raise HTTPException(
                400,
                f"settings have fingerprint {body.settings.fingerprint()}, the request says"
                f" {body.request.config}",
            )
        acts = svc.call(p, body.request.to_core(), f"site {site}")
        svc.metrics.requests[(p.name, site)] += 1
        reply: WitnessReply | None = None
        for a in acts:
            if isinstance(a, Send) and isinstance(a.message, WitnessReply) and a.message.site.value == site:
                reply = a.message
        if reply is not None:
            svc.metrics.verdicts[reply.verdict.value] += 1
        if reply is not None and reply.verdict is Verdict.REFUSED:
            return refuse_config(p, site, body, reply)
        svc.config_refused.pop((p.name, site), None)
        out = HeartbeatReply(reply=WitnessReplyModel.from_core(reply) if reply else None)
        # serialised here, once: returning a Response skips FastAPI's second validation of the model
        return Response(out.model_dump_json(), media_type="application/json")

    @app.post("/v1/events", response_model=EventsReply, responses=AUTHED)
    async def events(body: EventsBody, who: CallerDep) -> EventsReply:
        known(body.pair)
        p = svc.pair_for(who, body.pair, (body.site.value,))
        with svc.atomic(p):  # a batch is recorded whole or not at all (the site sends it again)
            new, dup = record_events(p, body)
        svc.metrics.events += new
        svc.metrics.event_duplicates += dup
        return EventsReply(accepted=new, duplicates=dup)

    def record_events(p: Pair, body: EventsBody) -> tuple[int, int]:
        new = dup = 0
        for ev in body.events:
            text = f"{ev.kind}: " + ", ".join(f"{k}={v}" for k, v in sorted(ev.detail.items()))
            if svc.store.record(
                p.name,
                f"site-{ev.kind}",
                f"site {body.site.value}",
                text,
                at=ev.at,
                epoch=ev.epoch,
                uid=ev.uid,
            ):
                new += 1
                if ev.kind == "role" and ev.detail.get("new") == "solo":
                    # a pre-elected winner mints the epoch the witness may have granted (untaken) to
                    # the other site: the core judges that claim on the site's next request
                    grants = not str(ev.detail.get("reason", "")).startswith("pre-elected")
                    what = f"site {body.site.value} reports serving alone"
                    svc.split_alarm(p, body.site.value, ev.epoch, what, grants)
            else:
                dup += 1
        return new, dup

    def operate(pair: str, who: Caller, event: Input, what: str) -> OperatorReply:
        known(pair)
        p = svc.pair_for(who, pair, ("operator",))
        with svc.atomic(p):  # the machine's state, its decision and the operator line: one commit
            acts = svc.call(p, event, "operator")
            result = next((a for a in acts if isinstance(a, OperatorResult)), None)
            if result is None:
                raise HTTPException(500, "the witness machine gave no operator result")
            line = f"{what}: {result.detail}"
            svc.store.record(p.name, "operator", "operator", line, epoch=p.machine.d.epoch)
            if isinstance(event, Maintenance) and result.ok:
                svc.store.set_maintenance(p.name, event.on, event.reason)
        return OperatorReply(ok=result.ok, detail=result.detail, pending=result.pending)

    @app.post("/v1/switchover", response_model=OperatorReply, responses=AUTHED)
    async def switchover(body: SwitchoverBody, who: CallerDep) -> OperatorReply:
        what = f"switchover to {body.to.value}" + (" (dry run)" if body.dry_run else "")
        return operate(body.pair or who.pair, who, body.to_core(), what)

    @app.post("/v1/failover", response_model=OperatorReply, responses=AUTHED)
    async def failover(body: FailoverBody, who: CallerDep) -> OperatorReply:
        what = f"FORCED TAKEOVER by {body.to.value} (accept_data_loss={body.accept_data_loss})"
        return operate(body.pair or who.pair, who, body.to_core(), what)

    @app.put("/v1/maintenance", response_model=OperatorReply, responses=AUTHED)
    async def maintenance(body: MaintenanceBody, who: CallerDep) -> OperatorReply:
        state = "on" if body.on else "off"
        return operate(body.pair or who.pair, who, Maintenance(body.on, body.reason), f"maintenance {state}")

    @app.get("/v1/state", responses=AUTHED)
    async def state(who: CallerDep, pair: str | None = None) -> dict[str, Any]:
        pair = pair or who.pair  # without a pair: the one the token belongs to
        known(pair)
        return svc.state(svc.pair_for(who, pair, ("operator", "A", "B")))

    @app.get("/v1/history", responses=AUTHED)
    async def history(who: CallerDep, pair: str | None = None, limit: int = 200) -> dict[str, Any]:
        pair = pair or who.pair
        known(pair)
        svc.pair_for(who, pair, ("operator", "A", "B"))
        return {"pair": pair, "history": svc.store.history(pair, max(1, min(limit, 10_000)))}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> dict[str, Any]:
        svc.store.db.execute("SELECT 1").fetchone()
        return {"status": "ready", "pairs": sorted(svc.pairs)}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        return svc.metrics_text()

    @app.get("/v1/ping")
    async def ping() -> dict[str, str]:
        """A bare endpoint on the same stack, for the bench's heartbeat/bare ratio."""
        return {"pong": "ok"}

    return app


def serve(settings: WitnessSettings) -> None:
    """Run the witness until interrupted (uvicorn; HTTPS unless ``insecure_http``)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kwargs: dict[str, Any] = {}
    if settings.insecure_http:
        for _ in range(3):
            log.warning("INSECURE: serving plain HTTP without TLS (--insecure-http); tokens travel in clear")
    else:
        if settings.tls is None:
            raise ValueError("TLS is on by default: give tls.cert and tls.key, or --insecure-http")
        kwargs = {"ssl_certfile": settings.tls.cert, "ssl_keyfile": settings.tls.key}
        if settings.tls.ca:
            kwargs["ssl_ca_certs"] = settings.tls.ca
    app = create_app(settings)
    scheme = "http" if settings.insecure_http else "https"
    pairs = ", ".join(
        f"{name} ({pc.quorum.policy.value}, epoch {app.state.service.pairs[name].machine.d.epoch},"
        f" tokens for {'/'.join(sorted(pc.tokens))})"
        for name, pc in sorted(settings.pairs.items())
    )
    log.info(
        "witness starting on %s://%s:%d, database %s, %d pair(s): %s",
        scheme,
        settings.host,
        settings.port,
        settings.db,
        len(settings.pairs),
        pairs,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_graceful_shutdown=5,
            **kwargs,
        )
    )
    # SIGTERM and SIGINT stop the server gracefully and the process exits 0 (uvicorn's own handlers
    # re-raise the signal after shutting down: the process died of SIGTERM, exit -15)
    setattr(server, "capture_signals", contextlib.nullcontext)  # noqa: B010

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        await server.serve()

    asyncio.run(main())
    log.info("witness stopped")
