"""Who may read restricted data (domain.md, Privacy and records), and the audit of every such read.

Restricted: Party status, votes (meeting tallies), evaluations, objections, opinions, assessment scores
and opinions. They are for the person themself, an admin, and whoever is entitled to handle the
process at the case's scope: the holders of the process's lane roles at the units the lanes resolve
to from the case's subject unit, the general-branch secretaries above it, anyone a task of the case was
assigned to or completed by, and whoever stands in for one of them today.

The objector's identity (the sender of the message `objection`, kept only in the audit trail) is for
the investigators alone: the holders of the `investigate_objection` lane at its scope and whoever was
given or completed that task — not the admin, not the candidate, not the branch.

Every page or download that shows restricted data writes ONE audit entry `restricted_view` (who, what,
which ids; the audit row has the time and address): call record_restricted_view once per view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from service import audit
from service.auth.actor import Actor
from service.extensions import db
from service.instances.access import org_graph, principals
from service.instances.models import HumanTask, Instance
from service.modeler.models import ProcessVersion
from service.modeler.operations import latest_version
from service.org.models import OrgUnit, Person
from service.pack import ROLES
from service.runtime import definition

RESTRICTED_VIEW = "restricted_view"
RECOMMENDATION = "recommendation"
#: the general branches' secretaries oversee every process of their branches
GENERAL_SECRETARIES = ("league_general_branch_secretary", "party_general_branch_secretary")
#: roles that take part without a lane of their own (the counsellor's opinion at the committee review)
ADVISORY_ROLES: dict[str, tuple[str, ...]] = {RECOMMENDATION: ("counsellor",)}
#: processes whose records about a branch are restricted (assessment grades, rectifications, Party status)
UNIT_PROCESSES = (RECOMMENDATION, "branch_assessment", "rectification")
INVESTIGATION_TASK = "investigate_objection"
INVESTIGATOR_ROLE = "league_general_branch_secretary"
OBJECTION_MESSAGE = "objection"

_LANE = re.compile(r"<(?:[\w-]+:)?lane\b[^>]*?\bname=\"([^\"]+)\"")

Pair = tuple[str, str]  # (role, org unit code)


# -- who handles a process at a unit ----------------------------------------------------------------------
def process_lanes(version: ProcessVersion | None) -> tuple[str, ...]:
    """The lane roles of a process version (versions are immutable: cached by id)."""
    if version is None:
        return ()
    cache: dict[int, tuple[str, ...]] = current_app.extensions.setdefault("process_lanes_cache", {})
    lanes = cache.get(version.id)
    if lanes is None:
        lanes = cache[version.id] = tuple(sorted({name for name in _LANE.findall(version.bpmn_xml or "")
                                                  if name in ROLES}))
    return lanes


def handlers_at(process_key: str, unit_code: str | None, version: ProcessVersion | None = None,
                data: Mapping[str, Any] | None = None) -> set[Pair]:
    """(role, unit) pairs entitled to handle `process_key` for a subject at `unit_code`."""
    if not unit_code:
        return set()
    graph = org_graph()
    node = graph.nodes.get(unit_code)
    found = definition(process_key)
    roles = set(GENERAL_SECRETARIES) | set(ADVISORY_ROLES.get(process_key, ()))
    for lane in process_lanes(version or latest_version(process_key)):
        if lane in ("member", "admin"):
            continue
        if found is not None and found.resolve_lane is not None:
            lane = found.resolve_lane(lane, node.kind if node else None, data or {})
        roles.add(lane)
    pairs = set()
    for role in roles:
        scope_kind = found.lane_scopes.get(role) if found is not None else None
        unit = graph.scope_for_lane(unit_code, role, scope_kind)
        if unit:
            pairs.add((role, unit))
    return pairs


def _case_pairs(instance: Instance) -> set[Pair]:
    pairs = handlers_at(instance.process_key, instance.subject_unit, instance.version)
    pairs |= {(role, unit) for role, unit in db.session.execute(
        select(HumanTask.lane_role, HumanTask.scope_unit).where(
            HumanTask.instance_id == instance.id, HumanTask.lane_role.isnot(None),
            HumanTask.scope_unit.isnot(None)).distinct()) if role and unit}
    return pairs


def _holds_any(actor: Actor, pairs: set[Pair]) -> bool:
    return bool(actor.roles & pairs) or any(p.roles & pairs for p in principals(actor))


def _worked_on(actor: Actor, instance_id: int, task_name: str | None = None) -> bool:
    users = [actor.user_id, *(p.user_id for p in principals(actor))]
    stmt = select(HumanTask.id).where(HumanTask.instance_id == instance_id, or_(
        HumanTask.assigned_user_id.in_(users), HumanTask.completed_by.in_(users)))
    if task_name is not None:
        stmt = stmt.where(HumanTask.name == task_name)
    return db.session.scalar(stmt.limit(1)) is not None


# -- the questions others ask ------------------------------------------------------------------------------
def may_see_restricted(actor: Actor, instance: Instance) -> bool:
    """Votes, opinions, evaluations, objections and scores of this case."""
    if actor.is_admin:
        return True
    if instance.subject_kind == "person" and actor.person_id is not None and instance.subject == actor.person_id:
        return True
    return _holds_any(actor, _case_pairs(instance)) or _worked_on(actor, instance.id)


def may_see_party_status(actor: Actor, person: Person) -> bool:
    """A person's Party status: themself, an admin, the handlers of a recommendation at their branch."""
    if actor.is_admin or (actor.person_id is not None and actor.person_id == person.id):
        return True
    unit = person.org_unit.code if person.org_unit else None
    return _holds_any(actor, handlers_at(RECOMMENDATION, unit))


def may_see_unit_restricted(actor: Actor, unit: OrgUnit) -> bool:
    """A branch's restricted records (its members' Party status, assessment grades, rectifications)."""
    if actor.is_admin:
        return True
    pairs: set[Pair] = set()
    for key in UNIT_PROCESSES:
        pairs |= handlers_at(key, unit.code)
    return _holds_any(actor, pairs)


def may_see_objector(actor: Actor, instance: Instance) -> bool:
    """Who raised an objection: the investigators only (the investigate_objection lane at its scope,
    or whoever was given or completed that task)."""
    pairs = {(role, unit) for role, unit in db.session.execute(
        select(HumanTask.lane_role, HumanTask.scope_unit).where(
            HumanTask.instance_id == instance.id, HumanTask.name == INVESTIGATION_TASK,
            HumanTask.lane_role.isnot(None), HumanTask.scope_unit.isnot(None)).distinct()) if role and unit}
    scope = org_graph().scope_for_lane(instance.subject_unit, INVESTIGATOR_ROLE)
    if scope:
        pairs.add((INVESTIGATOR_ROLE, scope))
    return _holds_any(actor, pairs) or _worked_on(actor, instance.id, INVESTIGATION_TASK)


# -- hiding the objector --------------------------------------------------------------------------------------
def is_objection(action: str, details: Mapping[str, Any] | None) -> bool:
    return action == "message_received" and (details or {}).get("message") == OBJECTION_MESSAGE


def redact_history(actor: Actor, instance: Instance, history: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A case history (instance_detail's "history" rows) with the objector's name removed for everyone
    but the investigators (and the objector themself)."""
    rows = list(history)
    if not any(is_objection(r.get("action", ""), r.get("details")) for r in rows):
        return rows
    if may_see_objector(actor, instance):
        return rows
    result = []
    for row in rows:
        if is_objection(row.get("action", ""), row.get("details")) and row.get("actor") != actor.username:
            details = {k: v for k, v in (row.get("details") or {}).items() if k not in ("data", "sent_by")}
            row = {**row, "actor": None, "details": details}
        result.append(row)
    return result


def redact_task_data(actor: Actor, instance: Instance, data: Mapping[str, Any]) -> dict[str, Any]:
    """A ready step's data (task detail, task page) without the objector (objection.sent_by) unless the
    actor is an investigator: anyone who may see the case may open the investigate_objection step."""
    objection = data.get("objection")
    if isinstance(objection, Mapping) and "sent_by" in objection and not may_see_objector(actor, instance):
        return {**data, "objection": {k: v for k, v in objection.items() if k != "sent_by"}}
    return dict(data)


# -- the audit of restricted reads ------------------------------------------------------------------------------
def record_restricted_view(actor: Actor, what: str, **ids: Any) -> None:
    """One audit entry for one view of a restricted record: who (the actor), what (a page or document
    name), which record (ids, e.g. person=, org_unit=, instance=, campaign=); the entry has the time."""
    audit.record(RESTRICTED_VIEW, actor_id=actor.user_id, **ids, page=what)
