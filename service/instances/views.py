"""Plain-dict views of cases and tasks for the API (a fixed number of queries per list)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.audit import AuditEvent
from service.auth.actor import Actor
from service.extensions import db
from service.org.models import User
from service.runtime import version_number

from .models import HumanTask, Instance

_READY_ROWS = "instances.ready_rows"


def remember_ready_rows(instance_id: int, rows: list[HumanTask]) -> None:
    """The case's ready task rows, as read with a task (operations._task_and_instance) or as a step left
    them (operations._sync_tasks), so that neither the step nor the answer to the request queries them
    again. Kept in the session until its transaction ends (commit or any rollback). Only rows created
    by _sync_tasks become ready, so the list stays true while the transaction changes rows in memory."""
    db.session.info.setdefault(_READY_ROWS, {})[instance_id] = rows


def ready_rows_known(instance_id: int) -> list[HumanTask] | None:
    """The case's ready task rows as this transaction last saw them (in-memory changes included), if known."""
    known = db.session.info.get(_READY_ROWS)
    return known.get(instance_id) if known else None


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_ready_rows(session: Session, *args: Any) -> None:
    session.info.pop(_READY_ROWS, None)


def usernames(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def task_view(task: HumanTask, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": task.id, "name": task.name, "title": task.title, "instance_id": task.instance_id,
        "process": task.process_key, "subject": task.subject, "lane": task.lane_role, "scope_unit": task.scope_unit,
        "status": task.status, "due_at": task.due_at, "created_at": task.created_at,
        "claimed_by": names.get(task.claimed_by) if task.claimed_by else None,
        "completed_by": names.get(task.completed_by) if task.completed_by else None,
        "completed_at": task.completed_at,
        "delegated_to": names.get(task.delegated_to) if task.delegated_to else None,
    }


def task_views(tasks: Sequence[HumanTask]) -> list[dict[str, Any]]:
    names = usernames([t.claimed_by for t in tasks] + [t.completed_by for t in tasks]
                      + [t.delegated_to for t in tasks])
    return [task_view(t, names) for t in tasks]


def instance_views(instances: Sequence[Instance]) -> list[dict[str, Any]]:
    # a case stepped in this transaction knows its ready rows (identity-mapped: later changes show)
    ready: dict[int, list[HumanTask]] = {}
    for i in instances:
        known = ready_rows_known(i.id)
        if known is not None:
            ready[i.id] = [t for t in known if t.status == "ready"]
    ids = [i.id for i in instances if i.id not in ready]
    if ids:
        for task in db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids),
                                                               HumanTask.status == "ready")
                                       .order_by(HumanTask.created_at)):
            ready.setdefault(task.instance_id, []).append(task)
    names = usernames(u for tasks in ready.values() for t in tasks for u in (t.claimed_by, t.delegated_to))
    return [{
        "id": i.id, "process": i.process_key, "version": version_number(i.version_id), "subject": i.subject,
        "subject_kind": i.subject_kind, "subject_unit": i.subject_unit, "status": i.status, "outcome": i.outcome,
        "milestone": i.milestone, "ready_tasks": [task_view(t, names) for t in ready.get(i.id, [])],
        "error": i.error, "next_timer_at": i.next_timer_at, "started_at": i.started_at, "updated_at": i.updated_at,
        "completed_at": i.completed_at,
    } for i in instances]


def instance_detail(instance: Instance, *, with_comments: bool = False, viewer: Actor | None = None) -> dict[str, Any]:
    """`with_comments`: each completion's free-text "comment" field too (for the case's approvers).
    `viewer`: the history is redacted for them (an objector's identity only for investigators)."""
    view = instance_views([instance])[0]
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                     .order_by(AuditEvent.at, AuditEvent.id)))
    names = usernames(e.actor_id for e in events)
    view["history"] = [{
        "at": e.at, "actor": names.get(e.actor_id) if e.actor_id else None, "action": e.action,
        "task": e.details.get("task"),
        # submitted data stays out of the history view: it may hold restricted values (votes, opinions)
        "details": {k: v for k, v in e.details.items() if k not in ("data",)},
        **({"comment": _comment(e.details)} if with_comments else {}),
    } for e in events]
    if viewer is not None:
        from service.tracking.visibility import redact_history

        view["history"] = redact_history(viewer, instance, view["history"])
    return view


def diagram_view(instance: Instance) -> dict[str, Any]:
    """The case's BPMN and what a viewer marks on it (see Case.diagram_marks)."""
    from .operations import restore_case

    xml = instance.version.bpmn_xml
    return {"instance_id": instance.id, "process": instance.process_key, "version": instance.version.number,
            "bpmn": xml, **restore_case(instance).diagram_marks(xml)}


def _comment(details: dict[str, Any]) -> str | None:
    data = details.get("data")
    comment = data.get("comment") if isinstance(data, dict) else None
    return comment if isinstance(comment, str) and comment.strip() else None
