"""The append-only audit trail: who, when, what, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service import clock
from service.extensions import UTCDateTime, db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the trail outlives rows
    task_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


def record(action: str, *, actor_id: int | None, instance_id: int | None = None, task_id: str | None = None,
           **details: Any) -> None:
    """Write an audit event in the current transaction (it commits or rolls back with the change).

    One INSERT on the session's connection, not an ORM object: no unit-of-work bookkeeping and no
    autoflush on the hot path. The row has no foreign key to anything still pending in the session
    (instance_id is deliberately not a foreign key; the actor is an existing user)."""
    db.session.connection().execute(_INSERT, {
        "at": clock.now(), "actor_id": actor_id, "action": action, "instance_id": instance_id, "task_id": task_id,
        "details": details, "remote_addr": request.remote_addr if has_request_context() else None,
    })


_INSERT = AuditEvent.__table__.insert()
