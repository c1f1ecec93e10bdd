"""Run every benchmark with its defaults (what `make bench` does) and print their figures.

    python bench/run_all.py [--quick]

Each benchmark runs in its own process with a time limit; the whole run takes about 25–35 minutes
on a 2-core machine. Exit status: 0 if every benchmark ran correctly (targets met or not: see the
summary), 1 if one failed, gave wrong results or timed out.
`--quick` uses smaller sizes (a smoke run in about a minute).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "http_throughput": (["--n", "600", "--rounds", "6", "--clients", "4", "--workers", "2"],
                        ["--n", "60", "--rounds", "2", "--baseline-n", "60", "--round-baseline-n", "30"], 300),
    "instructions": (["--small", "10", "--large", "40"], ["--small", "1", "--large", "2", "--no-http"], 2400),
    "inbox_query": (["--sizes", "1000,100000", "--reps", "200"], ["--sizes", "1000,10000", "--reps", "50"], 200),
    "inbox_page": (["--open", "5000", "--others", "20000", "--reps", "100"],
                   ["--open", "1000", "--others", "2000", "--reps", "20"], 200),
    "tracking_pages": (["--instances", "50000", "--reps", "20"], ["--instances", "3000", "--reps", "5"], 400),
    "http_scaling": (["--n", "150"], ["--n", "30"], 900),
    "campaign_launch": (["--branches", "1000"], ["--branches", "200"], 200),
    "timer_backlog": (["--timers", "10000"], ["--timers", "500"], 1800),
    "step_cost": (["--steps", "100", "--cases", "50"], ["--steps", "30", "--cases", "5"], 600),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark")
    args = ap.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    results: dict[str, str] = {}
    started = time.monotonic()
    for name, (full, quick, limit) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        cmd = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)]
        print(f"\n$ {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}", flush=True)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=env)
        try:
            code = proc.wait(timeout=limit)
            status = {0: "ok: target met", 2: "ran correctly, target MISSED"}.get(code, f"FAILED (exit {code})")
        except subprocess.TimeoutExpired:
            proc.terminate()  # the benchmark stops its server on SIGTERM
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            status = f"timed out after {limit}s"
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=20)
            raise
        results[name] = f"{status}, {time.monotonic() - t0:.0f}s"
    print("\n== summary ==")
    for name, status in results.items():
        print(f"  {name:<16} {status}")
    print(f"  total {time.monotonic() - started:.0f}s")
    # figures, not tests: a missed target is reported above; only a broken run fails the command
    return 0 if all(s.startswith(("ok", "ran correctly")) for s in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
