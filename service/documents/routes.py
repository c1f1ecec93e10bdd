"""The documents API: what a recommendation case has to print, and the files themselves (PDF, .xlsx).
Same visibility as the pages (404 for a case the caller may not see or whose restricted record is not
theirs); identifiers masked; each file handed out is one restricted_view audit entry."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema
from service.transaction import transactional

from . import operations, render

blp = Blueprint("documents", __name__, description="Documents to print and file: 推荐表, meeting records, "
                                                   "assessment summaries and rectification ledgers")


def _binary(mime: str, what: str) -> dict:
    return {"description": f"{what} (as an attachment)", "content": {mime: {"schema": {"type": "string",
                                                                                          "format": "binary"}}}}


def download(content: bytes, mime: str, filename: str) -> Response:
    response = Response(content, mimetype=mime)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "", filename).lstrip("-.") or "document"
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{ascii_name}\"; "
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-store"  # restricted content stays out of shared caches
    return response


class DocumentLink(Schema):
    kind = fields.String(required=True, metadata={"description": "recommendation_form | meeting_record"})
    title = fields.String(required=True)
    format = fields.String(required=True, metadata={"description": "html (printable page) | pdf"})
    url = fields.String(required=True)


class RecommendationDocuments(Schema):
    instance_id = fields.Integer(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    documents = fields.List(fields.Nested(DocumentLink), required=True)


class LedgerQuery(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=64),
                         metadata={"description": "only this org unit's rectifications (its code)"})


@blp.route("/documents/recommendations/<int:instance_id>")
class RecommendationDocumentList(MethodView):
    @blp.response(200, RecommendationDocuments)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, instance_id):  # type: ignore[no-untyped-def]
        """The documents a recommendation case has so far (推荐表 once approved, the meeting record)."""
        return operations.recommendation_documents(require_actor(), instance_id)


@blp.route("/documents/recommendations/<int:instance_id>/form.pdf")
class RecommendationFormPdf(MethodView):
    @blp.doc(responses={"200": _binary(render.PDF_MIME, "the 推荐表 as an A4 PDF")})
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def get(self, instance_id):  # type: ignore[no-untyped-def]
        """The 推荐表 (recommendation form) as PDF; ID number and phone masked."""
        record = operations.recommendation_form(require_actor(), instance_id, "recommendation_form_pdf")
        return download(render.recommendation_form_pdf(record), render.PDF_MIME,
                        f"推荐表-{record['person']['name']}-{instance_id}.pdf")


@blp.route("/documents/recommendations/<int:instance_id>/meeting-record.pdf")
class MeetingRecordPdf(MethodView):
    @blp.doc(responses={"200": _binary(render.PDF_MIME, "the 推优大会记录 as an A4 PDF")})
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def get(self, instance_id):  # type: ignore[no-untyped-def]
        """The branch meeting record (推优大会记录) as PDF."""
        record = operations.meeting_record(require_actor(), instance_id, "meeting_record_pdf")
        return download(render.meeting_record_pdf(record), render.PDF_MIME,
                        f"推优大会记录-{record['person']['name']}-{instance_id}.pdf")


@blp.route("/documents/campaigns/<int:campaign_id>/assessment-summary.xlsx")
class AssessmentSummary(MethodView):
    @blp.doc(responses={"200": _binary(render.XLSX_MIME, "考核结果汇总表: one row per branch")})
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def get(self, campaign_id):  # type: ignore[no-untyped-def]
        """The campaign's assessment summary: branch, self score, reviewers' mean, grade, confirmed."""
        year, rows = operations.assessment_summary(require_actor(), campaign_id)
        return download(render.assessment_summary_xlsx(year, rows), render.XLSX_MIME,
                        f"考核结果汇总表-{year}-{campaign_id}.xlsx")


@blp.route("/documents/rectification-ledger.xlsx")
class RectificationLedger(MethodView):
    @blp.arguments(LedgerQuery, location="query")
    @blp.doc(responses={"200": _binary(render.XLSX_MIME, "整改台账: one row per problem")})
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def get(self, query):  # type: ignore[no-untyped-def]
        """The rectification ledger over the rectifications the caller may see (optionally one unit's)."""
        unit = query.get("unit")
        rows = operations.rectification_ledger(require_actor(), unit)
        return download(render.ledger_xlsx(rows), render.XLSX_MIME, f"整改台账{'-' + unit if unit else ''}.xlsx")
