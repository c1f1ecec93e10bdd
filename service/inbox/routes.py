from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema, InstanceSchema, PageArgs, TaskDetailSchema, TaskPage, TaskSchema
from service.extensions import db
from service.instances import operations
from service.instances.models import Instance
from service.instances.views import instance_views, task_views
from service.tracking.visibility import redact_task_data
from service.transaction import transactional

from . import actions
from .queries import inbox, prefill

blp = Blueprint("tasks", __name__, description="The caller's inbox and task actions")


class TaskQuery(PageArgs):
    process = fields.String(validate=validate.Length(max=100))
    subject = fields.String(validate=validate.Length(max=64))
    overdue = fields.Boolean()


class CompleteRequest(Schema):
    data = fields.Dict(load_default=dict)


COMMENT = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                        metadata={"description": "recorded in the audit log"})


class CommentRequest(Schema):
    comment = COMMENT


class HandOverRequest(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "username"})
    comment = COMMENT


class ReturnRequest(Schema):
    step = fields.String(required=True, validate=validate.Length(min=1, max=36),
                         metadata={"description": "id of an earlier completed task of the same case"})
    comment = COMMENT


class RemindResult(Schema):
    notified = fields.Integer(required=True)


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
        actor = require_actor()
        task = operations.get_task_for(actor, task_id)
        instance = db.session.get(Instance, task.instance_id)
        schema = operations.form_schema(instance, task)
        view = task_views([task])[0]
        data = {}
        if task.status == "ready":
            case = operations.restore_case(instance)
            current = next((v for v in case.ready_human_tasks() if v.id == task.engine_task_id), None)
            data = actions.with_proposal(task, prefill(redact_task_data(actor, instance, current.data), schema)
                                         if current else {})
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
        instance = actions.complete_task(require_actor(), task_id, body["data"])
        return instance_views([instance])[0]


def _task_action(name: str, summary: str, request_schema: type[Schema], response_schema: Schema | type[Schema],
                 run):  # type: ignore[no-untyped-def]
    class Action(MethodView):
        @blp.arguments(request_schema)
        @blp.response(200, response_schema)
        @blp.alt_response(403, schema=ErrorSchema)
        @blp.alt_response(404, schema=ErrorSchema)
        @blp.alt_response(409, schema=ErrorSchema)
        @blp.alt_response(422, schema=ErrorSchema)
        @transactional
        def post(self, body, task_id):  # type: ignore[no-untyped-def]
            return run(require_actor(), task_id, body)

    Action.__name__ = Action.__qualname__ = f"Task{name.title()}"
    Action.post.__doc__ = summary
    blp.route(f"/tasks/<string:task_id>/{name}")(Action)


_task_action("transfer", "转办: hand the task to another person who may act on it", HandOverRequest, TaskSchema,
             lambda actor, task_id, body: task_views([actions.transfer_task(actor, task_id, body["to"],
                                                                            body["comment"])])[0])
_task_action("delegate", "委派: someone else fills it in; it comes back to you to confirm", HandOverRequest, TaskSchema,
             lambda actor, task_id, body: task_views([actions.delegate_task(actor, task_id, body["to"],
                                                                            body["comment"])])[0])
_task_action("withdraw", "撤回: take back a step you completed while the next step is untouched", CommentRequest,
             InstanceSchema, lambda actor, task_id, body: instance_views(
                 [actions.withdraw_task(actor, task_id, body["comment"])])[0])
_task_action("return", "退回: send the case back to an earlier step it has passed", ReturnRequest, InstanceSchema,
             lambda actor, task_id, body: instance_views(
                 [actions.return_task(actor, task_id, body["step"], body["comment"])])[0])
_task_action("remind", "催办: notify everyone the task waits on", CommentRequest, RemindResult,
             lambda actor, task_id, body: {"notified": actions.remind_task(actor, task_id, body["comment"])})


class CopyResult(Schema):
    instance_id = fields.Integer(required=True)
    to = fields.String(required=True)


@blp.route("/instances/<int:instance_id>/copies")
class Copies(MethodView):
    @blp.arguments(HandOverRequest)
    @blp.response(201, CopyResult)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body, instance_id):  # type: ignore[no-untyped-def]
        """抄送: copy the case to someone for information (they can then see it)."""
        actions.copy_case(require_actor(), instance_id, body["to"], body["comment"])
        return {"instance_id": instance_id, "to": body["to"]}


class StandInRequest(Schema):
    stand_in = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "username"})
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    comment = COMMENT


class StandInSchema(Schema):
    id = fields.Integer(required=True)
    user = fields.String(required=True, metadata={"description": "who is away"})
    stand_in = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class StandInList(Schema):
    items = fields.List(fields.Nested(StandInSchema), required=True)


def _stand_in_view(row, user: str, stand_in: str) -> dict:  # type: ignore[no-untyped-def]
    return {"id": row.id, "user": user, "stand_in": stand_in, "starts_on": row.starts_on, "ends_on": row.ends_on}


@blp.route("/stand-ins")
class StandIns(MethodView):
    @blp.response(200, StandInList)
    def get(self):  # type: ignore[no-untyped-def]
        """代理: the stand-ins the caller named, and those naming the caller."""
        return {"items": [_stand_in_view(*row) for row in actions.stand_ins_of(require_actor())]}

    @blp.arguments(StandInRequest)
    @blp.response(201, StandInSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body):  # type: ignore[no-untyped-def]
        """Name a stand-in for a date range: the caller's tasks show up for them meanwhile."""
        actor = require_actor()
        row = actions.name_stand_in(actor, body["stand_in"], body["starts_on"], body["ends_on"], body["comment"])
        return _stand_in_view(row, actor.username, body["stand_in"])


@blp.route("/stand-ins/<int:stand_in_id>")
class StandInItem(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def delete(self, stand_in_id):  # type: ignore[no-untyped-def]
        """End a stand-in the caller named."""
        actions.end_stand_in(require_actor(), stand_in_id)
