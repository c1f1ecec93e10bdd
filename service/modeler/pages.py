"""The admin's modeler pages: the process list, the editor (bpmn-js, dmn-js, form editor, test run), the
version list and the visual diff. Jinja shells; the JavaScript islands in service/web/src/modeler/ call
the JSON API with the browser session (X-CSRFToken header, see service.api._load_actor)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.models import Instance
from service.org.models import User
from service.pack import ROLES
from service.webui import error_message, render_error
from service.webui.session import admin_required

from .models import ProcessModel, ProcessVersion

bp = Blueprint("modeler_pages", __name__, template_folder="templates", url_prefix="/admin/models")
OPEN_STATUSES = ("running", "suspended", "error")  # cases still on their version


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))



def api_csrf_token() -> str:
    """The session's raw CSRF token: what the API compares the X-CSRFToken header with."""
    generate_csrf()
    return str(session.get("csrf_token", ""))


def _model(key: str) -> ProcessModel:
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == key[:100]))
    if model is None or not model.latest_version:
        raise not_found()
    return model


def _running_counts(model_ids: list[int] | None = None) -> dict[int, int]:
    """Running (or suspended) cases per version id."""
    query = (select(Instance.version_id, func.count()).where(Instance.status.in_(OPEN_STATUSES))
             .group_by(Instance.version_id))
    if model_ids is not None:
        query = query.join(ProcessVersion, ProcessVersion.id == Instance.version_id).where(
            ProcessVersion.model_id.in_(model_ids))
    return {version_id: count for version_id, count in db.session.execute(query)}


def _version(model: ProcessModel, number: int) -> ProcessVersion:
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.model_id == model.id,
                                                             ProcessVersion.number == number))
    if version is None:
        raise not_found()
    return version


def _roles() -> list[dict[str, str]]:
    return [{"key": key, "zh": zh, "en": en} for key, (zh, en) in ROLES.items()]


@bp.get("")
@admin_required
def models() -> str:
    rows = list(db.session.scalars(select(ProcessModel).order_by(ProcessModel.key)))
    counts = db.session.execute(select(Instance.process_key, func.count()).where(
        Instance.status.in_(OPEN_STATUSES)).group_by(Instance.process_key))
    running = {key: count for key, count in counts}
    return render_template("modeler/models.html", models=rows, running=running)


@bp.get("/<key>/edit")
@admin_required
def edit(key: str) -> str:
    model = _model(key)
    number = request.args.get("version", type=int) or model.latest_version
    version = _version(model, number)
    numbers = list(db.session.scalars(select(ProcessVersion.number).where(ProcessVersion.model_id == model.id)
                                      .order_by(ProcessVersion.number.desc())))
    editor = {
        "key": model.key, "name": model.name, "latest": model.latest_version,
        "version": {"number": version.number, "bpmn": version.bpmn_xml, "dmn": version.dmn or {},
                    "forms": version.forms or {}, "comment": version.comment},
        "roles": _roles(),
    }
    return render_template("modeler/edit.html", model=model, version=version, numbers=numbers, editor=editor,
                           api_token=api_csrf_token())


@bp.get("/<key>/versions")
@admin_required
def versions(key: str) -> str:
    model = _model(key)
    rows = list(db.session.scalars(select(ProcessVersion).where(ProcessVersion.model_id == model.id)
                                   .order_by(ProcessVersion.number.desc())))
    user_ids = {v.created_by for v in rows if v.created_by}
    names: dict[int, str] = {}
    if user_ids:
        names = {user_id: name for user_id, name in db.session.execute(
            select(User.id, User.username).where(User.id.in_(user_ids)))}
    running = _running_counts([model.id])
    return render_template("modeler/versions.html", model=model, versions=rows, names=names, running=running,
                           api_token=api_csrf_token())


@bp.get("/<key>/diff")
@admin_required
def diff(key: str) -> str:
    model = _model(key)
    numbers = list(db.session.scalars(select(ProcessVersion.number).where(ProcessVersion.model_id == model.id)
                                      .order_by(ProcessVersion.number.desc())))
    newer = request.args.get("b", type=int) or model.latest_version
    older = request.args.get("a", type=int) or max(newer - 1, 1)
    for number in (older, newer):
        if number not in numbers:
            raise not_found()
    return render_template("modeler/diff.html", model=model, numbers=numbers, a=older, b=newer)
