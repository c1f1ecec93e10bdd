"""Tracking pages: a candidate's page (their stage on the 推优 pipeline, cases, timeline and diagrams),
a branch's page (members and their stages, open cases, assessment grades, rectifications), the campaign
pages (one row per branch, quotas, confirming), case search with saved searches and its .xlsx download,
and the dashboards. Thin handlers: check access, gather, log restricted views, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from service import clock
from service.auth.actor import Actor
from service.campaigns.operations import confirm_campaign, list_campaigns
from service.errors import ApiError
from service.inbox.presenters import ACTIONS, STATUSES, process_names, subject_labels
from service.instances.access import visible_units
from service.org.models import OrgUnit, Person
from service.transaction import transactional
from service.webui import error_message, is_english, render_error
from service.webui.session import current_page_actor, login_required

from . import branch, campaign_board, candidate, charts, dashboards, search

bp = Blueprint("tracking_pages", __name__, template_folder="templates")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_error(exc.status, error_message(exc))


@transactional
def _open_person(actor: Actor, person_id: str) -> Person:
    """The person, if `actor` may see them; the view of their restricted record is audited."""
    person = candidate.person_for(actor, person_id)
    candidate.record_restricted_view(actor, person, "candidate_page")
    return person


@bp.get("/people/<person_id>")
@login_required
def person_page(person_id: str) -> str:
    actor = current_page_actor()
    person = _open_person(actor, person_id[:64])
    cases = candidate.person_cases(actor, person)
    names = process_names()
    timeline = candidate.timeline(cases, names, ACTIONS)
    return render_template(
        "tracking/candidate.html", person=person, stages=candidate.pipeline(person, cases),
        cases=candidate.case_rows(cases, names, english=is_english()), timeline=timeline, statuses=STATUSES,
        party_status=dict(candidate.STAGES).get(person.party_status, person.party_status),
        unit_link=person.org_unit is not None and (actor.is_admin or person.org_unit.code in visible_units(actor)))


@transactional
def _open_unit(actor: Actor, code: str) -> OrgUnit:
    unit = branch.unit_for(actor, code)
    branch.record_restricted_view(actor, unit)
    return unit


@bp.get("/org-units/<code>")
@login_required
def unit_page(code: str) -> str:
    actor = current_page_actor()
    unit = _open_unit(actor, code[:64])
    cases = branch.unit_cases(actor, unit)
    names = process_names()
    subjects = subject_labels(c.subject for c in cases)
    return render_template(
        "tracking/branch.html", unit=unit, members=branch.members(unit, cases), sub_units=branch.sub_units(unit),
        open_cases=candidate.case_rows(branch.open_cases(cases), names, english=is_english()), subjects=subjects,
        grades=branch.grades_by_year(cases), rectifications=branch.rectifications(cases), statuses=STATUSES)


# -- campaigns --------------------------------------------------------------------------------------------------------
@bp.get("/campaigns")
@login_required
def campaigns_page() -> str:
    actor = current_page_actor()
    return render_template("tracking/campaigns.html", campaigns=list_campaigns(actor), names=process_names())


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign_page(campaign_id: int) -> str:
    actor = current_page_actor()
    query = campaign_board.BoardQuery.from_args(request.args)
    view = campaign_board.campaign_board(actor, campaign_id, query)
    return render_template("tracking/campaign.html", board=view, campaign=view["campaign"], query=query,
                           names=process_names(), statuses=STATUSES, sort_url=_sort_url)


def _sort_url(campaign_id: int, query: campaign_board.BoardQuery, column: str) -> str:
    args = {k: v for k, v in request.args.items() if k not in ("sort", "order")}
    desc = query.sort == column and not query.desc
    return url_for("tracking_pages.campaign_page", campaign_id=campaign_id, sort=column,
                   order="desc" if desc else "asc", **args)


@bp.post("/campaigns/<int:campaign_id>/confirm")
@login_required
def confirm_campaign_page(campaign_id: int) -> Response:
    """Confirm every grade at once (the quota check runs first); the process then reports them to the
    Party general branch. A refusal is explained on the campaign page."""
    try:
        result = transactional(confirm_campaign)(current_page_actor(), campaign_id)
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(_refusal(exc, _grade_titles(campaign_id)), "error")
    else:
        flash(_("已确认 %(n)d 个团支部的考核等级，并上报党总支审核。", n=result["confirmed"]), "success")
    return redirect(url_for("tracking_pages.campaign_page", campaign_id=campaign_id), code=303)


def _grade_titles(campaign_id: int) -> dict[str, str]:
    try:
        quota = campaign_board.campaign_board(current_page_actor(), campaign_id)["quota"]
    except ApiError:
        return {}
    return {g["grade"]: g["title"] for g in quota["grades"] if g["title"]}


def _refusal(exc: ApiError, titles: dict[str, str]) -> str:
    parts = [error_message(exc)]
    for item in exc.details:
        if not isinstance(item, dict):
            continue
        if "allowed" in item:
            share = "{:.0%}".format(float(item["quota"]))
            parts.append(_("%(grade)s：%(count)d 个，按比例最多 %(allowed)d 个（%(graded)d 个已评定 × %(share)s）",
                           grade=titles.get(item["grade"], item["grade"]), count=item["count"],
                           allowed=item["allowed"], graded=item["graded"], share=share))
        elif item.get("subject"):
            parts.append(f"{item.get('name') or item['subject']}：{item.get('milestone') or ''}")
    return "；".join(p for p in parts if p)


# -- search ------------------------------------------------------------------------------------------------------------
def _search_form() -> tuple[search.SearchQuery | None, list[dict[str, Any]]]:
    try:
        return search.parse_query(request.args), []
    except ApiError as exc:
        return None, [d for d in exc.details if isinstance(d, dict)]


@bp.get("/search")
@login_required
def search_page() -> tuple[str, int]:
    actor = current_page_actor()
    query, problems = _search_form()
    result = None
    if query is not None and not query.is_empty:
        try:
            result = search.search(actor, query)
        except ApiError as exc:
            if exc.status not in (403, 422):
                raise
            problems = [{"field": "columns", "message": error_message(exc)}]
    return render_template(
        "tracking/search.html", query=query or search.SearchQuery(), args=request.args, problems=problems,
        result=result, saved=search.saved_searches(actor), names=process_names(), statuses=STATUSES,
        steps=search.step_choices(query.process if query else None),
        restricted=sorted(search.restricted_variables(query.process if query else None)),
        is_admin=actor.is_admin), 422 if problems else 200


@bp.get("/search.xlsx")
@login_required
def search_export() -> Response:
    actor = current_page_actor()
    query = search.parse_query(request.args)
    body = transactional(search.export_xlsx)(actor, query)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="cases-{stamp}.xlsx"'})


@bp.post("/search/saved")
@login_required
def save_search_page() -> Response:
    raw = request.form.get("query", "")[:2000]
    try:
        transactional(search.save_search)(current_page_actor(), request.form.get("name", "")[:200], raw)
    except ApiError as exc:
        if exc.status == 404:
            raise
        details = "；".join(str(d.get("message")) for d in exc.details if isinstance(d, dict) and d.get("message"))
        flash(f"{error_message(exc)} {details}".strip(), "error")
    else:
        flash(_("搜索已保存。"), "success")
    return redirect(url_for("tracking_pages.search_page") + ("?" + raw.lstrip("?") if raw else ""), code=303)


@bp.get("/search/saved/<int:search_id>")
@login_required
def run_saved_search(search_id: int) -> Response:
    saved = search.get_saved_search(current_page_actor(), search_id)
    return redirect(url_for("tracking_pages.search_page") + "?" + saved.query)


@bp.post("/search/saved/<int:search_id>/delete")
@login_required
def delete_saved_search_page(search_id: int) -> Response:
    transactional(search.delete_saved_search)(current_page_actor(), search_id)
    flash(_("已删除保存的搜索。"), "success")
    return redirect(url_for("tracking_pages.search_page"), code=303)


# -- dashboards --------------------------------------------------------------------------------------------------------
@bp.get("/dashboards")
@login_required
def dashboards_page() -> str:
    actor = current_page_actor()
    raw_year = request.args.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else dashboards.current_year()
    funnel = dashboards.funnel(actor, year)
    grades = dashboards.grades(actor)
    overdue = dashboards.overdue(actor)
    times = dashboards.step_times(actor, year)
    rects = dashboards.rectifications(actor)
    names = process_names()
    this_year = next((row for row in grades["years"] if row["year"] == year), None)
    return render_template(
        "tracking/dashboards.html", year=year, funnel=funnel, grades=grades, overdue=overdue, times=times,
        rects=rects, names=names, college_wide=dashboards.college_wide(actor),
        charts={
            "funnel": charts.funnel_chart([(s["label"], s["count"]) for s in funnel["stages"]], _("推优漏斗")),
            "grades": charts.bar_chart([(g["label"], g["count"]) for g in (this_year or {}).get("grades", [])],
                                       _("考核等级分布")),
            "overdue_units": charts.bar_chart([(u["name"] or "—", u["count"]) for u in overdue["by_unit"][:10]],
                                              _("逾期任务（按单位）")),
            "overdue_steps": charts.bar_chart([(s["title"], s["count"]) for s in overdue["by_step"][:10]],
                                              _("逾期任务（按步骤）")),
            "times": charts.bar_chart([(s["title"], s["mean_hours"]) for s in times["steps"][:10]],
                                      _("各步骤平均用时（小时）"), suffix="h"),
            "rects": charts.bar_chart([(s["label"], s["count"]) for s in rects["states"]], _("整改情况")),
        })
