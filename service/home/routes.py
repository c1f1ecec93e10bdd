"""The landing page: what is deployed and where the API is (the inbox pages come with their own feature)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.modeler.models import ProcessModel

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    models = list(db.session.scalars(select(ProcessModel).order_by(ProcessModel.key)))
    counts = dict(db.session.execute(select(Instance.status, func.count()).group_by(Instance.status)).all())
    open_tasks = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready"))
    return render_template("home/index.html", models=models, counts=counts, open_tasks=open_tasks or 0)
