"""Issue 8: end-to-end throughput of the start → task → gateway → task → end workload over HTTP on
SQLite and on PostgreSQL with 1, 2 and 4 gunicorn workers, each as a ratio to the raw engine
(plain SpiffWorkflow: parse once, deserialize → run → serialize per step), all in one run.

    python bench/http_scaling.py [--n 150] [--clients 4] [--database postgresql://postgres@127.0.0.1:5432/postgres]

The raw baseline is measured once at the start and once at the end (the mean is used), so load
from other programs shows up as a difference between the two. See http_throughput.py for the
workload and the checks (every instance completed/approved, none left running).
Exit status: 0 every run correct, 1 otherwise (ratios are figures, not pass/fail).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import http_throughput as ht  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--database", default=os.environ.get("BENCH_POSTGRES_URL",
                                                          "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args(argv)
    common.exit_on_sigterm()
    print(f"== HTTP throughput: SQLite and PostgreSQL × gunicorn workers ({common.machine()}) ==")
    print(common.load_average() + " at start")
    before, _, cpu = ht.raw_baseline(300, spec_less=False, time_budget=30)
    print(f"raw/stock SpiffWorkflow: {before:.1f} instances/s (CPU {cpu:.2f} ms/instance)")
    runs = [("SQLite", None, 2)] + [("PostgreSQL", args.database, w) for w in (1, 2, 4)]
    results = []
    ok = True
    for label, server, workers in runs:
        r = ht.http_run(args.n, args.clients, workers, "gunicorn", 2 * args.clients, 120, 1, server)
        correct = (not r["errors"] and r["done"] == args.n and r["running_total"] == 0
                   and r["outcomes"] == {"completed/approved": r["expected"]})
        ok = ok and correct
        results.append((label, workers, r, correct))
        print(f"  {label:<10} {workers} worker(s): {r['rate']:6.1f} instances/s ({3 * r['rate']:.0f} req/s), "
              f"server CPU {r['server_cpu_ms']:.1f} ms/instance, "
              f"p95 start/submit/review {common.percentile(r['latencies']['start'], 95) * 1000:.0f}/"
              f"{common.percentile(r['latencies']['submit'], 95) * 1000:.0f}/"
              f"{common.percentile(r['latencies']['review'], 95) * 1000:.0f} ms "
              f"{'OK' if correct else 'WRONG: ' + '; '.join(r['errors'][:2])}")
    after, _, _ = ht.raw_baseline(300, spec_less=False, time_budget=30)
    raw = (before + after) / 2
    print(f"raw/stock again: {after:.1f} instances/s; using the mean {raw:.1f}")
    print(f"{'database':<11}{'workers':>8}{'inst/s':>9}{'ratio to raw':>14}")
    for label, workers, r, _ in results:
        print(f"{label:<11}{workers:>8}{r['rate']:>9.1f}{r['rate'] / raw:>14.2f}")
    print(common.load_average() + " at end")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
