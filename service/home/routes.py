"""The landing page: what is deployed and where the API is; for the general branches' secretaries also
what falls due this month (service/calendar)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, select

from service import clock
from service.auth.actor import Actor
from service.calendar import queries as calendar
from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.modeler.models import ProcessModel
from service.webui.session import session_actor

bp = Blueprint("home", __name__, template_folder="templates")

#: roles whose holders see the month's calendar on the home page
CALENDAR_ROLES = ("party_general_branch_secretary", "league_general_branch_secretary")
#: the most calendar entries the home page lists (the month page has them all)
CALENDAR_LIMIT = 12


def _month_panel(actor: Actor | None) -> dict[str, Any] | None:
    """This month's entries from today on, for a general branch secretary; else None (the page stays light
    for everyone else; admins open /calendar)."""
    if actor is None or not any(role in CALENDAR_ROLES for role, _ in actor.roles):
        return None
    today = clock.now().astimezone(calendar.BEIJING).date()
    items = calendar.month_items(actor, today.year, today.month)
    upcoming = [i for i in items if i["date"] >= today.isoformat()]
    return {"month": f"{today.year:04d}-{today.month:02d}", "total": len(items), "overdue": len(items) - len(upcoming),
            "items": upcoming[:CALENDAR_LIMIT], "more": max(len(upcoming) - CALENDAR_LIMIT, 0)}


@bp.get("/")
def index() -> str:
    models = list(db.session.scalars(select(ProcessModel).order_by(ProcessModel.key)))
    counts = dict(db.session.execute(select(Instance.status, func.count()).group_by(Instance.status)).all())
    open_tasks = db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready"))
    return render_template("home/index.html", models=models, counts=counts, open_tasks=open_tasks or 0,
                           month_panel=_month_panel(session_actor()))
