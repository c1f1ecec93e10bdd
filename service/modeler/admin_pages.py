"""Admin pages for running cases: one case (state, data, history and the repairs: suspend, resume,
terminate, retry, edit data, move to the latest version) and the migration of a version's cases.
Server-rendered forms; each action is the same operation the API runs, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from service.errors import ApiError, not_found
from service.extensions import db
from service.inbox.presenters import ACTIONS, STATUSES
from service.instances import admin, operations
from service.instances.models import Instance
from service.instances.views import instance_detail
from service.transaction import transactional
from service.webui import error_message, localized, render_error
from service.webui.session import admin_required, current_page_actor

from . import migration
from .models import ProcessModel, ProcessVersion

bp = Blueprint("modeler_admin_pages", __name__, template_folder="templates", url_prefix="/admin")
MAX_DATA_TEXT = 200_000


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))



def _instance(instance_id: int) -> Instance:
    instance = db.session.get(Instance, instance_id) if 0 < instance_id < 2**31 else None
    if instance is None:
        raise not_found()
    return instance


def _latest(instance: Instance) -> ProcessVersion | None:
    return db.session.scalar(
        select(ProcessVersion).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
        .where(ProcessModel.key == instance.process_key, ProcessVersion.number == ProcessModel.latest_version))


def _problems(error: ApiError) -> str:
    details = "; ".join(localized(str(d.get("message", ""))) if isinstance(d, dict) else str(d)
                        for d in error.details or [])
    return error_message(error) + (f"（{details}）" if details else "")


@bp.get("/instances/<int:instance_id>")
@admin_required
def instance_page(instance_id: int) -> str:
    instance = _instance(instance_id)
    detail = instance_detail(instance)
    case = operations.restore_case(instance)
    latest = _latest(instance)
    move_check = None
    if latest is not None and latest.id != instance.version_id and instance.status in migration.OPEN_STATUSES:
        plan_reason = migration._check(instance, case, latest)
        move_check = {"number": latest.number, "movable": plan_reason is None, "reason": localized(plan_reason)}
    data = admin.current_data(case)
    return render_template(
        "admin/instance.html", instance=instance, detail=detail, statuses=STATUSES, actions=ACTIONS,
        waiting=case.waiting_elements() if not case.completed else [], latest=latest, move_check=move_check,
        data_json=json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str),
        error_text=localized((instance.error or {}).get("message")) if instance.error else None)


def _act(instance_id: int, action: Callable[[], Any], done: str) -> Response:
    """Run `action` in one transaction and say how it went. An action may return (message, category)
    to say something else than `done`."""
    try:
        said = transactional(action)()
    except ApiError as exc:
        flash(_problems(exc), "error")
    else:
        message, category = said if isinstance(said, tuple) else (done, "success")
        flash(message, category)
    return redirect(url_for("modeler_admin_pages.instance_page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/suspend")
@admin_required
def suspend(instance_id: int) -> Response:
    actor = current_page_actor()
    return _act(instance_id, lambda: operations.suspend_instance(actor, instance_id), _("案件已挂起。"))


@bp.post("/instances/<int:instance_id>/resume")
@admin_required
def resume(instance_id: int) -> Response:
    actor = current_page_actor()
    return _act(instance_id, lambda: operations.resume_instance(actor, instance_id), _("案件已恢复。"))


@bp.post("/instances/<int:instance_id>/terminate")
@admin_required
def terminate(instance_id: int) -> Response:
    actor = current_page_actor()
    reason = (request.form.get("reason") or "").strip()[:1000] or None
    return _act(instance_id, lambda: operations.terminate_instance(actor, instance_id, reason), _("案件已终止。"))


@bp.post("/instances/<int:instance_id>/retry")
@admin_required
def retry(instance_id: int) -> Response:
    actor = current_page_actor()

    def run() -> tuple[str, str] | None:
        instance = admin.retry_instance(actor, instance_id)
        if instance.status == "error":
            return _("重试后仍然出错：%(message)s", message=localized((instance.error or {}).get("message"))), "error"
        return None

    return _act(instance_id, run, _("已重试出错的步骤。"))


@bp.post("/instances/<int:instance_id>/data")
@admin_required
def edit_data(instance_id: int) -> Response:
    actor = current_page_actor()
    text = request.form.get("changes") or ""
    reason = (request.form.get("reason") or "").strip()[:1000]
    try:
        changes = json.loads(text) if len(text) <= MAX_DATA_TEXT else None
    except json.JSONDecodeError:
        changes = None
    if not isinstance(changes, dict):
        flash(_("修改内容须为 JSON 对象，例如 {\"变量\": \"新值\"}。"), "error")
        return redirect(url_for("modeler_admin_pages.instance_page", instance_id=instance_id))
    return _act(instance_id, lambda: admin.edit_data(actor, instance_id, changes, reason), _("案件数据已修改。"))


@bp.post("/instances/<int:instance_id>/migrate")
@admin_required
def migrate(instance_id: int) -> Response:
    actor = current_page_actor()
    instance = _instance(instance_id)
    latest = _latest(instance)
    if latest is None:
        raise not_found()

    def run() -> tuple[str, str] | None:
        outcome = migration.migrate_instance(actor, instance_id, latest.number)
        return None if outcome["moved"] else (_("未迁移：%(reason)s", reason=localized(outcome["reason"])), "error")

    return _act(instance_id, run, _("案件已迁移到版本 %(number)s。", number=latest.number))


# -- migration of a version's cases --------------------------------------------------------------------------
def _numbers(key: str) -> list[int]:
    return list(db.session.scalars(
        select(ProcessVersion.number).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
        .where(ProcessModel.key == key).order_by(ProcessVersion.number.desc())))


@bp.get("/process-models/<key>/migration")
@admin_required
def migration_page(key: str) -> str:
    key = key[:100]
    numbers = _numbers(key)
    if not numbers:
        raise not_found()
    target = request.args.get("to", type=int) or numbers[0]
    source = request.args.get("from", type=int) or (numbers[1] if len(numbers) > 1 else numbers[0])
    if source not in numbers or target not in numbers:
        raise not_found()
    rows = migration.migration_plan(key, source, target)
    for row in rows:
        row["reason"] = localized(row["reason"]) if row["reason"] else None
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == key))
    return render_template("admin/migration.html", model=model, numbers=numbers, source=source, target=target,
                           rows=rows, statuses=STATUSES)


@bp.post("/process-models/<key>/migration")
@admin_required
def migration_run(key: str) -> Response:
    key = key[:100]
    actor = current_page_actor()
    target = request.form.get("to", type=int) or 0
    source = request.form.get("from", type=int) or 0
    ids = [int(v) for v in request.form.getlist("instance") if v.isdigit() and 0 < int(v) < 2**31][:500]
    back = redirect(url_for("modeler_admin_pages.migration_page", key=key, **{"from": source, "to": target}))
    if not ids:
        flash(_("请先选择要迁移的案件。"), "error")
        return back
    try:
        results = transactional(lambda: migration.migrate_instances(actor, key, target, ids))()
    except ApiError as exc:
        flash(_problems(exc), "error")
        return back
    moved = [r["id"] for r in results if r["moved"]]
    if moved:
        flash(_("已迁移 %(count)s 个案件到版本 %(number)s。", count=len(moved), number=target), "success")
    for result in results:
        if not result["moved"]:
            flash(_("案件 %(id)s 未迁移：%(reason)s", id=result["id"], reason=localized(result["reason"])), "error")
    return back
