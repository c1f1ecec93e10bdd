from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from service.api import require_actor, require_admin
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.models import Instance
from service.org.models import User
from service.pack import ROLES
from service.transaction import transactional

from . import migration
from . import policies as policy_operations
from .diff import diff_bpmn
from .migration import OPEN_STATUSES, version_of
from .models import ProcessModel, ProcessVersion
from .operations import deploy_bpmn, dry_run_model, lint_model

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


class VersionSummarySchema(Schema):
    number = fields.Integer(required=True)
    checksum = fields.String(required=True)
    comment = fields.String(allow_none=True, required=True)
    created_by = fields.String(allow_none=True, required=True, metadata={"description": "username"})
    created_at = fields.DateTime(allow_none=True, required=True)
    running = fields.Integer(required=True, metadata={"description": "cases running, suspended or in error on it"})


class VersionDetailSchema(Schema):
    number = fields.Integer(required=True)
    bpmn = fields.String(required=True)
    dmn = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                      metadata={"description": "DMN file name -> XML"})
    forms = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                        metadata={"description": "form file name -> JSON document"})
    comment = fields.String(allow_none=True, required=True)
    created_by = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(allow_none=True, required=True)


FILE_NAME = validate.Regexp(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$", error="a plain file name (letters, digits, _ . -)")


class ModelDocuments(Schema):
    """A model as the modeler edits it: the BPMN and, optionally, decision tables and forms."""

    bpmn = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BPMN_BYTES))
    dmn = fields.Dict(keys=fields.String(validate=FILE_NAME), values=fields.String(validate=validate.Length(
        max=MAX_BPMN_BYTES)), load_default=None, metadata={"description": "DMN file name -> XML"})
    forms = fields.Dict(keys=fields.String(validate=FILE_NAME), values=fields.Raw(), load_default=None,
                        metadata={"description": "form file name -> JSON document; replaces the stored one"})


class DeployJsonRequest(ModelDocuments):
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ProblemSchema(Schema):
    element_id = fields.String(allow_none=True, required=True)
    line = fields.Integer(allow_none=True, required=True)
    severity = fields.String(required=True, validate=validate.OneOf(["error", "warning"]))
    code = fields.String(required=True)
    message = fields.String(required=True)


class LintResponse(Schema):
    problems = fields.List(fields.Nested(ProblemSchema), required=True)


def _versions_of(key: str) -> list[dict]:
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == key))
    if model is None:
        raise not_found()
    running = dict(db.session.execute(
        select(Instance.version_id, func.count()).join(ProcessVersion, ProcessVersion.id == Instance.version_id)
        .where(ProcessVersion.model_id == model.id, Instance.status.in_(OPEN_STATUSES))
        .group_by(Instance.version_id)).all())
    rows = db.session.execute(
        select(ProcessVersion.id, ProcessVersion.number, ProcessVersion.checksum, ProcessVersion.comment,
               User.username, ProcessVersion.created_at)
        .outerjoin(User, User.id == ProcessVersion.created_by)
        .where(ProcessVersion.model_id == model.id).order_by(ProcessVersion.number)).all()
    return [{"number": number, "checksum": checksum, "comment": comment, "created_by": username,
             "created_at": created_at, "running": running.get(version_id, 0)}
            for version_id, number, checksum, comment, username, created_at in rows]


def _load_body(schema: Schema) -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_request", "请求体须为 JSON 对象 / the body must be a JSON object")
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ApiError(422, "validation_failed", details=[
            {"field": field, "message": "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)}
            for field, messages in exc.normalized_messages().items()]) from None


@blp.route("/process-models/<string:key>/versions")
class Versions(MethodView):
    @blp.response(200, VersionSummarySchema(many=True))
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, key):  # type: ignore[no-untyped-def]
        """Every version of the process, oldest first, with how many open cases each has."""
        require_actor()
        return _versions_of(key)

    @blp.doc(requestBody={"required": True, "content": {
        "application/xml": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object", "required": ["bpmn"], "properties": {
            "bpmn": {"type": "string"}, "comment": {"type": "string", "maxLength": 500},
            "dmn": {"type": "object", "additionalProperties": {"type": "string"}},
            "forms": {"type": "object", "additionalProperties": {"type": "object"}}}}}}})
    @blp.response(201, DeployResponse)
    @blp.alt_response(200, schema=DeployResponse, description="content unchanged: the latest version")
    @blp.alt_response(400, schema=ErrorSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(413, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, key):  # type: ignore[no-untyped-def]
        """Deploy: the BPMN XML as the body (comment in the query), or JSON {bpmn, dmn?, forms?, comment?}.
        The same lint as POST .../lint; a document with errors is never stored."""
        actor = require_admin()
        if request.content_length and request.content_length > MAX_BPMN_BYTES * 2:
            raise ApiError(413, "payload_too_large")
        if request.mimetype == "application/json":
            body = _load_body(DeployJsonRequest())
            result = deploy_bpmn(body["bpmn"], filename=f"{key}.bpmn", actor_id=actor.user_id,
                                 comment=body["comment"], key=key, dmn=body["dmn"], forms=body["forms"])
        else:
            xml = request.get_data(cache=False)
            if not xml:
                raise ApiError(422, "invalid_bpmn", details=[{"element_id": None, "message": "empty body / 请求体为空",
                                                              "line": None}])
            if len(xml) > MAX_BPMN_BYTES:
                raise ApiError(413, "payload_too_large")
            comment = request.args.get("comment")
            if comment is not None and len(comment) > 500:  # the column's size (PostgreSQL refuses more)
                raise ApiError(422, "validation_failed", details=[{"field": "comment",
                                                                   "message": "at most 500 characters"}])
            result = deploy_bpmn(xml, filename=f"{key}.bpmn", actor_id=actor.user_id, comment=comment, key=key)
        payload = {"version": result.version.number, "created": result.created,
                   "warnings": [w.as_dict() for w in result.warnings]}
        return payload, (201 if result.created else 200)


@blp.route("/process-models/<string:key>/versions/<int:number>")
class VersionItem(MethodView):
    @blp.response(200, VersionDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, key, number):  # type: ignore[no-untyped-def]
        """One version: its BPMN, decision tables and form snapshot."""
        require_actor()
        version = version_of(key, number)
        creator = db.session.get(User, version.created_by) if version.created_by else None
        return {"number": version.number, "bpmn": version.bpmn_xml, "dmn": dict(version.dmn or {}),
                "forms": dict(version.forms or {}), "comment": version.comment,
                "created_by": creator.username if creator else None, "created_at": version.created_at}


@blp.route("/process-models/<string:key>/lint")
class Lint(MethodView):
    @blp.arguments(ModelDocuments)
    @blp.response(200, LintResponse)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body, key):  # type: ignore[no-untyped-def]
        """Check a model without deploying it: the same lint deploy runs (errors block a deploy, warnings
        do not). Problems: [{element_id, line, severity, code, message}]."""
        require_admin()
        outcome = lint_model(body["bpmn"], key=key, filename=f"{key}.bpmn", dmn=body["dmn"], forms=body["forms"])
        db.session.rollback()  # lint reads only; nothing of it may linger
        return {"problems": [p.problem() for p in outcome.problems]}


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


# -- diff, dry run, roles ---------------------------------------------------------------------------------
class DiffArgs(Schema):
    a = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    b = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class DiffElement(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(allow_none=True, required=True)


class PropertyChange(Schema):
    property = fields.String(required=True)
    old = fields.Raw(allow_none=True, required=True)
    new = fields.Raw(allow_none=True, required=True)


class ChangedElement(DiffElement):
    changes = fields.List(fields.Nested(PropertyChange), required=True)


class DiffResponse(Schema):
    added = fields.List(fields.Nested(DiffElement), required=True)
    removed = fields.List(fields.Nested(DiffElement), required=True)
    changed = fields.List(fields.Nested(ChangedElement), required=True)
    moved = fields.List(fields.Nested(DiffElement), required=True,
                        metadata={"description": "elements whose diagram position alone changed"})


@blp.route("/process-models/<string:key>/diff")
class Diff(MethodView):
    @blp.arguments(DiffArgs, location="query")
    @blp.response(200, DiffResponse)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, query, key):  # type: ignore[no-untyped-def]
        """What changed from version a to version b, element by element (layout moves listed apart)."""
        require_actor()
        return diff_bpmn(version_of(key, query["a"]).bpmn_xml, version_of(key, query["b"]).bpmn_xml)


class DryRunRequest(Schema):
    bpmn = fields.String(validate=validate.Length(min=1, max=MAX_BPMN_BYTES), load_default=None,
                         metadata={"description": "a draft to run; default: the version below, or the latest"})
    dmn = fields.Dict(keys=fields.String(validate=FILE_NAME), values=fields.String(validate=validate.Length(
        max=MAX_BPMN_BYTES)), load_default=None)
    forms = fields.Dict(keys=fields.String(validate=FILE_NAME), values=fields.Raw(), load_default=None)
    data = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)), load_default=dict,
                       metadata={"description": "the start data (as after the roster's facts are read)"})
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)), load_default=dict,
                          metadata={"description": "user task id -> the data to complete it with (or a list of "
                                                   "them for successive visits); missing: {}"})
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), load_default=None)


class DryRunResponse(Schema):
    path = fields.List(fields.String(), required=True, metadata={"description": "element ids in completion order"})
    waiting_at = fields.List(fields.String(), required=True)
    ended = fields.Boolean(required=True)
    outcome = fields.Raw(allow_none=True, required=True)
    data = fields.Dict(required=True)
    error = fields.Dict(allow_none=True, required=True,
                        metadata={"description": "{element_id, message, line, timed_out} when a step failed"})


@blp.route("/process-models/<string:key>/dry-run")
class DryRun(MethodView):
    @blp.arguments(DryRunRequest)
    @blp.response(200, DryRunResponse)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    def post(self, body, key):  # type: ignore[no-untyped-def]
        """Run a draft or a version entirely in memory: each ready user task is completed with its answer,
        timers fire at once (at most 500 steps). Nothing is stored; no case is touched."""
        require_admin()
        try:
            return dry_run_model(key, data=body["data"], answers=body["answers"], bpmn=body["bpmn"],
                                 dmn=body["dmn"], forms=body["forms"], version_number=body["version"])
        finally:
            db.session.rollback()


class RoleCatalogueSchema(Schema):
    key = fields.String(required=True)
    zh = fields.String(required=True)
    en = fields.String(required=True)


@blp.route("/roles")
class Roles(MethodView):
    @blp.response(200, RoleCatalogueSchema(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """The roles a lane may name (service.pack.ROLES)."""
        require_actor()
        return [{"key": key, "zh": zh, "en": en} for key, (zh, en) in ROLES.items()]


# -- migration of running cases -----------------------------------------------------------------------------
class MigrationArgs(Schema):
    from_ = fields.Integer(data_key="from", required=True, validate=validate.Range(min=1, max=2**31 - 1))
    to = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class MigrationRow(Schema):
    instance_id = fields.Integer(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    current = fields.List(fields.String(), required=True, metadata={"description": "BPMN ids the case is at"})
    movable = fields.Boolean(required=True)
    reason = fields.String(allow_none=True, required=True, metadata={"description": "why not (中文 / English)"})


class MigrationRequest(Schema):
    to = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    instances = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)), required=True,
                            validate=validate.Length(min=1, max=500))


class MigrationResult(Schema):
    id = fields.Integer(required=True)
    moved = fields.Boolean(required=True)
    reason = fields.String(allow_none=True, required=True)


@blp.route("/process-models/<string:key>/migration")
class Migration(MethodView):
    @blp.arguments(MigrationArgs, location="query")
    @blp.response(200, MigrationRow(many=True))
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, query, key):  # type: ignore[no-untyped-def]
        """The open cases on version `from` and whether each can move to version `to` (admin)."""
        require_admin()
        return migration.migration_plan(key, query["from_"], query["to"])

    @blp.arguments(MigrationRequest)
    @blp.response(200, MigrationResult(many=True))
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def post(self, body, key):  # type: ignore[no-untyped-def]
        """Move the given cases to version `to`; those that cannot move stay as they are (admin)."""
        return migration.migrate_instances(require_admin(), key, body["to"], body["instances"])
