from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from service.api import require_actor, require_admin
from service.api.schemas import ErrorSchema
from service.errors import ApiError, not_found
from service.extensions import db
from service.transaction import transactional

from . import policies as policy_operations
from .models import ProcessModel, ProcessVersion
from .operations import deploy_bpmn

blp = Blueprint("process_models", __name__, description="Process models and their versions")

MAX_BPMN_BYTES = 5 * 1024 * 1024


class ProcessModelSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    subject_kind = fields.String(required=True)
    latest_version = fields.Integer(required=True)


class DeployResponse(Schema):
    version = fields.Integer(required=True)
    created = fields.Boolean(required=True)
    warnings = fields.List(fields.Dict(), required=True)


@blp.route("/process-models")
class Models(MethodView):
    @blp.response(200, ProcessModelSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        require_actor()
        return list(db.session.scalars(select(ProcessModel).order_by(ProcessModel.key)))


@blp.route("/process-models/<string:key>/versions/<int:number>/bpmn")
class VersionXml(MethodView):
    @blp.response(200, content_type="application/xml")
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, key, number):  # type: ignore[no-untyped-def]
        require_actor()
        xml = db.session.scalar(
            select(ProcessVersion.bpmn_xml).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
            .where(ProcessModel.key == key, ProcessVersion.number == number))
        if xml is None:
            raise not_found()
        return Response(xml, mimetype="application/xml")


@blp.route("/process-models/<string:key>/versions")
class Versions(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}})
    @blp.response(201, DeployResponse)
    @blp.alt_response(200, schema=DeployResponse, description="content unchanged: the latest version")
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, key):  # type: ignore[no-untyped-def]
        actor = require_admin()
        body = request.get_data(cache=False)
        if not body:
            raise ApiError(422, "invalid_bpmn", details=[{"element_id": None, "message": "empty body / 请求体为空",
                                                          "line": None}])
        if len(body) > MAX_BPMN_BYTES:
            raise ApiError(413, "payload_too_large")
        comment = request.args.get("comment")
        if comment is not None and len(comment) > 500:  # the column's size (PostgreSQL refuses more)
            raise ApiError(422, "validation_failed", details=[{"field": "comment", "message": "at most 500 characters"}])
        result = deploy_bpmn(body, filename=f"{key}.bpmn", actor_id=actor.user_id, comment=comment)
        if result.version.model.key != key:
            raise ApiError(422, "invalid_bpmn", details=[{
                "element_id": result.version.model.key, "line": None,
                "message": f"the document's process id is '{result.version.model.key}', not '{key}' / 流程 id 与地址不符"}])
        payload = {"version": result.version.number, "created": result.created,
                   "warnings": [w.as_dict() for w in result.warnings]}
        return payload, (201 if result.created else 200)


class PolicySchema(Schema):
    key = fields.String(required=True)
    value = fields.Raw(allow_none=True)
    default = fields.Raw(allow_none=True)
    overridden = fields.Boolean(required=True)


class PolicyUpdate(Schema):
    value = fields.Raw(required=True, allow_none=True)


@blp.route("/process-models/<string:key>/policies")
class Policies(MethodView):
    @blp.response(200, PolicySchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, key):  # type: ignore[no-untyped-def]
        require_actor()
        return policy_operations.list_policies(key)


@blp.route("/process-models/<string:key>/policies/<string:policy_key>")
class PolicyItem(MethodView):
    @blp.arguments(PolicyUpdate)
    @blp.response(200, PolicySchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def put(self, body, key, policy_key):  # type: ignore[no-untyped-def]
        actor = require_admin()
        return policy_operations.set_policy(actor, key, policy_key, body["value"])
