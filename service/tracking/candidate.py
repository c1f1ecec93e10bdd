"""What the candidate page shows about one person, gathered with a fixed number of queries: their Party
status on the 推优 pipeline, every case about them with who it waits on, and one merged timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from service.audit import AuditEvent
from service.auth.actor import Actor
from service.errors import not_found
from service.extensions import db
from service.instances.access import visible_instances_condition, visible_units
from service.instances.models import HumanTask, Instance
from service.instances.views import usernames
from service.org.models import OrgUnit, Person
from service.pack import ROLES

from . import visibility

RECOMMENDATION = "recommendation"

#: The 推优 pipeline in order: (key, label). "recommended" is not a Party status: it is an applicant
#: whose recommendation case is under way.
STAGES = (
    ("masses", _l("群众")),
    ("applicant", _l("入党申请人")),
    ("recommended", _l("推优")),
    ("activist", _l("入党积极分子")),
    ("development_candidate", _l("发展对象")),
    ("probationary", _l("预备党员")),
    ("full", _l("正式党员")),
)
STAGE_KEYS = [key for key, _label in STAGES]


@dataclass
class Stage:
    key: str
    label: Any
    state: str  # done | current | todo
    on: date | datetime | None = None


@dataclass
class Waiting:
    title: str
    role: str
    unit: str | None
    since: datetime
    due_at: datetime | None
    task_id: str


@dataclass
class CaseRow:
    instance: Instance
    process_name: str
    waiting: list[Waiting] = field(default_factory=list)


def may_see_person(actor: Actor, person: Person) -> bool:
    """The person themself, an admin, or a holder of a role whose units cover the person's branch.
    Party status is restricted: whoever passes this sees it, so the page is logged as a restricted view."""
    if actor.is_admin or actor.person_id == person.id:
        return True
    unit = person.org_unit.code if person.org_unit else None
    return unit is not None and unit in visible_units(actor)


def person_for(actor: Actor, person_id: str) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or not may_see_person(actor, person):
        raise not_found()
    return person


def record_restricted_view(actor: Actor, person: Person, what: str) -> None:
    """Decide what of the person's restricted record this page may show (remembered for the request's
    templates in g.tracking_visibility) and, if anything, log the view once (visibility.py)."""
    party = visibility.may_see_party_status(actor, person)
    cases = {c.id for c in person_cases(actor, person) if visibility.may_see_restricted(actor, c)}
    g.tracking_visibility = {"person": person.id, "party_status": party, "cases": cases}
    if party or cases:
        visibility.record_restricted_view(actor, what, person=person.id)


def viewer() -> Actor | None:
    """Who the current request is for (a signed-in page user or an API caller)."""
    return g.get("page_actor") or g.get("actor")


def case_record(instance: Instance) -> dict[str, Any] | None:
    """The restricted record of a recommendation case for the page, if this request may show it
    (record_restricted_view decided and logged it); the objector's name for investigators only."""
    from service.documents.builders import recommendation_record

    shown = (g.get("tracking_visibility") or {}).get("cases") or set()
    actor = viewer()
    if actor is None or instance.id not in shown or instance.process_key != RECOMMENDATION:
        return None
    return recommendation_record(instance, show_objectors=visibility.may_see_objector(actor, instance))


def person_cases(actor: Actor, person: Person) -> list[Instance]:
    return list(db.session.scalars(
        select(Instance).where(Instance.subject_kind == "person", Instance.subject == person.id,
                               visible_instances_condition(actor))
        .order_by(Instance.started_at.desc(), Instance.id.desc())))


def current_stage(person: Person, cases: Sequence[Instance]) -> str:
    """The person's Party status, or "recommended" while an applicant's recommendation is under way."""
    status = person.party_status if person.party_status in STAGE_KEYS else "masses"
    if status in ("masses", "applicant") and any(
            c.process_key == RECOMMENDATION and c.status in ("running", "suspended", "error") for c in cases):
        return "recommended"
    return status


def pipeline(person: Person, cases: Sequence[Instance]) -> list[Stage]:
    """The stage strip: stages before the current one done, with the dates the records know."""
    current = current_stage(person, cases)
    position = STAGE_KEYS.index(current)
    recommendations = sorted((c for c in cases if c.process_key == RECOMMENDATION), key=lambda c: c.started_at)
    accepted = [c for c in recommendations if c.outcome == "accepted"]
    dates: dict[str, date | datetime | None] = {
        "applicant": person.party_applied,
        "recommended": recommendations[-1].started_at if recommendations else None,
        "activist": accepted[-1].completed_at if accepted else None,
    }
    stages = []
    for index, (key, label) in enumerate(STAGES):
        state = "done" if index < position else "current" if index == position else "todo"
        stages.append(Stage(key, label, state, dates.get(key) if state != "todo" else None))
    return stages


def case_rows(cases: Sequence[Instance], process_names: dict[str, str], *, english: bool = False) -> list[CaseRow]:
    rows = {c.id: CaseRow(c, process_names.get(c.process_key, c.process_key)) for c in cases}
    if not rows:
        return []
    ready = list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(list(rows)),
                                                            HumanTask.status == "ready")
                                    .order_by(HumanTask.created_at)))
    units = _unit_names({t.scope_unit for t in ready if t.scope_unit})
    assignees = usernames(t.assigned_user_id for t in ready)
    for task in ready:
        labels = ROLES.get(task.lane_role or "", (task.lane_role or "", task.lane_role or ""))
        role = labels[1] if english else labels[0]
        if task.assigned_user_id:
            role = assignees.get(task.assigned_user_id, role)
        rows[task.instance_id].waiting.append(Waiting(
            task.title, role, units.get(task.scope_unit or "", task.scope_unit), task.created_at, task.due_at, task.id))
    return list(rows.values())


def _unit_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(sorted(codes)))).all())


def timeline(cases: Sequence[Instance], process_names: dict[str, str],
             action_labels: Mapping[str, Any], actor: Actor | None = None) -> list[dict[str, Any]]:
    """Every audit event of these cases in one list, oldest first, in words: when, who, what, which
    step of which process. Submitted data stays out (it may hold votes and opinions), and who raised an
    objection shows only for the investigators (visibility.may_see_objector)."""
    actor = actor or viewer()
    ids = [c.id for c in cases]
    if not ids:
        return []
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id.in_(ids))
                                     .order_by(AuditEvent.at, AuditEvent.id)))
    names = usernames(e.actor_id for e in events)
    titles = {(instance_id, name): title for instance_id, name, title in db.session.execute(
        select(HumanTask.instance_id, HumanTask.name, HumanTask.title).where(HumanTask.instance_id.in_(ids)))}
    case_names = {c.id: process_names.get(c.process_key, c.process_key) for c in cases}
    by_id = {c.id: c for c in cases}
    objector_visible: dict[int, bool] = {}
    rows = []
    for event in events:
        task = event.details.get("task")
        who = names.get(event.actor_id) if event.actor_id else None
        if who and visibility.is_objection(event.action, event.details) and event.instance_id in by_id \
                and (actor is None or event.actor_id != actor.user_id):
            if event.instance_id not in objector_visible:
                objector_visible[event.instance_id] = actor is not None and visibility.may_see_objector(
                    actor, by_id[event.instance_id])
            if not objector_visible[event.instance_id]:
                who = str(_l("异议人（身份保密）"))
        rows.append({
            "at": event.at, "actor": who,
            "action": action_labels.get(event.action, event.action),
            "process_name": case_names.get(event.instance_id or 0, ""),
            "task_title": event.details.get("title") or titles.get((event.instance_id or 0, task or ""), task),
            "outcome": event.details.get("outcome"),
        })
    return rows
