"""Tracking pages: a candidate's page (their stage on the 推优 pipeline, cases, timeline and diagrams)
and a branch's page (members and their stages, open cases, assessment grades, rectifications).
Thin handlers: check access, gather, log restricted views, render."""

from __future__ import annotations

from flask import Blueprint, render_template

from service.auth.actor import Actor
from service.errors import ApiError
from service.inbox.presenters import ACTIONS, STATUSES, process_names, subject_labels
from service.instances.access import visible_units
from service.org.models import OrgUnit, Person
from service.transaction import transactional
from service.webui import error_message, is_english, render_error
from service.webui.session import current_page_actor, login_required

from . import branch, candidate

bp = Blueprint("tracking_pages", __name__, template_folder="templates")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


@transactional
def _open_person(actor: Actor, person_id: str) -> Person:
    """The person, if `actor` may see them; the view of their restricted record is audited."""
    person = candidate.person_for(actor, person_id)
    candidate.record_restricted_view(actor, person, "candidate_page")
    return person


@bp.get("/people/<person_id>")
@login_required
def person_page(person_id: str) -> str:
    actor = current_page_actor()
    person = _open_person(actor, person_id[:64])
    cases = candidate.person_cases(actor, person)
    names = process_names()
    timeline = candidate.timeline(cases, names, ACTIONS)
    return render_template(
        "tracking/candidate.html", person=person, stages=candidate.pipeline(person, cases),
        cases=candidate.case_rows(cases, names, english=is_english()), timeline=timeline, statuses=STATUSES,
        party_status=dict(candidate.STAGES).get(person.party_status, person.party_status),
        unit_link=person.org_unit is not None and (actor.is_admin or person.org_unit.code in visible_units(actor)))


@transactional
def _open_unit(actor: Actor, code: str) -> OrgUnit:
    unit = branch.unit_for(actor, code)
    branch.record_restricted_view(actor, unit)
    return unit


@bp.get("/org-units/<code>")
@login_required
def unit_page(code: str) -> str:
    actor = current_page_actor()
    unit = _open_unit(actor, code[:64])
    cases = branch.unit_cases(actor, unit)
    names = process_names()
    subjects = subject_labels(c.subject for c in cases)
    return render_template(
        "tracking/branch.html", unit=unit, members=branch.members(unit, cases), sub_units=branch.sub_units(unit),
        open_cases=candidate.case_rows(branch.open_cases(cases), names, english=is_english()), subjects=subjects,
        grades=branch.grades_by_year(cases), rectifications=branch.rectifications(cases), statuses=STATUSES)
