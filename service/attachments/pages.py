"""Attachments on the task page: the upload form's target and the download links.
Thin handlers: check access, parse input, call one operation, redirect or send."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from service.errors import ApiError
from service.instances.access import may_act
from service.instances.operations import get_task_for
from service.transaction import transactional
from service.webui import error_message, render_error
from service.webui.session import current_page_actor, login_required

from . import operations
from .downloads import file_response

bp = Blueprint("attachment_pages", __name__)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


@bp.post("/inbox/tasks/<task_id>/attachments")
@login_required
def upload(task_id: str) -> Response:
    """From a task page: evidence of that step when the user is doing it, else of the case."""
    actor = current_page_actor()
    task = get_task_for(actor, task_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要上传的文件。"), "error")
        return redirect(url_for("inbox_pages.task", task_id=task_id, _anchor="attachments"))
    step = task.id if task.status == "ready" and may_act(actor, task) else None
    try:
        row = transactional(operations.upload_attachment)(actor, task.instance_id, upload.stream, upload.filename,
                                                          step)
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(error_message(exc), "error")
    else:
        flash(_("已上传附件：%(name)s", name=row.filename), "success")
    return redirect(url_for("inbox_pages.task", task_id=task_id, _anchor="attachments"))


@bp.get("/attachments/<attachment_id>")
@login_required
def download(attachment_id: str) -> Response:
    return file_response(transactional(operations.attachment_for_download)(current_page_actor(), attachment_id[:64]))
