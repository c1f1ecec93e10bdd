"""API: incidents of background jobs (admin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema, PageArgs
from service.transaction import transactional

from . import operations
from .models import JOB_STATUSES

blp = Blueprint("incidents", __name__, description="Incidents: background jobs that failed too often (admin)")


class IncidentSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "the job: timer = firing the case's due timers"})
    instance_id = fields.Integer(required=True)
    process = fields.String(required=True)
    subject = fields.String(required=True)
    instance_status = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "retrying | incident | resolved"})
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True)
    first_failed_at = fields.DateTime(required=True)
    last_failed_at = fields.DateTime(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class IncidentPage(Schema):
    items = fields.List(fields.Nested(IncidentSchema), required=True)
    total = fields.Integer(required=True)


class IncidentQuery(PageArgs):
    status = fields.String(validate=validate.OneOf([*JOB_STATUSES, "open"]),
                           metadata={"description": "default incident; open = retrying or incident"})


def incident_view(row: Any, instance: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "instance_id": row.instance_id, "process": instance.process_key,
            "subject": instance.subject, "instance_status": instance.status, "status": row.status,
            "attempts": row.attempts, "last_error": row.last_error, "first_failed_at": row.first_failed_at,
            "last_failed_at": row.last_failed_at, "next_attempt_at": row.next_attempt_at,
            "closed_at": row.closed_at}


def _one(row: Any) -> dict[str, Any]:
    from service.extensions import db
    from service.instances.models import Instance

    return incident_view(row, db.session.get(Instance, row.instance_id))


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.arguments(IncidentQuery, location="query")
    @blp.response(200, IncidentPage)
    @blp.alt_response(403, schema=ErrorSchema)
    def get(self, query):  # type: ignore[no-untyped-def]
        status = query.get("status", "incident")
        rows, total = operations.list_incidents(require_actor(), None if status == "open" else status,
                                                query["limit"], query["offset"])
        return {"items": [incident_view(row, instance) for row, instance in rows], "total": total}


@blp.route("/incidents/<int:incident_id>/retry")
class Retry(MethodView):
    @blp.response(200, IncidentSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, incident_id):  # type: ignore[no-untyped-def]
        """Reset the attempts and run the job now (status resolved if it ran, retrying if it failed again)."""
        return _one(operations.retry_incident(require_actor(), incident_id))


@blp.route("/incidents/<int:incident_id>/resolve")
class Resolve(MethodView):
    @blp.response(200, IncidentSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, incident_id):  # type: ignore[no-untyped-def]
        """Close it without running it."""
        return _one(operations.resolve_incident(require_actor(), incident_id))
