"""The pure functions the 推优入党 scripts call, and the pack hooks (initial data, lanes, effects)."""

from __future__ import annotations

import pytest
from recommendation_support import CANDIDATE, candidate_facts

from processes.recommendation import (
    DEFINITION,
    check_meeting_record,
    full_months,
    full_years,
    passed,
    quorum_met,
    quota_allows,
    quota_limit,
)


@pytest.mark.parametrize(("rule", "entitled", "failing", "passing"), [
    ("more_than_half", 20, 10, 11),  # P > N/2: exactly half is not enough
    ("more_than_half", 21, 10, 11),
    ("two_thirds", 30, 20, 21),  # P > 2N/3
    ("four_fifths", 20, 15, 16),  # P >= 4N/5: exactly four fifths is enough
])
def test_quorum_rules_at_their_boundaries(rule, entitled, failing, passing):
    assert not quorum_met(failing, entitled, rule)
    assert quorum_met(passing, entitled, rule)


def test_quorum_needs_someone_entitled_and_a_known_rule():
    assert not quorum_met(0, 0)
    with pytest.raises(ValueError):
        quorum_met(10, 12, "simple_majority")


def test_the_vote_passes_with_more_than_half_of_the_entitled_members():
    assert not passed(10, 20)  # exactly half of the entitled
    assert passed(11, 20)
    assert not passed(10, 21) and passed(11, 21)
    assert not passed(9, 20, "more_than_half_of_entitled", present=17)  # half of those present is not the rule
    assert passed(9, 20, "more_than_half_of_present", present=17)
    with pytest.raises(ValueError):
        passed(11, 20, "unanimous")


def _record(**changes):
    record = {"entitled": 20, "present": 18, "yes": 15, "no": 2, "abstain": 1, "ballots_issued": 18,
              "ballots_collected": 18, "meeting_date": "2026-09-10"}
    record.update(changes)
    return record


def test_a_consistent_meeting_record_has_no_problems():
    assert check_meeting_record(_record(), "2026-09-10") == []
    assert check_meeting_record(_record(yes=16, no=2, abstain=0), "2026-09-10") == []  # not every ballot is a vote


@pytest.mark.parametrize(("changes", "field"), [
    ({"present": 21}, "present"),
    ({"yes": 16, "no": 2, "abstain": 1, "ballots_collected": 19, "ballots_issued": 19}, "yes"),  # 19 votes, 18 present
    ({"ballots_collected": 18, "ballots_issued": 17}, "ballots_collected"),
    ({"ballots_collected": 17}, "abstain"),  # 18 votes counted from 17 ballots
    ({"meeting_date": "2026-09-11"}, "meeting_date"),  # not the meeting the Party branch was told of
])
def test_each_inconsistency_names_its_field(changes, field):
    problems = check_meeting_record(_record(**changes), "2026-09-10")
    assert field in {p["field"] for p in problems}
    assert all(p["message"] for p in problems)


def test_quota_is_a_share_of_the_branch_rounded_down():
    assert quota_limit(30, 20) == 6
    assert quota_limit(32, 20) == 6
    assert quota_limit(4, 20) == 0
    assert quota_allows(5, 30, 20)  # the 6th of 30 members is within 20 %
    assert not quota_allows(6, 30, 20)
    assert not quota_allows(0, 4, 20)


def test_ages_and_standings_are_whole_years_and_months():
    assert full_years("2005-03-01", "2023-02-28") == 17
    assert full_years("2005-03-01", "2023-03-01") == 18
    assert full_months("2024-10-10", "2025-04-09") == 5
    assert full_months("2024-10-10", "2025-04-10") == 6
    assert full_years("2019-05-04T00:00:00+08:00", "2026-09-01") == 7


def test_initial_data_copies_the_facts_the_rules_need():
    data = DEFINITION.initial_data(candidate_facts())
    assert data["birth_date"] == "2005-03-01"
    assert data["league_member"] is True
    assert data["league_joined"] == "2019-05-04"
    assert data["party_applied"] == "2024-10-10"
    assert data["party_status"] == "applicant"
    assert data["league_post"] == "组织委员"
    assert data["org_unit"] == "TZB-JX2301"
    assert data["branch_members"] == 30
    assert data["paired_party_branch"] == "DZB-S1"
    assert DEFINITION.start_defaults["track"] == "A" and DEFINITION.start_defaults["round_recommended"] == 0
    assert "track" not in data  # start data may choose the track; the facts above may not be overridden
    assert not set(data) & set(DEFINITION.functions)  # a data key may not shadow a script function


def test_initial_data_for_a_person_without_a_branch():
    data = DEFINITION.initial_data(candidate_facts(org_unit=None, unit=None))
    assert data["branch_members"] == 0 and data["paired_party_branch"] is None


def test_lanes_the_secretary_files_on_behalf_and_a_secretary_candidate_is_recorded_by_the_committee():
    resolve = DEFINITION.resolve_lane
    assert resolve("member", "league_branch", {"on_behalf": False}) == "member"
    assert resolve("member", "league_branch", {"on_behalf": True}) == "league_branch_secretary"
    assert resolve("league_branch_secretary", "league_branch", {"candidate_is_secretary": False}) == \
        "league_branch_secretary"
    assert resolve("league_branch_secretary", "league_branch", {"candidate_is_secretary": True}) == \
        "league_branch_committee"
    assert resolve("party_branch_secretary", "league_branch", {"candidate_is_secretary": True}) == \
        "party_branch_secretary"
    assert DEFINITION.initial_data(candidate_facts(league_post="书记"))["candidate_is_secretary"] is True


def test_only_an_accepted_recommendation_changes_the_party_status():
    effects = DEFINITION.on_complete("accepted", {"subject": CANDIDATE, "track": "A"}, candidate_facts())
    assert effects == [{"kind": "set_person", "person": CANDIDATE, "values": {"party_status": "activist"}}]
    effects = DEFINITION.on_complete("accepted", {"subject": CANDIDATE, "track": "B"}, candidate_facts())
    assert effects[0]["values"] == {"party_status": "development_candidate"}
    for outcome in ("ineligible", "rejected", "quorum_not_met", "not_passed", "objection_upheld", "deferred",
                    "declined", "expired", None):
        assert DEFINITION.on_complete(outcome, {"subject": CANDIDATE}, candidate_facts()) == []


def test_policies_have_the_domain_defaults():
    policies = DEFINITION.policies
    assert policies["quorum_rule"] == "more_than_half"
    assert policies["pass_rule"] == "more_than_half_of_entitled"
    assert policies["publicity_working_days"] == 5
    assert policies["quota_percent"] == 20
    assert policies["min_league_years"] == 1
    assert policies["min_application_months"] == 6
    assert policies["league_age_limit"] == 28
    assert policies["expiry_years"] == 2
    assert policies["holiday_overrides"] == {}
