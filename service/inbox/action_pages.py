"""The task page's buttons besides completing: 转办, 委派, 撤回, 退回, 催办, 抄送 and the 代理 page.
Thin handlers: parse the form, run one action as a transaction, say what happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from service.errors import ApiError
from service.transaction import transactional
from service.webui import error_message, flash_outcome, render_error
from service.webui.session import current_page_actor, login_required

from . import actions

bp = Blueprint("inbox_actions", __name__, template_folder="templates", url_prefix="/inbox")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


def _comment() -> str | None:
    return request.form.get("comment", "").strip()[:500] or None


def _field(name: str) -> str:
    return request.form.get(name, "").strip()[:64]


def _run(task_id: str, action: Callable[..., Any], done: str, *args: Any) -> Response:
    """403/404 render an error page; a refused or invalid request is explained on the task page."""
    actor = current_page_actor()
    flash_outcome(lambda: action(actor, *args), done, describe=_with_details, reraise=(403, 404))
    return redirect(url_for("inbox_pages.task", task_id=task_id))


def _with_details(exc: ApiError) -> str:
    details = "；".join(str(d.get("message")) for d in exc.details if isinstance(d, dict) and d.get("message"))
    return f"{error_message(exc)} {details}".strip()


@bp.post("/tasks/<task_id>/transfer")
@login_required
def transfer(task_id: str) -> Response:
    return _run(task_id, actions.transfer_task, _("已转办。"), task_id, _field("to"), _comment())


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str) -> Response:
    return _run(task_id, actions.delegate_task, _("已委派，对方办理后将退回给您确认。"), task_id, _field("to"), _comment())


@bp.post("/tasks/<task_id>/withdraw")
@login_required
def withdraw(task_id: str) -> Response:
    return _run(task_id, actions.withdraw_task, _("已撤回，此步骤重新回到您的待办。"), task_id, _comment())


@bp.post("/tasks/<task_id>/return")
@login_required
def return_(task_id: str) -> Response:
    return _run(task_id, actions.return_task, _("已退回。"), task_id, request.form.get("step", "")[:36], _comment())


@bp.post("/tasks/<task_id>/remind")
@login_required
def remind(task_id: str) -> Response:
    return _run(task_id, actions.remind_task, _("已催办。"), task_id, _comment())


@bp.post("/tasks/<task_id>/copy")
@login_required
def copy(task_id: str) -> Response:
    from service.extensions import db
    from service.instances.models import HumanTask

    task = db.session.get(HumanTask, task_id)
    if task is None:
        return redirect(url_for("inbox_pages.task", task_id=task_id))  # the task page says not found
    return _run(task_id, actions.copy_case, _("已抄送。"), task.instance_id, _field("to"), _comment())


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


@bp.route("/stand-ins", methods=["GET", "POST"])
@login_required
def stand_ins() -> Response | tuple[str, int] | str:
    actor = current_page_actor()
    if request.method == "POST":
        starts_on, ends_on = _date("starts_on"), _date("ends_on")
        if starts_on is None or ends_on is None:
            flash(_("请填写有效的开始和结束日期。"), "error")
        else:
            try:
                transactional(actions.name_stand_in)(actor, _field("stand_in"), starts_on, ends_on, _comment())
            except ApiError as exc:
                if exc.status != 422:
                    raise
                flash(error_message(exc), "error")
            else:
                flash(_("已设置代理人。"), "success")
        return redirect(url_for(".stand_ins"))
    return render_template("inbox/stand_ins.html", rows=actions.stand_ins_of(actor), me=actor.username)


@bp.post("/stand-ins/<int:stand_in_id>/end")
@login_required
def end_stand_in(stand_in_id: int) -> Response:
    transactional(actions.end_stand_in)(current_page_actor(), stand_in_id)
    flash(_("已取消代理。"), "success")
    return redirect(url_for(".stand_ins"))
