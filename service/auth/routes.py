from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema
from service.extensions import db
from service.org.models import User
from service.transaction import transactional

from . import operations

blp = Blueprint("auth", __name__, description="Authentication and the caller")


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenResponse(Schema):
    token = fields.String(required=True)
    expires_at = fields.String(required=True)


class RoleSchema(Schema):
    role = fields.String(required=True)
    org_unit = fields.String(allow_none=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    person = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)


class PasswordChange(Schema):
    old_password = fields.String(required=True, validate=validate.Length(max=256))
    new_password = fields.String(required=True, validate=validate.Length(max=256))


@blp.route("/auth/token")
class Token(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TokenRequest)
    @blp.response(200, TokenResponse)
    @blp.alt_response(401, schema=ErrorSchema)
    @blp.alt_response(429, schema=ErrorSchema)
    @transactional
    def post(self, body):  # type: ignore[no-untyped-def]
        user = operations.authenticate(body["username"], body["password"], request.remote_addr)
        token, expires_at = operations.issue_token(user)
        return {"token": token, "expires_at": expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema=ErrorSchema)
    def get(self):  # type: ignore[no-untyped-def]
        actor = require_actor()
        user = db.session.get(User, actor.user_id)
        return {"id": actor.user_id, "username": actor.username, "person": actor.person_id,
                "name": user.person.name if user and user.person else None,
                "roles": [{"role": r, "org_unit": u} for r, u in sorted(actor.roles, key=lambda x: (x[0], x[1] or ""))]}


@blp.route("/me/password")
class Password(MethodView):
    @blp.arguments(PasswordChange)
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, body):  # type: ignore[no-untyped-def]
        actor = require_actor()
        user = db.session.get(User, actor.user_id)
        operations.change_password(user, body["old_password"], body["new_password"])
