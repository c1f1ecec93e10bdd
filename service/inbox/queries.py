"""The inbox: ready tasks offered to the caller, read from the human_task projection only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from service import clock
from service.auth.actor import Actor
from service.extensions import db
from service.instances.access import offered_task_ids, org_graph, task_offered_to
from service.instances.models import HumanTask, Instance
from service.org.models import OrgUnit, Person

_running = aliased(Instance)  # its own alias: queries that also select from instance must not capture it


def _open_to(actor: Actor) -> list[Any]:
    # a suspended (or failed) case's tasks cannot be acted on, so they are nobody's to-do
    # no plain `status == "ready"` here: the planner would walk every open task by that index instead
    # of the per-role lookups in offered_task_ids
    return [HumanTask.id.in_(offered_task_ids(actor)), task_offered_to(actor),
            or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == actor.user_id),
            exists().where(_running.id == HumanTask.instance_id, _running.status == "running").correlate(HumanTask)]


def _matching_subject(search: str) -> Any:
    """A person's name or number, or an org unit's name or code, as typed into the search box."""
    people = select(Person.id).where(or_(Person.name.contains(search, autoescape=True),
                                         Person.id.startswith(search, autoescape=True)))
    units = select(OrgUnit.code).where(or_(OrgUnit.name.contains(search, autoescape=True),
                                           OrgUnit.code.startswith(search, autoescape=True)))
    return or_(HumanTask.subject.in_(people), HumanTask.subject.in_(units))


def _in_unit(stmt: Select, unit: str) -> Select:
    """Tasks about subjects in `unit` or below it (a general branch covers its branches)."""
    units = sorted(org_graph().descendants(unit)) if unit in org_graph().nodes else [unit]
    return stmt.join(Instance, Instance.id == HumanTask.instance_id).where(Instance.subject_unit.in_(units))


def inbox(actor: Actor, *, process: str | None = None, subject: str | None = None, overdue: bool | None = None,
          search: str | None = None, unit: str | None = None, mine: bool | None = None,
          limit: int = 50, offset: int = 0) -> tuple[list[HumanTask], int]:
    """One page of the caller's open tasks, overdue first, and how many there are: two queries,
    whatever the filters. `mine`: True only tasks assigned to or claimed by the caller, False only
    those offered to one of their groups (role at a unit) and not taken."""
    stmt = select(HumanTask).where(*_open_to(actor))
    if process:
        stmt = stmt.where(HumanTask.process_key == process)
    if subject:
        stmt = stmt.where(HumanTask.subject == subject)
    if search:
        stmt = stmt.where(_matching_subject(search))
    if unit:
        stmt = _in_unit(stmt, unit)
    if mine is not None:
        stmt = stmt.where(
            or_(HumanTask.assigned_user_id == actor.user_id, HumanTask.claimed_by == actor.user_id) if mine else
            and_(HumanTask.claimed_by.is_(None),
                 or_(HumanTask.assigned_user_id.is_(None), HumanTask.assigned_user_id != actor.user_id)))
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


def inbox_counts(actor: Actor) -> list[tuple[str, int, int]]:
    """(process key, open tasks, overdue tasks) for the caller, in one query."""
    overdue = func.sum(case((HumanTask.due_at < clock.now(), 1), else_=0))
    rows = db.session.execute(select(HumanTask.process_key, func.count(), overdue).where(*_open_to(actor))
                              .group_by(HumanTask.process_key).order_by(HumanTask.process_key))
    return [(key, count, int(late or 0)) for key, count, late in rows]


def inbox_units(actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the units the caller's open tasks are about, for the branch filter; one query."""
    rows = db.session.execute(
        select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(
            select(Instance.subject_unit).join(HumanTask, HumanTask.instance_id == Instance.id)
            .where(*_open_to(actor)))).order_by(OrgUnit.code))
    return [(code, name) for code, name in rows]


def prefill(data: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """The values the form starts with: the case's current values for the form's own fields."""
    if not schema or not isinstance(schema.get("properties"), dict):
        return {}
    return {k: data[k] for k in schema["properties"] if k in data}
