"""Who may see a case and who may act on a task."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import and_, exists, or_, select

from service.auth.actor import Actor
from service.cache import app_cache
from service.extensions import db
from service.org.scope import OrgGraph

from .models import HumanTask, Instance


def org_graph() -> OrgGraph:
    """The org tree, cached for a few seconds per process (a roster import clears it at once)."""
    if has_request_context() and "org_graph" in g:
        return g.org_graph
    graph: OrgGraph = app_cache("org_graph").get_or_load("graph", OrgGraph.load)
    if has_request_context():
        g.org_graph = graph
    return graph


def visible_units(actor: Actor) -> set[str]:
    return org_graph().visible_units(actor.role_units)


def task_offered_to(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL condition: the task is offered to this actor (by assignment, role at scope, or admin lane)."""
    conditions = [HumanTask.assigned_user_id == actor.user_id]
    for role, unit in sorted(actor.roles, key=lambda r: (r[0], r[1] or "")):
        if unit is not None:
            conditions.append(and_(HumanTask.lane_role == role, HumanTask.scope_unit == unit))
    if actor.is_admin:
        conditions.append(HumanTask.lane_role == "admin")
    offered = or_(*conditions)
    if actor.person_id:
        # separation of duty: nobody handles their own case except in the member lane
        offered = and_(offered, or_(HumanTask.subject != actor.person_id, HumanTask.lane_role == "member",
                                    HumanTask.assigned_user_id == actor.user_id))
    return offered


def may_act(actor: Actor, task: HumanTask) -> bool:
    if task.assigned_user_id == actor.user_id:
        return True
    if actor.person_id and task.subject == actor.person_id and task.lane_role != "member":
        return False
    if task.lane_role == "admin":
        return actor.is_admin
    return task.scope_unit is not None and actor.holds(task.lane_role, task.scope_unit)


def can_view(actor: Actor, instance: Instance) -> bool:
    if actor.is_admin:
        return True
    if instance.subject_kind == "person" and actor.person_id and instance.subject == actor.person_id:
        return True
    if instance.subject_unit and instance.subject_unit in visible_units(actor):
        return True
    involved = db.session.scalar(select(exists().where(
        HumanTask.instance_id == instance.id,
        or_(task_offered_to(actor), HumanTask.completed_by == actor.user_id, HumanTask.claimed_by == actor.user_id))))
    return bool(involved)


def visible_instances_condition(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL condition for lists: the cases this actor may see."""
    if actor.is_admin:
        return Instance.id.isnot(None)
    conditions = []
    units = visible_units(actor)
    if units:
        conditions.append(Instance.subject_unit.in_(sorted(units)))
    if actor.person_id:
        conditions.append(and_(Instance.subject_kind == "person", Instance.subject == actor.person_id))
    conditions.append(Instance.id.in_(select(HumanTask.instance_id).where(
        or_(task_offered_to(actor), HumanTask.completed_by == actor.user_id))))
    return or_(*conditions)
