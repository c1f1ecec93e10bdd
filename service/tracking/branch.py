"""What the branch page shows about one org unit: its members and their stages, its open cases, the
annual assessment grades by year and its rectifications. A fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from service.auth.actor import Actor
from service.campaigns.models import Campaign
from service.errors import not_found
from service.extensions import db
from service.instances.access import visible_instances_condition, visible_units
from service.instances.models import Instance
from service.org.models import OrgUnit, Person

from . import visibility
from .candidate import STAGES, current_stage

ASSESSMENT = "branch_assessment"
RECTIFICATION = "rectification"
OPEN_STATUSES = ("running", "suspended", "error")
GRADES = {"excellent": _l("五星（优秀）"), "good": _l("四星（良好）"), "fair": _l("三星（一般）"),
          "lagging": _l("后进"), "weak": _l("软弱涣散")}


@dataclass
class Grade:
    year: int
    grade: Any
    instance: Instance


def unit_for(actor: Actor, code: str) -> OrgUnit:
    """The unit, if `actor` holds a role covering it (its members' Party status is restricted)."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not (actor.is_admin or unit.code in visible_units(actor)):
        raise not_found()
    return unit


def record_restricted_view(actor: Actor, unit: OrgUnit) -> None:
    """Decide whether the page may show the unit's restricted records (members' Party status, grades,
    rectifications; remembered in g.tracking_visibility for the template) and, if so, log the view once."""
    shown = visibility.may_see_unit_restricted(actor, unit)
    g.tracking_visibility = {"unit": unit.code, "restricted": shown}
    if shown:
        visibility.record_restricted_view(actor, "branch_page", org_unit=unit.code)


def members(unit: OrgUnit, cases: list[Instance]) -> list[dict[str, Any]]:
    """The unit's people with their pipeline stage (推优 while a recommendation is under way)."""
    labels = dict(STAGES)
    by_person: dict[str, list[Instance]] = {}
    for case in cases:
        if case.subject_kind == "person":
            by_person.setdefault(case.subject, []).append(case)
    people = db.session.scalars(select(Person).where(Person.org_unit_id == unit.id).order_by(Person.id))
    rows = []
    for person in people:
        stage = current_stage(person, by_person.get(person.id, []))
        rows.append({"person": person, "stage": labels.get(stage, stage)})
    return rows


def sub_units(unit: OrgUnit) -> list[OrgUnit]:
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)))


def unit_cases(actor: Actor, unit: OrgUnit) -> list[Instance]:
    """Cases about the unit or about its members (both carry the unit as subject_unit)."""
    return list(db.session.scalars(
        select(Instance).where(Instance.subject_unit == unit.code, visible_instances_condition(actor))
        .order_by(Instance.started_at.desc(), Instance.id.desc())))


def grades_by_year(cases: list[Instance]) -> list[Grade]:
    done = [c for c in cases if c.process_key == ASSESSMENT and c.subject_kind == "org_unit" and c.status == "completed"]
    campaign_ids = {c.campaign_id for c in done if c.campaign_id}
    years = dict(db.session.execute(select(Campaign.id, Campaign.year).where(Campaign.id.in_(campaign_ids))).all()) \
        if campaign_ids else {}
    grades = [Grade(years.get(c.campaign_id) or (c.completed_at or c.started_at).year,
                    GRADES.get(c.outcome or "", c.outcome or "—"), c) for c in done]
    return sorted(grades, key=lambda g: (g.year, g.instance.id), reverse=True)


def rectifications(cases: list[Instance]) -> list[Instance]:
    return [c for c in cases if c.process_key == RECTIFICATION and c.subject_kind == "org_unit"]


def open_cases(cases: list[Instance]) -> list[Instance]:
    return [c for c in cases if c.status in OPEN_STATUSES]
