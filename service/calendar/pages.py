"""The month page /calendar?month=YYYY-MM: what falls due, grouped by day."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from service.errors import ApiError
from service.inbox.presenters import process_names, subject_labels
from service.webui import error_message, render_error
from service.webui.session import current_page_actor, login_required

from . import queries

bp = Blueprint("calendar_pages", __name__, template_folder="templates")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


@bp.get("/calendar")
@login_required
def month() -> str:
    year, month_no = queries.parse_month(request.args.get("month", "")[:20])
    items = queries.month_items(current_page_actor(), year, month_no)
    return render_template("calendar/month.html", month=f"{year:04d}-{month_no:02d}", days=queries.by_day(items),
                           count=len(items), previous=queries.shift_month(year, month_no, -1),
                           following=queries.shift_month(year, month_no, 1), processes=process_names(),
                           subjects=subject_labels(i["subject"] for i in items if i["subject"]))
