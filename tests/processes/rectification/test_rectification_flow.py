"""整改 at the engine level: the real BPMN and forms through every outcome and boundary of domain.md, Process 3."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rectification_support import DAY, DUE, MEASURES, REMINDER, T0, beijing

from tests.processes.process_harness import FormRejected

CLOSE_ALL = [0, 1, 2]


def test_straight_path_to_closed(start):
    r = start()
    assert r.ready == ["acknowledge"]
    assert r.role("acknowledge") == "league_branch_secretary"
    assert r.data["problems"][0] == {"title": "组织生活不规范，三会一课记录缺失", "detail": ""}
    assert r.data["problems"][1] == {"title": "团员教育管理薄弱", "detail": "团员证注册率不足 80%"}
    assert r.data["problem_status"] == ["open", "open", "open"]
    assert r.data["issuer"] == "league_general_branch"
    assert r.data["deadline_at"] == "2027-03-31T23:59:59+08:00"
    assert r.milestone() == "待签收整改通知"

    r.acknowledge()
    assert r.ready == ["plan"] and r.role("plan") == "league_branch_secretary"
    r.submit_plan()
    assert r.ready == ["plan_review"] and r.role("plan_review") == "league_general_branch_secretary"
    assert r.task("plan_review").data["plan_overview"][0].startswith("[0] 组织生活不规范")
    r.review_plan("approve")

    # execution: a progress report (and, optionally, an extension request) per reporting period
    assert r.ready == ["extension_request", "progress_report"]
    assert r.role("progress_report") == r.role("extension_request") == "league_branch_secretary"
    assert r.data["watch_state"] == "reminder" and r.data["reminder_at"] == "2027-03-24T23:59:59+08:00"
    assert r.case.next_timer_due() == T0 + 30 * DAY  # the progress report is due a report interval later
    assert r.task("progress_report").reminders == [T0 + 30 * DAY]

    r.report(CLOSE_ALL, "三项问题全部整改完毕")
    assert r.ready == ["completion_report"]
    assert r.data["problem_status"] == ["done", "done", "done"]
    assert r.data["reports"][0]["done"] == CLOSE_ALL and r.data["reports"][0]["round"] == 1
    assert "done" not in r.data and "report" not in r.data  # the form's fields do not leak into the next form
    assert r.case.next_timer_due() is None  # no deadline watch outside execution

    r.finish()
    assert r.ready == ["acceptance"] and r.role("acceptance") == "league_general_branch_secretary"
    assert "三个问题均已整改到位" in r.task("acceptance").data["completion_note"]
    r.accept(CLOSE_ALL)

    assert r.completed and r.outcome == "closed"
    assert r.data["problem_status"] == ["accepted"] * 3
    assert r.data["unresolved"] == []
    assert r.data["overdue"] is False and r.data["escalations"] == []
    assert r.data["problem_overview"][2] == "[2] 推优程序不完整（已验收）"


def test_plan_returned_then_approved(start):
    r = start().acknowledge().submit_plan([MEASURES[0]])
    r.review_plan("return", comment="第2、3项问题缺少整改措施")

    assert r.ready == ["plan"]
    assert r.data["plan_revisions"] == 1
    assert r.data["plan_returns"][0]["comment"] == "第2、3项问题缺少整改措施"
    assert r.data["plan_returns"][0]["measures"] == [MEASURES[0]]
    assert r.task("plan").data["review_comment"] == "第2、3项问题缺少整改措施"  # shown on the plan form
    assert "decision" not in r.data  # a stale decision would prefill the next decision form

    r.submit_plan(MEASURES).review_plan("approve")
    assert r.ready == ["extension_request", "progress_report"]
    assert r.data["measures"] == MEASURES
    assert r.data["plan_revisions"] == 1


def test_the_forms_refuse_an_empty_plan_and_a_return_without_comments(start):
    r = start().acknowledge()
    with pytest.raises(FormRejected) as rejected:
        r.complete("plan", {"measures": []})
    assert "measures" in rejected.value.fields
    with pytest.raises(FormRejected) as rejected:
        r.complete("plan", {"measures": [{"problem": 0, "measure": "", "deadline": "明天", "owner": "李四"}]})
    assert {"measures.0.measure", "measures.0.deadline"} <= rejected.value.fields
    r.submit_plan()
    with pytest.raises(FormRejected) as rejected:
        r.review_plan("return", comment="")
    assert "comment" in rejected.value.fields


def test_after_the_last_allowed_return_the_issuer_settles_the_plan(start):
    r = start(policies={"max_plan_revisions": 2}).acknowledge()
    for _ in range(2):
        r.submit_plan([MEASURES[0]]).review_plan("return", comment="不完整")
    r.submit_plan([MEASURES[0]]).review_plan("return", comment="仍不完整")

    assert r.ready == ["plan_final_review"]
    assert r.role("plan_final_review") == "league_general_branch_secretary"
    assert r.data["plan_revisions"] == 2
    assert r.task("plan_final_review").data["measures"] == [MEASURES[0]]  # prefilled with the branch's last plan
    r.complete("plan_final_review", {"measures": MEASURES, "comment": "由团总支审定", "set_deadline": None})

    assert r.ready == ["extension_request", "progress_report"]
    assert r.data["measures"] == MEASURES and r.data["plan_settled_by_issuer"] is True


def test_progress_reports_mark_problems_done_over_time(start):
    r = start().to_execution()
    first_due = T0 + 30 * DAY

    r.report([0], "第一项已整改", at=T0 + 10 * DAY)
    assert r.data["problem_status"] == ["done", "open", "open"]
    assert r.ready == ["extension_request", "progress_report"]  # the next period
    assert r.task("progress_report").reminders == [T0 + 40 * DAY]  # due a report interval after the last report

    r.fire_timers(T0 + 40 * DAY + timedelta(minutes=1))  # the report is late: a reminder, the task stays
    assert r.ready == ["extension_request", "progress_report"]
    assert r.task("progress_report").reminders == []

    r.report([1, 0, 7], "第二项已整改", at=T0 + 45 * DAY)  # unknown and repeated indexes are ignored
    assert r.data["problem_status"] == ["done", "done", "open"]
    assert r.data["reports"][1]["done"] == [0, 1]
    assert r.data["reports_in_round"] == 2

    r.report([], "第三项正在推进", at=T0 + 70 * DAY)
    r.report([2], "第三项已整改", at=T0 + 90 * DAY)
    assert r.ready == ["completion_report"]
    assert [e["number"] for e in r.data["reports"]] == [1, 2, 3, 4]
    assert first_due < T0 + 45 * DAY


def test_after_the_last_allowed_report_the_completion_report_is_due(start):
    r = start(policies={"max_progress_reports": 2}).to_execution()
    r.report([0]).report([])
    assert r.ready == ["completion_report"]
    assert r.data["problem_status"] == ["done", "open", "open"]


def test_extension_approved_moves_the_deadline(start):
    r = start().to_execution()
    r.complete("extension_request", {"new_deadline": "2027-05-31", "reason": "寒假期间无法组织团员"}, at=T0 + 5 * DAY)

    assert r.ready == ["extension_review"]
    assert r.role("extension_review") == "league_general_branch_secretary"
    assert "申请延期至 2027-05-31" in r.task("extension_review").data["extension_note"]
    r.complete("extension_review", {"decision": "approve", "comment": "同意"})

    assert r.ready == ["progress_report"]  # one extension per case: no new request offered
    assert r.data["deadline"] == "2027-05-31"
    assert r.data["deadline_at"] == "2027-05-31T23:59:59+08:00"
    assert r.data["extension"]["decision"] == "approve"
    assert r.data["extension"]["previous_deadline"] == "2027-03-31"
    assert r.data["extension_used"] is True
    assert "extension_requested" not in r.data and "decision" not in r.data

    r.fire_timers(DUE + DAY)  # the old deadline passes without consequence
    assert "escalation" not in r.ready and r.data["overdue"] is False
    assert r.data["deadline_reminded"] is False


def test_extension_refused_keeps_the_deadline(start):
    r = start().to_execution()
    r.complete("extension_request", {"new_deadline": "2027-05-31", "reason": "活动较多"})
    r.complete("extension_review", {"decision": "refuse", "comment": "期限充足，不予延期"})

    assert r.ready == ["progress_report"]
    assert r.data["deadline"] == "2027-03-31"
    assert r.data["extension"]["decision"] == "refuse"
    assert r.data["extension_used"] is True

    r.fire_timers(DUE + timedelta(seconds=1))
    assert r.ready == ["escalation", "progress_report"]


def test_an_approved_extension_never_shortens_the_deadline_nor_clears_an_overdue_mark(start):
    r = start().to_execution()
    r.fire_timers(DUE + DAY)
    assert r.data["overdue"] is True
    r.complete("extension_request", {"new_deadline": "2027-01-15", "reason": "笔误"})
    r.complete("extension_review", {"decision": "approve"})
    assert r.data["deadline"] == "2027-03-31" and r.data["overdue"] is True
    r.fire_timers(DUE + 2 * DAY)
    assert len(r.tasks("escalation")) == 1 and len(r.data["escalations"]) == 1


def test_an_extension_granted_after_the_deadline_clears_the_overdue_mark(start):
    r = start().to_execution()
    r.fire_timers(DUE + DAY)
    r.complete("extension_request", {"new_deadline": "2027-04-30", "reason": "已约谈，请求宽限"})
    r.complete("extension_review", {"decision": "approve"})
    assert r.data["overdue"] is False and r.data["watch_state"] == "reminder"
    assert r.data["escalations"][0]["deadline"] == "2027-03-31"  # the history stays
    r.fire_timers(beijing(2027, 5, 1, 0, 0, 1))
    assert len(r.tasks("escalation")) == 2  # the first talk is still pending; the new deadline passed too


def test_missed_deadline_escalates_to_the_party_general_branch_and_marks_the_case_overdue(start):
    r = start().to_execution()
    r.report([0], at=T0 + 20 * DAY)

    r.fire_timers(REMINDER - timedelta(seconds=1))
    assert r.data["deadline_reminded"] is False

    r.fire_timers(REMINDER + timedelta(seconds=1))  # 7 days before: the reminder restarts the period
    assert r.data["deadline_reminded"] is True and r.data["watch_state"] == "deadline"
    assert r.ready == ["extension_request", "progress_report"]
    assert r.case.next_timer_due() == DUE

    r.fire_timers(DUE + timedelta(seconds=1))
    assert r.ready == ["escalation", "extension_request", "progress_report"]
    assert r.role("escalation") == "party_general_branch_secretary"
    assert r.data["overdue"] is True
    assert r.milestone() == "已逾期，待约谈"
    assert r.data["escalations"][0]["deadline"] == "2027-03-31"
    assert r.data["escalations"][0]["open_problems"] == [1, 2]
    assert "（已逾期）" in r.task("progress_report").data["deadline_note"]

    # the case goes on; the deadline does not fire again
    r.fire_timers(DUE + 10 * DAY)
    assert len(r.tasks("escalation")) == 1
    r.complete("escalation", {"interview_date": "2027-04-03", "record": "约谈支部书记，要求两周内完成",
                              "requirements": "每周报送进展"})
    assert r.ready == ["extension_request", "progress_report"]
    assert r.data["overdue"] is True

    r.report([1, 2], at=beijing(2027, 4, 12))
    r.finish().accept(CLOSE_ALL)
    assert r.outcome == "closed"
    assert r.data["overdue"] is True and len(r.data["escalations"]) == 1


def test_closing_while_the_talk_is_pending_ends_the_case(start):
    r = start().to_execution()
    r.fire_timers(DUE + timedelta(seconds=1))
    assert "escalation" in r.ready
    r.report(CLOSE_ALL).finish().accept(CLOSE_ALL)
    assert r.completed and r.outcome == "closed"
    assert r.case.ready_human_tasks() == []


def test_a_deadline_in_the_past_at_approval_escalates_at_once(start):
    r = start(deadline="2026-12-05").to_execution()
    assert r.data["watch_state"] == "deadline"  # the reminder time had already passed
    r.fire_timers(beijing(2026, 12, 6))
    assert "escalation" in r.ready and r.data["overdue"] is True


def test_redo_with_a_new_deadline_then_closed(start):
    r = start().to_execution()
    r.report(CLOSE_ALL).finish()
    r.accept([0, 2], decision="redo", new_deadline="2027-06-30", comment="第2项注册率仍不达标")

    assert r.ready == ["extension_request", "progress_report"]
    assert r.data["problem_status"] == ["accepted", "open", "accepted"]
    assert r.data["rectification_round"] == 2 and r.data["redos"] == 1
    assert r.data["deadline"] == "2027-06-30"
    assert r.data["deadline_at"] == "2027-06-30T23:59:59+08:00"
    assert r.data["reports_in_round"] == 0
    assert r.task("progress_report").data["problem_overview"][1] == "[1] 团员教育管理薄弱（整改中）"

    r.report([1])
    assert r.ready == ["completion_report"]
    r.finish("第2项已整改").accept([1])
    assert r.outcome == "closed"
    assert r.data["problem_status"] == ["accepted"] * 3
    assert [a["decision"] for a in r.data["acceptances"]] == ["redo", "close"]
    assert len(r.data["completions"]) == 2


def test_a_redo_needs_a_new_deadline(start):
    r = start().to_execution()
    r.report(CLOSE_ALL).finish()
    with pytest.raises(FormRejected) as rejected:
        r.accept([0], decision="redo", new_deadline=None)
    assert "new_deadline" in rejected.value.fields


def test_redo_when_everything_was_accepted_closes(start):
    r = start().to_execution()
    r.report(CLOSE_ALL).finish().accept(CLOSE_ALL, decision="redo", new_deadline="2027-06-30")
    assert r.outcome == "closed"


def test_closing_with_problems_not_accepted_records_them(start):
    r = start().to_execution()
    r.report(CLOSE_ALL).finish().accept([0, 1], decision="close", comment="第3项另行处理")
    assert r.outcome == "closed"
    assert r.data["unresolved"] == [2]


def test_after_the_last_allowed_redo_the_party_general_branch_decides(start):
    r = start(policies={"max_redos": 1}).to_execution()
    r.report(CLOSE_ALL).finish().accept([0], decision="redo", new_deadline="2027-06-30")
    r.report([1, 2]).finish().accept([1], decision="redo", new_deadline="2027-08-31")

    assert r.ready == ["final_acceptance"]
    assert r.role("final_acceptance") == "party_general_branch_secretary"
    r.complete("final_acceptance", {"accepted": [], "conclusion": "第3项未整改到位，记入年度考核"})
    assert r.outcome == "closed"
    assert r.data["unresolved"] == [2]
    assert r.data["final_acceptance_record"]["conclusion"].startswith("第3项")


def test_recheck_after_closing_when_enabled(start):
    r = start(policies={"recheck_enabled": True}).to_execution()
    r.report(CLOSE_ALL).finish()
    r.complete("acceptance", {"accepted": CLOSE_ALL, "decision": "close"}, at=beijing(2027, 2, 1))
    assert not r.completed and r.data["outcome"] == "closed"  # closed (销号), waiting for the re-check
    assert r.case.next_timer_due() == beijing(2027, 2, 1) + 90 * DAY

    r.fire_timers(beijing(2027, 2, 1) + 90 * DAY + timedelta(seconds=1))
    assert r.ready == ["recheck"] and r.role("recheck") == "league_general_branch_secretary"
    r.complete("recheck", {"findings": "第2项有反弹", "relapsed": [1], "new_deadline": "2027-09-30"})
    assert r.outcome == "closed"
    assert r.data["recheck"]["relapsed"] == [1]


def test_no_recheck_by_default(start):
    r = start().to_execution()
    r.report(CLOSE_ALL).finish().accept(CLOSE_ALL)
    assert r.completed


def test_an_order_without_a_deadline_is_not_watched_until_one_is_set(start):
    r = start(deadline=None).acknowledge().submit_plan()
    assert r.data["deadline_at"] is None
    assert r.task("plan_review").data["deadline_note"] == "整改期限：未设定"
    r.review_plan("approve", set_deadline="2027-04-30")
    assert r.data["deadline"] == "2027-04-30" and r.data["watch_state"] == "reminder"
    assert r.case.next_timer_due() == T0 + 30 * DAY


def test_no_deadline_at_all_means_no_escalation(start):
    r = start(deadline=None).to_execution()
    assert r.data["watch_state"] == "none"
    r.fire_timers(beijing(2030, 1, 1))
    assert r.ready == ["extension_request", "progress_report"]


def test_the_longest_case_stays_within_the_engine_limits(start):
    """Every loop at its bound: plan returns, reports per round, the redo rounds, the extension,
    the reminder and the deadline. The case must still finish (the engine stalls silently past its depth limit).

    The state is restored once at the end only: restoring after each of the ~70 steps of this
    (unrealistically long) case would make the test slow without testing anything more."""
    r = start().acknowledge()
    r.restore_each_step = False
    for _ in range(3):
        r.submit_plan().review_plan("return", comment="重写")
    r.submit_plan().review_plan("return", comment="仍需修改")
    r.complete("plan_final_review", {"measures": MEASURES})
    r.complete("extension_request", {"new_deadline": "2027-04-30", "reason": "理由"})
    r.complete("extension_review", {"decision": "refuse"})
    for round_no in range(3):
        for number in range(12):
            if round_no == 0 and number == 6:
                r.fire_timers(REMINDER + DAY)
                r.fire_timers(DUE + DAY)
            r.report([])
        assert "completion_report" in r.ready
        r.finish().accept([], decision="redo", new_deadline=f"2027-{6 + 2 * round_no:02d}-30")
    r.restore()
    r.complete("final_acceptance", {"accepted": [0], "conclusion": "记录在案"})
    assert r.outcome == "closed"
    assert len(r.data["reports"]) == 36
    assert r.data["plan_revisions"] == 3 and r.data["redos"] == 2 and len(r.data["escalations"]) == 1
    assert _tree_depth(r.case.workflow.task_tree) < 500  # the engine stops walking at depth 1000


def _tree_depth(task) -> int:  # type: ignore[no-untyped-def]
    depth, level = 0, [task]
    while level:
        depth += 1
        level = [child for t in level for child in t.children]
    return depth


def test_an_order_from_the_annual_assessment(start):
    """The start data branch_assessment's on_complete hands over for a 后进 / 软弱涣散 branch."""
    r = start(problems=["组织生活：得分 12/30，未达到 60%", "评审意见：支委会不健全"], deadline="2027-02-28",
              data={"issuer": "league_general_branch", "source": "branch_assessment", "assessment_year": 2026,
                    "assessment_grade": "weak"})
    assert r.ready == ["acknowledge"]
    assert [p["title"] for p in r.data["problems"]] == ["组织生活：得分 12/30，未达到 60%", "评审意见：支委会不健全"]
    assert r.data["source"] == "branch_assessment" and r.data["deadline_at"] == "2027-02-28T23:59:59+08:00"
