"""The admin page of incidents: background jobs that failed too often, with retry and resolve."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from service.errors import ApiError
from service.transaction import transactional
from service.webui import error_message, render_error
from service.webui.session import admin_required, current_page_actor, login_required

from . import operations

bp = Blueprint("ops_pages", __name__, template_folder="templates", url_prefix="/admin/incidents")

FILTERS = ("incident", "open", "resolved")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


def status_labels() -> dict[str, str]:
    return {"retrying": _("等待重试"), "incident": _("待处理"), "resolved": _("已解决")}


@bp.get("")
@admin_required
def index() -> str:
    actor = current_page_actor()
    shown = request.args.get("status", "incident")
    shown = shown if shown in FILTERS else "incident"
    rows, total = operations.list_incidents(actor, None if shown == "open" else shown, limit=200)
    return render_template("ops/incidents.html", rows=rows, total=total, shown=shown, labels=status_labels())


@bp.post("/<int:incident_id>/retry")
@login_required
def retry(incident_id: int) -> Response:
    row = transactional(operations.retry_incident)(current_page_actor(), incident_id)
    if row.status == "resolved":
        flash(_("已重新执行，事件已解决。"), "success")
    else:
        flash(_("重新执行仍然失败，将按计划自动重试。"), "error")
    return redirect(url_for(".index"))


@bp.post("/<int:incident_id>/resolve")
@login_required
def resolve(incident_id: int) -> Response:
    transactional(operations.resolve_incident)(current_page_actor(), incident_id)
    flash(_("事件已标记为已解决。"), "success")
    return redirect(url_for(".index"))
