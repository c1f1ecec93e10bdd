"""团干部述职评议 at engine level: the real bpmn/cadre_assessment.bpmn, bpmn/cadre_grade.dmn and forms, every
path; and through the API the campaign that launches it and checks the 优秀 quota when the general branch
secretary confirms all grades at once."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from processes.cadre_assessment import DEFINITION, POLICIES, secretary_of, trimmed_mean, weighted_total
from service import clock
from service.engine import Case, Engine, LoadedSpec, compile_process
from service.pack import ROLES
from tests.processes.process_harness import FormRejected, beijing, checked_submission

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms" / "cadre_assessment"
BRANCH = "TZB-JX2301"
T0 = beijing(2026, 12, 1)
_keys = itertools.count()


def branch_facts(**changes: Any) -> dict[str, Any]:
    facts = {"code": BRANCH, "name": "机械2301团支部", "kind": "league_branch", "founded": "2023-09-15",
             "last_reelection": "2025-09-20", "parent": "TZZ", "paired_with": "DZB-S1", "league_members": 30,
             "officers": [{"id": "S02", "name": "钱二", "league_post": "组织委员"},
                          {"id": "S01", "name": "赵一", "league_post": "书记"}], "records": {}}
    facts.update(changes)
    return facts


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


class CadreCase:
    def __init__(self, engine: Engine, loaded: LoadedSpec, case: Case, facts: dict[str, Any]):
        self.engine, self.loaded, self.case, self.facts = engine, loaded, case, facts
        self.now = T0

    def _step(self, at: datetime | None, action: Callable[[], None]) -> CadreCase:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        self.case = self.engine.restore(self.loaded, self.case.state_json())
        return self

    def task(self, name: str) -> Any:
        ready = [t for t in self.case.ready_human_tasks() if t.name == name]
        assert len(ready) == 1, f"{name} not ready once; ready: {self.ready}"
        return ready[0]

    def complete(self, name: str, data: Mapping[str, Any] | None = None) -> CadreCase:
        task = self.task(name)
        assert (task.form_schema, task.form_ui_schema) == (f"{name}.schema.json", f"{name}.uischema.json")
        submitted = checked_submission(form(name), data)
        return self._step(None, lambda: self.case.complete(task.id, submitted))

    def report(self) -> CadreCase:
        return self.complete("report", {"report_text": "本年度组织主题团日 10 次，推优 3 人。不足：团员教育形式单一。"})

    def score(self, members: list[float], general: float, party: float) -> CadreCase:
        self.complete("member_scores", {"member_scores": members})
        self.complete("general_score", {"general_score": general, "general_comment": "工作扎实"})
        return self.complete("party_score", {"party_score": party})

    def confirm(self, decision: str = "confirm", comment: str = "") -> CadreCase:
        return self.complete("confirm", {"decision": decision, "comment": comment})

    def accept(self, acceptance: str = "accept", comment: str = "") -> CadreCase:
        return self.complete("party_acceptance", {"acceptance": acceptance, "acceptance_comment": comment})

    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data


@pytest.fixture(scope="module")
def cadre_spec() -> str:
    compiled = compile_process((ROOT / "bpmn" / "cadre_assessment.bpmn").read_bytes(), filename="cadre_assessment.bpmn",
                               dmn={"cadre_grade.dmn": (ROOT / "bpmn" / "cadre_grade.dmn").read_bytes()},
                               known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


@pytest.fixture
def start(cadre_spec: str) -> Callable[..., CadreCase]:
    engine = Engine(time_limit=2.0)
    loaded = engine.load(("cadre_assessment", next(_keys)), cadre_spec, DEFINITION.functions)

    def do(policies: Mapping[str, Any] | None = None, facts: dict[str, Any] | None = None) -> CadreCase:
        facts = facts or branch_facts()
        assert DEFINITION.initial_data is not None
        initial = {**DEFINITION.start_defaults, "year": 2026, "deadline": "2026-12-20", "campaign_id": 1}
        initial.update(DEFINITION.initial_data(facts))
        initial.update({"subject": facts["code"], "subject_unit": facts["code"], "process": DEFINITION.key,
                        "policies": {**copy.deepcopy(POLICIES), **(policies or {})}})
        case = engine.start(loaded, initial)
        return CadreCase(engine, loaded, case, facts)._step(T0, case.run)

    return do


# -- the rules -----------------------------------------------------------------------------------------------
def test_the_highest_and_the_lowest_member_score_are_dropped():
    assert trimmed_mean([100, 60, 80, 90]) == 85.0  # 100 and 60 dropped
    assert trimmed_mean([70, 70, 100]) == 70.0
    with pytest.raises(ValueError):
        trimmed_mean([90, 95])


def test_the_weights_are_a_policy():
    assert weighted_total(80, 90, 100, {"members": 40, "general_branch": 40, "party_branch": 20}) == 88.0
    assert weighted_total(80, 90, 100, {"members": 1, "general_branch": 1, "party_branch": 2}) == 92.5
    with pytest.raises(ValueError):
        weighted_total(80, 90, 100, {})


def test_the_secretary_is_found_among_the_officers():
    assert secretary_of(branch_facts()["officers"]) == {"id": "S01", "name": "赵一"}
    assert secretary_of([]) == {}


# -- the process ---------------------------------------------------------------------------------------------
def test_the_secretary_reports_then_three_parties_score_in_parallel(start):
    case = start()
    assert case.ready == ["report"]
    assert case.task("report").lane == "league_branch_secretary"
    assert case.task("report").data["secretary_name"] == "赵一"
    assert case.data["deadline_at"] == "2026-12-20T23:59:59+08:00"
    case.report()
    assert case.ready == ["general_score", "member_scores", "party_score"]
    lanes = {t.name: t.lane for t in case.case.ready_human_tasks()}
    assert lanes == {"member_scores": "league_branch_committee", "general_score": "league_general_branch_committee",
                     "party_score": "party_branch_secretary"}
    assert DEFINITION.milestones["member_scores"] == "民主评议打分中"


def test_fewer_than_three_member_scores_are_refused(start):
    case = start().report()
    with pytest.raises(FormRejected) as rejected:
        case.complete("member_scores", {"member_scores": [90, 95]})
    assert rejected.value.fields == {"member_scores"}
    with pytest.raises(FormRejected) as rejected:
        case.complete("member_scores", {"member_scores": [90, 95, 101]})
    assert rejected.value.fields == {"member_scores.2"}


def test_the_total_weights_the_trimmed_members_score(start):
    case = start().report().score([100, 60, 80, 90], general=90, party=100)
    assert case.data["members_score"] == 85.0
    assert case.data["total"] == 90.0  # 85 x 40 % + 90 x 40 % + 100 x 20 %
    assert (case.data["grade"], case.data["grade_title"]) == ("excellent", "优秀")
    assert case.ready == ["confirm"]
    assert case.task("confirm").lane == "league_general_branch_secretary"


def test_other_weights_change_the_total(start):
    case = start(policies={"weights": {"members": 50, "general_branch": 50, "party_branch": 0}})
    case.report().score([100, 60, 80, 90], general=90, party=0)
    assert case.data["total"] == 87.5 and case.data["grade"] == "qualified"


@pytest.mark.parametrize("score, grade", [(90, "excellent"), (89.99, "qualified"), (60, "qualified"),
                                          (59.99, "unqualified")], ids=["90", "89.99", "60", "59.99"])
def test_grade_edges(start, score, grade):
    case = start().report().score([score, score, score], general=score, party=score)
    assert case.data["total"] == score
    assert case.data["grade"] == grade


def test_confirmed_and_accepted_the_grade_is_recorded_on_the_secretary(start):
    case = start().report().score([95, 92, 91, 60], general=93, party=96).confirm().accept()
    assert case.case.completed and case.data["outcome"] == "excellent"
    assert DEFINITION.on_complete is not None
    (effect,) = DEFINITION.on_complete("excellent", case.data, case.facts)
    assert effect["kind"] == "record" and effect["record"] == "cadre_grade"
    assert (effect["subject_kind"], effect["subject"], effect["year"]) == ("person", "S01", 2026)
    assert effect["data"]["grade"] == "excellent" and effect["data"]["total"] == case.data["total"]


def test_without_a_known_secretary_the_grade_is_recorded_on_the_branch():
    assert DEFINITION.on_complete is not None
    (effect,) = DEFINITION.on_complete("qualified", {"year": 2026, "total": 70, "secretary": None}, branch_facts())
    assert "subject" not in effect and effect["data"]["grade_title"] == "合格"
    assert DEFINITION.on_complete(None, {}, branch_facts()) == []


def test_the_general_branch_returns_the_scores(start):
    case = start().report().score([70, 70, 70], general=70, party=70)
    with pytest.raises(FormRejected):
        case.confirm("return")  # a return needs a comment
    case.confirm("return", "团员评分样本过少，请重新组织评议")
    assert case.ready == ["general_score", "member_scores", "party_score"]
    assert case.data["grade"] is None and case.data["scoring_round"] == 2
    assert case.data["previous_scores"][0]["total"] == 70.0
    case.score([80, 80, 80, 80], general=80, party=80)
    assert case.data["total"] == 80.0 and case.ready == ["confirm"]


def test_the_party_general_branch_returns_the_result(start):
    case = start().report().score([70, 70, 70], general=70, party=70).confirm()
    assert case.ready == ["party_acceptance"]
    assert case.task("party_acceptance").lane == "party_general_branch_secretary"
    case.accept("return", "请核实党支部评分")
    assert case.ready == ["confirm"]
    assert case.task("confirm").data["party_return_reason"] == "请核实党支部评分"
    case.confirm().accept()
    assert case.data["outcome"] == "qualified"


# -- the campaign (API) --------------------------------------------------------------------------------------
@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def cadre_college(college, make_person, make_user, deploy):
    make_user("tzz", roles=[("league_general_branch_secretary", "TZZ")])
    make_user("tzz_wy", roles=[("league_general_branch_committee", "TZZ")])
    make_user("dzz", roles=[("party_general_branch_secretary", "DZZ")])
    for code in ("DZB-S1", "DZB-S2"):
        make_user(f"{code}_shuji", roles=[("party_branch_secretary", code)])
    for code in ("TZB-JX2301", "TZB-JX2302", "TZB-JX2401"):
        make_person(f"{code}-01", "书记" + code[-4:], code, league_post="书记")
        make_user(f"{code}_shuji", roles=[("league_branch_secretary", code)], person=f"{code}-01")
        make_user(f"{code}_zuzhi", roles=[("league_branch_committee", code)])
    deploy(ROOT / "bpmn" / "cadre_assessment.bpmn")
    return college


def _act(client, login, username: str, name: str, data: dict[str, Any], subject: str) -> None:
    headers = login(username)
    tasks = client.get("/api/v1/tasks", query_string={"process": "cadre_assessment", "subject": subject},
                       headers=headers).get_json()["items"]
    (task,) = [t for t in tasks if t["name"] == name]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers)
    assert response.status_code == 200, response.get_json()


def _grade_all(client, login, totals: dict[str, float]) -> None:
    for code, total in totals.items():
        _act(client, login, f"{code}_shuji", "report", {"report_text": "年度述职"}, code)
        _act(client, login, f"{code}_zuzhi", "member_scores", {"member_scores": [total] * 3}, code)
        _act(client, login, "tzz_wy", "general_score", {"general_score": total}, code)
        party = "DZB-S2_shuji" if code == "TZB-JX2401" else "DZB-S1_shuji"
        _act(client, login, party, "party_score", {"party_score": total}, code)


def test_the_campaign_launches_one_case_per_branch_and_checks_the_excellent_quota(client, login, cadre_college):
    headers = login("tzz")
    with clock.frozen_at(T0):
        response = client.post("/api/v1/campaigns", json={"process": "cadre_assessment", "year": 2026,
                                                          "deadline": "2026-12-20"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert campaign["instances"] == 3 and campaign["quotas"] == {"excellent": 0.3}

    _grade_all(client, login, {"TZB-JX2301": 95, "TZB-JX2302": 75, "TZB-JX2401": 70})
    refused = client.post(f"/api/v1/campaigns/{campaign['id']}/confirm", headers=headers)
    assert refused.status_code == 409  # 1 优秀 of 3 graded: 30 % of 3 allows none
    error = refused.get_json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"][0]["grade"] == "excellent" and error["details"][0]["allowed"] == 0

    # the general branch returns the case; the new scores are no longer 优秀, and the campaign confirms
    _act(client, login, "tzz", "confirm", {"decision": "return", "comment": "优秀名额超出"}, "TZB-JX2301")
    _grade_scores_again(client, login, "TZB-JX2301", 88)
    confirmed = client.post(f"/api/v1/campaigns/{campaign['id']}/confirm", headers=headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["confirmed"] == 3

    _act(client, login, "dzz", "party_acceptance", {"acceptance": "accept"}, "TZB-JX2301")
    person = client.get("/api/v1/instances", query_string={"process": "cadre_assessment", "subject": "TZB-JX2301"},
                        headers=login("dzz")).get_json()["items"][0]
    assert person["status"] == "completed" and person["outcome"] == "qualified"
    from service.records.operations import facts_records

    (record,) = facts_records("person", "TZB-JX2301-01")["cadre_grade"]
    assert record["year"] == 2026 and record["data"]["grade"] == "qualified" and record["data"]["total"] == 88.0


def _grade_scores_again(client, login, code: str, total: float) -> None:
    _act(client, login, f"{code}_zuzhi", "member_scores", {"member_scores": [total] * 3}, code)
    _act(client, login, "tzz_wy", "general_score", {"general_score": total}, code)
    _act(client, login, "DZB-S1_shuji", "party_score", {"party_score": total}, code)


def test_four_branches_allow_one_excellent():
    from service.campaigns.operations import quota_violations

    assert quota_violations(["excellent", "qualified", "qualified", "qualified"], POLICIES["quotas"]) == []
    assert quota_violations(["excellent", "excellent", "qualified", "qualified"], POLICIES["quotas"])
    assert date(2026, 12, 20) > T0.date()
