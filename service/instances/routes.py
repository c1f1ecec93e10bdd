from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from service.api import require_actor, require_admin
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema, InstanceDetailSchema, InstancePage, InstanceSchema, PageArgs
from service.extensions import db
from service.transaction import transactional

from . import admin, operations
from .access import visible_instances_condition
from .models import Instance
from .views import diagram_view, instance_detail, instance_views

blp = Blueprint("instances", __name__, description="Cases (process instances)")


class StartRequest(Schema):
    process = fields.String(required=True, validate=validate.Length(min=1, max=100))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=64))
    data = fields.Dict(load_default=dict)


class InstanceQuery(PageArgs):
    process = fields.String(validate=validate.Length(max=100))
    subject = fields.String(validate=validate.Length(max=64))
    status = fields.String(validate=validate.OneOf(["running", "completed", "suspended", "terminated", "error"]))


class MessageRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    data = fields.Dict(load_default=dict)


class TerminateRequest(Schema):
    reason = fields.String(validate=validate.Length(max=1000))


class DiagramSchema(Schema):
    instance_id = fields.Integer(required=True)
    process = fields.String(required=True)
    version = fields.Integer(required=True)
    bpmn = fields.String(required=True, metadata={"description": "the BPMN XML of the case's version"})
    completed = fields.List(fields.String(), required=True, metadata={"description": "BPMN ids of completed elements"})
    current = fields.List(fields.String(), required=True,
                          metadata={"description": "BPMN ids of elements ready, waiting or started"})
    cancelled = fields.List(fields.String(), required=True, metadata={"description": "BPMN ids of cancelled elements"})
    flows = fields.List(fields.String(), required=True, metadata={"description": "ids of the sequence flows taken"})


def list_instances(query, **filters):  # type: ignore[no-untyped-def]
    """A page of cases visible to the caller, with filters (used by the people/org-unit lists too)."""
    actor = require_actor()
    condition = visible_instances_condition(actor)
    stmt = select(Instance).where(condition)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(Instance, column) == value)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Instance.id.desc()).limit(query["limit"]).offset(query["offset"])).all()
    return {"items": instance_views(rows), "total": total or 0}


@blp.route("/instances")
class Instances(MethodView):
    @blp.arguments(StartRequest)
    @blp.response(201, InstanceSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body):  # type: ignore[no-untyped-def]
        actor = require_actor()
        instance = operations.start_instance(actor, body["process"], body["subject"], body["data"])
        return instance_views([instance])[0]

    @blp.arguments(InstanceQuery, location="query")
    @blp.response(200, InstancePage)
    def get(self, query):  # type: ignore[no-untyped-def]
        return list_instances(query, process_key=query.get("process"), subject=query.get("subject"),
                              status=query.get("status"))


@blp.route("/instances/<int:instance_id>")
class InstanceItem(MethodView):
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, instance_id):  # type: ignore[no-untyped-def]
        actor = require_actor()
        return instance_detail(operations.get_instance_for(actor, instance_id), viewer=actor)


@blp.route("/instances/<int:instance_id>/diagram")
class InstanceDiagram(MethodView):
    @blp.response(200, DiagramSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, instance_id):  # type: ignore[no-untyped-def]
        """The case's diagram with the elements completed, current and cancelled, and the path taken."""
        return diagram_view(operations.get_instance_for(require_actor(), instance_id))


@blp.route("/instances/<int:instance_id>/suspend")
class Suspend(MethodView):
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, instance_id):  # type: ignore[no-untyped-def]
        return instance_detail(operations.suspend_instance(require_actor(), instance_id))


@blp.route("/instances/<int:instance_id>/resume")
class Resume(MethodView):
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, instance_id):  # type: ignore[no-untyped-def]
        return instance_detail(operations.resume_instance(require_actor(), instance_id))


@blp.route("/instances/<int:instance_id>/terminate")
class Terminate(MethodView):
    @blp.arguments(TerminateRequest(partial=True))
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, body, instance_id):  # type: ignore[no-untyped-def]
        return instance_detail(operations.terminate_instance(require_actor(), instance_id, body.get("reason")))


@blp.route("/instances/<int:instance_id>/messages")
class Messages(MethodView):
    @blp.arguments(MessageRequest)
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, body, instance_id):  # type: ignore[no-untyped-def]
        instance = operations.send_message(require_actor(), instance_id, body["name"], body["data"])
        return instance_detail(instance)


# -- an administrator's repairs (service/instances/admin.py) ---------------------------------------------
class DataChangeRequest(Schema):
    changes = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)), required=True,
                          metadata={"description": "variable -> new value, set on the data the case's next steps use"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class MigrateRequest(Schema):
    to_version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class MigrateResult(Schema):
    id = fields.Integer(required=True)
    moved = fields.Boolean(required=True)
    reason = fields.String(allow_none=True, required=True, metadata={"description": "why it did not move (中文 / English)"})


@blp.route("/instances/<int:instance_id>/retry")
class Retry(MethodView):
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, instance_id):  # type: ignore[no-untyped-def]
        """Run the failed step of a case in error again (admin)."""
        return instance_detail(admin.retry_instance(require_admin(), instance_id))


@blp.route("/instances/<int:instance_id>/data")
class InstanceData(MethodView):
    @blp.arguments(DataChangeRequest)
    @blp.response(200, InstanceDetailSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def patch(self, body, instance_id):  # type: ignore[no-untyped-def]
        """Correct a case's data, with a reason; audited with the old and new values (admin)."""
        return instance_detail(admin.edit_data(require_admin(), instance_id, body["changes"], body["reason"]))


@blp.route("/instances/<int:instance_id>/migrate")
class Migrate(MethodView):
    @blp.arguments(MigrateRequest)
    @blp.response(200, MigrateResult)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def post(self, body, instance_id):  # type: ignore[no-untyped-def]
        """Move the case to another version of its process, if every step it is at exists there (admin)."""
        return admin.migrate_to(require_admin(), instance_id, body["to_version"])
