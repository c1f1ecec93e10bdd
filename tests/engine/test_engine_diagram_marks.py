"""Case.diagram_marks: what a diagram viewer marks — elements completed, current (ready or waiting) and
cancelled, and the sequence flows taken — read from the workflow's tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import clock
from service.engine.runtime import sequence_flows

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_a_waiting_case_marks_the_path_so_far_and_the_current_task(load_process, start_case, fixture_bytes):
    loaded = load_process("gateway_exclusive.bpmn")
    case = start_case(loaded, {"amount": 1000})

    marks = case.diagram_marks(fixture_bytes("gateway_exclusive.bpmn"))
    assert marks["completed"] == ["start", "route"]
    assert marks["current"] == ["manager_review"]
    assert marks["cancelled"] == []
    assert marks["flows"] == ["f_start", "f_medium"]  # the branch not taken is not marked


def test_a_finished_case_marks_everything_it_went_through(load_process, start_case, reload, fixture_bytes):
    loaded = load_process("gateway_exclusive.bpmn")
    case = start_case(loaded, {"amount": 1000})
    (review,) = case.ready_human_tasks()
    case.complete(review.id, {"decision": "reject"})
    case = reload(loaded, case)

    marks = case.diagram_marks(fixture_bytes("gateway_exclusive.bpmn"))
    assert marks["completed"] == ["start", "route", "manager_review", "merge", "end"]
    assert marks["current"] == [] and marks["cancelled"] == []
    assert marks["flows"] == ["f_start", "f_medium", "f_man_done", "f_end"]
    assert "director_review" not in marks["completed"] and "auto_approve" not in marks["completed"]


def test_without_the_xml_there_are_no_flow_ids(load_process, start_case):
    case = start_case(load_process("gateway_exclusive.bpmn"), {"amount": 1000})
    assert case.diagram_marks()["flows"] == []


def test_parallel_branches_are_all_current(load_process, start_case, fixture_bytes):
    loaded = load_process("gateway_parallel.bpmn")
    case = start_case(loaded, {})
    ready = sorted(t.name for t in case.ready_human_tasks())

    marks = case.diagram_marks(fixture_bytes("gateway_parallel.bpmn"))
    assert sorted(marks["current"]) == ready and len(ready) > 1


def test_boundary_timers_wait_and_an_interrupted_task_is_cancelled(load_process, engine, reload, fixture_bytes):
    loaded = load_process("timers.bpmn")
    with clock.frozen_at(T0):
        case = engine.start(loaded, {"deadline_days": 5})
        case.run()
    case = reload(loaded, case)
    xml = fixture_bytes("timers.bpmn")

    waiting = case.diagram_marks(xml)
    # the task and both timers attached to it wait; a boundary event has no incoming flow
    assert {"review", "reminder", "deadline"} <= set(waiting["current"])
    assert waiting["flows"] == ["f1"]

    with clock.frozen_at(T0 + timedelta(days=6)):
        case.fire_due_timers()
    case = reload(loaded, case)
    marks = case.diagram_marks(xml)
    assert "review" in marks["cancelled"]  # the deadline interrupted it
    assert "escalate" in marks["current"] and "deadline" in marks["completed"]
    assert "f_escalate" in marks["flows"]


def test_sequence_flows_are_read_by_their_ends(fixture_bytes):
    flows = sequence_flows(fixture_bytes("gateway_exclusive.bpmn"))
    assert flows[("route", "director_review")] == ["f_big"]
    assert flows[("merge", "end")] == ["f_end"]


def test_a_call_activity_is_current_while_the_called_process_runs(load_process, start_case):
    case = start_case(load_process("call_parent.bpmn", library=["call_child.bpmn"]), {"applicant": "zhang"})
    marks = case.diagram_marks()
    assert marks["current"] == ["run_check"]  # not the child's own "investigate", which is not on this diagram
    assert marks["completed"] == ["start"]
