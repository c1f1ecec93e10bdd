"""团支部换届 at engine level: the real bpmn/branch_reelection.bpmn and forms, every path, time moved by
the tests (the service clock, which the engine's timers read). Each step validates the data against the
task's real form, completes the task, then serializes and restores the case, as a request would."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from processes.branch_reelection import DEFINITION, POLICIES, elected_in_round, quorum_met, resolve_lane
from service import clock
from service.engine import Case, Engine, LoadedSpec, compile_process
from service.pack import ROLES
from tests.processes.process_harness import FormRejected, beijing, checked_submission

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms" / "branch_reelection"
BRANCH = "TZB-JX2301"
SECOND = timedelta(seconds=1)
T0 = beijing(2026, 8, 1)  # the general branch's campaign starts the case
LAST = "2025-09-20"  # the last re-election: a student branch's term is a year
REMINDER = beijing(2026, 8, 21, 0, 0)  # 30 days (policy) before 2026-09-20, Beijing time
OFFICERS = [{"id": "S01", "name": "赵一", "league_post": "书记"}, {"id": "S02", "name": "钱二", "league_post": "组织委员"},
            {"id": "S03", "name": "孙三", "league_post": "宣传委员"}]
CANDIDATES = [{"person": "S02", "name": "钱二", "post": "书记"}, {"person": "S04", "name": "李四", "post": "组织委员"},
              {"person": "S05", "name": "周五", "post": "宣传委员"}, {"person": "S06", "name": "吴六", "post": "宣传委员"}]
_keys = itertools.count()


def unit_facts(kind: str = "league_branch", last_reelection: str | None = LAST, **changes: Any) -> dict[str, Any]:
    """Subject facts as service/instances/subjects.py builds them for an org unit."""
    facts = {"code": BRANCH if kind == "league_branch" else "TZZ", "name": "机械2301团支部", "kind": kind,
             "founded": "2023-09-15", "last_reelection": last_reelection, "parent": "TZZ", "paired_with": "DZB-S1",
             "league_members": 20, "officers": copy.deepcopy(OFFICERS), "records": {}}
    facts.update(changes)
    return facts


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


class Reelection:
    """One case, restored from its JSON state after every step."""

    def __init__(self, engine: Engine, loaded: LoadedSpec, case: Case, facts: dict[str, Any], now: datetime):
        self.engine, self.loaded, self.case, self.facts, self.now = engine, loaded, case, facts, now

    def _step(self, at: datetime | None, action: Callable[[], None]) -> Reelection:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        self.case = self.engine.restore(self.loaded, self.case.state_json())
        return self

    def task(self, name: str) -> Any:
        ready = [t for t in self.case.ready_human_tasks() if t.name == name]
        assert len(ready) == 1, f"{name} not ready once; ready: {self.ready}"
        return ready[0]

    def complete(self, name: str, data: Mapping[str, Any] | None = None, at: datetime | None = None) -> Reelection:
        task = self.task(name)
        assert (task.form_schema, task.form_ui_schema) == (f"{name}.schema.json", f"{name}.uischema.json")
        submitted = checked_submission(form(name), data)
        return self._step(at, lambda: self.case.complete(task.id, submitted))

    def fire_timers(self, at: datetime) -> Reelection:
        return self._step(at, self.case.fire_due_timers)

    # -- the usual steps ---------------------------------------------------------------------------------
    def request(self, seats: int = 3, at: datetime | None = None) -> Reelection:
        return self.complete("request", {"planned_date": "2026-09-18", "seats": seats,
                                         "work_report": "本届支委会组织主题团日 10 次", "plan": "9 月中旬召开团员大会"}, at)

    def approve_request(self, party: str = "approve", general: str = "approve") -> Reelection:
        self.complete("party_approval", {"party_decision": party, "party_comment": "" if party == "approve" else "请补充候选人产生办法"})
        return self.complete("general_approval", {"general_decision": general,
                                                  "general_comment": "" if general == "approve" else "选举日期需提前"})

    def propose(self, candidates: list[dict[str, Any]] | None = None) -> Reelection:
        return self.complete("candidates", {"candidates": copy.deepcopy(candidates or CANDIDATES)})

    def approve_list(self, decision: str = "approve") -> Reelection:
        return self.complete("candidates_review", {"candidates_decision": decision,
                                                   "candidates_comment": "" if decision == "approve" else "请调整候选人"})

    def to_election(self, seats: int = 3) -> Reelection:
        return self.fire_timers(REMINDER + SECOND).request(seats).approve_request().propose().approve_list()

    def record(self, yes: Mapping[str, int], entitled: int = 20, present: int = 16, issued: int | None = None,
               collected: int | None = None, day: str = "2026-09-18", at: datetime | None = None) -> Reelection:
        issued = present if issued is None else issued
        collected = issued if collected is None else collected
        return self.complete("election_record", {
            "election_date": day, "entitled": entitled, "present": present, "ballots_issued": issued,
            "ballots_collected": collected, "votes": [{"person": p, "yes": n} for p, n in yes.items()]}, at)

    def report(self, at: datetime | None = None) -> Reelection:
        return self.complete("report", {"report": "新一届支委会已分工"}, at)

    def review_results(self, decision: str = "approve") -> Reelection:
        return self.complete("results_review", {"results_decision": decision,
                                                "results_comment": "" if decision == "approve" else "请补充选举情况说明"})

    # -- reading -------------------------------------------------------------------------------------
    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data

    def role(self, name: str) -> str:
        task = self.task(name)
        assert DEFINITION.resolve_lane is not None
        return DEFINITION.resolve_lane(task.lane, self.facts["kind"], task.data)

    def milestone(self) -> str | None:
        for view in self.case.ready_human_tasks():
            if view.name in DEFINITION.milestones:
                return DEFINITION.milestones[view.name]
        for element in self.case.waiting_elements():
            if element in DEFINITION.milestones:
                return DEFINITION.milestones[element]
        return None

    def effects(self) -> list[dict[str, Any]]:
        assert self.case.completed and DEFINITION.on_complete is not None
        return DEFINITION.on_complete(self.data.get("outcome"), self.data, self.facts)


@pytest.fixture(scope="module")
def reelection_spec() -> str:
    compiled = compile_process((ROOT / "bpmn" / "branch_reelection.bpmn").read_bytes(), filename="branch_reelection.bpmn",
                               known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


@pytest.fixture
def start(reelection_spec: str) -> Callable[..., Reelection]:
    engine = Engine(time_limit=2.0)
    loaded = engine.load(("branch_reelection", next(_keys)), reelection_spec, DEFINITION.functions)

    def do(facts: dict[str, Any] | None = None, policies: Mapping[str, Any] | None = None,
           at: datetime = T0) -> Reelection:
        facts = facts or unit_facts()
        assert DEFINITION.initial_data is not None
        initial = {**DEFINITION.start_defaults, "year": 2026, "campaign_id": 1}
        initial.update(DEFINITION.initial_data(facts))
        initial.update({"subject": facts["code"], "subject_unit": facts["code"], "process": DEFINITION.key,
                        "policies": {**copy.deepcopy(POLICIES), **(policies or {})}})
        case = engine.start(loaded, initial)
        return Reelection(engine, loaded, case, facts, at)._step(at, case.run)

    return do


# -- the term ------------------------------------------------------------------------------------------------
def test_the_case_waits_until_a_month_before_the_term_ends(start):
    case = start()
    assert case.ready == []
    assert case.data["term_ends"] == "2026-09-20"
    assert case.case.next_timer_due() == REMINDER
    assert case.milestone() == "任期内，等待届满提醒"

    case.fire_timers(REMINDER - SECOND)
    assert case.ready == []
    case.fire_timers(REMINDER + SECOND)
    assert case.ready == ["request"]
    assert case.role("request") == "league_branch_secretary"
    assert case.case.next_timer_due() is None


def test_a_term_already_over_offers_the_request_at_once(start):
    case = start(unit_facts(last_reelection=None))  # founded 2023-09-15, never re-elected
    assert case.data["term_ends"] == "2024-09-15"
    assert case.ready == ["request"]


def test_term_length_and_reminder_are_policies(start):
    case = start(policies={"term_years": {"league_branch": 2, "league_general_branch": 3}, "reminder_days_before": 10})
    assert case.data["term_ends"] == "2027-09-20"
    assert case.case.next_timer_due() == beijing(2027, 9, 10, 0, 0)


def test_the_general_branch_serves_three_years_and_reports_to_the_party_general_branch(start):
    case = start(unit_facts(kind="league_general_branch", last_reelection="2024-05-10"))
    assert case.data["term_ends"] == "2027-05-10"
    case.fire_timers(beijing(2027, 4, 10, 0, 0) + SECOND)
    assert case.role("request") == "league_general_branch_secretary"
    case.request()
    assert case.role("party_approval") == "party_general_branch_secretary"
    assert case.role("general_approval") == "party_general_branch_secretary"
    assert resolve_lane("league_general_branch_secretary", "league_branch", {}) == "league_general_branch_secretary"


def test_a_unit_that_is_not_a_league_unit_cannot_run_a_reelection(start):
    from service.engine import ScriptFailure

    with pytest.raises(ScriptFailure) as failure:
        start(unit_facts(kind="party_branch"))
    assert failure.value.element_id == "plan_term"


# -- the request ---------------------------------------------------------------------------------------------
def test_the_request_goes_to_both_approvers_in_parallel(start):
    case = start().fire_timers(REMINDER + SECOND).request()
    assert case.ready == ["general_approval", "party_approval"]
    assert case.role("party_approval") == "party_branch_secretary"
    assert case.role("general_approval") == "league_general_branch_secretary"
    assert case.milestone() == "换届请示待审批"


def test_a_return_needs_a_comment(start):
    case = start().fire_timers(REMINDER + SECOND).request()
    with pytest.raises(FormRejected) as rejected:
        case.complete("party_approval", {"party_decision": "return"})
    assert rejected.value.fields == {"party_comment"}


@pytest.mark.parametrize("party, general", [("return", "approve"), ("approve", "return"), ("return", "return")],
                         ids=["party-returns", "general-returns", "both-return"])
def test_a_returned_request_comes_back_then_is_approved(start, party, general):
    case = start().fire_timers(REMINDER + SECOND).request().approve_request(party, general)
    assert case.ready == ["request"]
    (comments,) = case.data["return_comments"]
    assert bool(comments["party"]) == (party == "return") and bool(comments["general"]) == (general == "return")
    assert case.task("request").data["return_comments"] == [comments]  # the secretary sees why

    case.request(seats=4).approve_request()
    assert case.ready == ["candidates"]
    assert case.data["request_returns"] == 1 and case.data["seats"] == 4


def test_a_request_returned_twice_by_different_approvers_follows_the_latest_decisions(start):
    case = start().fire_timers(REMINDER + SECOND).request().approve_request("return", "approve")
    case.request().approve_request("approve", "return")
    assert case.ready == ["request"] and case.data["request_returns"] == 2
    assert [bool(c["party"]) for c in case.data["return_comments"]] == [True, False]
    case.request().approve_request()
    assert case.ready == ["candidates"]


# -- the candidates ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [2, 3], ids=["fewer-than-seats", "as-many-as-seats"])
def test_a_list_without_more_candidates_than_seats_is_refused(start, count):
    case = start().fire_timers(REMINDER + SECOND).request(seats=3).approve_request()
    case.propose(CANDIDATES[:count])
    assert case.ready == ["candidates"]  # back to the secretary, nothing goes to the general branch
    assert [e["field"] for e in case.task("candidates").data["candidate_errors"]] == ["candidates"]
    case.propose()
    assert case.ready == ["candidates_review"]
    assert case.data["candidate_errors"] == []
    assert case.data["candidate_list"][0] == "S02 钱二：书记"


def test_a_person_listed_twice_is_refused(start):
    case = start().fire_timers(REMINDER + SECOND).request(seats=2).approve_request()
    case.propose([*CANDIDATES[:2], CANDIDATES[0]])
    assert case.ready == ["candidates"]
    assert "S02" in case.data["candidate_errors"][0]["message"]


def test_the_general_branch_returns_the_list(start):
    case = start().fire_timers(REMINDER + SECOND).request().approve_request().propose()
    case.approve_list("return")
    assert case.ready == ["candidates"]
    assert case.task("candidates").data["candidates_comment"] == "请调整候选人"
    case.propose().approve_list()
    assert case.ready == ["election_record"]
    votes = case.task("election_record").data["votes"]
    assert [v["person"] for v in votes] == ["S02", "S04", "S05", "S06"] and {v["yes"] for v in votes} == {0}


# -- the election --------------------------------------------------------------------------------------------
def test_quorum_is_four_fifths_of_the_entitled():
    assert quorum_met(16, 20, [4, 5]) and not quorum_met(15, 20, [4, 5])
    assert not quorum_met(0, 0, [4, 5])


def test_sixteen_of_twenty_present_is_a_valid_election(start):
    case = start().to_election().record({"S02": 15, "S04": 12, "S05": 10, "S06": 5}, present=16)
    assert case.ready == ["report"]
    assert case.data["election"]["elected"] == ["S02", "S04", "S05"]


def test_fifteen_of_twenty_present_means_the_election_is_held_again(start):
    case = start().to_election().record({"S02": 15, "S04": 12, "S05": 10, "S06": 5}, present=15)
    assert case.ready == ["election_record"]
    election = case.data["election"]
    assert election["result"] == "reschedule" and election["reschedules"] == 1 and election["elected"] == []
    assert election["tallies"][0]["result"] == "quorum_not_met"

    case.record({"S02": 17, "S04": 12, "S05": 10, "S06": 5}, present=18, day="2026-09-25")
    assert case.ready == ["report"]
    assert case.data["election"]["election_date"] == "2026-09-25"


def test_elected_with_more_than_half_of_those_present():
    assert elected_in_round([{"person": "a", "yes": 9}], present=16, seats=1) == ["a"]
    assert elected_in_round([{"person": "a", "yes": 8}], present=16, seats=1) == []
    # more pass than seats: most votes first; a tie for the last seat leaves both for the next round
    votes = [{"person": "a", "yes": 12}, {"person": "b", "yes": 10}, {"person": "c", "yes": 11}]
    assert elected_in_round(votes, present=16, seats=2) == ["a", "c"]
    assert elected_in_round([*votes[:2], {"person": "c", "yes": 10}], present=16, seats=2) == ["a"]


def test_nine_of_sixteen_is_elected_eight_is_not_and_a_second_round_fills_the_seat(start):
    case = start().to_election().record({"S02": 9, "S04": 12, "S05": 8, "S06": 3}, present=16)
    election = case.data["election"]
    assert election["elected"] == ["S04", "S02"]  # 12 and 9 of 16 present; 8 is not more than half
    assert election["result"] == "next_round" and election["round"] == 2
    assert [c["person"] for c in election["round_candidates"]] == ["S05", "S06"]
    assert [v["person"] for v in case.task("election_record").data["votes"]] == ["S05", "S06"]

    case.record({"S05": 11, "S06": 5}, present=16)
    election = case.data["election"]
    assert election["elected"] == ["S04", "S02", "S05"] and election["vacancies"] == 0
    assert [t["round"] for t in election["tallies"]] == [1, 2]
    assert case.ready == ["report"]


def test_seats_still_empty_after_the_last_round_are_left_for_a_by_election(start):
    case = start().to_election().record({"S02": 9, "S04": 12, "S05": 8, "S06": 3}, present=16)
    case.record({"S05": 8, "S06": 5}, present=16)
    assert case.data["election"]["vacancies"] == 1
    assert case.ready == ["report"]


def test_more_ballots_collected_than_issued_is_refused(start):
    case = start().to_election().record({"S02": 15, "S04": 12, "S05": 10, "S06": 5}, present=16, issued=16, collected=17)
    assert case.ready == ["election_record"]
    assert [e["field"] for e in case.data["election"]["errors"]] == ["ballots_collected"]
    assert case.data["election"]["tallies"] == []  # nothing was counted


@pytest.mark.parametrize("changes, field", [
    ({"present": 21}, "present"),
    ({"issued": 17}, "ballots_issued"),
    ({"yes": {"S02": 15, "S04": 12, "S05": 10}}, "votes"),
    ({"yes": {"S02": 17, "S04": 12, "S05": 10, "S06": 5}}, "votes"),
], ids=["present-over-entitled", "issued-over-present", "candidate-missing", "votes-over-ballots"])
def test_other_inconsistent_records_are_refused(start, changes, field):
    case = start().to_election()
    yes = changes.pop("yes", {"S02": 15, "S04": 12, "S05": 10, "S06": 5})
    case.record(yes, **changes)
    assert case.ready == ["election_record"]
    assert field in [e["field"] for e in case.data["election"]["errors"]]


def test_the_record_form_refuses_negative_counts(start):
    case = start().to_election()
    with pytest.raises(FormRejected) as rejected:
        case.record({"S02": -1, "S04": 12, "S05": 10, "S06": 5})
    assert rejected.value.fields == {"votes.0.yes"}


# -- the report ----------------------------------------------------------------------------------------------
def elected(start: Callable[..., Reelection]) -> Reelection:
    return start().to_election().record({"S02": 15, "S04": 12, "S05": 10, "S06": 5}, present=16, day="2026-09-18",
                                        at=beijing(2026, 9, 18, 16))


def test_the_report_is_due_a_week_after_the_election(start):
    case = elected(start)
    due = beijing(2026, 9, 25, 23, 59, 59)
    assert case.task("report").due_at == due
    assert case.data["committee_view"] == ["S02 钱二：书记", "S04 李四：组织委员", "S05 周五：宣传委员"]
    case.fire_timers(due - SECOND)
    assert case.ready == ["report"]
    case.report(at=due - SECOND)
    assert case.ready == ["results_review"]
    assert case.data["report_late"] is False


def test_a_late_report_escalates_to_the_general_branch_secretary(start):
    case = elected(start)
    due = beijing(2026, 9, 25, 23, 59, 59)
    case.fire_timers(due + SECOND)
    assert case.ready == ["report_overdue"]
    assert case.role("report_overdue") == "league_general_branch_secretary"
    assert case.milestone() == "选举结果逾期未报，团总支督办"

    case.complete("report_overdue", {"urge_comment": "请于三日内上报"}, at=beijing(2026, 9, 28, 9))
    new_due = beijing(2026, 10, 1, 23, 59, 59)  # the grace days (policy 3) from the day of the escalation
    assert case.task("report").due_at == new_due
    assert case.data["report_late"] is True and case.data["escalations"] == 1
    case.report(at=beijing(2026, 9, 29)).review_results()
    assert case.case.completed and case.data["outcome"] == "reelected"


def test_returned_results_go_back_to_the_branch_then_the_roster_is_updated(start):
    case = elected(start).report()
    case.review_results("return")
    assert case.ready == ["report"]
    assert case.task("report").data["results_comment"] == "请补充选举情况说明"
    case.report().review_results()

    assert case.case.completed and case.data["outcome"] == "reelected"
    effects = case.effects()
    people = {e["person"]: e["values"]["league_post"] for e in effects if e["kind"] == "set_person"}
    # the outgoing officers not re-elected lose their posts; the new committee gets theirs
    assert people == {"S01": "无", "S03": "无", "S02": "书记", "S04": "组织委员", "S05": "宣传委员"}
    assert [e["person"] for e in effects if e["kind"] == "set_person"][:2] == ["S01", "S03"]  # cleared first
    (unit,) = [e for e in effects if e["kind"] == "set_unit"]
    assert unit["values"] == {"last_reelection": "2026-09-18"}
    (record,) = [e for e in effects if e["kind"] == "record"]
    assert record["record"] == "reelection" and record["year"] == 2026
    assert record["data"]["posts"] == {"S02": "书记", "S04": "组织委员", "S05": "宣传委员"}
    tally = record["data"]["tallies"][0]
    assert tally["votes"] == {"S02": 15, "S04": 12, "S05": 10, "S06": 5} and tally["present"] == 16
    assert "ballots" not in json.dumps(record["data"]).replace("ballots_issued", "").replace("ballots_collected", "")


def test_nothing_changes_in_the_roster_before_the_results_are_approved():
    assert DEFINITION.on_complete is not None
    assert DEFINITION.on_complete(None, {}, unit_facts()) == []
