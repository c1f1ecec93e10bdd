"""GET /api/v1/calendar?month=YYYY-MM: what falls due in a month for the caller's cases."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema

from . import queries

blp = Blueprint("calendar", __name__, description="Month calendar: what falls due across all processes")


class CalendarQuery(Schema):
    month = fields.String(validate=validate.Length(max=7), metadata={"description": "YYYY-MM; default this month"})


class CalendarItem(Schema):
    date = fields.String(required=True, metadata={"description": "YYYY-MM-DD (Beijing)"})
    time = fields.String(allow_none=True, metadata={"description": "HH:MM (Beijing) for tasks and timers"})
    kind = fields.String(required=True, metadata={"description": " | ".join(queries.KINDS)})
    title = fields.String(required=True)
    process = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    subject_kind = fields.String(allow_none=True, metadata={"description": "person | org_unit"})
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    mine = fields.Boolean(required=True, metadata={"description": "a task offered to the caller"})


class CalendarMonth(Schema):
    month = fields.String(required=True)
    items = fields.List(fields.Nested(CalendarItem), required=True)


@blp.route("/calendar")
class Calendar(MethodView):
    @blp.arguments(CalendarQuery, location="query")
    @blp.response(200, CalendarMonth)
    @blp.alt_response(422, schema=ErrorSchema)
    def get(self, query):  # type: ignore[no-untyped-def]
        year, month = queries.parse_month(query.get("month"))
        return {"month": f"{year:04d}-{month:02d}", "items": queries.month_items(require_actor(), year, month)}
