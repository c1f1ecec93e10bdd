"""整改 through the HTTP API: the real BPMN and forms deployed, the League general branch issuing an order
to TZB-JX2301, the branch secretary and the general branch secretary each doing their steps, the
Party general branch secretary called in when the deadline passes, and another branch kept out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from rectification_support import BPMN, DEADLINE, DUE, MEASURES, PROBLEMS, T0, beijing

from service import clock

BRANCH = "TZB-JX2301"


@pytest.fixture
def cast(college: Any, make_user: Callable[..., Any]) -> None:
    make_user("admin", [("admin", None)])
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    make_user("sec1", [("league_branch_secretary", BRANCH)])
    make_user("sec2", [("league_branch_secretary", "TZB-JX2302")])
    make_user("dzz", [("party_general_branch_secretary", "DZZ")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])


class Api:
    def __init__(self, client: Any, login: Callable[[str], dict[str, str]]):
        self.client = client
        self.now = T0
        with clock.frozen_at(self.now):
            self.headers = {user: login(user) for user in ("admin", "tzz", "sec1", "sec2", "dzz", "dzb1")}

    def call(self, user: str, method: str, path: str, status: int, **kwargs: Any) -> Any:
        with clock.frozen_at(self.now):
            response = self.client.open(path, method=method, headers=self.headers[user], **kwargs)
        assert response.status_code == status, (user, method, path, response.status_code, response.get_json())
        return response.get_json()

    def inbox(self, user: str) -> list[dict[str, Any]]:
        return self.call(user, "GET", "/api/v1/tasks?process=rectification", 200)["items"]

    def task(self, user: str, name: str) -> dict[str, Any]:
        found = [t for t in self.inbox(user) if t["name"] == name]
        assert len(found) == 1, (user, name, [t["name"] for t in self.inbox(user)])
        return found[0]

    def complete(self, user: str, name: str, data: dict[str, Any], status: int = 200) -> Any:
        task = self.task(user, name)
        return self.call(user, "POST", f"/api/v1/tasks/{task['id']}/complete", status, json={"data": data})

    def start(self, user: str = "tzz", status: int = 201, **data: Any) -> Any:
        body = {"process": "rectification", "subject": BRANCH,
                "data": {"problems": PROBLEMS, "deadline": DEADLINE, "source": "branch_assessment", **data}}
        return self.call(user, "POST", "/api/v1/instances", status, json=body)

    def instance(self, instance_id: int, user: str = "admin") -> Any:
        return self.call(user, "GET", f"/api/v1/instances/{instance_id}", 200)


@pytest.fixture
def api(cast: None, client: Any, login: Callable[[str], dict[str, str]], deploy: Callable[..., Any]) -> Api:
    with clock.frozen_at(T0):
        version = deploy(BPMN / "rectification.bpmn")
    assert version.warnings == []
    return Api(client, login)


def _fire_timers(at: datetime) -> int:
    from service.timers.operations import run_due

    return run_due(now=at).fired


def test_the_rectification_journey_over_http(api: Api) -> None:
    api.start(user="sec1", status=403)  # a branch secretary cannot order a rectification
    case = api.start()
    case_id = case["id"]
    assert case["status"] == "running" and case["subject"] == BRANCH

    # the branch secretary acknowledges: the form shows the problems with their indexes
    acknowledge = api.task("sec1", "acknowledge")
    assert acknowledge["lane"] == "league_branch_secretary" and acknowledge["scope_unit"] == BRANCH
    detail = api.call("sec1", "GET", f"/api/v1/tasks/{acknowledge['id']}", 200)
    assert detail["data"]["problem_overview"][0] == "[0] 组织生活不规范，三会一课记录缺失（整改中）"
    assert detail["form"]["schema"]["properties"]["acknowledged"]["const"] is True
    api.complete("sec1", "acknowledge", {"acknowledged": False}, status=422)
    api.complete("sec1", "acknowledge", {"acknowledged": True})

    # another branch's secretary sees nothing of the case and can do nothing in it
    plan = api.task("sec1", "plan")
    assert api.inbox("sec2") == []
    api.call("sec2", "GET", f"/api/v1/instances/{case_id}", 404)
    api.call("sec2", "GET", f"/api/v1/tasks/{plan['id']}", 404)
    api.call("sec2", "POST", f"/api/v1/tasks/{plan['id']}/complete", 404, json={"data": {"measures": MEASURES}})
    assert api.call("sec2", "GET", "/api/v1/instances?process=rectification", 200)["items"] == []

    api.complete("sec1", "plan", {"measures": MEASURES[:1]})
    review = api.task("tzz", "plan_review")
    assert review["scope_unit"] == "TZZ"
    api.call("sec1", "POST", f"/api/v1/tasks/{review['id']}/complete", 403, json={"data": {"decision": "approve"}})
    api.complete("tzz", "plan_review", {"decision": "return", "comment": "第2、3项缺少措施"})

    detail = api.call("sec1", "GET", f"/api/v1/tasks/{api.task('sec1', 'plan')['id']}", 200)
    assert detail["data"]["review_comment"] == "第2、3项缺少措施"
    assert detail["data"]["measures"] == MEASURES[:1]  # the branch revises its own plan
    api.complete("sec1", "plan", {"measures": MEASURES})
    api.complete("tzz", "plan_review", {"decision": "approve"})

    assert sorted(t["name"] for t in api.inbox("sec1")) == ["extension_request", "progress_report"]
    api.now = T0 + timedelta(days=20)
    api.complete("sec1", "progress_report", {"done": [0], "report": "第一项已整改"})
    api.now = T0 + timedelta(days=45)
    api.complete("sec1", "progress_report", {"done": [1, 2], "report": "全部整改完毕", "evidence": "台账"})
    api.complete("sec1", "completion_report", {"report": "三个问题均已整改到位", "evidence": "整改台账"})

    acceptance = api.task("tzz", "acceptance")
    assert "三个问题均已整改到位" in api.call("tzz", "GET", f"/api/v1/tasks/{acceptance['id']}", 200)["data"]["completion_note"]
    api.complete("tzz", "acceptance", {"accepted": [0, 1, 2], "decision": "redo"}, status=422)  # a redo needs a deadline
    finished = api.complete("tzz", "acceptance", {"accepted": [0, 1, 2], "decision": "close"})

    assert finished["status"] == "completed" and finished["outcome"] == "closed"
    assert api.instance(case_id, "sec1")["outcome"] == "closed"
    api.call("sec2", "GET", f"/api/v1/instances/{case_id}", 404)


def test_a_missed_deadline_calls_in_the_party_general_branch(api: Api) -> None:
    case_id = api.start()["id"]
    api.complete("sec1", "acknowledge", {"acknowledged": True})
    api.complete("sec1", "plan", {"measures": MEASURES})
    api.complete("tzz", "plan_review", {"decision": "approve"})

    with clock.frozen_at(DUE - timedelta(days=7) + timedelta(seconds=1)):
        assert _fire_timers(DUE - timedelta(days=7) + timedelta(seconds=1)) == 1  # the reminder a week before
    with clock.frozen_at(DUE + timedelta(seconds=1)):
        assert _fire_timers(DUE + timedelta(seconds=1)) == 1
    api.now = DUE + timedelta(hours=1)

    case = api.instance(case_id)
    assert case["milestone"] == "已逾期，待约谈"
    talk = api.task("dzz", "escalation")
    assert talk["lane"] == "party_general_branch_secretary" and talk["scope_unit"] == "DZZ"
    assert [t["name"] for t in api.inbox("tzz")] == []  # the issuer's superior holds the talk
    api.complete("dzz", "escalation", {"interview_date": "2027-04-02", "record": "约谈支部书记，限期两周"})
    assert sorted(t["name"] for t in api.inbox("sec1")) == ["extension_request", "progress_report"]

    api.now = beijing(2027, 4, 10)
    api.complete("sec1", "progress_report", {"done": [0, 1, 2], "report": "全部完成"})
    api.complete("sec1", "completion_report", {"report": "已整改"})
    assert api.complete("tzz", "acceptance", {"accepted": [0, 1, 2], "decision": "close"})["outcome"] == "closed"


def test_a_party_branch_is_ordered_by_the_party_general_branch(api: Api) -> None:
    body = {"process": "rectification", "subject": "DZB-S1", "data": {"problems": ["党员教育不到位"], "deadline": DEADLINE}}
    case_id = api.call("dzz", "POST", "/api/v1/instances", 201, json=body)["id"]

    acknowledge = api.task("dzb1", "acknowledge")
    assert acknowledge["lane"] == "party_branch_secretary" and acknowledge["scope_unit"] == "DZB-S1"
    api.complete("dzb1", "acknowledge", {"acknowledged": True})
    api.complete("dzb1", "plan", {"measures": [MEASURES[0]]})
    assert api.task("dzz", "plan_review")["lane"] == "party_general_branch_secretary"
    api.call("sec1", "GET", f"/api/v1/instances/{case_id}", 404)


def test_the_admin_terminates_a_case(api: Api) -> None:
    case_id = api.start()["id"]
    api.call("tzz", "POST", f"/api/v1/instances/{case_id}/terminate", 403, json={})
    terminated = api.call("admin", "POST", f"/api/v1/instances/{case_id}/terminate", 200, json={"reason": "重复下达"})
    assert terminated["status"] == "terminated" and terminated["outcome"] == "terminated"
    assert api.inbox("sec1") == []


def test_a_recheck_that_finds_a_relapse_orders_a_new_rectification(api: Api) -> None:
    api.call("admin", "PUT", "/api/v1/process-models/rectification/policies/recheck_enabled", 200, json={"value": True})
    case_id = api.start()["id"]
    api.complete("sec1", "acknowledge", {"acknowledged": True})
    api.complete("sec1", "plan", {"measures": MEASURES})
    api.complete("tzz", "plan_review", {"decision": "approve"})
    api.complete("sec1", "progress_report", {"done": [0, 1, 2], "report": "全部完成"})
    api.complete("sec1", "completion_report", {"report": "已整改"})
    closed = api.complete("tzz", "acceptance", {"accepted": [0, 1, 2], "decision": "close"})
    assert closed["status"] == "running"  # closed (销号), the re-check is still to come

    recheck_at = T0 + timedelta(days=90, seconds=1)
    with clock.frozen_at(recheck_at):
        assert _fire_timers(recheck_at) == 1
    api.now = recheck_at
    api.complete("tzz", "recheck", {"findings": "团员注册率回落", "relapsed": [1]}, status=422)  # needs a deadline
    done = api.complete("tzz", "recheck", {"findings": "团员注册率回落", "relapsed": [1], "new_deadline": "2027-06-30"})
    assert done["status"] == "completed" and done["outcome"] == "closed"

    cases = api.call("tzz", "GET", f"/api/v1/instances?process=rectification&subject={BRANCH}", 200)["items"]
    assert sorted(c["id"] for c in cases)[0] == case_id and len(cases) == 2
    detail = api.call("sec1", "GET", f"/api/v1/tasks/{api.task('sec1', 'acknowledge')['id']}", 200)
    assert detail["data"]["problem_overview"] == ["[0] 团员教育管理薄弱（整改中）"]
    assert detail["data"]["deadline_note"] == "整改期限：2027-06-30"


def test_who_may_order_whom(api: Api) -> None:
    """The League general branch orders League branches only, and an order names the starter's own
    general branch as its issuer; the Party general branch may order either kind of branch."""
    party_body = {"process": "rectification", "subject": "DZB-S1",
                  "data": {"problems": ["党员教育不到位"], "deadline": DEADLINE}}
    refused = api.call("tzz", "POST", "/api/v1/instances", 403, json=party_body)  # its issuer is the Party
    assert "issuing general branch" in refused["error"]["message"]
    party_body["data"]["issuer"] = "league_general_branch"
    refused = api.call("tzz", "POST", "/api/v1/instances", 403, json=party_body)
    assert "League branches only" in refused["error"]["message"]
    refused = api.start("tzz", status=403, issuer="party_general_branch")  # not the starter's own branch
    assert "issuing" in refused["error"]["message"]
    api.start("dzz", status=201, issuer="party_general_branch")  # the Party orders a League branch
    api.start("tzz", status=201)  # the default issuer of a League branch is the League general branch
    assert api.call("admin", "GET", "/api/v1/instances?process=rectification", 200)["total"] == 2


def test_read_only_fields_sent_back_do_not_overwrite_the_case(api: Api) -> None:
    """A form's read-only fields show the case's values; a client that sends them back changed must not
    rewrite what the case recorded (the problem list here)."""
    import sqlalchemy as sa

    from service.audit import AuditEvent
    from service.extensions import db
    from service.instances.models import Instance
    from service.instances.operations import restore_case

    case_id = api.start()["id"]
    overview = api.call("sec1", "GET", f"/api/v1/tasks/{api.task('sec1', 'acknowledge')['id']}", 200)["data"]
    assert overview["problem_overview"][0].startswith("[0] ")
    api.complete("sec1", "acknowledge", {"acknowledged": True, "problem_overview": ["[0] 已全部整改，无问题"]})
    db.session.expire_all()
    data = restore_case(db.session.get(Instance, case_id)).data
    assert data["problem_overview"] == overview["problem_overview"]
    assert "已全部整改" not in str(data)
    # what the step applied (as the audit trail records it) holds the answer only, not the read-only copy
    applied = db.session.scalars(sa.select(AuditEvent.details).where(
        AuditEvent.instance_id == case_id, AuditEvent.action == "task_completed")).one()["data"]
    assert applied["acknowledged"] is True and "problem_overview" not in applied
