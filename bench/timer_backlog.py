"""Issue 8: 10,000 pending timers all due — time until every one has fired with 1 and with 2 worker
processes, and the lateness p95 of timers that come due once the backlog is drained (target < 1 s).

Workload: tests/data/bpmn/wait_timer.bpmn (start → timer "PT1H" → script → end), one case per
League branch-like unit. The backlog is created with the service clock moved back two hours, so
every timer is an hour overdue when the workers start. Workers are real `flask --app service
worker` processes (poll interval 0.2 s when idle). Then, with the workers still running, a second
set of cases is created whose timers come due one by one over the next ~10 s; their lateness is
completed_at − due time.

Exactly once: every case must be completed, with exactly one `instance_completed` audit event each
(a timer fired twice would complete a case twice, or fail its commit).

    python bench/timer_backlog.py [--timers 10000] [--database postgresql://postgres@127.0.0.1:5432/postgres]

SQLite runs 1 worker (one writer); PostgreSQL runs 1 and then 2 workers, each on a fresh backlog.
Exit status: 0 target met, 2 target missed, 1 wrong result.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

WAIT = timedelta(hours=1)  # the timer in wait_timer.bpmn
TARGET_LATENESS_S = 1.0
LIVE_TIMERS = 100


def _start_cases(app, count: int, started_at) -> None:  # type: ignore[no-untyped-def]
    """`count` cases, started at the times `started_at(i)` gives (service clock moved per case)."""
    from service import clock
    from service.extensions import db
    from service.instances.operations import start_instance

    with app.app_context():
        for i in range(count):
            with clock.frozen_at(started_at(i)):
                start_instance(None, "wait_timer", f"TZB-{i % 50:03d}")
            if i % 500 == 499:
                db.session.commit()
        db.session.commit()


def _counts(url: str) -> tuple[int, int, int, int]:
    """(cases, completed, instance_completed events, instances with more than one such event)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            total = c.execute(sa.text("SELECT count(*) FROM instance")).scalar_one()
            done = c.execute(sa.text("SELECT count(*) FROM instance WHERE status = 'completed'")).scalar_one()
            events = c.execute(sa.text("SELECT count(*) FROM audit_event WHERE action = 'instance_completed'"))\
                .scalar_one()
            doubles = c.execute(sa.text(
                "SELECT count(*) FROM (SELECT instance_id FROM audit_event WHERE action = 'instance_completed' "
                "GROUP BY instance_id HAVING count(*) > 1) d")).scalar_one()
        return total, done, events, doubles
    finally:
        engine.dispose()


def _lateness(url: str, first_id: int) -> list[float]:
    import sqlalchemy as sa

    from service.clock import as_utc

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(sa.text("SELECT started_at, completed_at FROM instance WHERE id >= :first"),
                             {"first": first_id}).all()
    finally:
        engine.dispose()
    out = []
    for started, completed in rows:
        started = as_utc(started if isinstance(started, datetime) else datetime.fromisoformat(started))
        completed = as_utc(completed if isinstance(completed, datetime) else datetime.fromisoformat(completed))
        out.append((completed - (started + WAIT)).total_seconds())
    return out


def _workers(url: str, n: int, log: Path) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=common.SECRET_KEY, BPMN_DIR=str(common.BPMN_DIR),
               FORMS_DIR=str(common.FORMS_DIR), PYTHONUNBUFFERED="1")
    flask = Path(sys.executable).parent / "flask"
    handle = log.open("ab")
    return [subprocess.Popen([str(flask), "--app", "service", "worker", "--interval", "0.2"], cwd=common.ROOT,
                             env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
            for _ in range(n)]


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def run(server: str | None, timers: int, workers: int) -> dict[str, float] | None:
    url = common.fresh_database("timers", server=server)
    log = Path(f"/tmp/bench-timers-{os.getpid()}.log")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        app = common.make_app(url)
        common.migrate(app)
        common.seed_org(app, league_branches=50, members=1)
        from service.extensions import db
        from service.modeler.operations import deploy_bpmn

        with app.app_context():
            deploy_bpmn((common.BPMN_DIR / "wait_timer.bpmn").read_bytes(), filename="wait_timer.bpmn")
            db.session.commit()
        t0 = time.perf_counter()
        past = datetime.now(UTC) - 2 * WAIT
        _start_cases(app, timers, lambda i: past)
        setup = time.perf_counter() - t0
        procs = _workers(url, workers, log)
        start = time.perf_counter()
        deadline = start + 600
        while time.perf_counter() < deadline:
            _, done, _, _ = _counts(url)
            if done >= timers:
                break
            if any(p.poll() is not None for p in procs):
                print("a worker exited:\n" + log.read_text(errors="replace")[-2000:])
                return None
            time.sleep(0.25)
        drained = time.perf_counter() - start
        # timers coming due one by one while the workers idle-poll
        with app.app_context():
            first_live = db.session.execute(db.text("SELECT coalesce(max(id), 0) + 1 FROM instance")).scalar_one()
        base = datetime.now(UTC) - WAIT + timedelta(seconds=2)
        _start_cases(app, LIVE_TIMERS, lambda i: base + timedelta(seconds=10 * i / LIVE_TIMERS))
        live_deadline = time.perf_counter() + 60
        while time.perf_counter() < live_deadline:
            _, done, _, _ = _counts(url)
            if done >= timers + LIVE_TIMERS:
                break
            time.sleep(0.25)
        total, done, events, doubles = _counts(url)
        late = _lateness(url, first_live)
        return {"setup": setup, "drained": drained, "total": total, "done": done, "events": events,
                "doubles": doubles, "late_p50": common.percentile(late, 50), "late_p95": common.percentile(late, 95),
                "late_max": max(late) if late else float("nan")}
    finally:
        _stop(procs)
        common.remove_database(url)
        if log.exists():
            log.unlink()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timers", type=int, default=10000)
    ap.add_argument("--database", default=os.environ.get("BENCH_POSTGRES_URL",
                                                          "postgresql://postgres@127.0.0.1:5432/postgres"),
                    help="PostgreSQL server for the 1- and 2-worker runs ('' to skip)")
    ap.add_argument("--skip-sqlite", action="store_true")
    args = ap.parse_args(argv)
    common.exit_on_sigterm()
    print(f"== {args.timers} due timers, then {LIVE_TIMERS} coming due live ({common.machine()}) ==")
    print(common.load_average() + " at start")
    runs = [] if args.skip_sqlite else [("SQLite", None, 1)]
    if args.database:
        runs += [("PostgreSQL", args.database, 1), ("PostgreSQL", args.database, 2)]
    ok, met = True, True
    for label, server, workers in runs:
        r = run(server, args.timers, workers)
        if r is None:
            ok = False
            continue
        correct = r["done"] == r["total"] == args.timers + LIVE_TIMERS and r["events"] == r["done"] and not r["doubles"]
        ok = ok and correct
        met = met and r["late_p95"] < TARGET_LATENESS_S
        print(f"{label:<10} {workers} worker(s): backlog of {args.timers} fired in {r['drained']:6.1f} s "
              f"({args.timers / r['drained']:6.0f} timers/s; set-up {r['setup']:.0f} s) | live timers lateness "
              f"p50 {r['late_p50']:.2f} s p95 {r['late_p95']:.2f} s max {r['late_max']:.2f} s | "
              f"exactly once: {r['events']} completions for {r['total']} cases, {r['doubles']} doubled "
              f"{'OK' if correct else 'WRONG'}")
    print(f"target: lateness p95 < {TARGET_LATENESS_S:.0f} s once the backlog is drained: {'OK' if met else 'MISSED'}")
    print(common.load_average() + " at end")
    if not ok:
        return 1
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main())
