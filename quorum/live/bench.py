"""Failover time after kill -9 of the serving agent, over N lab trials (``python -m quorum.live.bench``).

Each trial is a fresh lab (``quorum.live.lab``) with the lab timings (heartbeat 0.2 s, lease 2 s).
Prints one JSON object: trials, p50, p99, max, and any trial with split brain or stale writes.
"""

from __future__ import annotations

import argparse
import json
import statistics

from quorum.live.lab import run_lab


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m quorum.live.bench")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--fault", default="kill-serving")
    args = ap.parse_args()
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
