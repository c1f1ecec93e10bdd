from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.schemas import ErrorSchema, InstanceSchema, PageArgs, TaskDetailSchema, TaskPage, TaskSchema
from service.extensions import db
from service.instances import operations
from service.instances.models import Instance
from service.instances.views import instance_views, task_views
from service.transaction import transactional

from .queries import inbox, prefill

blp = Blueprint("tasks", __name__, description="The caller's inbox and task actions")


class TaskQuery(PageArgs):
    process = fields.String(validate=validate.Length(max=100))
    subject = fields.String(validate=validate.Length(max=64))
    overdue = fields.Boolean()


class CompleteRequest(Schema):
    data = fields.Dict(load_default=dict)


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQuery, location="query")
    @blp.response(200, TaskPage)
    def get(self, query):  # type: ignore[no-untyped-def]
        rows, total = inbox(require_actor(), process=query.get("process"), subject=query.get("subject"),
                            overdue=query.get("overdue"), limit=query["limit"], offset=query["offset"])
        return {"items": task_views(rows), "total": total}


@blp.route("/tasks/<string:task_id>")
class TaskItem(MethodView):
    @blp.response(200, TaskDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, task_id):  # type: ignore[no-untyped-def]
        task = operations.get_task_for(require_actor(), task_id)
        instance = db.session.get(Instance, task.instance_id)
        schema = operations.form_schema(instance, task)
        view = task_views([task])[0]
        data = {}
        if task.status == "ready":
            case = operations.restore_case(instance)
            current = next((v for v in case.ready_human_tasks() if v.id == task.engine_task_id), None)
            data = prefill(current.data, schema) if current else {}
        view.update(instructions=task.instructions, data=data,
                    form={"schema": schema, "uiSchema": operations.form_ui_schema(instance, task)})
        return view


@blp.route("/tasks/<string:task_id>/claim")
class Claim(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, task_id):  # type: ignore[no-untyped-def]
        return task_views([operations.claim_task(require_actor(), task_id)])[0]


@blp.route("/tasks/<string:task_id>/unclaim")
class Unclaim(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @transactional
    def post(self, task_id):  # type: ignore[no-untyped-def]
        return task_views([operations.unclaim_task(require_actor(), task_id)])[0]


@blp.route("/tasks/<string:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompleteRequest)
    @blp.response(200, InstanceSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body, task_id):  # type: ignore[no-untyped-def]
        instance = operations.complete_task(require_actor(), task_id, body["data"])
        return instance_views([instance])[0]
