"""The JSON API under /api/v1: authentication of each request and registration of the feature blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from service.auth.actor import Actor
from service.errors import ApiError
from service.extensions import db

from .input_guard import refuse_unusable_input


def _load_actor() -> None:
    """Bearer token, or a browser session (whose unsafe requests must carry the CSRF token)."""
    from service.auth.operations import actor_for, actor_from_token
    from service.org.models import User

    g.actor = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "token_invalid")
        g.actor = actor_from_token(token.strip())
        return
    user_id = session.get("user_id")
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is not None and user.active and session.get("token_generation") == user.token_generation:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                sent = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
                if not sent or sent != session.get("csrf_token"):
                    raise ApiError(403, "forbidden", "CSRF 校验失败 / CSRF token missing or wrong")
            g.actor = actor_for(user)


#: API endpoints that answer without a signed-in caller (besides the OpenAPI document)
PUBLIC_ENDPOINTS = {"auth.Token"}


def require_actor() -> Actor:
    actor: Actor | None = g.get("actor")
    if actor is None:
        raise ApiError(401, "unauthorized")
    return actor


def require_admin() -> Actor:
    actor = require_actor()
    if not actor.is_admin:
        raise ApiError(403, "forbidden")
    return actor


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route names a row: an id past the INTEGER column range is a 404 (and documented
    as such), not an overflow error from the database driver (a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_api(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    from service.api.schemas import ErrorSchema
    from service.attachments.routes import blp as attachments_blp
    from service.auth.routes import blp as auth_blp
    from service.calendar.routes import blp as calendar_blp
    from service.campaigns.routes import blp as campaigns_blp
    from service.documents.routes import blp as documents_blp
    from service.inbox.routes import blp as inbox_blp
    from service.instances.routes import blp as instances_blp
    from service.modeler.routes import blp as modeler_blp
    from service.notifications.routes import blp as notifications_blp
    from service.ops.routes import blp as ops_blp
    from service.org.routes import blp as org_blp
    from service.tracking.routes import blp as tracking_blp

    class ServiceApi(Api):
        ERROR_SCHEMA = ErrorSchema  # every documented error has our shape

        def _register_error_handlers(self) -> None:
            """Keep service.errors' HTTPException handler: flask-smorest's own would answer webargs 422s,
            unknown routes and wrong methods with {"code", "status", "errors"} instead of our shape."""

    api = ServiceApi(app, spec_kwargs={"info": {"description": "BPM service for 党建带团建 work. Errors: "
                                                        '{"error": {"code", "message", "details"}}.'}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    for blueprint in (auth_blp, org_blp, modeler_blp, instances_blp, inbox_blp, campaigns_blp, notifications_blp,
                      attachments_blp, ops_blp, tracking_blp, documents_blp, calendar_blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")

    @app.before_request
    def _authenticate_api_requests() -> None:
        if request.path.startswith("/api/"):
            _load_actor()
            # before the body is validated: an anonymous caller learns nothing from a 422 about the input
            if g.actor is None and request.endpoint and request.endpoint not in PUBLIC_ENDPOINTS \
                    and not request.endpoint.startswith("api-docs."):
                raise ApiError(401, "unauthorized")
            refuse_unusable_input()
    app.extensions["api"] = api
