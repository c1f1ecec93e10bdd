"""JSON mirrors of the tracking pages: a campaign's board, case search with saved searches, dashboards."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema
from service.errors import not_found
from service.instances.models import INSTANCE_STATUSES
from service.transaction import transactional

from . import campaign_board, dashboards, search
from .campaign_board import SORT_KEYS, BoardQuery

blp = Blueprint("tracking", __name__, description="Tracking: campaign boards, case search, saved searches, dashboards")


# -- campaign board ------------------------------------------------------------------------------------------------
class BoardArgs(Schema):
    sort = fields.String(validate=validate.OneOf(SORT_KEYS))
    order = fields.String(validate=validate.OneOf(["asc", "desc"]))
    step = fields.String(validate=validate.Length(min=1, max=100))
    grade = fields.String(validate=validate.Length(min=1, max=64))
    overdue = fields.Boolean()


class ReviewScore(Schema):
    reviewer = fields.String(allow_none=True)
    total = fields.Float(required=True)


class BoardRow(Schema):
    subject = fields.String(required=True)
    name = fields.String(allow_none=True)
    instance_id = fields.Integer(required=True)
    status = fields.String(required=True)
    step = fields.String(allow_none=True, metadata={"description": "the current step (milestone)"})
    steps = fields.List(fields.String(), required=True, metadata={"description": "BPMN ids of the ready tasks"})
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(required=True)
    self_total = fields.Float(allow_none=True)
    reviews = fields.List(fields.Nested(ReviewScore), required=True)
    aggregate = fields.Float(allow_none=True)
    grade = fields.String(allow_none=True)
    grade_title = fields.String(allow_none=True)
    reported = fields.Boolean(required=True, metadata={"description": "waiting for the Party general branch"})


class QuotaGrade(Schema):
    grade = fields.String(required=True)
    title = fields.String(allow_none=True)
    count = fields.Integer(required=True)
    quota = fields.Float(allow_none=True, metadata={"description": "largest share allowed (policy)"})
    allowed = fields.Integer(allow_none=True, metadata={"description": "how many the quota allows now"})
    over = fields.Boolean(required=True)


class QuotaUse(Schema):
    units = fields.Integer(required=True)
    graded = fields.Integer(required=True)
    grades = fields.List(fields.Nested(QuotaGrade), required=True)


class StepCount(Schema):
    name = fields.String(required=True)
    title = fields.String(required=True)
    count = fields.Integer(required=True)


class BoardSchema(Schema):
    id = fields.Integer(required=True)
    process = fields.String(required=True)
    year = fields.Integer(required=True)
    deadline = fields.Date(required=True)
    status = fields.String(required=True)
    quota = fields.Nested(QuotaUse, required=True)
    total = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    waiting_confirm = fields.Integer(required=True)
    reported = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    may_confirm = fields.Boolean(required=True)
    steps = fields.List(fields.Nested(StepCount), required=True)
    items = fields.List(fields.Nested(BoardRow), required=True)


@blp.route("/campaigns/<int:campaign_id>/board")
class CampaignBoard(MethodView):
    @blp.arguments(BoardArgs, location="query")
    @blp.response(200, BoardSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, args, campaign_id):  # type: ignore[no-untyped-def]
        query = BoardQuery(sort=args.get("sort", "subject"), desc=args.get("order") == "desc", step=args.get("step"),
                           grade=args.get("grade"), overdue=args.get("overdue"))
        view = campaign_board.campaign_board(require_actor(), campaign_id, query)
        campaign = view["campaign"]
        return {**view, "id": campaign.id, "process": campaign.process_key, "year": campaign.year,
                "deadline": campaign.deadline, "status": campaign.status, "items": view["rows"]}


# -- search -----------------------------------------------------------------------------------------------------------
class SearchArgs(Schema):
    name = fields.String(validate=validate.Length(max=100), metadata={"description": "part of a person's or unit's name"})
    number = fields.String(validate=validate.Length(max=32), metadata={"description": "student number (prefix)"})
    unit = fields.String(validate=validate.Length(max=64), metadata={"description": "org unit code (and units below)"})
    process = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))
    step = fields.String(validate=validate.Length(max=100), metadata={"description": "BPMN id of a ready task"})
    started_from = fields.Date()
    started_to = fields.Date()
    columns = fields.String(validate=validate.Length(max=600), metadata={
        "description": "comma-separated process variables (restricted ones for admins only), or person.phone, "
                       "person.id_number (masked)"})
    page = fields.Integer(validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(validate=validate.Range(min=1, max=search.MAX_PER_PAGE))


class SearchItem(Schema):
    id = fields.Integer(required=True)
    process = fields.String(required=True)
    title = fields.String(allow_none=True)
    subject = fields.String(required=True)
    subject_kind = fields.String(required=True)
    name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    milestone = fields.String(allow_none=True)
    steps = fields.List(fields.String(), required=True, metadata={"description": "titles of the ready tasks"})
    started_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
    values = fields.Dict(required=True, metadata={"description": "the chosen columns' values"})


class SearchResult(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    columns = fields.List(fields.String(), required=True)
    items = fields.List(fields.Nested(SearchItem), required=True)


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, SearchResult)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def get(self, args):  # type: ignore[no-untyped-def]
        return search.search(require_actor(), search.parse_query(args))


class SavedSearchRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    query = fields.String(required=True, validate=validate.Length(max=2000),
                          metadata={"description": "a search query string, e.g. process=recommendation&status=running"})


class SavedSearchSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    query = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class SavedSearchList(Schema):
    items = fields.List(fields.Nested(SavedSearchSchema), required=True)


@blp.route("/saved-searches")
class SavedSearches(MethodView):
    @blp.response(200, SavedSearchList)
    def get(self):  # type: ignore[no-untyped-def]
        return {"items": [search.saved_view(s) for s in search.saved_searches(require_actor())]}

    @blp.arguments(SavedSearchRequest)
    @blp.response(201, SavedSearchSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body):  # type: ignore[no-untyped-def]
        return search.saved_view(search.save_search(require_actor(), body["name"], body["query"]))


@blp.route("/saved-searches/<int:search_id>")
class SavedSearchItem(MethodView):
    @blp.response(200, SavedSearchSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, search_id):  # type: ignore[no-untyped-def]
        return search.saved_view(search.get_saved_search(require_actor(), search_id))

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def delete(self, search_id):  # type: ignore[no-untyped-def]
        search.delete_saved_search(require_actor(), search_id)
        return None


# -- dashboards ----------------------------------------------------------------------------------------------------------
class DashboardArgs(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class DashboardResult(Schema):
    name = fields.String(required=True, validate=validate.OneOf(dashboards.DASHBOARDS))
    year = fields.Integer(allow_none=True)
    data = fields.Dict(required=True, metadata={"description": "the dashboard's numbers (as its page's tables show them)"})


@blp.route("/dashboards/<string:name>")
class Dashboard(MethodView):
    @blp.arguments(DashboardArgs, location="query")
    @blp.response(200, DashboardResult)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, args, name):  # type: ignore[no-untyped-def]
        """One of: funnel, grades, overdue, step_times, rectifications."""
        if name not in dashboards.DASHBOARDS:
            raise not_found()
        data = dashboards.dashboard(require_actor(), name, args.get("year"))
        return {"name": name, "year": data.get("year"), "data": data}
