from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema
from service.transaction import transactional

from . import operations

blp = Blueprint("campaigns", __name__, description="Campaigns: one case per eligible org unit (e.g. the annual assessment)")


class LaunchRequest(Schema):
    process = fields.String(required=True, validate=validate.Length(min=1, max=100))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    deadline = fields.Date(required=True, metadata={"description": "self-assessment deadline (end of that day, Beijing time)"})
    reviewers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), validate=validate.Length(max=50),
                            metadata={"description": "usernames; default: the process policy, else the reviewer role's holders"})


class CampaignQuery(Schema):
    process = fields.String(validate=validate.Length(max=100))


class CampaignSchema(Schema):
    id = fields.Integer(required=True)
    process = fields.String(required=True)
    year = fields.Integer(required=True)
    deadline = fields.Date(required=True)
    status = fields.String(required=True)
    launched_at = fields.DateTime(required=True)
    launched_by = fields.String(allow_none=True)
    quotas = fields.Dict()
    reviewers = fields.List(fields.String())
    excluded = fields.List(fields.Dict(), metadata={"description": "units left out, with the reason"})


class LaunchResult(CampaignSchema):
    instances = fields.Integer(required=True, metadata={"description": "number of cases started"})
    instance_ids = fields.List(fields.Integer())


class ProgressRow(Schema):
    subject = fields.String(required=True)
    name = fields.String(allow_none=True)
    instance_id = fields.Integer(required=True)
    status = fields.String(required=True)
    milestone = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    ready_tasks = fields.List(fields.String())
    self_total = fields.Float(allow_none=True)
    review_mean = fields.Float(allow_none=True)
    final_score = fields.Float(allow_none=True)
    grade = fields.String(allow_none=True)
    grade_title = fields.String(allow_none=True)
    review_round = fields.Integer(allow_none=True)


class ProgressSchema(CampaignSchema):
    summary = fields.Dict(required=True, metadata={"description": "units, graded, by_grade, by_status, quota_violations"})
    items = fields.List(fields.Nested(ProgressRow), required=True)
    confirmed = fields.Integer(metadata={"description": "cases confirmed by this request"})


class CampaignList(Schema):
    items = fields.List(fields.Nested(CampaignSchema), required=True)


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.arguments(LaunchRequest)
    @blp.response(201, LaunchResult)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body):  # type: ignore[no-untyped-def]
        campaign, instances = operations.launch_campaign(
            require_actor(), body["process"], body["year"], body["deadline"], body.get("reviewers"))
        return {**operations.campaign_view(campaign), "instances": len(instances),
                "instance_ids": [i.id for i in instances]}

    @blp.arguments(CampaignQuery, location="query")
    @blp.response(200, CampaignList)
    def get(self, query):  # type: ignore[no-untyped-def]
        return {"items": operations.list_campaigns(require_actor(), query.get("process"))}


@blp.route("/campaigns/<int:campaign_id>")
class CampaignItem(MethodView):
    @blp.response(200, ProgressSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, campaign_id):  # type: ignore[no-untyped-def]
        return operations.campaign_progress(require_actor(), campaign_id)


@blp.route("/campaigns/<int:campaign_id>/confirm")
class Confirm(MethodView):
    @blp.response(200, ProgressSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, campaign_id):  # type: ignore[no-untyped-def]
        return operations.confirm_campaign(require_actor(), campaign_id)
