"""Incidents: background jobs that used up their attempts, for an admin to retry or resolve."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from service import audit, clock
from service.auth.actor import Actor
from service.errors import ApiError
from service.extensions import db
from service.instances.models import Instance

from . import jobs
from .models import JobFailure

OPEN_STATUSES = ("retrying", "incident")


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise ApiError(403, "forbidden")


def list_incidents(actor: Actor, status: str | None = "incident", limit: int = 50,
                   offset: int = 0) -> tuple[Sequence[tuple[JobFailure, Instance]], int]:
    """Failure records with their cases, newest failure first; status None: every open one."""
    _require_admin(actor)
    stmt = select(JobFailure, Instance).join(Instance, Instance.id == JobFailure.instance_id)
    stmt = stmt.where(JobFailure.status == status) if status else stmt.where(JobFailure.status.in_(OPEN_STATUSES))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.order_by(JobFailure.last_failed_at.desc(), JobFailure.id.desc())
                              .limit(limit).offset(offset)).all()
    return rows, total


def _open_incident(actor: Actor, incident_id: int) -> JobFailure:
    _require_admin(actor)
    row = db.session.get(JobFailure, incident_id, with_for_update=True)
    if row is None:
        raise ApiError(404, "not_found")
    if row.status not in OPEN_STATUSES:
        raise ApiError(409, "conflict", "该事件已处理 / The incident is already closed")
    return row


def retry_incident(actor: Actor, incident_id: int) -> JobFailure:
    """Reset the attempts and run the job again now; if it fails again the retries start over."""
    row = _open_incident(actor, incident_id)
    now = clock.now()
    row.attempts, row.status, row.next_attempt_at = 0, "retrying", now
    audit.record("incident_retried", actor_id=actor.user_id, instance_id=row.instance_id, kind=row.kind)
    instance = db.session.get(Instance, row.instance_id)
    if instance is not None and instance.status == "error" and _retry_errored_case(actor, instance.id):
        if instance.status == "error":  # the failed step failed again: the incident stays open
            row.status, row.next_attempt_at = "incident", None
            row.last_error = str(instance.error)[: jobs.ERROR_TEXT_LIMIT]
        else:
            _close(row, actor, now)
        return row
    try:
        with db.session.begin_nested():  # a failing run is undone alone; the reset above stays
            _run_job(row.kind, row.instance_id)
    except ApiError:
        raise
    except Exception as exc:
        jobs.record_failure(row.kind, row.instance_id, f"{type(exc).__name__}: {exc}", now)
        return row
    _close(row, actor, now)
    return row


def resolve_incident(actor: Actor, incident_id: int) -> JobFailure:
    """Close it without running it (the case was put right another way); a new failure opens a new run."""
    row = _open_incident(actor, incident_id)
    _close(row, actor, clock.now())
    audit.record("incident_resolved", actor_id=actor.user_id, instance_id=row.instance_id, kind=row.kind)
    return row


def _close(row: JobFailure, actor: Actor, now: Any) -> None:
    row.status, row.next_attempt_at, row.closed_by, row.closed_at = "resolved", None, actor.user_id, now


def _run_job(kind: str, instance_id: int) -> None:
    if kind != "timer":
        raise ApiError(409, "conflict", f"未知的任务类型 / Unknown job kind: {kind}")
    from service.timers.operations import fire_due_timers_of

    fire_due_timers_of(instance_id)


def _retry_errored_case(actor: Actor, instance_id: int) -> bool:
    """A case in status error is retried by the instance admin operation, where it exists."""
    try:
        admin = importlib.import_module("service.instances.admin")
    except ImportError:
        return False
    retry = getattr(admin, "retry_instance", None)
    if retry is None:
        return False
    retry(actor, instance_id)
    return True
