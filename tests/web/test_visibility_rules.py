"""Restricted data (Party status, votes, opinions, objections) on the candidate and branch pages and in the
documents: who sees it, who sees the page without it, who gets a 404; the objector's identity for the
investigator only (also in the timeline and the case history); one audit entry per restricted view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from documents_support import CANDIDATE, build_cast, real_process_config, recommendation, restricted_views
from web_support import sign_in

TALLY = "应到 8，实到 7，赞成 6，反对 1，弃权 0"
OBJECTION = "反映该同志团费未交"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def cast(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
         deploy: Callable[..., Any]) -> None:
    build_cast(make_person, make_user, deploy)


def _page(client: Any, user: str, path: str) -> tuple[int, str]:
    sign_in(client, user)
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def _views_by(user: str) -> list[dict[str, Any]]:
    from service.extensions import db
    from service.org.models import User

    ids = {u.id: u.username for u in db.session.query(User)}
    return [e.details for e in restricted_views() if ids.get(e.actor_id) == user]


def test_the_branch_secretary_sees_the_restricted_record_but_not_the_objector(client: Any, cast: None) -> None:
    case = recommendation("accepted")
    status, page = _page(client, "lisi", f"/people/{CANDIDATE}")
    assert status == 200
    assert "政治面貌：入党积极分子" in page and 'class="stages"' in page
    assert TALLY in page and "该同志表现突出" in page and OBJECTION in page and "经核实团费已按时交纳" in page
    assert "王五" not in page and "wangwu" not in page  # neither in the record nor in the timeline
    assert "异议人（身份保密）" in page
    assert f'href="/documents/recommendations/{case}/form"' in page


def test_the_investigator_sees_who_objected(client: Any, cast: None) -> None:
    recommendation("accepted")
    status, page = _page(client, "tzz", f"/people/{CANDIDATE}")
    assert status == 200
    assert "异议人：王五" in page and "<b>wangwu</b>" in page and "异议人（身份保密）" not in page


def test_the_candidate_sees_their_own_record_and_documents_but_not_the_objector(client: Any, cast: None) -> None:
    case = recommendation("accepted")
    status, page = _page(client, "zhangsan", f"/people/{CANDIDATE}")
    assert status == 200
    assert "政治面貌：入党积极分子" in page and TALLY in page and OBJECTION in page
    assert "王五" not in page and "wangwu" not in page
    assert client.get(f"/documents/recommendations/{case}/form").status_code == 200
    assert client.get(f"/api/v1/documents/recommendations/{case}/form.pdf").status_code == 200


@pytest.mark.parametrize("user", ["wangwu", "counsellor3", "sec3"])
def test_another_branch_and_other_classes_get_404_everywhere(client: Any, cast: None, user: str) -> None:
    case = recommendation("accepted")
    sign_in(client, user)
    for path in (f"/people/{CANDIDATE}", f"/documents/recommendations/{case}/form",
                 f"/documents/recommendations/{case}/meeting-record", f"/api/v1/documents/recommendations/{case}",
                 f"/api/v1/documents/recommendations/{case}/form.pdf", "/org-units/TZB-JX2301"):
        assert client.get(path).status_code == 404, path
    assert restricted_views() == []


def test_the_counsellor_of_the_class_takes_part_and_sees_the_record(client: Any, cast: None) -> None:
    recommendation("meeting")
    status, page = _page(client, "counsellor1", f"/people/{CANDIDATE}")
    assert status == 200 and "政治面貌：" in page and TALLY in page


def test_who_sees_the_page_but_handles_nothing_gets_it_without_restricted_data(client: Any, cast: None) -> None:
    case = recommendation("accepted")
    # a Party branch committee member of the paired Party branch: the case is visible, its record is not theirs
    status, page = _page(client, "dzbmember", f"/people/{CANDIDATE}")
    assert status == 200 and "张三" in page and "推优入党" in page
    assert "政治面貌：" not in page and 'class="stages"' not in page
    assert TALLY not in page and OBJECTION not in page and "推优记录" not in page
    assert "受限信息仅向本人和有关负责人显示" in page
    assert client.get(f"/documents/recommendations/{case}/form").status_code == 404
    assert client.get(f"/api/v1/documents/recommendations/{case}/meeting-record.pdf").status_code == 404
    status, branch = _page(client, "dzbmember", "/org-units/TZB-JX2301")
    assert status == 200 and "<th>政治面貌</th>" not in branch and "年度考核结果" not in branch
    assert "rectification-ledger" not in branch
    assert _views_by("dzbmember") == []  # nothing restricted was shown: nothing to log


def test_one_audit_entry_per_restricted_page_view(client: Any, cast: None) -> None:
    case = recommendation("accepted")
    _page(client, "lisi", f"/people/{CANDIDATE}")
    _page(client, "lisi", f"/people/{CANDIDATE}")
    _page(client, "lisi", "/org-units/TZB-JX2301")
    _page(client, "lisi", f"/documents/recommendations/{case}/form")
    _page(client, "zhangsan", f"/people/{CANDIDATE}")
    _page(client, "dzbmember", f"/people/{CANDIDATE}")
    assert _views_by("lisi") == [
        {"person": CANDIDATE, "page": "candidate_page"}, {"person": CANDIDATE, "page": "candidate_page"},
        {"org_unit": "TZB-JX2301", "page": "branch_page"},
        {"instance": case, "person": CANDIDATE, "page": "recommendation_form_page"}]
    assert _views_by("zhangsan") == [{"person": CANDIDATE, "page": "candidate_page"}]
    assert all(e.at is not None and e.remote_addr for e in restricted_views())


def test_the_case_history_hides_the_objector_from_all_but_the_investigator(client: Any, cast: None) -> None:
    from service.auth.operations import actor_for
    from service.extensions import db
    from service.instances.models import Instance
    from service.instances.views import instance_detail
    from service.org.models import User
    from service.tracking.visibility import (
        may_see_objector,
        may_see_restricted,
        redact_history,
        redact_task_data,
    )

    case = recommendation("objection")
    instance = db.session.get(Instance, case)
    actors = {u.username: actor_for(u) for u in db.session.query(User)}
    history = instance_detail(instance)["history"]
    assert any(h["actor"] == "wangwu" for h in history)  # the trail itself keeps the sender

    def objection_rows(user: str) -> list[dict[str, Any]]:
        return [h for h in redact_history(actors[user], instance, history) if h["action"] == "message_received"]

    assert objection_rows("tzz")[0]["actor"] == "wangwu"  # holds the investigate_objection lane
    for user in ("lisi", "zhangsan", "committee1", "root"):
        row = objection_rows(user)[0]
        assert row["actor"] is None and "sent_by" not in row["details"] and "data" not in row["details"], user
    assert objection_rows("wangwu")[0]["actor"] == "wangwu"  # the objector may see their own objection
    assert [u for u in actors if may_see_objector(actors[u], instance)] == ["tzz"]
    assert sorted(u for u in actors if may_see_restricted(actors[u], instance)) == [
        "committee1", "counsellor1", "dzb1", "lisi", "root", "tzz", "zhangsan"]

    # the investigate_objection step's data carries the sender: only the investigator keeps it
    step = {"objection": {"reason": OBJECTION, "sent_by": "wangwu"}, "upheld": None}
    assert redact_task_data(actors["tzz"], instance, step) == step
    assert redact_task_data(actors["lisi"], instance, step) == {"objection": {"reason": OBJECTION}, "upheld": None}


def test_the_person_api_shows_party_status_only_to_those_entitled(client: Any, cast: None) -> None:
    """GET /api/v1/people/<id> follows the candidate page: the paired Party branch's committee member
    sees the person but not their Party status (and nothing is logged); a handler sees it, logged once."""
    recommendation("meeting")
    sign_in(client, "dzbmember")
    body = client.get(f"/api/v1/people/{CANDIDATE}").get_json()
    assert body["id"] == CANDIDATE and body.get("party_status") is None and body.get("party_applied") is None
    assert _views_by("dzbmember") == []
    client.post("/logout", data={})
    sign_in(client, "counsellor1")
    body = client.get(f"/api/v1/people/{CANDIDATE}").get_json()
    assert body["party_status"] is not None
    assert [v["page"] for v in _views_by("counsellor1")] == ["api_person"]
