"""Making and reading notifications. None commits; e-mails wait for the commit (see mail.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, insert, select, update

from service import clock
from service.errors import not_found
from service.extensions import UTCDateTime, db
from service.org.models import OrgUnit, RoleAssignment, User

from . import mail
from .models import Notification

SUBJECTS = {"new_task": "新待办 New task", "returned": "已退回 Returned", "reminded": "催办 Reminder",
            "overdue": "已逾期 Overdue", "copied": "抄送 Copied to you"}


def notify(user_ids: Iterable[int | None], kind: str, text: str, *, instance_id: int | None = None,
           task_id: str | None = None) -> int:
    """One notification per user (duplicates and None dropped), in one INSERT; returns how many."""
    wanted = sorted({u for u in user_ids if u is not None})
    if not wanted:
        return 0
    now = clock.now()
    # on the session's connection: no autoflush, no unit of work (the referenced rows exist already)
    db.session.connection().execute(insert(Notification), [
        {"user_id": u, "kind": kind, "instance_id": instance_id, "task_id": task_id, "text": text[:500],
         "created_at": now} for u in wanted])
    _mail(wanted, kind, text)
    return len(wanted)


def _mail(user_ids: list[int], kind: str, text: str) -> None:
    """The same message by e-mail to those of the users who have an address (when mail is configured)."""
    if user_ids and mail.enabled():
        for address in db.session.scalars(select(User.email).where(User.id.in_(user_ids), User.email.isnot(None))):
            mail.queue(address, SUBJECTS.get(kind, kind), text)


def admins() -> list[int]:
    return list(db.session.scalars(select(RoleAssignment.user_id).where(RoleAssignment.role == "admin")))


def notify_task_offered(task: Any, text: str, kind: str = "new_task") -> int:
    """Everyone a task waits on: its claimer, delegate or assignee if it has one, else its role at its scope."""
    if task.claimed_by or task.delegated_to or task.assigned_user_id:
        users = [task.delegated_to or task.claimed_by or task.assigned_user_id]
    elif task.lane_role == "admin":
        users = admins()
    else:
        return _notify_role_holders(task.lane_role, task.scope_unit, kind, text, task.instance_id, task.id)
    return notify(users, kind, text, instance_id=task.instance_id, task_id=task.id)


def _notify_role_holders(role: str | None, unit: str | None, kind: str, text: str, instance_id: int | None,
                         task_id: str | None) -> int:
    """notify() for the users holding `role` at org unit `unit`, as one INSERT ... SELECT (every step's hot path)."""
    if not role or not unit:
        return 0
    result = db.session.connection().execute(_NOTIFY_ROLE_HOLDERS, {
        "role": role, "unit": unit, "kind": kind, "instance_id": instance_id, "task_id": task_id,
        "text": text[:500], "created_at": clock.now()})
    users = list(result.scalars())  # the rows returned, not rowcount: psycopg's INSERT ... SELECT reports -1
    _mail(users, kind, text)
    return len(users)


_NOTIFY_ROLE_HOLDERS = insert(Notification).from_select(
    ["user_id", "kind", "instance_id", "task_id", "text", "created_at"],
    select(RoleAssignment.user_id, bindparam("kind", type_=String), bindparam("instance_id", type_=Integer),
           bindparam("task_id", type_=String), bindparam("text", type_=String),
           bindparam("created_at", type_=UTCDateTime))
    .join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
    .where(RoleAssignment.role == bindparam("role"), OrgUnit.code == bindparam("unit"))  # unique per user
).returning(Notification.user_id)


def notifications_for(user_id: int, *, unread: bool | None = None, limit: int = 50,
                      offset: int = 0) -> tuple[Sequence[Notification], int]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread is not None:
        stmt = stmt.where(Notification.read_at.is_(None) if unread else Notification.read_at.isnot(None))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(limit).offset(offset)).all()
    return rows, total


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (404 unless it is the user's) or all of the user's notifications read."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        found = db.session.get(Notification, notification_id)
        if found is None or found.user_id != user_id:
            raise not_found()
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=clock.now())).rowcount or 0
