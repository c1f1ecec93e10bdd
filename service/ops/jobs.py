"""Bounded retries of background jobs: a failing job is recorded (attempts, error, next attempt with
backoff) instead of being retried on every poll; after JOB_MAX_ATTEMPTS it becomes an incident that
waits for an admin.

Claims: a worker claims a due case by locking its row (FOR UPDATE SKIP LOCKED) for the length of one
transaction. A worker that dies mid-job loses its connection and PostgreSQL rolls the transaction back,
which releases the claim at once; a worker that hangs keeps its connection, so its sessions carry
idle_in_transaction_session_timeout = JOB_LEASE_SECONDS: the claim is a lease that expires, and the
case is taken by the next poll of another worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, event, exists, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from service import audit
from service.extensions import db
from service.instances.models import Instance

from . import metrics
from .models import JobFailure

ERROR_TEXT_LIMIT = 4000


def max_attempts() -> int:
    return int(current_app.config.get("JOB_MAX_ATTEMPTS", 3))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: the base doubled per failure, capped."""
    base = float(current_app.config.get("JOB_RETRY_BASE_SECONDS", 30))
    cap = float(current_app.config.get("JOB_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def held_back(kind: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the case's job of this kind must not run now (an incident, or a retry that is not yet due)."""
    return exists().where(
        JobFailure.kind == kind, JobFailure.instance_id == Instance.id,
        or_(JobFailure.status == "incident",
            and_(JobFailure.status == "retrying", JobFailure.next_attempt_at > now)))


def record_failure(kind: str, instance_id: int, error: str, now: datetime) -> JobFailure:
    """Count one failed attempt; the last allowed one opens an incident. The caller commits."""
    row = db.session.scalar(select(JobFailure).where(JobFailure.kind == kind, JobFailure.instance_id == instance_id)
                            .with_for_update())
    if row is None:
        row = JobFailure(kind=kind, instance_id=instance_id, attempts=0, first_failed_at=now)
        db.session.add(row)
    elif row.status == "resolved":  # a new run of failures after an earlier one was closed
        row.attempts, row.first_failed_at, row.closed_by, row.closed_at = 0, now, None, None
    row.attempts += 1
    row.last_error = error[:ERROR_TEXT_LIMIT]
    row.last_failed_at = now
    if row.attempts >= max_attempts():
        row.status, row.next_attempt_at = "incident", None
        audit.record("incident_opened", actor_id=None, instance_id=instance_id, kind=kind, attempts=row.attempts,
                     error=row.last_error[:500])
    else:
        row.status, row.next_attempt_at = "retrying", now + backoff(row.attempts)
    metrics.job_failed(kind)
    return row


def record_success(kind: str, instance_id: int, now: datetime) -> None:
    """A job that had failed before ran: its retry record is closed (one indexed UPDATE, usually of nothing)."""
    db.session.execute(update(JobFailure).where(
        JobFailure.kind == kind, JobFailure.instance_id == instance_id, JobFailure.status == "retrying",
    ).values(status="resolved", next_attempt_at=None, closed_at=now).execution_options(synchronize_session=False))


def hold_claims_with_lease(engine: Engine, seconds: float) -> None:
    """PostgreSQL: end any transaction of this process that sits idle longer than `seconds` (see above)."""
    if engine.dialect.name != "postgresql" or seconds <= 0:
        return
    milliseconds = int(seconds * 1000)

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
        cursor.close()
        dbapi_connection.commit()  # a SET inside a transaction that is rolled back would be undone

    event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections opened before must not escape the setting
