"""Who may see a case and who may act on a task."""

from __future__ import annotations

from flask import g, has_request_context, request
from sqlalchemy import and_, exists, or_, select, union_all

from service import clock
from service.auth.actor import Actor
from service.cache import app_cache
from service.extensions import db
from service.org.scope import OrgGraph

from .models import CaseCopy, HumanTask, Instance, StandIn


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


def principals(actor: Actor) -> list[Actor]:
    """The people `actor` stands in for today (代理), as actors with their own roles; one query,
    remembered for the request."""
    cached = getattr(request, "_principals", None) if has_request_context() else None
    if cached is not None and cached[0] == actor.user_id:
        return cached[1]
    from service.auth.operations import actor_for
    from service.org.models import User

    today = clock.now().date()
    users = db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(
        select(StandIn.user_id).where(StandIn.stand_in_id == actor.user_id, StandIn.starts_on <= today,
                                      StandIn.ends_on >= today))).order_by(User.id)).all()
    found = [actor_for(u) for u in users]
    if has_request_context():
        request._principals = (actor.user_id, found)  # type: ignore[attr-defined]
    return found


def _own_case_excluded(actor: Actor, offered):  # type: ignore[no-untyped-def]
    if not actor.person_id:
        return offered
    # separation of duty: nobody handles their own case except in the member lane
    return and_(offered, or_(HumanTask.subject != actor.person_id, HumanTask.lane_role == "member",
                             HumanTask.assigned_user_id == actor.user_id))


def _offered_in_own_right(actor: Actor):  # type: ignore[no-untyped-def]
    conditions = [HumanTask.assigned_user_id == actor.user_id, HumanTask.delegated_to == actor.user_id]
    for role, unit in sorted(actor.roles, key=lambda r: (r[0], r[1] or "")):
        if unit is not None:
            conditions.append(and_(HumanTask.lane_role == role, HumanTask.scope_unit == unit))
    if actor.is_admin:
        conditions.append(HumanTask.lane_role == "admin")
    return _own_case_excluded(actor, or_(*conditions))


def task_offered_to(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL condition: the task is offered to this actor (by assignment, delegation, role at scope, admin
    lane), or to someone they stand in for today — never the stand-in's own case."""
    offered = _offered_in_own_right(actor)
    standing_in = [_own_case_excluded(actor, _offered_in_own_right(p)) for p in principals(actor)]
    return or_(offered, *standing_in) if standing_in else offered


def offered_task_ids(actor: Actor):  # type: ignore[no-untyped-def]
    """The ids of ready tasks possibly offered to the actor, as a UNION ALL of one index lookup per
    (role, unit) pair, assignment and delegation — a superset of task_offered_to that any planner
    runs in milliseconds with or without statistics (an OR over them scans every open task)."""
    parts = []
    for person in [actor, *principals(actor)]:
        parts.append(select(HumanTask.id).where(HumanTask.status == "ready",
                                                HumanTask.assigned_user_id == person.user_id))
        parts.append(select(HumanTask.id).where(HumanTask.status == "ready", HumanTask.delegated_to == person.user_id))
        for role, unit in sorted(person.roles, key=lambda r: (r[0], r[1] or "")):
            if unit is not None:
                parts.append(select(HumanTask.id).where(HumanTask.status == "ready", HumanTask.lane_role == role,
                                                        HumanTask.scope_unit == unit))
        if person.is_admin:
            parts.append(select(HumanTask.id).where(HumanTask.status == "ready", HumanTask.lane_role == "admin"))
    return union_all(*parts)


def _may_act_in_own_right(actor: Actor, task: HumanTask) -> bool:
    if task.assigned_user_id == actor.user_id or (task.delegated_to is not None and task.delegated_to == actor.user_id):
        return True
    if actor.person_id and task.subject == actor.person_id and task.lane_role != "member":
        return False
    if task.lane_role == "admin":
        return actor.is_admin
    return task.scope_unit is not None and actor.holds(task.lane_role, task.scope_unit)


def may_act(actor: Actor, task: HumanTask) -> bool:
    if _may_act_in_own_right(actor, task):
        return True
    if actor.person_id and task.subject == actor.person_id and task.lane_role != "member":
        return False
    return any(_may_act_in_own_right(p, task) for p in principals(actor))


def acting_for(actor: Actor, task: HumanTask) -> dict[str, str]:
    """{"on_behalf_of": username} when `actor` acts on `task` only as someone's stand-in (for the audit)."""
    if _may_act_in_own_right(actor, task):
        return {}
    principal = next((p for p in principals(actor) if _may_act_in_own_right(p, task)), None)
    return {"on_behalf_of": principal.username} if principal else {}


def may_act_in_own_right(actor: Actor, task: HumanTask) -> bool:
    """By role and scope (or assignment), not as anyone's stand-in: who a task can be handed to."""
    return _may_act_in_own_right(actor, task)


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
    if involved:
        return True
    copied = db.session.scalar(select(exists().where(CaseCopy.instance_id == instance.id,
                                                     CaseCopy.user_id == actor.user_id)))
    return bool(copied)


def visible_instances_condition(actor: Actor, *, correlated: bool = False):  # type: ignore[no-untyped-def]
    """SQL condition for lists: the cases this actor may see. The task and copy terms are `IN` over the
    actor's tasks and copies, or with `correlated` an EXISTS looked up by case id for the rows the unit
    terms did not already admit: faster where the list is narrowed first (search, a campaign's cases)."""
    if actor.is_admin:
        return Instance.id.isnot(None)
    conditions = []
    units = visible_units(actor)
    if units:
        conditions.append(Instance.subject_unit.in_(sorted(units)))
    if actor.person_id:
        conditions.append(and_(Instance.subject_kind == "person", Instance.subject == actor.person_id))
    handled = or_(task_offered_to(actor), HumanTask.completed_by == actor.user_id)
    copied = CaseCopy.user_id == actor.user_id
    if correlated:
        conditions.append(exists().where(HumanTask.instance_id == Instance.id, handled))
        conditions.append(exists().where(CaseCopy.instance_id == Instance.id, copied))
    else:
        conditions.append(Instance.id.in_(select(HumanTask.instance_id).where(handled)))
        conditions.append(Instance.id.in_(select(CaseCopy.instance_id).where(copied)))
    return or_(*conditions)
