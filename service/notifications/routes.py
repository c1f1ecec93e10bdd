"""GET /api/v1/notifications and marking them read."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema, PageArgs
from service.transaction import transactional

from . import operations
from .models import KINDS

blp = Blueprint("notifications", __name__, description="The caller's notifications (站内通知)")


class NotificationQuery(PageArgs):
    unread = fields.Boolean()


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True)


class MarkedResult(Schema):
    marked = fields.Integer(required=True)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationPage)
    def get(self, query):  # type: ignore[no-untyped-def]
        """The caller's notifications, newest first, with the unread count."""
        actor = require_actor()
        rows, total = operations.notifications_for(actor.user_id, unread=query.get("unread"), limit=query["limit"],
                                                   offset=query["offset"])
        return {"items": rows, "total": total, "unread": operations.unread_count(actor.user_id)}


@blp.route("/notifications/<int:notification_id>/read")
class MarkRead(MethodView):
    @blp.response(200, MarkedResult)
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def post(self, notification_id):  # type: ignore[no-untyped-def]
        return {"marked": operations.mark_read(require_actor().user_id, notification_id)}


@blp.route("/notifications/read-all")
class MarkAllRead(MethodView):
    @blp.response(200, MarkedResult)
    @transactional
    def post(self):  # type: ignore[no-untyped-def]
        return {"marked": operations.mark_read(require_actor().user_id)}
