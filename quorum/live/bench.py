"""Failover time after kill -9 of the serving agent, over N lab trials (``python -m quorum.live.bench``).

Each trial is a fresh lab (``quorum.live.lab``) with the lab timings (heartbeat 0.2 s, lease 2 s).
Prints one JSON object: trials, p50, p99, max, and any trial with split brain or stale writes.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from quorum.live.lab import run_lab


def throughput(seconds: float = 5.0, concurrency: int = 16) -> dict[str, Any]:
    """Heartbeats/s answered by one witness process (one uvicorn worker) beside its bare ``/v1/ping``."""
    import asyncio
    import ssl
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    import httpx
    import yaml

    from quorum.live.auth import hash_token, new_token
    from quorum.live.certs import init_certs
    from quorum.live.lab import LAB_TIMINGS, free_port

    with tempfile.TemporaryDirectory(prefix="quorum-bench-") as d:
        certs = init_certs(Path(d) / "certs")
        tok = new_token()
        port = free_port()
        cfg = {
            "port": port,
            "db": f"{d}/w.db",
            "tls": {"cert": str(certs["server"]), "key": str(certs["server_key"])},
            "pairs": {"p": {"quorum": LAB_TIMINGS, "tokens": {"A": hash_token(tok)}}},
        }
        Path(d, "w.yaml").write_text(yaml.safe_dump(cfg))
        proc = subprocess.Popen(
            [sys.executable, "-m", "quorum.cli", "witness", "serve", "--config", f"{d}/w.yaml"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ctx = ssl.create_default_context(cafile=str(certs["ca"]))
        url = f"https://127.0.0.1:{port}"

        async def load(path: str, heartbeat: bool) -> float:
            seq = 0
            done = 0
            async with httpx.AsyncClient(
                base_url=url, verify=ctx, headers={"authorization": f"Bearer {tok}"}, timeout=10
            ) as c:
                end = time.monotonic() + seconds

                async def worker() -> None:
                    nonlocal seq, done
                    while time.monotonic() < end:
                        seq += 1
                        if heartbeat:
                            body = {
                                "pair": "p",
                                "request": {
                                    "site": "A",
                                    "seq": seq,
                                    "sent_at": time.monotonic(),
                                    "want": "report",
                                    "epoch": 1,
                                    "role": "mirrored",
                                    "current": True,
                                },
                            }
                            r = await c.post(path, json=body)
                        else:
                            r = await c.get(path)
                        r.raise_for_status()
                        done += 1

                t = time.monotonic()
                await asyncio.gather(*(worker() for _ in range(concurrency)))
                return done / (time.monotonic() - t)

        try:
            for _ in range(200):
                try:
                    httpx.get(f"{url}/readyz", verify=ctx, timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            bare = asyncio.run(load("/v1/ping", False))
            hb = asyncio.run(load("/v1/heartbeat", True))
        finally:
            proc.terminate()
            proc.wait(10)
    return {"bare_rps": round(bare, 1), "heartbeat_rps": round(hb, 1), "ratio": round(hb / bare, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m quorum.live.bench")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--fault", default="kill-serving")
    ap.add_argument("--throughput", action="store_true", help="witness heartbeats/s beside a bare endpoint")
    args = ap.parse_args()
    if args.throughput:
        print(json.dumps(throughput()))
        return
    times: list[float] = []
    bad = 0
    for _ in range(args.trials):
        r = run_lab(args.fault, verbose=False)
        if r["failover_s"] is not None:
            times.append(float(r["failover_s"]))
        bad += int(r["split_brain"] or r["stale_writes_accepted"] > 0 or r["replay_differences"] > 0)
    times.sort()
    out = {
        "fault": args.fault,
        "trials": args.trials,
        "failovers": len(times),
        "p50_s": round(statistics.median(times), 3) if times else None,
        "p99_s": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3) if times else None,
        "max_s": times[-1] if times else None,
        "unsafe_trials": bad,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
