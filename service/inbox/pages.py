"""The approver's pages: the inbox, a task (instructions, case, history, form), claim/unclaim and
bulk approval. Thin handlers: check access, parse input, call one operation, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service import clock
from service.auth.actor import Actor
from service.errors import ApiError
from service.instances import operations
from service.instances.views import usernames
from service.transaction import transactional
from service.webui import error_message, flash_outcome, render_error
from service.webui.session import current_page_actor, login_required

from . import drafts, queries
from .bulk import bulk_batch, complete_batch
from .presenters import STATUSES, field_errors, json_attr, parse_form_data, process_names, subject_labels
from .task_page import task_page

bp = Blueprint("inbox_pages", __name__, template_folder="templates", url_prefix="/inbox")
PAGE_SIZE = 20


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


@bp.app_context_processor
def _inbox_helpers() -> dict[str, Any]:
    return {"json_attr": json_attr, "status_label": lambda s: STATUSES.get(s, s)}


def _flag(value: str | None) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


def inbox_filters(args: MultiDict[str, str]) -> dict[str, Any]:
    return {"process": args.get("process", "")[:100] or None, "overdue": _flag(args.get("overdue")),
            "search": args.get("q", "").strip()[:64] or None, "unit": args.get("unit", "")[:64] or None,
            "mine": _flag(args.get("mine"))}


@bp.get("")
@login_required
def inbox() -> str:
    actor = current_page_actor()
    filters = inbox_filters(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = queries.inbox(actor, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "inbox/inbox.html", tasks=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        filters=filters, args=request.args, counts=queries.inbox_counts(actor), units=queries.inbox_units(actor),
        processes=process_names(), subjects=subject_labels(t.subject for t in rows),
        claimed=usernames(t.claimed_by for t in rows), now=clock.now())


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: str) -> Response | tuple[str, int]:
    actor = current_page_actor()
    if request.method == "GET":
        return task_page(actor, task_id)
    data = parse_form_data(request.form.get("data"))
    if data is None:
        return task_page(actor, task_id, data={}, message=_("提交的数据格式有误，请重新填写。"), status=400)
    drafting = request.form.get("intent") == "draft"
    try:
        if drafting:
            transactional(drafts.save_draft)(actor, task_id, data)
        else:
            instance = transactional(drafts.complete_and_discard_draft)(actor, task_id, data)
    except ApiError as exc:
        if exc.status not in (409, 413, 422):
            raise
        return task_page(actor, task_id, data=data, errors=field_errors(exc.details), message=error_message(exc),
                         status=exc.status)
    if drafting:
        flash(_("草稿已保存。"), "success")
        return redirect(url_for(".task", task_id=task_id))
    flash(_("已提交。案件当前进度：%(milestone)s", milestone=instance.milestone or status_text(instance.status)),
          "success")
    return redirect(url_for(".inbox"))


def status_text(status: str) -> str:
    return str(STATUSES.get(status, status))


def _claim_action(task_id: str, action: Any, done: str) -> Response:
    actor = current_page_actor()
    flash_outcome(lambda: action(actor, task_id), done)
    return redirect(url_for(".task", task_id=task_id))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Response:
    return _claim_action(task_id, operations.claim_task, _("已认领：此任务现在只由您处理。"))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Response:
    return _claim_action(task_id, operations.unclaim_task, _("已释放：此任务重新对组内所有人可见。"))


@bp.get("/bulk")
@login_required
def bulk_form() -> str | tuple[str, int]:
    batch = bulk_batch(current_page_actor(), request.args.getlist("task"))
    if batch.problem:
        return render_error(400, batch.problem)
    return render_template("inbox/bulk.html", batch=batch, data=batch.prefill, errors=[])


@bp.post("/bulk")
@login_required
def bulk_complete() -> str | tuple[str, int]:
    actor: Actor = current_page_actor()
    batch = bulk_batch(actor, request.form.getlist("task"))
    if batch.problem:
        return render_error(400, batch.problem)
    data = parse_form_data(request.form.get("data"))
    if data is None:
        return render_template("inbox/bulk.html", batch=batch, data={}, errors=[],
                               message=_("提交的数据格式有误，请重新填写。")), 400
    results = complete_batch(actor, batch, data)
    if results and all(r.status == 422 for r in results):
        # the same data failed every task's form: let the user correct it without losing it
        return render_template("inbox/bulk.html", batch=batch, data=data, errors=results[0].errors,
                               message=results[0].message), 422
    return render_template("inbox/bulk_result.html", batch=batch, results=results)
