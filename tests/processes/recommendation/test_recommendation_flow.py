"""推优入党 end to end at the engine level: every outcome of the data contract and the boundaries
domain.md names (quorum, pass, ballots, working days, objections, expiry), from the real bpmn/ files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from recommendation_support import CANDIDATE, beijing, candidate_facts

from processes.recommendation import DEFINITION
from service.engine import MessageNotAccepted
from tests.processes.process_harness import FormRejected


def _finished(rec, outcome):
    assert rec.completed, f"still waiting at {rec.ready}"
    assert rec.outcome == outcome
    assert rec.ready == []


# -- accepted: the whole journey ------------------------------------------------------------------
def test_accepted_journey_records_every_step_and_makes_the_candidate_an_activist(start):
    rec = start()
    assert rec.ready == ["apply"] and rec.lane_of("apply") == "member"
    rec.apply()
    assert rec.ready == ["committee_review"] and rec.lane_of("committee_review") == "league_branch_committee"
    assert rec.data["ineligible_reasons"] == [] and rec.data["eligibility_flags"] == []
    rec.review(counsellor_opinion="该生表现良好")
    assert rec.lane_of("meeting_approval") == "league_general_branch_secretary"
    rec.approve_meeting("2026-09-10")
    assert rec.data["party_branch_informed"] is True
    assert rec.data["party_branch_notice"]["party_branch"] == "DZB-S1"
    assert rec.data["party_branch_notice"]["meeting_date"] == "2026-09-10"
    assert rec.lane_of("meeting_record") == "league_branch_secretary"
    rec.record(entitled=30, present=26, yes=22, no=3, abstain=1)
    assert rec.data["quorum_reached"] and rec.data["vote_passed"]
    rec.opinion(at=beijing(2026, 11, 2))
    assert rec.ready == [] and rec.data["publicity_ends"] == "2026-11-09T23:59:59+08:00"
    rec.fire_timers(beijing(2026, 11, 10, 0, 0))
    rec.general_review(comment="同意推荐", at=beijing(2026, 11, 10))
    form = rec.data["recommendation_form"]
    assert form["name"] == "张三" and form["birth_month"] == "2005-03" and form["class"] == "机械2301团支部"
    assert form["recommended_on"] == "2026-09-10"
    assert form["branch_opinion"].startswith("应到 30 人，实到 26 人，赞成 22 票，通过率 22/30")
    assert form["general_branch_opinion"] == "同意推荐" and form["general_branch_date"] == "2026-11-10"
    handover = rec.data["handover"]
    assert handover["to"] == "DZB-S1" and handover["documents"] == ["推荐表", "推优名单", "推优大会记录"]
    assert handover["meeting_record"]["yes"] == 22 and handover["list"][0]["person"] == CANDIDATE
    assert rec.lane_of("party_branch_decision") == "party_branch_secretary"
    rec.complete("party_branch_decision", {"decision": "accept", "contacts": ["2020010001", "2020010002"]})
    _finished(rec, "accepted")
    assert rec.data["party_branch_decision"]["contacts"] == ["2020010001", "2020010002"]
    assert rec.data["training"]["enrol"] == "next_party_knowledge_training"
    assert DEFINITION.on_complete(rec.outcome, rec.data, candidate_facts()) == [
        {"kind": "set_person", "person": CANDIDATE, "values": {"party_status": "activist"}}]


def test_the_secretary_can_file_on_behalf_of_the_member(start):
    rec = start(data={"on_behalf": True})
    assert rec.lane_of("apply") == "league_branch_secretary"


def test_a_secretary_candidates_meeting_is_recorded_by_another_committee_member(start):
    rec = start(facts=candidate_facts(league_post="书记"))
    rec.apply().review().approve_meeting()
    assert rec.lane_of("meeting_record") == "league_branch_committee"


# -- eligibility ---------------------------------------------------------------------------------------
def test_ineligible_ends_with_every_reason_listed(start):
    rec = start(facts=candidate_facts(birth_date="1996-01-01", league_joined="2026-03-01"))
    rec.apply(league_discipline=True, evaluation="unqualified", failed_course=True, dues_in_arrears=True)
    _finished(rec, "ineligible")
    codes = set(rec.data["eligibility_codes"])
    assert codes == {"over_league_age", "league_standing", "league_discipline", "evaluation_unqualified",
                     "failed_course", "dues_in_arrears"}
    reasons = rec.data["ineligible_reasons"]
    assert len(reasons) == 6
    assert any("28" in r for r in reasons) and any("团费" in r for r in reasons)


@pytest.mark.parametrize(("facts", "code"), [
    ({"league_member": False}, "not_league_member"),
    ({"birth_date": "2009-01-01"}, "under_age"),  # 17 on 2026-09-01
    ({"birth_date": None}, "birth_date_missing"),
    ({"league_joined": "2025-09-02"}, "league_standing"),  # one day short of a year
    ({"league_joined": None}, "league_joined_missing"),
    ({"party_status": "masses", "party_applied": None}, "no_party_application"),
    ({"party_status": "activist"}, "already_activist"),
    ({"party_applied": None}, "application_date_missing"),
])
def test_each_eligibility_rule(start, facts, code):
    rec = start(facts=candidate_facts(**facts)).apply()
    _finished(rec, "ineligible")
    assert code in rec.data["eligibility_codes"]


def test_eligibility_boundaries_pass(start):
    # 18 today, League member for exactly one year, 28 years old: all within the rules
    for facts in ({"birth_date": "2008-09-01"}, {"league_joined": "2025-09-01"}, {"birth_date": "1998-01-01"}):
        rec = start(facts=candidate_facts(**facts)).apply()
        assert rec.ready == ["committee_review"], (facts, rec.data["ineligible_reasons"])


def test_policy_changes_the_failed_course_rule(start):
    rec = start(policies={"require_no_failed_course": False}).apply(failed_course=True)
    assert rec.ready == ["committee_review"]


def test_a_recent_party_application_needs_a_written_explanation_and_is_flagged_not_refused(start):
    rec = start(facts=candidate_facts(party_applied="2026-05-01"))  # 4 months before the application
    rec.apply()
    assert rec.ready == ["apply"]
    assert rec.data["apply_errors"][0]["field"] == "application_explanation"
    rec.apply(application_explanation="因入学前已在高中递交入党申请书，到校后重新递交，特此说明。")
    assert rec.ready == ["committee_review"]
    assert rec.data["eligibility_flags"] == ["recent_application"]
    assert "须附书面说明" in rec.data["eligibility_notes"][0]
    assert rec.data["apply_errors"] == []


def test_without_the_explanation_the_third_attempt_ends_the_case(start):
    rec = start(facts=candidate_facts(party_applied="2026-05-01"))
    rec.apply().apply()
    assert rec.ready == ["apply"]
    rec.apply()
    _finished(rec, "ineligible")
    assert "书面说明" in rec.data["ineligible_reasons"][-1]


# -- the branch committee and the quota ---------------------------------------------------------------
def test_rejected_by_the_branch_committee(start):
    rec = start().apply()
    with pytest.raises(FormRejected) as refused:
        rec.review("reject")  # a rejection needs its reason
    assert refused.value.fields == {"reason"}
    rec.review("reject", reason="群众基础较弱")
    _finished(rec, "rejected")
    assert rec.data["rejection"] == {"by": "committee_review", "reason": "群众基础较弱"}


def test_the_quota_of_the_round_is_enforced(start):
    rec = start(data={"round_recommended": 5}).apply().review()  # the 6th of 30 members: allowed
    assert rec.ready == ["meeting_approval"]
    rec = start(data={"round_recommended": 6}).apply()
    assert rec.data["quota"] == 6 and rec.data["quota_exceeded"]
    rec.review()
    _finished(rec, "rejected")
    assert rec.data["rejection"]["by"] == "quota"


def test_the_quota_follows_the_policy(start):
    rec = start(data={"round_recommended": 6}, policies={"quota_percent": 30}).apply().review()
    assert rec.ready == ["meeting_approval"]


def test_rejected_when_the_general_branch_refuses_the_meeting(start):
    rec = start().apply().review()
    rec.complete("meeting_approval", {"decision": "reject", "comment": "材料不全"})
    _finished(rec, "rejected")


def test_approving_a_meeting_needs_its_date_and_place(start):
    rec = start().apply().review()
    with pytest.raises(FormRejected) as refused:
        rec.complete("meeting_approval", {"decision": "approve"})
    assert {"meeting_date", "meeting_place"} <= refused.value.fields


# -- the meeting: integrity, quorum, vote ------------------------------------------------------------------
def test_quorum_of_exactly_half_reschedules_the_meeting_and_just_above_half_is_enough(start):
    rec = start().apply().review().approve_meeting()
    rec.record(entitled=20, present=10, yes=10, no=0, abstain=0)
    assert rec.ready == ["meeting_approval"]
    assert rec.data["reschedules"] == 1 and rec.data["meeting_result"] == "reschedule"
    rec.approve_meeting("2026-09-17")
    assert rec.data["party_branch_notice"]["meeting_date"] == "2026-09-17"
    rec.record(entitled=20, present=11, yes=11, no=0, abstain=0, meeting_date="2026-09-17")
    assert rec.ready == ["committee_opinion"]
    assert [m["result"] for m in rec.data["meetings"]] == ["reschedule", "passed"]


def test_quorum_not_met_after_two_reschedules(start):
    rec = start().apply().review()
    for meeting_date in ("2026-09-10", "2026-09-17", "2026-09-24"):
        rec.approve_meeting(meeting_date)
        rec.record(entitled=20, present=8, yes=8, no=0, abstain=0, meeting_date=meeting_date)
    _finished(rec, "quorum_not_met")
    assert rec.data["reschedules"] == 3


def test_quorum_not_met_when_rescheduling_is_refused(start):
    rec = start().apply().review().approve_meeting()
    rec.record(entitled=20, present=9, yes=9, no=0, abstain=0)
    rec.complete("meeting_approval", {"decision": "reject", "comment": "本学期不再安排"})
    _finished(rec, "quorum_not_met")


def test_the_quorum_rule_is_a_policy(start):
    rec = start(policies={"quorum_rule": "two_thirds"}).apply().review().approve_meeting()
    rec.record(entitled=30, present=20, yes=20, no=0, abstain=0)  # 2/3 exactly: not more than 2/3
    assert rec.ready == ["meeting_approval"]
    rec.approve_meeting("2026-09-17").record(entitled=30, present=21, yes=20, no=1, abstain=0,
                                             meeting_date="2026-09-17")
    assert rec.ready == ["committee_opinion"]


def test_yes_of_exactly_half_of_the_entitled_is_not_passed(start):
    rec = start().apply().review().approve_meeting()
    rec.record(entitled=20, present=18, yes=10, no=6, abstain=2)
    _finished(rec, "not_passed")
    assert rec.data["quorum_reached"] is True and rec.data["vote_passed"] is False


def test_yes_of_one_more_than_half_passes(start):
    rec = start().apply().review().approve_meeting()
    rec.record(entitled=20, present=18, yes=11, no=5, abstain=2)
    assert rec.ready == ["committee_opinion"]


@pytest.mark.parametrize(("record", "field"), [
    ({"present": 18, "yes": 15, "no": 3, "abstain": 2, "ballots_collected": 18}, "yes"),  # 20 votes, 18 present
    ({"present": 18, "ballots_issued": 17, "ballots_collected": 18}, "ballots_collected"),
    ({"entitled": 20, "present": 21, "yes": 15, "no": 2, "abstain": 1}, "present"),
    ({"meeting_date": "2026-09-11"}, "meeting_date"),
])
def test_a_record_that_does_not_add_up_is_sent_back_with_field_errors(start, record, field):
    rec = start().apply().review().approve_meeting()
    rec.record(**record)
    assert rec.ready == ["meeting_record"]
    assert field in {e["field"] for e in rec.data["record_errors"]}
    assert rec.data["meetings"] == [] and rec.data["reschedules"] == 0  # an invalid record counts for nothing
    rec.record()
    assert rec.ready == ["committee_opinion"] and rec.data["record_errors"] == []


@pytest.mark.parametrize("bad", [{"present": -1}, {"entitled": 0}, {"yes": "11"}, {"yes": 1.5}])
def test_the_form_refuses_impossible_numbers(start, bad):
    rec = start().apply().review().approve_meeting()
    data = {"meeting_date": "2026-09-10", "entitled": 20, "present": 18, "yes": 15, "no": 2, "abstain": 1,
            "ballots_issued": 18, "ballots_collected": 18, **bad}
    with pytest.raises(FormRejected) as refused:
        rec.complete("meeting_record", data)
    assert refused.value.fields == set(bad)


# -- public notice ---------------------------------------------------------------------------------------------
def _publicity_ends(rec):
    return rec.data["publicity_ends"]


def test_publicity_across_a_weekend(start):
    rec = start().to_publicity(at=beijing(2026, 11, 27))  # a Friday
    assert _publicity_ends(rec) == "2026-12-04T23:59:59+08:00"
    assert rec.case.next_timer_due() == beijing(2026, 12, 4, 23, 59) + timedelta(seconds=59)
    assert rec.case.waiting_messages() == {"objection"}
    rec.fire_timers(beijing(2026, 12, 4, 23, 0))
    assert rec.ready == []
    rec.fire_timers(beijing(2026, 12, 5, 0, 0))
    assert rec.ready == ["general_branch_review"]
    assert rec.data["publicity_done"] is True


def test_publicity_across_national_day_counts_the_make_up_saturday(start):
    rec = start().to_publicity(at=beijing(2026, 9, 29))
    assert _publicity_ends(rec) == "2026-10-12T23:59:59+08:00"
    assert rec.data["publicity_calendar_warnings"] == []
    rec.fire_timers(beijing(2026, 10, 11, 12, 0))
    assert rec.ready == []
    rec.fire_timers(beijing(2026, 10, 13, 0, 0))
    assert rec.ready == ["general_branch_review"]


def test_publicity_into_a_year_without_data_counts_weekends_and_warns(start):
    rec = start().to_publicity(at=beijing(2026, 12, 28))
    assert _publicity_ends(rec) == "2027-01-04T23:59:59+08:00"
    assert "2027" in rec.data["publicity_calendar_warnings"][0]


def test_publicity_uses_the_holiday_overrides_policy(start):
    rec = start(policies={"holiday_overrides": {"2027-01-01": "holiday"}}).to_publicity(at=beijing(2026, 12, 28))
    assert _publicity_ends(rec) == "2027-01-05T23:59:59+08:00"


def test_publicity_length_is_a_policy(start):
    rec = start(policies={"publicity_working_days": 7}).to_publicity(at=beijing(2026, 11, 27))
    assert _publicity_ends(rec) == "2026-12-08T23:59:59+08:00"


def test_an_upheld_objection_ends_the_recommendation(start):
    rec = start().to_publicity(at=beijing(2026, 11, 27))
    rec.send("objection", {"reason": "该同志本学期有旷课记录", "sent_by": "lisi"}, at=beijing(2026, 11, 30))
    assert rec.ready == ["investigate_objection"]
    assert rec.lane_of("investigate_objection") == "league_general_branch_secretary"
    assert rec.task("investigate_objection").data["objection"]["sent_by"] == "lisi"  # the investigator sees it
    assert rec.case.next_timer_due() is None and rec.case.waiting_messages() == set()
    rec.complete("investigate_objection", {"upheld": True, "finding": "经核实，情况属实"})
    _finished(rec, "objection_upheld")
    assert rec.data["objections"][0]["upheld"] is True
    assert "objection" not in rec.data  # the objector's name stays with the investigation (and the audit trail)
    assert "sent_by" not in rec.data["objections"][0]


def test_a_dismissed_objection_continues_the_same_notice(start):
    rec = start().to_publicity(at=beijing(2026, 11, 27))
    ends = _publicity_ends(rec)
    rec.send("objection", {"reason": "反映其团费未交"}, at=beijing(2026, 11, 30))
    with pytest.raises(MessageNotAccepted):  # one investigation at a time: the service answers 409
        rec.send("objection", {"reason": "另一条异议"})
    with pytest.raises(FormRejected):
        rec.complete("investigate_objection", {"finding": "未说明是否成立"})
    rec.complete("investigate_objection", {"upheld": False, "finding": "团费已按时交纳"}, at=beijing(2026, 12, 1))
    assert rec.ready == [] and _publicity_ends(rec) == ends  # the notice is not restarted
    assert rec.case.waiting_messages() == {"objection"}  # and still takes objections
    rec.fire_timers(beijing(2026, 12, 5, 0, 0))
    assert rec.ready == ["general_branch_review"]
    assert [o["upheld"] for o in rec.data["objections"]] == [False]


def test_a_dismissal_after_the_notice_period_goes_straight_to_the_review(start):
    rec = start().to_publicity(at=beijing(2026, 11, 27))
    rec.send("objection", {"reason": "反映其学习成绩不实"}, at=beijing(2026, 12, 4, 16, 0))
    rec.complete("investigate_objection", {"upheld": False, "finding": "成绩属实"}, at=beijing(2026, 12, 8))
    assert rec.ready == ["general_branch_review"]


# -- general branch review ------------------------------------------------------------------------------------
def test_rejected_by_the_general_branch(start):
    rec = start().to_publicity(at=beijing(2026, 11, 27)).fire_timers(beijing(2026, 12, 5, 0, 0))
    with pytest.raises(FormRejected):
        rec.general_review("reject", comment="")
    rec.general_review("reject", comment="推优程序不规范")
    _finished(rec, "rejected")
    assert rec.data["rejection"]["by"] == "general_branch_review"


def test_a_returned_case_goes_back_to_the_committee_without_a_second_notice(start):
    rec = start().to_publicity(at=beijing(2026, 11, 27)).fire_timers(beijing(2026, 12, 5, 0, 0))
    started = rec.data["publicity_started"]
    rec.general_review("return", comment="组织意见过于简单，请补充")
    assert rec.ready == ["committee_opinion"]
    assert rec.task("committee_opinion").data["opinion"]  # the previous text, to revise
    rec.opinion(at=beijing(2026, 12, 7))
    assert rec.ready == ["general_branch_review"]
    assert rec.data["publicity_started"] == started
    rec.general_review()
    assert rec.ready == ["party_branch_decision"]


# -- the Party branch ----------------------------------------------------------------------------------------------
def _at_party_branch(start, **kw):
    rec = start(**kw).to_publicity(at=beijing(2026, 11, 27)).fire_timers(beijing(2026, 12, 5, 0, 0))
    return rec.general_review(at=beijing(2026, 12, 7))


@pytest.mark.parametrize(("data", "field"), [
    ({"decision": "accept"}, "contacts"),
    ({"decision": "accept", "contacts": []}, "contacts"),
    ({"decision": "accept", "contacts": ["a1", "a2", "a3"]}, "contacts"),
    ({"decision": "accept", "contacts": ["a1", "a1"]}, "contacts"),
    ({"decision": "defer"}, "reason"),
    ({"decision": "decline", "reason": ""}, "reason"),
])
def test_party_branch_decision_form_rules(start, data, field):
    rec = _at_party_branch(start)
    with pytest.raises(FormRejected) as refused:
        rec.complete("party_branch_decision", data)
    assert field in {f.split(".")[0] for f in refused.value.fields}


@pytest.mark.parametrize(("decision", "outcome"), [("defer", "deferred"), ("decline", "declined")])
def test_deferred_and_declined(start, decision, outcome):
    rec = _at_party_branch(start)
    rec.complete("party_branch_decision", {"decision": decision, "reason": "需进一步考察"})
    _finished(rec, outcome)
    assert DEFINITION.on_complete(rec.outcome, rec.data, candidate_facts()) == []


def test_a_recommendation_not_acted_on_for_two_years_expires(start):
    rec = _at_party_branch(start)
    handed_over = beijing(2026, 12, 7)
    task = rec.task("party_branch_decision")
    assert task.due_at == handed_over.replace(year=2028)
    rec.fire_timers(handed_over.replace(year=2028) - timedelta(minutes=1))
    assert rec.ready == ["party_branch_decision"]
    rec.fire_timers(handed_over.replace(year=2028) + timedelta(seconds=1))  # timers fire once their time has passed
    _finished(rec, "expired")


def test_the_expiry_period_is_a_policy(start):
    rec = _at_party_branch(start, policies={"expiry_years": 1})
    assert rec.task("party_branch_decision").due_at == beijing(2027, 12, 7)


# -- track B: activist -> development candidate ------------------------------------------------------------------
TRACK_B = {"track": "B", "activist_since": "2025-06-01", "training_certificate": "党校2025-017"}


def test_track_b_recommends_an_activist_as_a_development_candidate(start):
    rec = _at_party_branch(start, facts=candidate_facts(party_status="activist"), data=TRACK_B)
    assert rec.data["recommendation_form"]["track"] == "B"
    rec.complete("party_branch_decision", {"decision": "accept", "contacts": ["2020010001"]})
    _finished(rec, "accepted")
    assert rec.data["training"]["min_class_hours"] == 24
    assert DEFINITION.on_complete(rec.outcome, rec.data, candidate_facts())[0]["values"] == {
        "party_status": "development_candidate"}


@pytest.mark.parametrize(("facts", "data", "code"), [
    ({"party_status": "activist"}, {"training_certificate": None}, "no_training_certificate"),
    ({"party_status": "activist"}, {"activist_since": "2025-09-02"}, "activist_standing"),
    ({"party_status": "activist"}, {"activist_since": None}, "activist_since_missing"),
    ({}, {}, "not_activist"),  # an applicant cannot take track B
    ({"party_status": "activist"}, {"track": "C"}, "unknown_track"),
])
def test_track_b_preconditions(start, facts, data, code):
    rec = start(facts=candidate_facts(**facts), data={**TRACK_B, **data}).apply()
    _finished(rec, "ineligible")
    assert code in rec.data["eligibility_codes"]

