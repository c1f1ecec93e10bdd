"""团支部年度考核: grades from the reviewers' scores (bpmn/branch_grade.dmn through the real process),
every outcome of the data contract, the band boundaries, vetoes, and the mean of several reviewers."""

from __future__ import annotations

import pytest
from branch_assessment_support import sheet

from processes.branch_assessment import (
    INDICATORS,
    aggregate_totals,
    deadline_moment,
    grade_label,
    reminder_moment,
    sheet_total,
)
from tests.processes.process_harness import FormRejected

GRADE_TITLES = {"excellent": "五星/优秀", "good": "四星/良好", "fair": "三星/一般", "lagging": "后进", "weak": "软弱涣散"}


def graded(start, totals, vetoes=None, self_total=92):
    """A case reviewed by the reviewers in `totals` (completion order), waiting at confirm."""
    case = start(reviewers=list(totals)).self_assess(self_total).review(totals, vetoes)
    assert case.ready == ["confirm"]
    return case


@pytest.mark.parametrize(("total", "grade"), [
    (96, "excellent"), (85, "good"), (75, "fair"), (65, "lagging"), (42, "weak"),
])
def test_every_grade_is_an_outcome(start, total, grade):
    case = graded(start, {"rev_wang": total})
    assert case.data["grade"] == grade
    assert case.data["grade_title"] == GRADE_TITLES[grade]

    case.confirm().accept()

    assert case.completed
    assert case.outcome == grade
    assert case.data["final_score"] == total
    assert case.data["self_total"] == 92  # kept beside the reviewers' score, which decides
    assert case.data["self_scores"] == sheet(92)


@pytest.mark.parametrize(("total", "grade"), [
    (100, "excellent"), (90, "excellent"), (89.99, "good"), (89.9, "good"), (80, "good"),
    (79.99, "fair"), (70, "fair"), (69.99, "lagging"), (60, "lagging"), (59.99, "weak"), (0, "weak"),
])
def test_band_boundaries(start, total, grade):
    case = graded(start, {"rev_wang": total})
    assert case.data["final_score"] == total
    assert case.data["grade"] == grade


def test_a_veto_makes_the_branch_weak_whatever_the_scores(start):
    case = graded(start, {"rev_wang": 98, "rev_li": 96}, vetoes={"rev_li": "全年未召开组织生活会"})

    assert case.data["final_score"] == 97
    assert case.data["veto_any"] is True
    assert case.data["grade"] == "weak"
    case.confirm().accept()
    assert case.outcome == "weak"


def test_two_reviewers_are_averaged(start):
    case = graded(start, {"rev_wang": 92, "rev_li": 86})  # mean 89: the higher score alone would be excellent
    assert case.data["review_totals"] == [92, 86]
    assert case.data["review_mean"] == 89
    assert case.data["grade"] == "good"


@pytest.mark.parametrize("order", [("a", "b", "c"), ("c", "a", "b"), ("b", "c", "a")])
def test_three_reviewers_mean_does_not_depend_on_completion_order(start, order):
    scores = {"a": 95, "b": 88, "c": 87}  # mean exactly 90
    case = graded(start, {name: scores[name] for name in order})

    assert case.data["review_mean"] == 90
    assert case.data["grade"] == "excellent"
    assert [r["reviewer"] for r in case.data["reviews"]] == list(order)  # completion order, with who scored what
    assert {r["reviewer"]: r["total"] for r in case.data["reviews"]} == scores


def test_three_reviewers_just_under_a_boundary(start):
    case = graded(start, {"a": 90, "b": 90, "c": 89.9})  # mean 89.9666...: not rounded up to 90
    assert case.data["review_mean"] == pytest.approx(89.966667, abs=1e-6)
    assert case.data["grade"] == "good"


def test_each_reviewer_gets_their_own_task(start):
    case = start(reviewers=["rev_wang", "rev_li", "rev_zhao"]).self_assess()

    tasks = case.case.ready_human_tasks()
    assert sorted(t.data["reviewer"] for t in tasks) == ["rev_li", "rev_wang", "rev_zhao"]
    assert {t.name for t in tasks} == {"review"}
    assert {t.lane for t in tasks} == {"league_general_branch_committee"}
    assert {t.properties["assigneeVariable"] for t in tasks} == {"reviewer"}
    assert all("scores" not in t.data for t in tasks)  # the form starts empty, not with the self-assessment
    assert all(t.data["self_scores"] == sheet(92) for t in tasks)  # ... which the reviewer can still see

    case.review({"rev_li": 80})
    assert sorted(t.data["reviewer"] for t in case.case.ready_human_tasks()) == ["rev_wang", "rev_zhao"]
    assert "grade" not in case.data


def test_scores_above_an_indicator_maximum_are_clamped():
    scores = {"committee_work": 45, "organisational_life": 30, "recommendation": 15, "registration": 10,
              "activities": 15, "unknown": 20}
    assert sheet_total(scores, INDICATORS) == 100
    assert sheet_total({"committee_work": -5, "activities": True, "registration": "9"}, INDICATORS) == 0
    assert sheet_total(None, INDICATORS) == 0


def test_a_score_above_the_maximum_is_refused_by_the_form(start):
    case = start().self_assess()
    scores = sheet(90) | {"recommendation": 16}
    with pytest.raises(FormRejected) as rejected:
        case.complete("review", {"scores": scores, "veto": False}, reviewer="rev_wang")
    assert rejected.value.fields == {"scores.recommendation"}


def test_a_veto_needs_a_reason(start):
    case = start().self_assess()
    with pytest.raises(FormRejected) as rejected:
        case.complete("review", {"scores": sheet(90), "veto": True}, reviewer="rev_wang")
    assert rejected.value.fields == {"comment"}


def test_a_form_refuses_fields_that_would_overwrite_the_grade(start):
    case = graded(start, {"rev_wang": 65})
    with pytest.raises(FormRejected) as rejected:
        case.complete("confirm", {"decision": "confirm", "grade": "excellent"})
    assert rejected.value.fields == {""}


def test_without_reviewers_the_self_assessment_total_counts(start):
    case = start(reviewers=[]).self_assess(83)
    assert case.ready == ["confirm"]
    assert case.data["review_mean"] is None
    assert case.data["final_score"] == 83
    assert case.data["grade"] == "good"


def test_the_median_policy(start):
    case = start(reviewers=["a", "b", "c"], policies={"aggregate": "median"}).self_assess()
    case.review({"a": 95, "b": 70, "c": 72})
    assert case.data["review_mean"] == 72
    assert case.data["grade"] == "fair"


def test_pure_helpers():
    assert aggregate_totals([]) is None
    assert aggregate_totals([90, 89.9]) == 89.95
    assert aggregate_totals([1, 2, 10], "median") == 2
    assert deadline_moment("2026-11-30") == "2026-11-30T23:59:59+08:00"
    assert deadline_moment("2026-11-30T12:00:00") == "2026-11-30T12:00:00+08:00"
    assert deadline_moment("2026-11-30T12:00:00+00:00") == "2026-11-30T12:00:00+00:00"
    assert reminder_moment("2026-11-30T23:59:59+08:00", 3) == "2026-11-27T23:59:59+08:00"
    with pytest.raises(ValueError):
        deadline_moment("")
    assert grade_label("excellent") == "五星/优秀"
    assert grade_label("weak") == "软弱涣散"
    assert grade_label("nonsense") == ""
