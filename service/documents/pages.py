"""Printable documents (A4 print styles; the PDF and .xlsx files come from the documents API) and the
template helpers the candidate and branch pages use to show restricted records and link documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for

from service.auth.actor import Actor
from service.errors import ApiError
from service.instances.models import Instance
from service.tracking import candidate
from service.transaction import transactional
from service.webui import error_message, render_error
from service.webui.session import current_page_actor, login_required

from . import operations

bp = Blueprint("document_pages", __name__, template_folder="templates")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


@transactional
def _form(actor: Actor, instance_id: int) -> dict[str, Any]:
    return operations.recommendation_form(actor, instance_id, "recommendation_form_page")


@transactional
def _meeting(actor: Actor, instance_id: int) -> dict[str, Any]:
    return operations.meeting_record(actor, instance_id, "meeting_record_page")


@bp.get("/documents/recommendations/<int:instance_id>/form")
@login_required
def recommendation_form(instance_id: int) -> str:
    record = _form(current_page_actor(), instance_id)
    return render_template("documents/recommendation_form.html", r=record,
                           pdf_url=url_for("documents.RecommendationFormPdf", instance_id=instance_id))


@bp.get("/documents/recommendations/<int:instance_id>/meeting-record")
@login_required
def meeting_record(instance_id: int) -> str:
    record = _meeting(current_page_actor(), instance_id)
    return render_template("documents/meeting_record.html", r=record,
                           pdf_url=url_for("documents.MeetingRecordPdf", instance_id=instance_id))


def ledger_url(unit: str | None = None) -> str:
    """The rectification ledger (.xlsx) over what the viewer may see, or one unit's."""
    return url_for("documents.RectificationLedger", **({"unit": unit} if unit else {}))


def assessment_summary_url(campaign_id: int) -> str:
    """The campaign's assessment summary (.xlsx): for the campaign pages."""
    return url_for("documents.AssessmentSummary", campaign_id=campaign_id)


def case_documents(record: dict[str, Any] | None, instance: Instance) -> list[dict[str, str]]:
    """Links to a recommendation case's documents, given its restricted record (None: no links)."""
    if record is None:
        return []
    links = []
    if record["form_ready"]:
        links += [{"label": "form", "url": url_for("document_pages.recommendation_form", instance_id=instance.id)},
                  {"label": "form_pdf", "url": url_for("documents.RecommendationFormPdf", instance_id=instance.id)}]
    if record["meetings"]:
        links += [{"label": "meeting", "url": url_for("document_pages.meeting_record", instance_id=instance.id)},
                  {"label": "meeting_pdf", "url": url_for("documents.MeetingRecordPdf", instance_id=instance.id)}]
    return links


bp.add_app_template_global(candidate.case_record, "tracking_case_record")
bp.add_app_template_global(case_documents, "case_documents")
bp.add_app_template_global(ledger_url, "rectification_ledger_url")
bp.add_app_template_global(assessment_summary_url, "assessment_summary_url")
