"""Parallel multi-instance user task: one child per reviewer, outputs collected into a list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service import clock
from service.engine import ScriptFailure, TaskNotReady

REVIEWERS = ["wang", "li", "zhao"]


def test_each_child_is_ready_at_once_with_its_own_item(load_process, start_case):
    loaded = load_process("multi_instance.bpmn")
    case = start_case(loaded, {"reviewers": REVIEWERS})

    tasks = case.ready_human_tasks()
    assert [t.name for t in tasks] == ["review"] * 3
    assert sorted(t.data["reviewer"] for t in tasks) == sorted(REVIEWERS)
    assert len({t.id for t in tasks}) == 3
    # the index of each child's item in the input list
    assert {t.data["reviewer"]: t.multi_instance_index for t in tasks} == {"wang": 0, "li": 1, "zhao": 2}
    assert all(t.lane == "reviewer" for t in tasks)


def test_outputs_are_collected_in_completion_order(load_process, start_case, reload):
    loaded = load_process("multi_instance.bpmn")
    case = start_case(loaded, {"reviewers": REVIEWERS})
    by_reviewer = {t.data["reviewer"]: t.id for t in case.ready_human_tasks()}

    for name, vote in (("zhao", "yes"), ("wang", "no"), ("li", "yes")):
        assert not case.completed
        case.complete(by_reviewer[name], {"opinion": {"by": name, "vote": vote}})
        case = reload(loaded, case)
        remaining = sorted(t.data["reviewer"] for t in case.ready_human_tasks())
        assert name not in remaining

    assert case.completed
    # completion order (zhao, wang, li), not input order (wang, li, zhao)
    assert [o["by"] for o in case.data["opinions"]] == ["zhao", "wang", "li"]
    assert case.data["approvals"] == 2
    assert case.data["passed"] is True
    # the per-child item and output variables do not leak into the process data
    assert "reviewer" not in case.data
    assert "opinion" not in case.data


def test_the_script_after_waits_for_every_child(load_process, start_case, reload):
    loaded = load_process("multi_instance.bpmn")
    case = start_case(loaded, {"reviewers": ["wang", "li"]})
    first, second = case.ready_human_tasks()

    case.complete(first.id, {"opinion": {"by": first.data["reviewer"], "vote": "yes"}})
    case = reload(loaded, case)
    assert [t.id for t in case.ready_human_tasks()] == [second.id]
    assert "approvals" not in case.data
    with pytest.raises(TaskNotReady):  # a finished child cannot be completed again
        case.complete(first.id, {"opinion": {"by": "again", "vote": "no"}})

    case.complete(second.id, {"opinion": {"by": second.data["reviewer"], "vote": "no"}})
    assert case.completed
    assert case.data["approvals"] == 1
    assert case.data["passed"] is False  # 1 of 2 is not a majority


def test_an_empty_reviewer_list_skips_the_task(load_process, start_case):
    loaded = load_process("multi_instance.bpmn")
    case = start_case(loaded, {"reviewers": []})

    assert case.ready_human_tasks() == []
    assert case.completed
    assert case.data["opinions"] == []
    assert case.data["passed"] is False


def test_a_child_completed_without_its_output_item_is_a_failure(load_process, start_case):
    loaded = load_process("multi_instance.bpmn")
    case = start_case(loaded, {"reviewers": ["wang", "li"]})
    first = case.ready_human_tasks()[0]

    with pytest.raises(ScriptFailure) as info:
        case.complete(first.id, {"comment": "forgot the opinion"})

    assert info.value.element_id == "review"
    assert "output" in info.value.message.lower()


def test_every_child_shows_the_deadline_of_the_multi_instance_task(load_process, engine, reload):
    t0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    loaded = load_process("multi_instance_deadline.bpmn")
    with clock.frozen_at(t0):
        case = engine.start(loaded, {"reviewers": REVIEWERS})
        case.run()
    case = reload(loaded, case)

    tasks = case.ready_human_tasks()
    assert len(tasks) == 3
    assert {t.due_at for t in tasks} == {t0 + timedelta(days=5)}
    assert case.next_timer_due() == t0 + timedelta(days=5)

    first = tasks[0]
    case.complete(first.id, {"opinion": {"by": first.data["reviewer"], "vote": "yes"}})
    with clock.frozen_at(t0 + timedelta(days=6)):
        case.fire_due_timers()
    case = reload(loaded, case)
    # the deadline interrupts the whole multi-instance task: the open reviews go, the chair decides
    assert [t.name for t in case.ready_human_tasks()] == ["chair_decides"]
