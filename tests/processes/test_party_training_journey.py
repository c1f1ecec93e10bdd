"""党校培训班 through the HTTP API, role by role: the Party general branch opens a class (activists enrolled
automatically), a member applies and is approved, attendance and scores are recorded, certificates land
on the people, and a 推优 track-B case reads them: the certified activist passes eligibility, the one
without a certificate does not (whatever the start request claims)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service import clock
from tests.processes.process_harness import beijing

ROOT = Path(__file__).resolve().parents[2]
CERTIFIED = "2023010101"  # activist, passes
FAILED = "2023010102"  # activist, misses too many hours
APPLICANT = "2023010103"  # applies and is approved
HOLDER = "2023010104"  # activist who already holds a valid certificate: not enrolled again
CLASS = {
    "class_name": "2026 年秋季入党积极分子培训班", "class_code": "2026-2", "start_date": "2026-11-23",
    "end_date": "2026-11-30", "capacity": 10, "application_deadline": "2026-11-20",
    "sessions": [{"date": "2026-11-23", "hours": 4, "topic": "党章学习"}, {"date": "2026-11-30", "hours": 4}],
}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def cast(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any], app: Any) -> None:
    from service.extensions import db
    from service.records.operations import add_record

    for person, name in ((CERTIFIED, "张三"), (FAILED, "李四"), (HOLDER, "孙八")):
        make_person(person, name, "TZB-JX2301", party_status="activist")
    make_person(APPLICANT, "赵六", "TZB-JX2302")
    add_record(subject_kind="person", subject=HOLDER, kind="training_certificate", year=2025,
               data={"number": "党校2025-1-003", "class": "2025 年培训班", "grade": 82, "hours": 24,
                     "issued": "2025-06-30", "valid_until": "2028-06-30"})
    db.session.commit()
    make_user("dzz", [("party_general_branch_secretary", "DZZ")])
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    make_user("dzb1", [("party_branch_secretary", "DZB-S1")])
    make_user("zhangsan", [("member", None)], person=CERTIFIED)
    make_user("lisi", [("member", None)], person=FAILED)
    make_user("zhaoliu", [("member", None)], person=APPLICANT)


class Api:
    def __init__(self, client: Any, login: Callable[[str], dict[str, str]]):
        self.client, self.login = client, login
        self.now = beijing(2026, 11, 2)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        self.now = moment
        yield

    def call(self, user: str, method: str, path: str, status: int, **kwargs: Any) -> Any:
        with clock.frozen_at(self.now):
            response = self.client.open(path, method=method, headers=self.login(user), **kwargs)
        assert response.status_code == status, (user, method, path, response.status_code, response.get_json())
        return response.get_json()

    def inbox(self, user: str) -> list[dict[str, Any]]:
        return self.call(user, "GET", "/api/v1/tasks", 200)["items"]

    def task(self, user: str, name: str) -> dict[str, Any]:
        found = [t for t in self.inbox(user) if t["name"] == name]
        assert len(found) == 1, (user, name, [t["name"] for t in self.inbox(user)])
        return found[0]

    def prefilled(self, user: str, name: str) -> dict[str, Any]:
        return self.call(user, "GET", f"/api/v1/tasks/{self.task(user, name)['id']}", 200)["data"]

    def complete(self, user: str, name: str, data: dict[str, Any], status: int = 200) -> Any:
        task = self.task(user, name)
        return self.call(user, "POST", f"/api/v1/tasks/{task['id']}/complete", status, json={"data": data})


@pytest.fixture
def api(cast: None, client: Any, login: Callable[[str], dict[str, str]], deploy: Callable[..., Any]) -> Api:
    deploy(ROOT / "bpmn" / "party_training.bpmn")
    deploy(ROOT / "bpmn" / "recommendation.bpmn")
    return Api(client, login)


def _fire_timers(at: datetime) -> int:
    from service.timers.operations import run_due

    return run_due(now=at).fired


def _run_class(api: Api) -> int:
    # only the Party general branch opens a class
    api.call("zhaoliu", "POST", "/api/v1/instances", 403,
             json={"process": "party_training", "subject": "DZZ", "data": {}})
    api.call("tzz", "POST", "/api/v1/instances", 403, json={"process": "party_training", "subject": "DZZ", "data": {}})
    case = api.call("dzz", "POST", "/api/v1/instances", 201,
                    json={"process": "party_training", "subject": "DZZ", "data": CLASS})
    case_id = case["id"]
    assert case["milestone"] == "开班设置"
    assert api.prefilled("dzz", "open_class")["class_name"] == CLASS["class_name"]  # the start data prefills it
    assert api.inbox("tzz") == [] and api.inbox("dzb1") == []
    opened = api.complete("dzz", "open_class", CLASS)
    assert opened["milestone"] == "报名中" and opened["ready_tasks"] == []

    # a member applies (their account goes with the application); the case itself stays the branch's
    with api.at(beijing(2026, 11, 10)):
        api.call("zhaoliu", "POST", f"/api/v1/instances/{case_id}/messages", 200,
                 json={"name": "training_application", "data": {"person": APPLICANT, "name": "赵六",
                                                                 "statement": "希望参加党校学习"}})
    api.call("zhaoliu", "GET", f"/api/v1/instances/{case_id}", 404)
    assert _fire_timers(beijing(2026, 11, 20, 23, 0)) == 0
    assert _fire_timers(beijing(2026, 11, 21, 0, 1)) == 1

    with api.at(beijing(2026, 11, 21)):
        sheet = api.prefilled("dzz", "review_applications")["decisions"]
        assert [(r["person"], r["sent_by"]) for r in sheet] == [(APPLICANT, "zhaoliu")]
        api.complete("dzz", "review_applications", {"decisions": [{"person": APPLICANT, "decision": "approve"}]})

    # attendance per session: 李四 misses the first session (4 of 8 hours > 1/4)
    for absent in ({FAILED: 0}, {}):
        rows = api.prefilled("dzz", "record_attendance")["attendance"]
        assert sorted(r["person"] for r in rows) == [CERTIFIED, FAILED, APPLICANT]  # 孙八 holds a certificate
        api.complete("dzz", "record_attendance", {"attendance": [dict(r, hours=absent.get(r["person"], r["hours"]))
                                                                 for r in rows]})
    rows = api.prefilled("dzz", "record_exam")["scores"]
    api.complete("dzz", "record_exam", {"scores": [], "extra": 1}, status=422)
    api.complete("dzz", "record_exam", {"scores": [{"person": r["person"], "exam": 85, "reflection": 80}
                                                   for r in rows]})
    with api.at(beijing(2026, 12, 2)):
        done = api.complete("dzz", "confirm_results", {"decision": "confirm"})
    assert done["status"] == "completed" and done["outcome"] == "completed"
    return case_id


def test_a_class_from_opening_to_certificates_and_track_b(api: Api, db_session: Any) -> None:
    _run_class(api)
    from service.records.operations import records_of

    db_session.expire_all()
    numbers = {p: [r.data["number"] for r in records_of("person", p, "training_certificate")]
               for p in (CERTIFIED, FAILED, APPLICANT)}
    assert numbers == {CERTIFIED: ["党校2026-2-001"], FAILED: [], APPLICANT: ["党校2026-2-002"]}
    cert = records_of("person", CERTIFIED, "training_certificate")[0]
    assert cert.data["grade"] == 85.5  # 85 x 0.7 + 80 x 0.2 + 100 x 0.1 and cert.data["issued"] == "2026-12-02" and cert.year == 2026

    # 推优 track B: the certificate comes from the records, not from the start request
    with api.at(beijing(2026, 12, 3)):
        passing = api.call("zhangsan", "POST", "/api/v1/instances", 201, json={
            "process": "recommendation", "subject": CERTIFIED, "data": {"track": "B", "activist_since": "2025-06-01"}})
        claimed = api.call("lisi", "POST", "/api/v1/instances", 201, json={
            "process": "recommendation", "subject": FAILED,
            "data": {"track": "B", "activist_since": "2025-06-01", "training_certificate": "党校2026-2-999"}})
        application = {"statement": "我志愿加入中国共产党。", "league_discipline": False, "evaluation": "qualified",
                       "failed_course": False, "dues_in_arrears": False}
        passed = api.complete("zhangsan", "apply", application)
        refused = api.complete("lisi", "apply", application)
    assert passed["status"] == "running" and passed["id"] == passing["id"]
    assert [t["name"] for t in passed["ready_tasks"]] == ["committee_review"]
    assert refused["id"] == claimed["id"]
    assert refused["status"] == "completed" and refused["outcome"] == "ineligible"
    from service.instances.models import Instance
    from service.instances.operations import restore_case

    data = restore_case(db_session.get(Instance, refused["id"])).data
    assert "no_training_certificate" in data["eligibility_codes"]
    assert data["training_certificate"] is None
    assert restore_case(db_session.get(Instance, passing["id"])).data["training_certificate"] == "党校2026-2-001"


def test_an_expired_certificate_does_not_count_for_track_b(api: Api, db_session: Any) -> None:
    from service.extensions import db
    from service.records.operations import add_record

    add_record(subject_kind="person", subject=CERTIFIED, kind="training_certificate", year=2022,
               data={"number": "党校2022-1-001", "issued": "2022-06-30", "valid_until": "2025-06-30"})
    db.session.commit()
    with api.at(beijing(2026, 12, 3)):
        api.call("zhangsan", "POST", "/api/v1/instances", 201, json={
            "process": "recommendation", "subject": CERTIFIED, "data": {"track": "B", "activist_since": "2025-06-01"}})
        done = api.complete("zhangsan", "apply", {"statement": "我志愿加入中国共产党。", "league_discipline": False,
                                                  "evaluation": "qualified", "failed_course": False,
                                                  "dues_in_arrears": False})
    assert done["outcome"] == "ineligible"


def test_the_roster_decides_who_is_enrolled_automatically(api: Api, db_session: Any) -> None:
    from processes.party_training import roster_activists

    with clock.frozen_at(beijing(2026, 11, 2)):
        found = roster_activists("DZZ")
    assert [a["person"] for a in found] == [CERTIFIED, FAILED]  # 孙八 holds a valid certificate
    assert found[0] == {"person": CERTIFIED, "name": "张三", "unit": "TZB-JX2301"}
    with clock.frozen_at(beijing(2028, 7, 1)):  # 孙八's certificate has expired by then
        assert [a["person"] for a in roster_activists("DZZ")] == [CERTIFIED, FAILED, HOLDER]
