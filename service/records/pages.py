"""Pages for subject records (what finished cases left on a person or an org unit): one record at
/records/<id>, shown with the template for its kind when there is one (records/<kind>.html, e.g. the
printable training certificate) and as a plain table otherwise; a subject's records at
/records/people/<person_id> and /records/org-units/<code>.

Who may see them: the person themself, admins, and holders of roles over the subject's unit; anyone
else gets the same 404 as for a record that does not exist. Every view is audited (records can hold
restricted facts)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import select

from service import audit
from service.auth.actor import Actor
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.access import visible_units
from service.org.models import OrgUnit, Person
from service.tracking.candidate import may_see_person
from service.transaction import transactional
from service.webui import error_message, render_error
from service.webui.session import current_page_actor, login_required

from .models import SubjectRecord
from .operations import records_of

bp = Blueprint("record_pages", __name__, template_folder="templates")

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


def _subject_label(subject_kind: str, subject: str) -> tuple[str, Any]:
    """(display name, the Person or OrgUnit row or None)."""
    if subject_kind == "person":
        person = db.session.get(Person, subject)
        return (person.name if person else subject), person
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == subject))
    return (unit.name if unit else subject), unit


def may_see_subject(actor: Actor, subject_kind: str, row: Any) -> bool:
    if actor.is_admin:
        return True
    if row is None:
        return False
    if subject_kind == "person":
        return may_see_person(actor, row)
    return row.code in visible_units(actor)


def _audit_view(actor: Actor, subject_kind: str, subject: str, record_id: int | None) -> None:
    audit.record("restricted_view", actor_id=actor.user_id, page="record", subject_kind=subject_kind,
                 subject=subject, record=record_id, **({"person": subject} if subject_kind == "person" else {}))


@transactional
def _open_record(actor: Actor, record_id: int) -> tuple[SubjectRecord, str, Any]:
    record = db.session.get(SubjectRecord, record_id)
    if record is None:
        raise not_found()
    name, row = _subject_label(record.subject_kind, record.subject)
    if not may_see_subject(actor, record.subject_kind, row):
        raise not_found()
    _audit_view(actor, record.subject_kind, record.subject, record.id)
    return record, name, row


@transactional
def _open_subject(actor: Actor, subject_kind: str, subject: str) -> tuple[str, list[SubjectRecord]]:
    name, row = _subject_label(subject_kind, subject)
    if row is None or not may_see_subject(actor, subject_kind, row):
        raise not_found()
    _audit_view(actor, subject_kind, subject, None)
    return name, records_of(subject_kind, subject)


def template_for(kind: str) -> str:
    """records/<kind>.html when the kind has its own template, else the generic table."""
    if _KIND.match(kind):
        name = f"records/{kind}.html"
        try:
            current_app.jinja_env.get_template(name)
        except TemplateNotFound:
            pass
        else:
            return name
    return "records/generic.html"


@bp.get("/records/<int:record_id>")
@login_required
def record_page(record_id: int) -> str:
    record, name, row = _open_record(current_page_actor(), record_id)
    return render_template(template_for(record.kind), record=record, data=record.data or {}, subject_name=name,
                           subject_row=row)


@bp.get("/records/people/<person_id>")
@login_required
def person_records(person_id: str) -> str:
    name, records = _open_subject(current_page_actor(), "person", person_id[:64])
    return render_template("records/list.html", subject_kind="person", subject=person_id, subject_name=name,
                           records=records)


@bp.get("/records/org-units/<code>")
@login_required
def unit_records(code: str) -> str:
    name, records = _open_subject(current_page_actor(), "org_unit", code[:64])
    return render_template("records/list.html", subject_kind="org_unit", subject=code, subject_name=name,
                           records=records)


def record_title(kind: str) -> Any:
    """A record kind in words, for lists (kinds without a title show as they are)."""
    from flask_babel import gettext as _

    titles = {"training_certificate": _("党校结业证书")}
    return titles.get(kind, kind)


bp.add_app_template_global(record_title, "record_title")
