"""Marshmallow schemas shared by the API blueprints (they also make the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.List(fields.Raw())


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


class TaskSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "BPMN element id"})
    title = fields.String(required=True)
    instance_id = fields.Integer(required=True)
    process = fields.String(required=True)
    subject = fields.String(required=True)
    lane = fields.String(allow_none=True)
    scope_unit = fields.String(allow_none=True)
    status = fields.String(required=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    delegated_to = fields.String(allow_none=True, metadata={"description": "委派: the user working on it for now"})


class TaskDetailSchema(TaskSchema):
    instructions = fields.String(allow_none=True)
    form = fields.Dict(required=True, metadata={"description": '{"schema", "uiSchema"}'})
    data = fields.Dict(required=True, metadata={"description": "prefilled data"})


class HistoryEntrySchema(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True)
    action = fields.String(required=True)
    task = fields.String(allow_none=True)
    details = fields.Dict()


class InstanceSchema(Schema):
    id = fields.Integer(required=True)
    process = fields.String(required=True)
    version = fields.Integer(required=True)
    subject = fields.String(required=True)
    subject_kind = fields.String(required=True)
    subject_unit = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["running", "completed", "suspended", "terminated", "error"]))
    outcome = fields.String(allow_none=True)
    milestone = fields.String(allow_none=True)
    ready_tasks = fields.List(fields.Nested(TaskSchema), required=True)
    error = fields.Dict(allow_none=True)
    next_timer_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)


class InstanceDetailSchema(InstanceSchema):
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class InstancePage(Schema):
    items = fields.List(fields.Nested(InstanceSchema), required=True)
    total = fields.Integer(required=True)


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskSchema), required=True)
    total = fields.Integer(required=True)
