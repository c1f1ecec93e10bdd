"""党校培训班 (party_training) at engine level: the real bpmn/party_training.bpmn and forms, driven the way
the service drives a case (form checked, task completed, state serialized and restored), time moved
with the service clock."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from processes import party_training as pt
from processes.party_training import DEFINITION, POLICIES
from service import clock
from service.engine import Engine, compile_process
from service.pack import ROLES
from tests.processes.process_harness import FormRejected, beijing, checked_submission

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms" / "party_training"
T0 = beijing(2026, 11, 2)  # the class is opened
DEADLINE = "2026-11-20"
CLOSES = beijing(2026, 11, 20, 23, 59, 59)
CLASS = {
    "class_name": "2026 年秋季入党积极分子培训班", "class_code": "2026-2", "start_date": "2026-11-23",
    "end_date": "2026-12-14", "capacity": 5, "application_deadline": DEADLINE,
    "sessions": [{"date": "2026-11-23", "hours": 4, "topic": "党章学习"}, {"date": "2026-11-30", "hours": 4},
                 {"date": "2026-12-07", "hours": 4}, {"date": "2026-12-14", "hours": 4}],
}
ACTIVISTS = [{"person": "2023010101", "name": "张三", "unit": "TZB-JX2301"},
             {"person": "2023010102", "name": "李四", "unit": "TZB-JX2301"},
             {"person": "2023010201", "name": "王五", "unit": "TZB-JX2302"}]
UNIT = {"code": "DZZ", "name": "机械工程学院党总支", "kind": "party_general_branch", "founded": None,
        "last_reelection": None, "parent": None, "paired_with": None, "league_members": 0, "records": {}}
_keys = itertools.count()


def _form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def spec() -> str:
    compiled = compile_process((ROOT / "bpmn" / "party_training.bpmn").read_bytes(), filename="party_training.bpmn",
                               known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


class Training:
    def __init__(self, engine: Engine, loaded: Any, case: Any):
        self.engine, self.loaded, self.case, self.now = engine, loaded, case, T0

    def _step(self, at: datetime | None, action: Any) -> Training:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        self.case = self.engine.restore(self.loaded, self.case.state_json())
        return self

    def task(self, name: str) -> Any:
        ready = {t.name: t for t in self.case.ready_human_tasks()}
        assert name in ready, f"{name} is not ready; ready: {sorted(ready)}"
        return ready[name]

    def complete(self, name: str, data: Mapping[str, Any] | None = None, *, at: datetime | None = None) -> Training:
        task = self.task(name)
        assert task.lane == "party_general_branch_secretary"
        assert task.form_schema == f"{name}.schema.json" and task.form_ui_schema == f"{name}.uischema.json"
        submitted = checked_submission(_form(name), data)
        return self._step(at, lambda: self.case.complete(task.id, submitted))

    def apply(self, person: str, name: str, *, sent_by: str = "user", at: datetime | None = None) -> Training:
        payload = {"person": person, "name": name, "statement": "申请参加党校学习", "sent_by": sent_by}
        return self._step(at, lambda: self.case.deliver_message("training_application", payload))

    def fire_timers(self, at: datetime) -> Training:
        return self._step(at, self.case.fire_due_timers)

    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    @property
    def data(self) -> dict[str, Any]:
        ready = self.case.ready_human_tasks()
        return dict(ready[0].data) if ready and not self.case.completed else self.case.data

    @property
    def waiting_for_applications(self) -> bool:
        return "training_application" in self.case.waiting_messages()

    # -- the usual steps
    def open(self, **changes: Any) -> Training:
        return self.complete("open_class", {**copy.deepcopy(CLASS), **changes})

    def close_applications(self) -> Training:
        return self.fire_timers(CLOSES + timedelta(seconds=1))

    def attend(self, hours: Mapping[str, float] | None = None) -> Training:
        """One session; everyone attends fully except the given hours."""
        sheet = self.task("record_attendance").data["attendance"]
        rows = [dict(r, hours=(hours or {}).get(r["person"], r["hours"])) for r in sheet]
        return self.complete("record_attendance", {"attendance": rows})

    def exam(self, scores: Mapping[str, tuple[float, float]], default: tuple[float, float] = (80, 80)) -> Training:
        sheet = self.task("record_exam").data["scores"]
        rows = [{"person": r["person"], "name": r["name"], "exam": scores.get(r["person"], default)[0],
                 "reflection": scores.get(r["person"], default)[1]} for r in sheet]
        return self.complete("record_exam", {"scores": rows})


@pytest.fixture
def start(spec: str):
    engine = Engine(time_limit=2.0)
    loaded = engine.load(("party_training", next(_keys)), spec, DEFINITION.functions)

    def do(activists: list[dict[str, Any]] | None = None, policies: Mapping[str, Any] | None = None,
           data: Mapping[str, Any] | None = None, at: datetime = T0) -> Training:
        initial = dict(data or {})
        initial.update(pt.initial_from(UNIT, ACTIVISTS if activists is None else activists))
        initial.update({"subject": "DZZ", "subject_unit": "DZZ", "process": DEFINITION.key,
                        "policies": {**copy.deepcopy(POLICIES), **(policies or {})}})
        with clock.frozen_at(at):
            case = engine.start(loaded, initial)
        return Training(engine, loaded, case)._step(at, case.run)

    return do


def _through_sessions(training: Training, hours: Mapping[str, float] | None = None) -> Training:
    for _ in CLASS["sessions"]:
        training.attend(hours)
    return training


def _certificates_by_person(training: Training) -> dict[str, dict[str, Any]]:
    return {c["person"]: c for c in training.data["certificates"]}


# -- opening and enrolment -----------------------------------------------------------------------------------
def test_opening_a_class_enrols_the_activists_automatically_and_opens_applications(start):
    training = start().open()
    data = training.data
    assert [p["person"] for p in data["participants"]] == [a["person"] for a in ACTIVISTS]
    assert {p["via"] for p in data["participants"]} == {"automatic"}
    assert data["total_hours"] == 16
    assert data["enrolment_closes"] == "2026-11-20T23:59:59+08:00"
    assert training.ready == [] and training.waiting_for_applications
    assert training.case.next_timer_due() == CLOSES


def test_the_class_form_is_checked_across_fields_and_returned(start):
    training = start().open(end_date="2026-11-01", application_deadline="2026-11-25")
    assert training.ready == ["open_class"]
    fields = {p["field"] for p in training.data["class_problems"]}
    assert fields == {"end_date", "sessions", "application_deadline"}
    training.open()
    assert training.data["class_problems"] == [] and training.waiting_for_applications


def test_the_form_refuses_a_class_without_sessions(start):
    training = start()
    with pytest.raises(FormRejected) as refused:
        training.open(sessions=[])
    assert "sessions" in refused.value.fields


def test_activists_beyond_the_capacity_are_listed_as_not_enrolled(start):
    training = start().open(capacity=2)
    assert len(training.data["participants"]) == 2
    assert [n["person"] for n in training.data["not_enrolled"]] == ["2023010201"]


def test_applications_are_approved_or_rejected_after_the_deadline(start):
    training = start().open()
    training.apply("2024010101", "赵六", sent_by="zhaoliu", at=beijing(2026, 11, 5))
    training.apply("2024010102", "钱七", sent_by="qianqi", at=beijing(2026, 11, 6))
    assert training.waiting_for_applications and training.ready == []  # applications do not block each other
    training.apply("2023010101", "张三")  # already enrolled
    assert training.data["applications"][-1]["status"] == "duplicate"
    training.fire_timers(CLOSES - timedelta(minutes=1))
    assert training.waiting_for_applications  # not yet
    training.close_applications()
    assert training.ready == ["review_applications"] and not training.waiting_for_applications
    sheet = training.task("review_applications").data["decisions"]
    assert [r["person"] for r in sheet] == ["2024010101", "2024010102"]
    assert sheet[0]["sent_by"] == "zhaoliu"
    training.complete("review_applications", {"decisions": [
        {"person": "2024010101", "decision": "approve"},
        {"person": "2024010102", "decision": "reject", "reason": "尚未递交入党申请书"}]})
    assert training.ready == ["record_attendance"]
    participants = training.data["participants"]
    assert [p["person"] for p in participants][-1] == "2024010101" and participants[-1]["via"] == "application"
    statuses = {a["person"]: a["status"] for a in training.data["applications"]}
    assert statuses == {"2024010101": "approved", "2024010102": "rejected", "2023010101": "duplicate"}


def test_a_rejection_needs_a_reason(start):
    training = start().open()
    training.apply("2024010101", "赵六").close_applications()
    with pytest.raises(FormRejected):
        training.complete("review_applications", {"decisions": [{"person": "2024010101", "decision": "reject"}]})


def test_approvals_beyond_the_capacity_are_refused_in_order_of_arrival(start):
    training = start().open(capacity=4)  # three activists: one place left
    training.apply("2024010101", "赵六").apply("2024010102", "钱七").close_applications()
    training.complete("review_applications", {"decisions": [
        {"person": "2024010101", "decision": "approve"}, {"person": "2024010102", "decision": "approve"}]})
    assert len(training.data["participants"]) == 4
    statuses = {a["person"]: a["status"] for a in training.data["applications"]}
    assert statuses == {"2024010101": "approved", "2024010102": "over_capacity"}


def test_the_window_closes_early_at_the_application_limit(start):
    training = start(policies={"max_applications": 2}).open()
    training.apply("2024010101", "赵六")
    assert training.waiting_for_applications
    training.apply("2024010102", "钱七")
    assert training.ready == ["review_applications"] and not training.waiting_for_applications


def test_a_class_opened_after_its_deadline_skips_the_application_window(start):
    training = start(at=beijing(2026, 11, 21)).open(application_deadline="2026-11-20")
    assert training.ready == ["record_attendance"]


def test_a_class_nobody_joins_is_cancelled(start):
    training = start(activists=[]).open()
    training.close_applications()
    assert training.case.completed and training.data["outcome"] == "no_participants"
    assert DEFINITION.on_complete("no_participants", training.data, UNIT) == []


# -- attendance, exam, certificates -------------------------------------------------------------------------------
def test_the_whole_class_through_to_certificates(start):
    training = start().open().close_applications()
    assert training.ready == ["record_attendance"]
    assert training.task("record_attendance").data["current_session"]["date"] == "2026-11-23"
    # 王五 misses 5 of 16 hours (> 1/4), 李四 misses exactly 4 (= 1/4, still allowed)
    training.attend({"2023010201": 0, "2023010102": 2}).attend({"2023010201": 3, "2023010102": 2})
    training.attend().attend()
    assert training.ready == ["record_exam"]
    sheet = training.task("record_exam").data["scores"]
    assert {r["person"]: r["attended_hours"] for r in sheet} == {"2023010101": 16, "2023010102": 12, "2023010201": 11}
    training.exam({"2023010101": (90, 85), "2023010102": (50, 60), "2023010201": (95, 95)})
    results = {r["person"]: r for r in training.data["results"]}
    # 张三: 90 x 0.7 + 85 x 0.2 + 100 x 0.1 = 90.0
    assert results["2023010101"]["grade"] == 90.0 and results["2023010101"]["result"] == "certified"
    # 李四: 50 x 0.7 + 60 x 0.2 + 75 x 0.1 = 54.5, below the pass mark
    assert results["2023010102"]["attendance_score"] == 75.0
    assert results["2023010102"]["grade"] == 54.5 and results["2023010102"]["result"] == "failed"
    # 王五: a high grade, but 5/16 of the hours missed
    assert results["2023010201"]["absence_ratio"] > 0.25 and results["2023010201"]["result"] == "absent"
    assert training.data["result_summary"] == {"certified": 1, "failed": 1, "absent": 1}
    assert len(training.task("confirm_results").data["results_lines"]) == 3
    training.complete("confirm_results", {"decision": "confirm"}, at=beijing(2026, 12, 20))
    assert training.case.completed and training.data["outcome"] == "completed"
    certificates = _certificates_by_person(training)
    assert list(certificates) == ["2023010101"]
    cert = certificates["2023010101"]
    assert cert["number"] == "党校2026-2-001" and cert["issued"] == "2026-12-20"
    assert cert["valid_until"] == "2029-12-20" and cert["hours"] == 16
    effects = DEFINITION.on_complete("completed", training.data, UNIT)
    assert effects == [{"kind": "record", "subject_kind": "person", "subject": "2023010101",
                        "record": "training_certificate", "year": 2026, "data": {
                            "number": "党校2026-2-001", "class": CLASS["class_name"], "class_code": "2026-2",
                            "grade": 90.0, "hours": 16.0, "total_hours": 16, "issued": "2026-12-20",
                            "valid_until": "2029-12-20", "name": "张三",
                            "organiser": "机械工程学院党总支"}}]


def test_attendance_is_capped_at_the_session_length(start):
    training = _through_sessions(start(activists=ACTIVISTS[:1]).open().close_applications(), {"2023010101": 9})
    assert training.task("record_exam").data["scores"][0]["attended_hours"] == 16


def test_the_grade_weights_and_pass_mark_are_policies(start):
    policies = {"grade_weights": {"exam": 0.5, "reflection": 0.5, "attendance": 0}, "pass_mark": 80}
    training = _through_sessions(start(activists=ACTIVISTS[:2], policies=policies).open().close_applications())
    training.exam({"2023010101": (70, 90), "2023010102": (80, 78)})
    results = {r["person"]: r for r in training.data["results"]}
    assert results["2023010101"]["grade"] == 80.0 and results["2023010101"]["result"] == "certified"
    assert results["2023010102"]["grade"] == 79.0 and results["2023010102"]["result"] == "failed"


def test_the_absence_limit_is_a_policy(start):
    training = start(activists=ACTIVISTS[:1], policies={"max_absence_ratio": 0.5}).open().close_applications()
    training.attend({"2023010101": 0}).attend({"2023010101": 0}).attend().attend()
    training.exam({})
    assert training.data["results"][0]["result"] == "certified"  # half the hours missed: allowed by this policy


def test_returned_results_keep_the_scores_entered(start):
    training = _through_sessions(start(activists=ACTIVISTS[:1]).open().close_applications())
    training.exam({"2023010101": (40, 60)})
    assert training.data["results"][0]["result"] == "failed"
    training.complete("confirm_results", {"decision": "return", "comment": "考试成绩录入有误"})
    assert training.ready == ["record_exam"]
    assert training.task("record_exam").data["scores"][0]["exam"] == 40  # kept for correction
    training.exam({"2023010101": (85, 60)}).complete("confirm_results", {"decision": "confirm"})
    assert list(_certificates_by_person(training)) == ["2023010101"]


def test_missing_scores_are_refused_by_the_form(start):
    training = _through_sessions(start(activists=ACTIVISTS[:1]).open().close_applications())
    with pytest.raises(FormRejected):
        training.complete("record_exam", {"scores": [{"person": "2023010101", "exam": None, "reflection": 70}]})


def test_the_scores_reminder_fires_after_the_class_without_interrupting(start):
    training = _through_sessions(start(activists=ACTIVISTS[:1]).open().close_applications())
    due = beijing(2026, 12, 28, 23, 59, 59)  # 14 days after the last session (policy results_due_days)
    assert training.task("record_exam").reminders == [due]
    training.fire_timers(due + timedelta(seconds=1))
    assert training.ready == ["record_exam"]
    assert training.task("record_exam").reminders == []


# -- the functions ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("exam", "reflection", "attendance", "expected"), [
    (100, 100, 100, 100.0), (60, 60, 60, 60.0), (0, 0, 100, 10.0), (59, 60, 75, 60.8),
])
def test_grade_default_weights(exam, reflection, attendance, expected):
    assert pt.grade(exam, reflection, attendance, POLICIES["grade_weights"]) == expected


def test_weights_that_do_not_add_up_to_one_are_scaled():
    assert pt.grade(80, 60, 100, {"exam": 7, "reflection": 2, "attendance": 1}) == 78.0
    with pytest.raises(ValueError):
        pt.grade(80, 60, 100, {"exam": 0, "reflection": 0, "attendance": 0})


@pytest.mark.parametrize(("grade_value", "absence", "result"), [
    (60, 0.25, "certified"), (59.9, 0, "failed"), (99, 0.26, "absent"), (30, 0.5, "absent"),
])
def test_result_rules(grade_value, absence, result):
    assert pt.result_of(grade_value, absence, POLICIES) == result


def test_certificate_validity():
    assert pt.valid_certificate({"number": "x", "valid_until": "2027-01-01"}, "2027-01-01")
    assert not pt.valid_certificate({"number": "x", "valid_until": "2027-01-01"}, "2027-01-02")
    assert not pt.valid_certificate({"number": "x", "revoked": True}, "2027-01-01")
    assert not pt.valid_certificate({}, "2027-01-01")


# -- 推优 track B reads the certificate from the person's records ---------------------------------------------------
def _cert(number: str, valid_until: str | None = "2029-12-20", **extra: Any) -> dict[str, Any]:
    return {"kind": "training_certificate", "year": 2026, "at": "2026-12-20T02:00:00+00:00", "instance": 1,
            "data": {"number": number, "valid_until": valid_until, **extra}}


def test_track_b_takes_the_newest_valid_certificate_from_the_records():
    from processes.recommendation import track_b_facts

    facts = {"records": {"training_certificate": [_cert("党校2026-2-001"), _cert("党校2023-1-004", "2026-06-30")]}}
    with clock.frozen_at(beijing(2026, 12, 21)):
        found = track_b_facts(facts)
    assert found["training_certificate"] == "党校2026-2-001"
    assert found["training_certificate_record"]["valid_until"] == "2029-12-20"
    with clock.frozen_at(beijing(2026, 12, 21)):
        assert track_b_facts({"records": {"training_certificate": [_cert("x", revoked=True)]}})[
            "training_certificate"] is None


def test_track_b_without_records_of_a_certificate_has_none_whatever_the_start_data_says():
    from processes.recommendation import DEFINITION as RECOMMENDATION

    assert RECOMMENDATION.initial_data is not None
    initial = {**RECOMMENDATION.start_defaults, "track": "B", "training_certificate": "伪造-001"}
    initial.update(RECOMMENDATION.initial_data({"id": "2023010101", "records": {}}))
    assert initial["training_certificate"] is None


def test_track_b_reads_the_activist_date_from_a_record_over_the_start_data():
    from processes.recommendation import track_b_facts

    facts = {"records": {"activist": [{"kind": "activist", "data": {"since": "2025-03-01"}}]}}
    assert track_b_facts(facts)["activist_since"] == "2025-03-01"
    assert "activist_since" not in track_b_facts({"records": {}})  # the start data stands


def test_a_returned_confirmation_asks_for_a_fresh_decision(start):
    training = _through_sessions(start(activists=ACTIVISTS[:1]).open().close_applications())
    training.exam({}).complete("confirm_results", {"decision": "return", "comment": "重新核对"})
    training.exam({})
    assert training.task("confirm_results").data["decision"] is None  # not the earlier "return"


def test_the_calendar_shows_the_sessions_still_to_come(start):
    training = start(activists=ACTIVISTS[:1])
    assert pt.calendar_items(training.data) == []  # not opened yet
    training.open().close_applications().attend()
    items = pt.calendar_items(training.data)
    assert [i["date"] for i in items] == ["2026-11-30", "2026-12-07", "2026-12-14"]
    assert items[0]["title"] == f"党校培训：{CLASS['class_name']} 第 2 次课（4 学时）"
