"""Figures for the live controller (``python -m quorum.live.bench``); ``make bench`` runs every mode.

Each mode prints one JSON line with its figures, its target and whether the target was met:

* default (``--trials 20``): failover time after kill -9 of the serving agent, a fresh lab
  (``quorum.live.lab``) per trial with the lab timings (heartbeat 0.2 s, detection 0.8 s, lease 2 s);
  p50, p99, max. Target: p99 under 3 s.
* ``--storage postgres --trials 20``: the same kill -9 of the serving agent with two real PostgreSQL
  servers (``quorum.live.pglab``, lab timings) and a workload committing through whichever site
  serves: the agents' failover time (p50, p99), the longest gap between acknowledged commits, the
  acknowledged commits lost (target 0) and unsafe trials (split brain or replay differences, target 0).
  Target: p99 under 5 s.
* ``--pg-throughput --seconds 10``: commits per second of one back-to-back writer on that pair,
  mirrored (synchronous to the standby through the lab's proxy) then alone (the link cut, the
  preferred site granted a solo epoch): what synchronous mirroring costs.
* ``--loss 0.2 --trials 20 --window 15``: a fresh lab per trial, 20 % packet loss on every link
  (site↔site and sites↔witness, TCP retransmission delays: see ``quorum.live.proxy``) for
  ``--window`` seconds, nobody killed, each trial with its own seed (``--seed``, ``--seed`` + 1, ...);
  counts trials with a failover anyway (an epoch change, a site serving alone or fenced, during the
  window or in the 3 s after it: ``run_lab``'s ``failover``) and trials with any role change (freezes included). Target: 0 false
  failovers. 15 s is 75 heartbeat intervals and about 19 detection timeouts per trial.
* ``--throughput``: heartbeats per second answered by one witness process (one uvicorn worker,
  one event-loop thread: at most one core; ``--cpu N`` pins it to core N), beside the bare ``/v1/ping`` on the same server stack (uvicorn, TLS, FastAPI), measured in the
  same run, alternating rounds (3 × 5 s each). Target: ratio at least 0.5. Also printed: the CPU
  share of the witness and of the client, and the ratio per CPU-second of the witness.
* ``--memory --pairs 1000 --duration 600``: one witness process configured with 1,000 pairs (a
  token per site) fed heartbeats for both sites of every pair, every 0.2 s or as fast as one client
  process manages (the achieved rate is printed); the witness's resident memory after warm-up, every
  minute and at the end. Target: end within 10 % of start.

The clients of ``--throughput`` and ``--memory`` speak HTTP/1.1 over asyncio TLS streams directly
(keep-alive, no client library): they cost far less CPU than the witness, which is what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from quorum.live.lab import LINKS, run_lab


# ---- failover after kill -9 ---------------------------------------------------------------------------
def failover(trials: int = 20, fault: str = "kill-serving") -> dict[str, Any]:
    times: list[float] = []
    bad = 0
    for _ in range(trials):
        r = run_lab(fault, verbose=False)
        if r["failover_s"] is not None:
            times.append(float(r["failover_s"]))
        bad += int(r["split_brain"] or r["stale_writes_accepted"] > 0 or r["replay_differences"] > 0)
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))] if times else None
    return {
        "bench": "failover",
        "fault": fault,
        "trials": trials,
        "failovers": len(times),
        "p50_s": round(statistics.median(times), 3) if times else None,
        "p99_s": round(p99, 3) if p99 is not None else None,
        "max_s": round(times[-1], 3) if times else None,
        "unsafe_trials": bad,
        "target": "p99 < 3 s",
        "target_met": p99 is not None and p99 < 3.0 and len(times) == trials and bad == 0,
    }


# ---- PostgreSQL: failover after kill -9, and what synchronous mirroring costs --------------------------
def pg_failover(trials: int = 20, fault: str = "kill-serving") -> dict[str, Any]:
    """``trials`` fresh PostgreSQL labs (lab timings), one ``fault`` each: the agents' failover time, the
    longest gap between acknowledged commits the workload saw, and the safety outcomes of every trial."""
    from quorum.live.pglab import run_pg_lab

    times: list[float] = []
    gaps: list[float] = []
    acked = lost = unsafe = not_resynced = 0
    errors: list[str] = []
    for _ in range(trials):
        work = Path(tempfile.mkdtemp(prefix="quorum-pg-bench-"))
        try:
            r = run_pg_lab(fault, work, verbose=False)
        except (TimeoutError, RuntimeError) as e:  # the trial's files are kept for a look
            errors.append(f"{e} (files in {work})")
            continue
        shutil.rmtree(work, ignore_errors=True)
        st = r["storage"]
        if r["failover_s"] is not None:
            times.append(float(r["failover_s"]))
        if st.get("longest_commit_gap_s") is not None:
            gaps.append(float(st["longest_commit_gap_s"]))
        acked += int(st["acknowledged_commits"])
        lost += int(st["lost_acknowledged_commits"]) if st["lost_acknowledged_commits"] is not None else 1
        unsafe += int(bool(r["split_brain"]) or r["replay_differences"] > 0)
        not_resynced += int(not st["resynced"])

    def pct(xs: list[float], q: float) -> float | None:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3) if xs else None

    return {
        "bench": "failover-postgres",
        "fault": fault,
        "trials": trials,
        "failovers": len(times),
        "p50_s": pct(times, 0.5),
        "p99_s": pct(times, 0.99),
        "max_s": pct(times, 1.0),
        "commit_gap_p50_s": pct(gaps, 0.5),
        "commit_gap_p99_s": pct(gaps, 0.99),
        "acknowledged_commits": acked,
        "lost_acknowledged_commits": lost,
        "unsafe_trials": unsafe,
        "not_resynchronised": not_resynced,
        "errors": errors,
        "target": "p99 < 5 s, 0 lost, 0 split brain",
        "target_met": (p := pct(times, 0.99)) is not None
        and p < 5.0
        and lost == 0
        and unsafe == 0
        and not errors
        and len(times) == trials,
    }


def pg_throughput(seconds: float = 10.0, writers: int = 1) -> dict[str, Any]:
    """Commits per second of ``writers`` back-to-back writers on the lab's PostgreSQL pair: mirrored
    (synchronous through the lab's proxy), then alone (the link cut: A granted a solo epoch)."""
    from quorum.live.lab import Lab, apply_fault
    from quorum.live.pglab import Workload

    lab = Lab(storage="postgres")
    try:
        lab.start(timeout=90)
        lab.workload = Workload(lab.pg, writers, pause=0.0)
        lab.workload.start()
        lab.settle(1.0)
        mirrored = lab.workload.rate(seconds)
        apply_fault(lab, "cut-link")
        lab.settle(1.0)
        alone = lab.workload.rate(seconds)
        lab.workload.stop()
    finally:
        lab.cleanup()
    return {
        "bench": "postgres-throughput",
        "writers": writers,
        "seconds": seconds,
        "commits_per_s_mirrored": round(mirrored, 1),
        "commits_per_s_alone": round(alone, 1),
        "mirroring_cost": f"{(1 - mirrored / alone) * 100:.0f} %" if alone else None,
    }


# ---- false failovers under packet loss -------------------------------------------------------------------
def lossy(trials: int = 20, loss: float = 0.2, window: float = 15.0, seed: int = 1) -> dict[str, Any]:
    failed_over = changed = bad = 0
    delayed = chunks = conn_delayed = conns = 0
    details: list[dict[str, Any]] = []
    for i in range(trials):
        r = run_lab("lossy-link", verbose=False, loss=loss, loss_window=window, seed=seed + i)
        failed_over += int(r["failover"])
        changed += int(bool(r["role_changes"]))
        bad += int(r["split_brain"] or r["stale_writes_accepted"] > 0 or r["replay_differences"] > 0)
        for st in r["loss"]["links"].values():  # counted only while the links were lossy
            chunks += int(st["chunks_lossy"])
            delayed += int(st["chunks_delayed"])
            conns += int(st["connects_lossy"])
            conn_delayed += int(st["connects_delayed"])
        if r["role_changes"]:
            details.append({"seed": seed + i, "role_changes": r["role_changes"]})
    return {
        "bench": "loss",
        "loss": loss,
        "window_s": window,
        "links": " ".join(LINKS),
        "trials": trials,
        "false_failovers": failed_over,
        "trials_with_role_changes": changed,
        "unsafe_trials": bad,
        "chunks_under_loss": chunks,
        "chunks_delayed_fraction": round(delayed / chunks, 3) if chunks else None,
        "connects_under_loss": conns,
        "connects_delayed_fraction": round(conn_delayed / conns, 3) if conns else None,
        "role_changes": details,
        "target": "0 false failovers",
        "target_met": failed_over == 0 and bad == 0,
    }


# ---- a bare HTTP/1.1 client over TLS ---------------------------------------------------------------------
class Conn:
    """One keep-alive HTTP/1.1 connection (TLS), one request at a time."""

    def __init__(self, port: int, ctx: ssl.SSLContext) -> None:
        self.port = port
        self.ctx = ctx
        self.r: asyncio.StreamReader | None = None
        self.w: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str = "", body: bytes = b"") -> tuple[int, bytes]:
        if self.w is None:
            self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port, ssl=self.ctx)
        assert self.r is not None
        head = f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        if token:
            head += f"authorization: Bearer {token}\r\n"
        if body:
            head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        self.w.write(head.encode() + b"\r\n" + body)
        await self.w.drain()
        raw = await self.r.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        return status, await self.r.readexactly(length)

    async def close(self) -> None:
        if self.w is not None:
            self.w.close()
            with contextlib.suppress(Exception):
                await self.w.wait_closed()
        self.r = self.w = None


@functools.cache
def lab_fingerprint() -> str:
    """The configuration fingerprint of the pairs ``witness_process`` serves (the lab timings)."""
    from quorum.core import QuorumConfig
    from quorum.live.lab import LAB_TIMINGS

    return QuorumConfig(**LAB_TIMINGS).fingerprint()


def heartbeat_body(pair: str, site: str, seq: int) -> bytes:
    req = {
        "config": lab_fingerprint(),
        "site": site,
        "seq": seq,
        "sent_at": time.monotonic(),
        "want": "report",
        "epoch": 1,
        "role": "mirrored",
        "current": True,
    }
    return json.dumps({"pair": pair, "request": req}, separators=(",", ":")).encode()


# ---- a witness process to measure --------------------------------------------------------------------
@contextlib.contextmanager
def witness_process(
    pairs: dict[str, dict[str, str]], cpu: int | None = None
) -> Iterator[tuple[int, int, ssl.SSLContext, Path]]:
    """A witness serving ``pairs`` (name -> role -> token); yields (pid, port, TLS context, workdir)."""
    import httpx

    from quorum.live.auth import hash_token
    from quorum.live.certs import init_certs
    from quorum.live.lab import LAB_TIMINGS, free_port

    with tempfile.TemporaryDirectory(prefix="quorum-bench-") as d:
        certs = init_certs(Path(d) / "certs")
        port = free_port()
        cfg = {
            "port": port,
            "db": f"{d}/w.db",
            "tls": {"cert": str(certs["server"]), "key": str(certs["server_key"])},
            "pairs": {
                name: {"quorum": LAB_TIMINGS, "tokens": {role: hash_token(t) for role, t in toks.items()}}
                for name, toks in pairs.items()
            },
        }
        Path(d, "w.yaml").write_text(json.dumps(cfg))  # JSON is YAML; JSON parses faster
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        with open(Path(d, "w.log"), "wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "quorum.cli", "witness", "serve", "--config", f"{d}/w.yaml"],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=env,
            )
        if cpu is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(proc.pid, {cpu})
        ctx = ssl.create_default_context(cafile=str(certs["ca"]))
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(f"https://127.0.0.1:{port}/readyz", verify=ctx, timeout=2, trust_env=False)
                    break
                except httpx.HTTPError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(Path(d, "w.log").read_text()[-2000:]) from None
                    time.sleep(0.1)
            yield proc.pid, port, ctx, Path(d)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (psutil if installed, else /proc/PID/status VmRSS)."""
    try:
        psutil: Any = importlib.import_module("psutil")
        return int(psutil.Process(pid).memory_info().rss) // 1024
    except ImportError:
        pass
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


# ---- throughput: heartbeats/s beside a bare endpoint -------------------------------------------------------
def throughput(
    seconds: float = 5.0, concurrency: int = 16, rounds: int = 3, cpu: int | None = None
) -> dict[str, Any]:
    """Heartbeats/s answered by one witness process (one uvicorn worker: one event-loop thread, so at
    most one core; pinned to core ``cpu`` if given) beside its bare ``/v1/ping``, alternating
    ``rounds`` rounds of ``seconds`` each. Also the witness's and the client's CPU use in each phase
    (witness near 1.0: the witness, not the client, is the bottleneck) and the requests per CPU-second
    of the witness, the same ratio with CPU contention (the client, other jobs) taken out."""
    from quorum.live.auth import new_token

    tok = new_token()
    with witness_process({"p": {"A": tok}}, cpu=cpu) as (pid, port, ctx, _):

        async def load(heartbeat: bool) -> tuple[int, float, float, float]:
            conns = [Conn(port, ctx) for _ in range(concurrency)]
            done = 0
            seq = 0
            for c in conns:  # connect (TLS handshakes) before the clock starts
                await c.request("GET", "/healthz")

            async def worker(c: Conn) -> None:
                nonlocal done, seq
                while time.monotonic() < end:
                    seq += 1
                    if heartbeat:
                        st, _ = await c.request("POST", "/v1/heartbeat", tok, heartbeat_body("p", "A", seq))
                    else:
                        st, _ = await c.request("GET", "/v1/ping")
                    if st != 200:
                        raise RuntimeError(f"witness answered {st}")
                    done += 1

            cpu0, mine0, t0 = cpu_seconds(pid), time.process_time(), time.monotonic()
            end = t0 + seconds
            await asyncio.gather(*(worker(c) for c in conns))
            dt = time.monotonic() - t0
            used, mine = cpu_seconds(pid) - cpu0, time.process_time() - mine0
            for c in conns:
                await c.close()
            return done, dt, used, mine

        n = {True: 0, False: 0}
        t = {True: 0.0, False: 0.0}
        wcpu = {True: 0.0, False: 0.0}
        ccpu = {True: 0.0, False: 0.0}
        for _ in range(rounds):
            for hb_phase in (False, True):
                k, dt, used, mine = asyncio.run(load(hb_phase))
                n[hb_phase] += k
                t[hb_phase] += dt
                wcpu[hb_phase] += used
                ccpu[hb_phase] += mine
    bare, hb = n[False] / t[False], n[True] / t[True]
    # per CPU-second of the witness: the same comparison with CPU contention taken out
    bare_c, hb_c = n[False] / max(wcpu[False], 1e-9), n[True] / max(wcpu[True], 1e-9)
    return {
        "bench": "throughput",
        "bare_rps": round(bare, 1),
        "heartbeat_rps": round(hb, 1),
        "ratio": round(hb / bare, 3),
        "witness_cpu_bare": round(wcpu[False] / t[False], 2),
        "witness_cpu_heartbeat": round(wcpu[True] / t[True], 2),
        "client_cpu_bare": round(ccpu[False] / t[False], 2),
        "client_cpu_heartbeat": round(ccpu[True] / t[True], 2),
        "bare_per_witness_cpu_s": round(bare_c, 1),
        "heartbeat_per_witness_cpu_s": round(hb_c, 1),
        "ratio_per_witness_cpu_s": round(hb_c / bare_c, 3),
        "seconds_each": seconds * rounds,
        "pinned_cpu": cpu,
        "concurrency": concurrency,
        "target": "ratio >= 0.5",
        "target_met": hb / bare >= 0.5,
    }


# ---- memory: 1,000 pairs for 10 minutes -----------------------------------------------------------------
def memory(
    pairs: int = 1000,
    duration: float = 600.0,
    interval: float = 0.2,
    sample_every: float = 60.0,
    warmup: float = 30.0,
    connections: int = 32,
    reconnect_every: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """RSS of one witness serving ``pairs`` pairs fed heartbeats for ``duration`` seconds.

    Each round sends one heartbeat for both sites of every pair; a round starts ``interval`` after
    the previous one started, or when it is done if it took longer (no backlog builds up). Each of the
    ``connections`` keep-alive connections is reopened every ``reconnect_every`` requests, so
    connection set-up and tear-down are exercised too. The start sample is taken after ``warmup``
    seconds (every token verified once, every site seen).
    """
    from quorum.live.auth import new_token

    say = progress or (lambda s: None)
    toks = {f"p{i:04d}": {"A": new_token(), "B": new_token()} for i in range(pairs)}
    sites = [(name, s, t[s]) for name, t in toks.items() for s in ("A", "B")]
    with witness_process(toks) as (pid, port, ctx, workdir):
        samples: list[dict[str, Any]] = []
        counts = {"heartbeats": 0, "errors": 0, "rounds": 0}

        async def run() -> dict[str, Any]:
            queue: asyncio.Queue[tuple[str, str, str] | None] = asyncio.Queue()
            seqs = dict.fromkeys(((p, s) for p, s, _ in sites), 0)

            async def worker() -> None:
                c = Conn(port, ctx)
                n = 0
                while (item := await queue.get()) is not None:
                    pair, site, tok = item
                    seqs[(pair, site)] += 1
                    try:
                        st, _ = await c.request(
                            "POST", "/v1/heartbeat", tok, heartbeat_body(pair, site, seqs[(pair, site)])
                        )
                        counts["heartbeats"] += 1
                        counts["errors"] += int(st != 200)
                    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                        counts["errors"] += 1
                        await c.close()
                    finally:
                        queue.task_done()  # even on a surprise, so the round's join() never hangs
                    n += 1
                    if n % reconnect_every == 0:
                        await c.close()
                queue.task_done()
                await c.close()

            workers = [asyncio.create_task(worker()) for _ in range(connections)]
            t_start = time.monotonic()
            measure_from = t_start + warmup
            stop_at = measure_from + duration
            next_sample = measure_from
            measured = {"heartbeats": 0, "t": 0.0, "cpu": 0.0}
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    kib = rss_kib(pid)
                    elapsed = round(now - measure_from, 1)
                    samples.append({"t_s": elapsed, "rss_mib": round(kib / 1024, 1)})
                    if not measured["t"]:
                        measured = {"heartbeats": counts["heartbeats"], "t": now, "cpu": cpu_seconds(pid)}
                    say(
                        f"memory: t={elapsed:6.1f}s rss={kib / 1024:.1f} MiB heartbeats={counts['heartbeats']}"
                    )
                    if now >= stop_at:
                        break
                    next_sample = min(next_sample + sample_every, stop_at)
                round_start = now
                for item in sites:
                    queue.put_nowait(item)
                await queue.join()
                counts["rounds"] += 1
                await asyncio.sleep(max(0.0, min(round_start + interval, next_sample) - time.monotonic()))
            for _ in workers:
                queue.put_nowait(None)
            await asyncio.gather(*workers)
            hb = counts["heartbeats"] - measured["heartbeats"]
            return {
                "measured_heartbeats": hb,
                "measured_s": time.monotonic() - measured["t"],
                "witness_cpu_s": cpu_seconds(pid) - measured["cpu"],
            }

        res = asyncio.run(run())
        db_mib = sum(f.stat().st_size for f in workdir.glob("w.db*")) / 2**20
    start, end = samples[0]["rss_mib"], samples[-1]["rss_mib"]
    rate = res["measured_heartbeats"] / res["measured_s"]
    ratio = end / start
    return {
        "bench": "memory",
        "pairs": pairs,
        "sites": 2 * pairs,
        "duration_s": duration,
        "rss_start_mib": start,
        "rss_end_mib": end,
        "rss_max_mib": max(s["rss_mib"] for s in samples),
        "ratio_end_start": round(ratio, 3),
        "samples": samples,
        "heartbeats": counts["heartbeats"],
        "errors": counts["errors"],
        "achieved_hb_per_s": round(rate, 1),
        "wanted_hb_per_s": round(2 * pairs / interval, 1),
        "achieved_interval_per_site_s": round(2 * pairs / rate, 3) if rate else None,
        "witness_cpu": round(res["witness_cpu_s"] / res["measured_s"], 2),
        "db_on_disk_mib": round(db_mib, 2),
        "target": "rss end within 10% of start",
        "target_met": abs(ratio - 1.0) <= 0.10 and counts["errors"] == 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m quorum.live.bench", description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--loss", type=float, metavar="P", help="false failovers under packet loss P (0.2)")
    mode.add_argument("--throughput", action="store_true", help="witness heartbeats/s beside a bare endpoint")
    mode.add_argument("--memory", action="store_true", help="witness RSS serving --pairs for --duration")
    mode.add_argument(
        "--pg-throughput", action="store_true", help="PostgreSQL commits/s mirrored vs alone (--seconds each)"
    )
    ap.add_argument("--storage", choices=["stand-in", "postgres"], default="stand-in", help="failover mode")
    ap.add_argument("--writers", type=int, default=1, help="--pg-throughput: writers (1)")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--fault", default="kill-serving", help="failover mode: the lab fault (kill-serving)")
    ap.add_argument("--window", type=float, default=15.0, help="--loss: seconds of loss per trial (15)")
    ap.add_argument("--seed", type=int, default=1, help="--loss: seed of the first trial (1)")
    ap.add_argument("--seconds", type=float, default=5.0, help="--throughput: seconds per round (5)")
    ap.add_argument("--cpu", type=int, help="--throughput: pin the witness to this core")
    ap.add_argument("--pairs", type=int, default=1000, help="--memory: site pairs (1000)")
    ap.add_argument("--duration", type=float, default=600.0, help="--memory: seconds measured (600)")
    ap.add_argument("--warmup", type=float, default=30.0, help="--memory: seconds before the first sample")
    ap.add_argument("--sample-every", type=float, default=60.0, help="--memory: seconds between samples")
    args = ap.parse_args()
    if args.loss is not None:
        if not 0.0 < args.loss < 1.0:
            ap.error("--loss must be in (0, 1)")
        out = lossy(args.trials, args.loss, args.window, args.seed)
    elif args.throughput:
        out = throughput(args.seconds, cpu=args.cpu)
    elif args.pg_throughput:
        out = pg_throughput(args.seconds, args.writers)
    elif args.memory:
        out = memory(
            args.pairs,
            args.duration,
            warmup=args.warmup,
            sample_every=args.sample_every,
            progress=lambda s: print(s, file=sys.stderr, flush=True),
        )
    elif args.storage == "postgres":
        out = pg_failover(args.trials, args.fault)
    else:
        out = failover(args.trials, args.fault)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
