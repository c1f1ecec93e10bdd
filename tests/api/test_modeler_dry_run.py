"""Dry run of the real 推优入党 process over the API: the path the answers take, with the pack's functions,
policies and form defaults, entirely in memory (no case, task, audit or version row appears)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from processes.recommendation import DEFINITION

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/process-models/recommendation/dry-run"
ROSTER = {  # the subject facts as service/instances/subjects.py reads them from the roster
    "id": "2023010101", "name": "张三", "gender": "男", "birth_date": "2005-03-01", "org_unit": "TZB-JX2301",
    "league_member": True, "league_joined": "2019-05-04", "league_post": "组织委员", "party_status": "applicant",
    "party_applied": "2024-10-10",
    "unit": {"code": "TZB-JX2301", "name": "机械2301团支部", "kind": "league_branch", "founded": "2023-09-15",
             "last_reelection": None, "parent": "TZZ", "paired_with": "DZB-S1", "league_members": 30}}
FACTS = {**DEFINITION.initial_data(ROSTER), "subject": "2023010101", "subject_unit": "TZB-JX2301"}
ANSWERS = {
    "apply": {"statement": "我志愿加入中国共产党。"},
    "committee_review": {"decision": "approve"},
    "meeting_approval": {"decision": "approve", "meeting_date": "2026-09-10", "meeting_time": "14:30",
                         "meeting_place": "一教 201"},
    "meeting_record": {"meeting_date": "2026-09-10", "entitled": 20, "present": 18, "yes": 15, "no": 2, "abstain": 1,
                       "ballots_issued": 18, "ballots_collected": 18},
    "committee_opinion": {"opinion": "同意推荐。"},
    "general_branch_review": {"decision": "approve", "comment": "同意推荐"},
    "party_branch_decision": {"decision": "accept", "contacts": ["2020010001", "2020010002"]},
}
ACCEPTED_PATH = [
    "start", "prepare", "apply", "eligibility_facts", "eligibility_check", "eligibility_result", "gw_eligible",
    "committee_prepare", "committee_review", "gw_committee", "meeting_approval", "gw_meeting_approval",
    "meeting_record", "meeting_check", "gw_meeting", "committee_opinion", "gw_publicity_done", "publicity_start",
    "publicity_timer", "publicity_end", "general_branch_review", "gw_review", "handover", "party_branch_decision",
    "end_decided"]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def admin(college: Any, make_user: Callable[..., Any], login: Callable[[str], dict[str, str]],
          deploy: Callable[..., Any]) -> dict[str, str]:
    make_user("admin", [("admin", None)])
    make_user("clerk", [("league_branch_secretary", "TZB-JX2301")])
    deploy(ROOT / "bpmn" / "recommendation.bpmn")
    return login("admin")


def _counts(app: Any) -> dict[str, int]:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            return {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in ("instance", "human_task", "message_wait", "process_version", "notification")}
    finally:
        engine.dispose()


def test_dry_run_returns_the_path_and_touches_nothing(app: Any, client: Any, admin: dict[str, str]) -> None:
    before = _counts(app)
    response = client.post(URL, headers=admin, json={"data": FACTS, "answers": ANSWERS})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["path"] == ACCEPTED_PATH
    assert result["ended"] is True and result["outcome"] == "accepted" and result["error"] is None
    assert result["waiting_at"] == []
    assert result["data"]["party_branch_decision"]["contacts"] == ["2020010001", "2020010002"]
    assert result["data"]["policies"]["quota_percent"] == 20  # the pack's policies were in force
    assert _counts(app) == before

    rejected = client.post(URL, headers=admin, json={"data": FACTS, "answers": {
        **ANSWERS, "committee_review": {"decision": "reject", "reason": "材料不全"}}}).get_json()
    assert rejected["path"][-3:] == ["committee_review", "gw_committee", "end_rejected_committee"]
    assert rejected["outcome"] == "rejected" and rejected["ended"] is True
    assert _counts(app) == before


def test_dry_run_of_a_draft_and_of_failures(app: Any, client: Any, admin: dict[str, str]) -> None:
    draft = (ROOT / "bpmn" / "recommendation.bpmn").read_text(encoding="utf-8").replace(
        'name="团支部委员会审查"', 'name="支委会审查（草稿）"')
    result = client.post(URL, headers=admin, json={"bpmn": draft, "data": FACTS, "answers": ANSWERS}).get_json()
    assert result["path"] == ACCEPTED_PATH and result["outcome"] == "accepted"
    # a script that fails: where and why, and the path up to there
    failed = client.post(URL, headers=admin, json={"data": {**FACTS, "birth_date": "not a date"},
                                                   "answers": ANSWERS}).get_json()
    assert failed["ended"] is False and failed["error"]["element_id"] == "eligibility_facts"
    assert failed["path"] == ["start", "prepare", "apply"]
    # no answers: each task gets {} plus its form's defaults; the committee's decision has none
    empty = client.post(URL, headers=admin, json={"data": FACTS, "answers": {}}).get_json()
    assert empty["ended"] is False and empty["error"]["element_id"] == "committee_review"
    assert "decision" in empty["error"]["message"] and empty["path"][-1] == "committee_prepare"
    broken = client.post(URL, headers=admin, json={"bpmn": draft.replace("<bpmn:script>outcome = None",
                                                                          "<bpmn:script>outcome = = None")})
    assert broken.status_code == 422 and broken.get_json()["error"]["code"] == "invalid_bpmn"
    assert client.post(URL, headers=admin, json={"version": 9}).status_code == 404
    assert client.post("/api/v1/process-models/nothing/dry-run", headers=admin, json={}).status_code == 404
    clerk = client.post("/api/v1/auth/token", json={"username": "clerk", "password": "secret-pass-1"}).get_json()
    assert client.post(URL, headers={"Authorization": f"Bearer {clerk['token']}"}, json={}).status_code == 403
