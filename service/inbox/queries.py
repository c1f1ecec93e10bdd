"""The inbox: ready tasks offered to the caller, read from the human_task projection only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_, select

from service import clock
from service.auth.actor import Actor
from service.extensions import db
from service.instances.access import task_offered_to
from service.instances.models import HumanTask


def inbox(actor: Actor, *, process: str | None = None, subject: str | None = None, overdue: bool | None = None,
          limit: int = 50, offset: int = 0) -> tuple[list[HumanTask], int]:
    stmt = select(HumanTask).where(
        HumanTask.status == "ready",
        task_offered_to(actor),
        or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == actor.user_id),
    )
    if process:
        stmt = stmt.where(HumanTask.process_key == process)
    if subject:
        stmt = stmt.where(HumanTask.subject == subject)
    if overdue is not None:
        now = clock.now()
        stmt = stmt.where(HumanTask.due_at < now) if overdue else stmt.where(
            or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(case((HumanTask.due_at.is_(None), 1), else_=0), HumanTask.due_at, HumanTask.created_at,
                      HumanTask.id)
        .limit(limit).offset(offset)).all()
    return list(rows), total


def prefill(data: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """The values the form starts with: the case's current values for the form's own fields."""
    if not schema or not isinstance(schema.get("properties"), dict):
        return {}
    return {k: data[k] for k in schema["properties"] if k in data}
