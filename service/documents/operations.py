"""Who gets which document. A document holds restricted data, so it follows the pages' rules: the case
must be visible to the actor AND the actor must be entitled to its restricted data
(service/tracking/visibility.py); anyone else gets a 404, as for the page. Every document handed out
is one `restricted_view` audit entry. Nothing else changes."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from service.auth.actor import Actor
from service.campaigns.operations import campaign_progress, get_campaign
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.access import can_view, visible_instances_condition, visible_units
from service.instances.models import Instance
from service.org.models import OrgUnit
from service.tracking import visibility

from . import builders

RECOMMENDATION = "recommendation"


def _no_form() -> ApiError:
    return ApiError(404, "not_found", "推荐表在团总支审核同意后生成 / the recommendation form exists once the "
                                      "general branch has approved the recommendation")


def _no_meeting() -> ApiError:
    return ApiError(404, "not_found", "尚无推优大会记录 / no branch meeting has been recorded yet")


def recommendation_case(actor: Actor, instance_id: int) -> Instance:
    """A recommendation case whose restricted record the actor may read, else 404."""
    instance = db.session.get(Instance, instance_id)
    if instance is None or instance.process_key != RECOMMENDATION or not can_view(actor, instance) \
            or not visibility.may_see_restricted(actor, instance):
        raise not_found()
    return instance


def available(record: dict[str, Any]) -> dict[str, bool]:
    return {"form": record["form_ready"], "meeting_record": bool(record["meetings"])}


def recommendation_documents(actor: Actor, instance_id: int) -> dict[str, Any]:
    """Which documents a recommendation case has, with their addresses (no restricted data: not logged)."""
    instance = recommendation_case(actor, instance_id)
    data = builders.case_data(instance)
    ready = {"form": bool(data.get("recommendation_form")), "meeting_record": bool(data.get("meetings"))}
    documents = []
    if ready["form"]:
        documents += [
            {"kind": "recommendation_form", "title": "推荐表", "format": "html",
             "url": url_for("document_pages.recommendation_form", instance_id=instance.id)},
            {"kind": "recommendation_form", "title": "推荐表", "format": "pdf",
             "url": url_for("documents.RecommendationFormPdf", instance_id=instance.id)}]
    if ready["meeting_record"]:
        documents += [
            {"kind": "meeting_record", "title": "推优大会记录", "format": "html",
             "url": url_for("document_pages.meeting_record", instance_id=instance.id)},
            {"kind": "meeting_record", "title": "推优大会记录", "format": "pdf",
             "url": url_for("documents.MeetingRecordPdf", instance_id=instance.id)}]
    return {"instance_id": instance.id, "subject": instance.subject, "status": instance.status,
            "outcome": instance.outcome, "documents": documents}


def recommendation_form(actor: Actor, instance_id: int, what: str) -> dict[str, Any]:
    """The 推荐表's content (masked identifiers); logs one restricted view named `what`."""
    instance = recommendation_case(actor, instance_id)
    record = builders.recommendation_record(instance)
    if not record["form_ready"]:
        raise _no_form()
    visibility.record_restricted_view(actor, what, instance=instance.id, person=instance.subject)
    return record


def meeting_record(actor: Actor, instance_id: int, what: str) -> dict[str, Any]:
    """The 推优大会记录's content; logs one restricted view named `what`."""
    instance = recommendation_case(actor, instance_id)
    record = builders.recommendation_record(instance)
    if not record["meetings"]:
        raise _no_meeting()
    visibility.record_restricted_view(actor, what, instance=instance.id, person=instance.subject)
    return record


def assessment_summary(actor: Actor, campaign_id: int) -> tuple[int, list[dict[str, Any]]]:
    """(year, rows): one row per branch of the campaign whose scores the actor may read; logged."""
    campaign = get_campaign(campaign_id)
    items = campaign_progress(actor, campaign_id)["items"]
    ids = [item["instance_id"] for item in items]
    instances = {i.id: i for i in db.session.scalars(select(Instance).where(Instance.id.in_(ids)))} if ids else {}
    items = [item for item in items if visibility.may_see_restricted(actor, instances[item["instance_id"]])]
    if not items:
        raise not_found()
    visibility.record_restricted_view(actor, "assessment_summary", campaign=campaign.id)
    return campaign.year, builders.assessment_rows(items)


def rectification_ledger(actor: Actor, unit: str | None = None) -> list[dict[str, Any]]:
    """One row per problem of the rectifications the actor may read (of one unit, if given); logged
    when it shows any."""
    if unit is not None:
        exists = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == unit))
        if exists is None or not (actor.is_admin or unit in visible_units(actor)):
            raise not_found()
    cases = [c for c in builders.rectification_cases(visible_instances_condition(actor), unit)
             if visibility.may_see_restricted(actor, c)]
    rows = builders.ledger_rows(cases)
    if rows:
        ids = {"org_unit": unit} if unit else {}
        visibility.record_restricted_view(actor, "rectification_ledger", **ids)
    return rows
