"""The notifications page, the bell's count in the header, and marking read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from service.errors import ApiError
from service.transaction import transactional
from service.webui import error_message, render_error
from service.webui.session import current_page_actor, login_required, session_actor

from . import operations

bp = Blueprint("notification_pages", __name__, template_folder="templates", url_prefix="/notifications")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


def kind_labels() -> dict[str, str]:
    return {"new_task": _("新待办"), "returned": _("退回"), "reminded": _("催办"), "overdue": _("逾期"),
            "copied": _("抄送")}


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    def unread_notifications() -> int:
        actor = session_actor()
        return operations.unread_count(actor.user_id) if actor else 0

    return {"unread_notifications": unread_notifications}


@bp.get("")
@login_required
def index() -> str:
    actor = current_page_actor()
    unread_only = request.args.get("unread") == "1"
    rows, total = operations.notifications_for(actor.user_id, unread=True if unread_only else None, limit=100)
    return render_template("notifications/index.html", notifications=rows, total=total, unread_only=unread_only,
                           kinds=kind_labels())


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Response:
    transactional(operations.mark_read)(current_page_actor().user_id, notification_id)
    return redirect(url_for(".index"))


@bp.post("/read-all")
@login_required
def read_all() -> Response:
    transactional(operations.mark_read)(current_page_actor().user_id)
    flash(_("已全部标为已读。"), "success")
    return redirect(url_for(".index"))
