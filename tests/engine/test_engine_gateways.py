"""Exclusive gateway (conditions + default flow) and parallel gateway (split/join)."""

from __future__ import annotations

import pytest

from service.engine import ScriptFailure, TaskNotReady


@pytest.mark.parametrize(
    ("amount", "expected_task", "expected_lane"),
    [(5000, "director_review", "director"), (1000, "manager_review", "manager"), (101, "manager_review", "manager")],
)
def test_exclusive_gateway_takes_the_matching_condition(load_process, start_case, amount, expected_task, expected_lane):
    loaded = load_process("gateway_exclusive.bpmn")
    case = start_case(loaded, {"amount": amount})

    tasks = case.ready_human_tasks()
    assert [(t.name, t.lane) for t in tasks] == [(expected_task, expected_lane)]
    assert tasks[0].data["amount"] == amount
    assert not case.completed


def test_exclusive_gateway_default_flow_when_no_condition_matches(load_process, start_case):
    loaded = load_process("gateway_exclusive.bpmn")
    case = start_case(loaded, {"amount": 100})

    assert case.ready_human_tasks() == []
    assert case.completed
    assert case.data == {"amount": 100, "decision": "approve", "approved_by": "system"}


def test_exclusive_branch_completes_through_the_merge(load_process, start_case, reload):
    loaded = load_process("gateway_exclusive.bpmn")
    case = start_case(loaded, {"amount": 2000})
    (review,) = case.ready_human_tasks()

    case.complete(review.id, {"decision": "reject"})
    case = reload(loaded, case)

    assert case.completed
    assert case.data["decision"] == "reject"
    assert "approved_by" not in case.data  # the default branch's script did not run


def test_condition_on_missing_variable_is_a_script_failure_at_the_gateway(load_process, engine):
    loaded = load_process("gateway_exclusive.bpmn")
    case = engine.start(loaded, {})

    with pytest.raises(ScriptFailure) as info:
        case.run()

    assert info.value.element_id == "route"
    assert info.value.timed_out is False
    assert "amount" in info.value.message


def test_parallel_split_offers_both_branches_at_once(load_process, start_case):
    loaded = load_process("gateway_parallel.bpmn")
    case = start_case(loaded)

    tasks = {t.name: t for t in case.ready_human_tasks()}
    assert set(tasks) == {"check_budget", "check_contract"}
    assert tasks["check_budget"].lane == "finance"
    assert tasks["check_contract"].lane == "legal"
    assert tasks["check_budget"].id != tasks["check_contract"].id


def test_parallel_join_waits_for_both_branches_and_merges_their_data(load_process, start_case, reload):
    loaded = load_process("gateway_parallel.bpmn")
    case = start_case(loaded, {"requester": "li"})
    tasks = {t.name: t for t in case.ready_human_tasks()}

    case.complete(tasks["check_contract"].id, {"contract_note": "clause 4 ok"})
    case = reload(loaded, case)
    # the join holds: only the other branch is open, the task after the join is not offered
    assert [t.name for t in case.ready_human_tasks()] == ["check_budget"]
    with pytest.raises(TaskNotReady):
        case.complete(tasks["check_contract"].id, {"contract_note": "twice"})

    case.complete(tasks["check_budget"].id, {"budget_note": "within budget"})
    case = reload(loaded, case)
    (sign_off,) = case.ready_human_tasks()
    assert sign_off.name == "sign_off"
    # data from both branches reached the script after the join
    assert sign_off.data["summary"] == "within budget / clause 4 ok"
    assert sign_off.data["requester"] == "li"

    case.complete(sign_off.id, {})
    assert case.completed
