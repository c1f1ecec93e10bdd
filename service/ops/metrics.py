"""Prometheus metrics at /metrics.

With PROMETHEUS_MULTIPROC_DIR set (service/gunicorn_conf.py sets it for several gunicorn processes)
each process writes its values to files there and /metrics adds them up; otherwise the process's own
registry is served. Queue depths are not kept in memory: they are read from the database per scrape,
so every process (and every host) reports the same truth."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from service import clock

if _multiproc_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(_multiproc_dir, exist_ok=True)  # a worker process may be the first on this host

REQUESTS = Counter("bpm_http_requests_total", "HTTP requests by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("bpm_http_request_duration_seconds", "HTTP request latency", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
TASKS_COMPLETED = Counter("bpm_tasks_completed_total", "Human tasks completed (committed)", ["process"])
TIMERS_FIRED = Counter("bpm_timers_fired_total", "Cases whose due timers fired (committed)")
TIMER_LATENESS = Histogram("bpm_timer_lateness_seconds", "Seconds between a timer's due time and its firing",
                           buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600))
JOB_FAILURES = Counter("bpm_job_failures_total", "Failed background job attempts", ["kind"])

bp = Blueprint("ops_metrics", __name__)
_AFTER_COMMIT = "ops_after_commit"


# -- hooks for the operations (one line each where the work happens) -------------------------------------------
def task_completed(process_key: str) -> None:
    """Count a completion when (and only if) its transaction commits: a 409 rolls it back uncounted."""
    from service.extensions import db

    db.session.info.setdefault(_AFTER_COMMIT, []).append(lambda: TASKS_COMPLETED.labels(process_key).inc())


def timer_fired(lateness_seconds: float | None) -> None:
    TIMERS_FIRED.inc()
    if lateness_seconds is not None:
        TIMER_LATENESS.observe(lateness_seconds)


def job_failed(kind: str) -> None:
    JOB_FAILURES.labels(kind).inc()


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for count in session.info.pop(_AFTER_COMMIT, []):
        count()


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


# -- queue depths, read per scrape ----------------------------------------------------------------------------
class QueueDepths(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from service.extensions import db
        from service.instances.models import HumanTask, Instance
        from service.ops.models import JobFailure

        now = clock.now()
        due = db.session.scalar(select(func.count()).select_from(Instance).where(
            Instance.status == "running", Instance.next_timer_at.isnot(None), Instance.next_timer_at <= now))
        tasks = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready"))
        jobs = dict(db.session.execute(select(JobFailure.status, func.count()).where(
            JobFailure.status.in_(("retrying", "incident"))).group_by(JobFailure.status)).all())
        db.session.rollback()  # end the read transaction; a scrape holds nothing
        for name, text, value in (
                ("bpm_timers_due", "Cases with a due timer not yet fired", due),
                ("bpm_open_tasks", "Human tasks ready and not completed", tasks),
                ("bpm_jobs_retrying", "Failed background jobs waiting for their next attempt", jobs.get("retrying")),
                ("bpm_incidents_open", "Background jobs that used up their attempts (incidents)",
                 jobs.get("incident"))):
            yield GaugeMetricFamily(name, text, value=float(value or 0))


def _add_process_values(registry: CollectorRegistry) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry.register(_Fixed(REGISTRY.collect))


class _Fixed(Collector):
    def __init__(self, collect: Any) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Any]:
        yield from self._collect()


@bp.get("/metrics")
def metrics_page() -> Response:
    registry = CollectorRegistry()
    _add_process_values(registry)
    try:
        depths = list(QueueDepths().collect())
    except Exception:  # the database is down: the process counters still matter
        from service.extensions import db

        db.session.rollback()
        current_app.logger.warning("queue depths unavailable: database unreachable")
        depths = []
    registry.register(_Fixed(lambda: iter(depths)))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


# -- request counting -----------------------------------------------------------------------------------------
def init_metrics(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer() -> None:
        request.environ["ops.metrics_started"] = time.perf_counter()

    @app.after_request
    def _count_request(response: Any) -> Any:
        started = request.environ.get("ops.metrics_started")
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
