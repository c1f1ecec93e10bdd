"""The printable documents of a recommendation (推荐表, 推优大会记录) and their files: what they say (names,
figures, opinions, dates, masked identifiers — never the full numbers), when they exist, who gets them,
and the exports (考核结果汇总表, 整改台账) opened with openpyxl."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from documents_support import (
    CANDIDATE,
    ID_NUMBER,
    PHONE,
    build_cast,
    real_process_config,
    recommendation,
    restricted_views,
)
from web_support import sign_in

MASKED_ID = "110105********1234"
MASKED_PHONE = "138****5678"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def cast(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
         deploy: Callable[..., Any]) -> None:
    build_cast(make_person, make_user, deploy)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_recommendation_form_page_has_the_particulars_figures_opinions_and_dates(client: Any, cast: None) -> None:
    case = recommendation("accepted")
    sign_in(client, "lisi")
    response = client.get(f"/documents/recommendations/{case}/form")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "推荐优秀共青团员作入党积极分子人选推荐表" in page and "张三" in page and "机械2301团支部" in page
    assert MASKED_ID in page and MASKED_PHONE in page and ID_NUMBER not in page and PHONE not in page
    assert "应到 8 人，实到 7 人；赞成 6 票，反对 1 票，弃权 0 票；通过率 75.0%" in page
    assert "该同志表现突出，同意推荐。" in page  # the committee's opinion
    assert "同意推荐 同意推荐" in page and "2026-12-07" in page  # the general branch's review and date
    assert "同意接收" in page and "李四" in page and "2026-12-10" in page  # the Party branch; its contact
    assert "2026-11-27 至 2026-12-04" in page  # the publicity period (5 working days)
    assert "2005-03" in page and "2024-10-10" in page and "2019-05-04" in page
    assert f'href="/api/v1/documents/recommendations/{case}/form.pdf"' in page
    assert "@media print" not in page  # the print styles live in app.css
    assert [e.details for e in restricted_views()] == [
        {"instance": case, "person": CANDIDATE, "page": "recommendation_form_page"}]


def test_the_recommendation_form_pdf_reads_back_in_chinese_with_masked_numbers(client: Any, cast: None,
                                                                                login: Any) -> None:
    case = recommendation("accepted")
    response = client.get(f"/api/v1/documents/recommendations/{case}/form.pdf", headers=login("tzz"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = _pdf_text(response.data)
    for expected in ("推荐表", "张三", "机械2301团支部", MASKED_ID, MASKED_PHONE, "应到 8 人，实到 7 人",
                     "赞成 6 票，反对 1 票，弃权 0 票", "该同志表现突出", "同意接收", "2026-11-27 至 2026-12-04",
                     "学生第一党支部"):
        assert expected in text, expected
    assert ID_NUMBER not in text and PHONE not in text
    assert [e.details["page"] for e in restricted_views()] == ["recommendation_form_pdf"]


def test_the_meeting_record_page_and_pdf(client: Any, cast: None, login: Any) -> None:
    case = recommendation("meeting")
    sign_in(client, "committee1")
    page = client.get(f"/documents/recommendations/{case}/meeting-record").get_data(as_text=True)
    assert "推优大会记录" in page and "2026-09-10" in page and "一教 201" in page and "14:30" in page
    assert "<th>应到</th><td>8</td><th>实到</th><td>7</td>" in page
    assert "<th>赞成</th><td>6</td><th>反对</th><td>1</td>" in page and "通过" in page
    assert "139****5678" in page and "13912345678" not in page  # a phone number in the notes is masked
    # the signed-in browser downloads through the API with its session
    text = _pdf_text(client.get(f"/api/v1/documents/recommendations/{case}/meeting-record.pdf").data)
    assert "推优大会记录" in text and "8 / 7" in text and "6 / 1 / 0" in text and "7 / 7" in text
    assert "75.0%" in text and "139****5678" in text
    # the form does not exist before the general branch approves
    missing = client.get(f"/documents/recommendations/{case}/form")
    assert missing.status_code == 404 and "团总支审核同意后生成" in missing.get_data(as_text=True)
    assert client.get(f"/api/v1/documents/recommendations/{case}/form.pdf").status_code == 404
    listing = client.get(f"/api/v1/documents/recommendations/{case}").get_json()
    assert [(d["kind"], d["format"]) for d in listing["documents"]] == [("meeting_record", "html"),
                                                                       ("meeting_record", "pdf")]
    assert [e.details["page"] for e in restricted_views()] == ["meeting_record_page", "meeting_record_pdf"]


def test_the_candidate_page_links_the_documents_of_an_approved_recommendation(client: Any, cast: None) -> None:
    case = recommendation("approved")
    sign_in(client, "tzz")
    page = client.get(f"/people/{CANDIDATE}").get_data(as_text=True)
    assert f'href="/documents/recommendations/{case}/form"' in page
    assert f'href="/api/v1/documents/recommendations/{case}/form.pdf"' in page
    assert f'href="/documents/recommendations/{case}/meeting-record"' in page
    assert "待党支部研究" in client.get(f"/documents/recommendations/{case}/form").get_data(as_text=True)


def test_documents_are_404_for_those_who_may_not_see_the_case(client: Any, cast: None) -> None:
    case = recommendation("accepted")
    for user in ("wangwu", "sec3", "counsellor3"):
        sign_in(client, user)
        assert client.get(f"/documents/recommendations/{case}/form").status_code == 404, user
        assert client.get(f"/documents/recommendations/{case}/meeting-record").status_code == 404, user
        for path in ("", "/form.pdf", "/meeting-record.pdf"):
            response = client.get(f"/api/v1/documents/recommendations/{case}{path}")
            assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", (user, path)
    assert client.get("/documents/recommendations/999999/form").status_code == 404
    assert restricted_views() == []


# -- the exports ------------------------------------------------------------------------------------------------
def _sheet(data: bytes) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def _assessment_campaign(client: Any, login: Any, deploy: Callable[..., Any]) -> int:
    from documents_support import ROOT

    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")
    launched = client.post("/api/v1/campaigns", headers=login("tzz"), json={
        "process": "branch_assessment", "year": 2026, "deadline": "2026-12-20", "reviewers": ["tzz"]})
    assert launched.status_code == 201, launched.get_json()
    return launched.get_json()["id"]


def _complete_over_api(client: Any, login: Any, user: str, name: str, subject: str, data: dict[str, Any]) -> None:
    tasks = [t for t in client.get("/api/v1/tasks", headers=login(user)).get_json()["items"]
             if t["name"] == name and t["subject"] == subject]
    assert len(tasks) == 1, (user, name, subject)
    response = client.post(f"/api/v1/tasks/{tasks[0]['id']}/complete", headers=login(user), json={"data": data})
    assert response.status_code == 200, response.get_json()


def test_the_assessment_summary_has_one_row_per_branch(client: Any, cast: None, login: Any,
                                                       deploy: Callable[..., Any]) -> None:
    campaign = _assessment_campaign(client, login, deploy)
    scores = {"committee_work": 27, "organisational_life": 26, "recommendation": 13, "registration": 9,
              "activities": 12}
    _complete_over_api(client, login, "lisi", "self_assessment", "TZB-JX2301",
                       {"scores": scores, "evidence": "支委会会议记录", "representative": "团员3"})
    response = client.get(f"/api/v1/documents/campaigns/{campaign}/assessment-summary.xlsx", headers=login("tzz"))
    assert response.status_code == 200, response.get_json()
    rows = _sheet(response.data)
    assert rows[0] == ("团支部", "支部代码", "自评得分", "评审平均分", "等次", "是否已确认")
    by_code = {r[1]: r for r in rows[1:]}
    assert set(by_code) >= {"TZB-JX2301"}
    assert by_code["TZB-JX2301"][0] == "机械2301团支部"
    assert by_code["TZB-JX2301"][2] == 87
    assert by_code["TZB-JX2301"][3] is None and by_code["TZB-JX2301"][5] == "否"
    # the branch secretary gets their own branch's row only; another branch's member nothing
    own = _sheet(client.get(f"/api/v1/documents/campaigns/{campaign}/assessment-summary.xlsx",
                            headers=login("lisi")).data)
    assert [r[1] for r in own[1:]] == ["TZB-JX2301"]
    assert client.get(f"/api/v1/documents/campaigns/{campaign}/assessment-summary.xlsx",
                      headers=login("wangwu")).status_code == 404
    assert client.get("/api/v1/documents/campaigns/999999/assessment-summary.xlsx",
                      headers=login("tzz")).status_code == 404
    assert [e.details for e in restricted_views()] == [{"campaign": campaign, "page": "assessment_summary"}] * 2


def test_the_rectification_ledger_has_one_row_per_problem(client: Any, cast: None, login: Any,
                                                          deploy: Callable[..., Any]) -> None:
    from documents_support import ROOT

    deploy(ROOT / "bpmn" / "rectification.bpmn")
    started = client.post("/api/v1/instances", headers=login("tzz"), json={
        "process": "rectification", "subject": "TZB-JX2301",
        "data": {"problems": ["组织生活不规范", "团费收缴不及时"], "deadline": "2027-01-31",
                 "responsible": "李四 13812345678"}})
    assert started.status_code == 201, started.get_json()
    _complete_over_api(client, login, "lisi", "acknowledge", "TZB-JX2301", {"acknowledged": True})
    _complete_over_api(client, login, "lisi", "plan", "TZB-JX2301", {"measures": [
        {"problem": 0, "measure": "每月按时召开团日活动", "deadline": "2027-01-15", "owner": "李四"},
        {"problem": 1, "measure": "建立团费收缴台账", "deadline": "2027-01-20", "owner": "团员3"}]})
    _complete_over_api(client, login, "tzz", "plan_review", "TZB-JX2301", {"decision": "approve"})
    _complete_over_api(client, login, "lisi", "progress_report", "TZB-JX2301",
                       {"done": [1], "report": "团费台账已建立", "evidence": "台账照片"})
    response = client.get("/api/v1/documents/rectification-ledger.xlsx", headers=login("tzz"))
    assert response.status_code == 200, response.get_json()
    rows = _sheet(response.data)
    assert rows[0] == ("团支部", "序号", "问题", "整改措施", "完成时限", "责任人", "状态", "佐证材料数", "是否验收")
    assert rows[1:] == [
        ("机械2301团支部", 1, "组织生活不规范", "每月按时召开团日活动", "2027-01-15", "李四", "整改中", 0, "否"),
        ("机械2301团支部", 2, "团费收缴不及时", "建立团费收缴台账", "2027-01-20", "团员3", "已完成待验收", 1, "否")]
    # one unit's ledger; the branch page links it; others get 404 or an empty ledger
    assert len(_sheet(client.get("/api/v1/documents/rectification-ledger.xlsx?unit=TZB-JX2301",
                                 headers=login("lisi")).data)) == 3
    assert client.get("/api/v1/documents/rectification-ledger.xlsx?unit=TZB-JX2301",
                      headers=login("sec3")).status_code == 404
    assert client.get("/api/v1/documents/rectification-ledger.xlsx?unit=NOPE", headers=login("tzz")).status_code == 404
    assert _sheet(client.get("/api/v1/documents/rectification-ledger.xlsx", headers=login("sec3")).data)[1:] == []
    sign_in(client, "lisi")
    page = client.get("/org-units/TZB-JX2301").get_data(as_text=True)
    assert 'href="/api/v1/documents/rectification-ledger.xlsx?unit=TZB-JX2301"' in page
    assert [e.details["page"] for e in restricted_views()] == ["rectification_ledger"] * 2 + ["branch_page"]
