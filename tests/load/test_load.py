"""Load and faults against the production shape: gunicorn (2 processes) and timer workers on PostgreSQL.

Figures are printed with the prefix [load]. Sizes: LOAD_USERS (50), LOAD_SECONDS (60), LOAD_TIMERS (1000)."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from load_support import (
    TIMER_BRANCH,
    Cluster,
    Tally,
    Web,
    Worker,
    app_env,
    consistency,
    percentile,
    report,
    run_users,
    start_due_cases,
    wait_for,
)

pytestmark = pytest.mark.load

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
LOAD_TIMERS = int(os.environ.get("LOAD_TIMERS", "1000"))


def _metric_sum(web: Web, name: str) -> float:
    total = 0.0
    for line in web.get("/metrics").text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_users_complete_tasks_exactly_once_while_processes_crash(load_db: dict, tmp_path: Path) -> None:
    env = app_env(load_db["url"], tmp_path)
    web, workers = Web(env, tmp_path), [Worker(env, tmp_path, "a")]
    since = datetime.now(UTC)
    tally, faults = Tally(), []

    def inject(elapsed: float) -> None:
        if not faults and elapsed > LOAD_SECONDS * 0.3:
            victim = web.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)  # a gunicorn worker dies mid-request; the master replaces it
            faults.append(f"gunicorn worker {victim}")
        elif len(faults) == 1 and elapsed > LOAD_SECONDS * 0.6:
            workers[0].kill()
            workers.append(Worker(env, tmp_path, "b"))
            faults.append("timer worker")

    try:
        wall = run_users(web.base, load_db["users"], LOAD_SECONDS, tally, during=inject)
        assert len(faults) == 2, faults
        assert len(web.worker_pids()) == 2, "gunicorn did not replace its killed worker"
        assert web.get("/readyz").status_code == 200
        checked = consistency(load_db["url"], tally, since)
        completed_metric = _metric_sum(web, "bpm_tasks_completed_total")
    finally:
        for worker in workers:
            worker.stop()
        web.stop()
    report(f"{len(load_db['users'])} users for {LOAD_SECONDS:.0f}s with kill -9 of {', '.join(faults)}", tally,
           wall, {**checked, "bpm_tasks_completed_total": completed_metric})
    assert tally.server_errors == 0, tally.statuses
    assert checked["completions"] > 0
    assert set(tally.statuses) <= {200, 201, 409}, tally.statuses


def test_workers_race_over_due_timers_and_survive_a_kill(load_db: dict, tmp_path: Path) -> None:
    ids = start_due_cases(load_db["url"], LOAD_TIMERS)
    env = app_env(load_db["url"], tmp_path)
    engine = sa.create_engine(load_db["url"])

    def due() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM instance WHERE status = 'running' AND "
                                        "next_timer_at <= now() AND subject = :b"), {"b": TIMER_BRANCH}).scalar()

    began, began_at = time.monotonic(), datetime.now(UTC)
    workers = [Worker(env, tmp_path, "race-1"), Worker(env, tmp_path, "race-2")]
    try:
        wait_for(lambda: _alive(workers) and due() < LOAD_TIMERS * 0.7, 120, "the workers fired nothing")
        workers[0].kill()  # mid-run: its current case's transaction is rolled back by PostgreSQL
        workers.append(Worker(env, tmp_path, "race-3"))
        wait_for(lambda: due() == 0, 180, "due timers were left unfired")
        seconds = time.monotonic() - began
        with engine.connect() as conn:
            fired = dict(conn.execute(sa.text(
                "SELECT instance_id, count(*) FROM notification WHERE kind = 'overdue' AND instance_id = ANY(:ids) "
                "GROUP BY instance_id"), {"ids": ids}).all())
            # the timers were due before the workers started: lateness counts from their start
            lateness = [float(row[0]) for row in conn.execute(sa.text(
                "SELECT extract(epoch FROM n.created_at - :began) FROM notification n "
                "WHERE n.kind = 'overdue' AND n.instance_id = ANY(:ids)"), {"ids": ids, "began": began_at})]
            pending = conn.execute(sa.text("SELECT count(*) FROM instance WHERE id = ANY(:ids) AND "
                                           "next_timer_at <= now()"), {"ids": ids}).scalar()
    finally:
        for worker in workers:
            worker.stop()
        engine.dispose()
    logs = " ".join(w.log_path.read_text() for w in workers)
    print(f"\n[load] {LOAD_TIMERS} due timers, 2 racing workers (one killed -9, one started): fired "
          f"{len(fired)} in {seconds:.1f}s ({len(fired) / seconds:.0f}/s), duplicates "
          f"{sum(1 for n in fired.values() if n > 1)}, timer lateness after the workers' start: p50 "
          f"{percentile(lateness, 0.5):.1f}s, p95 {percentile(lateness, 0.95):.1f}s", flush=True)
    assert pending == 0
    assert set(fired) == set(ids), f"{len(set(ids) - set(fired))} timers never fired"
    assert all(n == 1 for n in fired.values()), "a timer fired twice"
    assert "fired" in logs


def test_database_restart_fails_loudly_and_recovers(load_db: dict, cluster: Cluster, tmp_path: Path) -> None:
    env = app_env(load_db["url"], tmp_path)
    web, worker = Web(env, tmp_path), Worker(env, tmp_path, "restart")
    since = datetime.now(UTC)
    seen: dict[str, set[int]] = {"down": set(), "healthz_down": set()}
    tally = Tally()
    phases: list[str] = []

    def inject(elapsed: float) -> None:
        if not phases and elapsed > 3:
            cluster.stop("fast")
            phases.append("down")
        elif phases == ["down"]:
            seen["down"].add(web.get("/readyz").status_code)
            seen["healthz_down"].add(web.get("/healthz").status_code)
            if elapsed > 7:
                cluster.start()
                phases.append("up")

    try:
        run_users(web.base, load_db["users"][:10], 10, tally, during=inject)
        wait_for(lambda: web.get("/readyz").status_code == 200, 30, "the service did not become ready again")
        after = Tally()
        wall = run_users(web.base, load_db["users"], min(LOAD_SECONDS, 8), after)
        ids = start_due_cases(load_db["url"], 5)
        engine = sa.create_engine(load_db["url"])
        try:
            wait_for(lambda: _fired(engine, ids), 30, "the worker did not recover")
        finally:
            engine.dispose()
        assert worker.process.poll() is None, "the worker died with the database"
        checked = consistency(load_db["url"], _merged(tally, after), since)
    finally:
        worker.stop()
        web.stop()
    report("after a PostgreSQL restart", after, wall, checked)
    print(f"[load] while PostgreSQL was down: /readyz {sorted(seen['down'])}, /healthz {sorted(seen['healthz_down'])}, "
          f"5xx {tally.server_errors}, connection errors {tally.connection_errors}", flush=True)
    assert seen["down"] == {503}
    assert seen["healthz_down"] == {200}
    assert tally.server_errors > 0, "requests during the outage should fail with 5xx"
    assert after.server_errors == 0, after.statuses


def _alive(workers: list[Worker]) -> bool:
    for worker in workers:
        assert worker.process.poll() is None, worker.log_path.read_text()[-2000:]
    return True


def _fired(engine: sa.Engine, ids: list[int]) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM instance WHERE id = ANY(:ids) AND next_timer_at <= now()"),
                            {"ids": ids}).scalar() == 0


def _merged(first: Tally, second: Tally) -> Tally:
    merged = Tally()
    for tally in (first, second):
        merged.completed_ok += tally.completed_ok
        merged.completion_lost += tally.completion_lost
    return merged


