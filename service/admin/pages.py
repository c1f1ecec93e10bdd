"""The admin console: an index of everything admin, the roster upload and download, users and their
roles, process policies and the list of cases (each case's own page is modeler_admin_pages.instance_page).
Admins only. Thin handlers: check access, parse input, call one operation in one transaction, render."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from service import clock
from service.errors import ApiError, not_found
from service.extensions import db
from service.inbox.presenters import STATUSES, process_names, subject_labels
from service.instances.models import INSTANCE_STATUSES, Instance
from service.modeler.models import ProcessModel
from service.modeler.policies import list_policies, set_policy
from service.org.models import User
from service.pack import ROLES
from service.runtime import pack
from service.transaction import transactional
from service.webui import error_message, flash_outcome, is_english, localized, render_error
from service.webui.session import admin_required, current_page_actor

from . import operations, queries

bp = Blueprint("admin_console", __name__, template_folder="templates", url_prefix="/admin")
PAGE_SIZE = 20
ROSTER_MAX_BYTES = 5 * 1024 * 1024  # a college's roster is far smaller; ROSTER_UPLOAD_MAX_BYTES overrides
MAX_POLICY_TEXT = 10_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


def _role_labels() -> dict[str, str]:
    return {key: en if is_english() else zh for key, (zh, en) in ROLES.items()}


def _page_number() -> int:
    return min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _flag(value: str | None) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


def _problem_text(exc: ApiError) -> str:
    details = "; ".join(localized(str(d.get("message", ""))) for d in exc.details if isinstance(d, dict))
    message = error_message(exc)
    return f"{message}（{details}）" if details and details != message else message


# -- index ------------------------------------------------------------------------------------------------
@bp.get("")
@admin_required
def index() -> str:
    users = dict(db.session.execute(select(User.active, func.count()).group_by(User.active)).all())
    cases = dict(db.session.execute(select(Instance.status, func.count()).where(
        Instance.status.in_(("error", "suspended"))).group_by(Instance.status)).all())
    models = db.session.scalars(select(ProcessModel).order_by(ProcessModel.key)).all()
    return render_template("admin_console/index.html", active_users=users.get(True, 0),
                           inactive_users=users.get(False, 0), cases=cases, models=models)


# -- roster -----------------------------------------------------------------------------------------------
def _roster_page(status: int = 200, **context: Any) -> tuple[str, int]:
    limit = current_app.config.get("ROSTER_UPLOAD_MAX_BYTES", ROSTER_MAX_BYTES)
    return render_template("admin_console/roster.html", limit_mb=round(limit / 1024 / 1024, 1),
                           **context), status


@bp.get("/roster")
@admin_required
def roster_page() -> tuple[str, int]:
    return _roster_page()


@bp.post("/roster")
@admin_required
def roster_upload() -> tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _roster_page(400, message=_("请选择要导入的花名册文件（.json 或 .xlsx）。"))
    try:
        operations.roster_format(upload.filename)
    except ApiError:
        return _roster_page(415, message=_("文件类型不对：请上传 .json 或 .xlsx 格式的花名册。"))
    limit = current_app.config.get("ROSTER_UPLOAD_MAX_BYTES", ROSTER_MAX_BYTES)
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        return _roster_page(413, message=_("文件过大：花名册文件不能超过 %(mb)s MB。", mb=round(limit / 1024 / 1024, 1)))
    actor = current_page_actor()
    try:
        summary = transactional(operations.import_roster_file)(actor, upload.filename, data)
    except ApiError as exc:
        if exc.code != "invalid_roster":
            raise
        problems = [{**d, "message": localized(str(d.get("message", "")))} for d in exc.details]
        return _roster_page(422, message=error_message(exc), problems=problems, filename=upload.filename)
    return _roster_page(summary=summary, filename=upload.filename)


@bp.get("/roster/export.<fmt>")
@admin_required
def roster_export(fmt: str) -> Response:
    if fmt not in ("json", "xlsx"):
        raise not_found()
    body = transactional(operations.export_roster_file)(current_page_actor(), "." + fmt)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    mimetype = XLSX_TYPE if fmt == "xlsx" else "application/json"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="roster-{stamp}.{fmt}"'})


# -- users and roles ------------------------------------------------------------------------------------------
@bp.get("/users")
@admin_required
def users() -> str:
    role = request.args.get("role", "")
    filters = queries.UserFilters(search=request.args.get("q", "").strip()[:64] or None,
                                  role=role if role in ROLES else None, active=_flag(request.args.get("active")))
    page = _page_number()
    rows, total = queries.users_page(filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template("admin_console/users.html", users=rows, total=total, page=page, pages=_pages(total),
                           filters=filters, args=request.args, roles=_role_labels())


@bp.get("/users/<int:user_id>")
@admin_required
def user_page(user_id: int) -> str:
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise not_found()
    return render_template("admin_console/user.html", user=user, roles=_role_labels(), units=queries.org_units())


def _user_action(user_id: int, action: Callable[[], Any], done: str) -> Response:
    flash_outcome(action, done, describe=_problem_text)
    return redirect(url_for(".user_page", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@admin_required
def set_active(user_id: int) -> Response:
    actor, active = current_page_actor(), request.form.get("active") == "1"
    return _user_action(user_id, lambda: operations.set_user_active(actor, user_id, active),
                        _("账号已启用。") if active else _("账号已停用：该用户不能再登录。"))


@bp.post("/users/<int:user_id>/roles")
@admin_required
def add_role(user_id: int) -> Response:
    actor = current_page_actor()
    role = request.form.get("role", "")[:64]
    unit = request.form.get("org_unit", "").strip()[:64] or None
    return _user_action(user_id, lambda: operations.add_role(actor, user_id, role, unit), _("已添加角色。"))


@bp.post("/users/<int:user_id>/roles/<int:assignment_id>/remove")
@admin_required
def remove_role(user_id: int, assignment_id: int) -> Response:
    actor = current_page_actor()
    return _user_action(user_id, lambda: operations.remove_role(actor, user_id, assignment_id), _("已移除角色。"))


# -- policies ---------------------------------------------------------------------------------------------------
def _policy_processes() -> list[tuple[str, str]]:
    """(key, title) of every process that declares policies."""
    return sorted((key, d.title_en if is_english() else d.title) for key, d in pack().items() if d.policies)


def _policies_page(key: str | None, status: int = 200, errors: dict[str, str] | None = None,
                   submitted: dict[str, str] | None = None) -> tuple[str, int]:
    processes = _policy_processes()
    keys = [k for k, _title in processes]
    key = key if key in keys else (keys[0] if keys else None)
    rows = []
    for item in list_policies(key) if key else []:
        rows.append({**item, "default_json": _json(item["default"]), "value_json": _json(item["value"])})
    return render_template("admin_console/policies.html", processes=processes, key=key, rows=rows,
                           errors=errors or {}, submitted=submitted or {}), status


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _parse_json(text: str) -> tuple[bool, Any]:
    if len(text) > MAX_POLICY_TEXT:
        return False, None
    try:
        return True, json.loads(text)
    except json.JSONDecodeError:
        return False, None


@bp.get("/policies")
@admin_required
def policies() -> tuple[str, int]:
    return _policies_page(request.args.get("process", "")[:100] or None)


@bp.post("/policies/<key>/<policy_key>")
@admin_required
def set_policy_value(key: str, policy_key: str) -> Response | tuple[str, int]:
    key, policy_key = key[:100], policy_key[:100]
    text = request.form.get("value", "")
    parsed, value = _parse_json(text)
    if not parsed:
        message = _("不是有效的 JSON：文字须加英文双引号（如 \"two_thirds\"），数字和 true/false 直接填写。")
        return _policies_page(key, 422, {policy_key: message}, {policy_key: text})
    try:
        transactional(set_policy)(current_page_actor(), key, policy_key, value)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return _policies_page(key, exc.status, {policy_key: _problem_text(exc)}, {policy_key: text})
    flash(_("策略 %(policy)s 已改为 %(value)s；此后发起的案件按新值办理。", policy=policy_key, value=_json(value)),
          "success")
    return redirect(url_for(".policies", process=key, _anchor=f"policy-{policy_key}"))


@bp.post("/policies/<key>/<policy_key>/reset")
@admin_required
def reset_policy(key: str, policy_key: str) -> Response:
    key, policy_key = key[:100], policy_key[:100]
    item = transactional(operations.reset_policy)(current_page_actor(), key, policy_key)
    flash(_("策略 %(policy)s 已恢复默认值 %(value)s。", policy=policy_key, value=_json(item["value"])), "success")
    return redirect(url_for(".policies", process=key, _anchor=f"policy-{policy_key}"))


# -- cases --------------------------------------------------------------------------------------------------------
@bp.get("/instances")
@admin_required
def instances() -> str:
    status = request.args.get("status", "")
    filters = queries.CaseFilters(process=request.args.get("process", "")[:100] or None,
                                  status=status if status in INSTANCE_STATUSES else None,
                                  search=request.args.get("q", "").strip()[:64] or None)
    page = _page_number()
    rows, total = queries.cases_page(filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template("admin_console/instances.html", cases=rows, total=total, page=page,
                           pages=_pages(total), filters=filters, args=request.args,
                           counts=queries.status_counts(filters), statuses=STATUSES, processes=process_names(),
                           subjects=subject_labels(case.subject for case in rows))
