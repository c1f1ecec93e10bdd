"""BPMN error events: an error end event inside a subprocess, caught by an error boundary event."""

from __future__ import annotations

import pytest

from service.engine import TaskNotReady


def _start(load_process, start_case, **data):
    loaded = load_process("error_boundary.bpmn")
    return loaded, start_case(loaded, {"limit": 100, "payee": "bob", **data})


def test_without_an_error_the_subprocess_completes_normally(load_process, start_case, reload):
    loaded, case = _start(load_process, start_case, amount=50)

    (ship,) = case.ready_human_tasks()
    assert ship.name == "ship"
    assert ship.data["paid"] == 50
    assert "limit_error" not in ship.data

    case.complete(ship.id, {})
    case = reload(loaded, case)
    assert case.completed


def test_error_end_event_is_caught_by_the_matching_boundary_with_its_payload(load_process, start_case, reload):
    loaded, case = _start(load_process, start_case, amount=500)

    (task,) = case.ready_human_tasks()
    assert task.name == "handle_limit"
    # the error's spiffworkflow:payloadExpression arrives in its variableName
    assert task.data["limit_error"] == {"amount": 500, "limit": 100}
    assert "paid" not in task.data  # the subprocess was cut short: the booking script never ran

    case.complete(task.id, {"new_limit": 1000})
    case = reload(loaded, case)
    assert case.completed
    assert case.ready_human_tasks() == []


def test_error_codes_route_to_their_own_boundary(load_process, start_case):
    _, case = _start(load_process, start_case, amount=50, payee="mallory")

    (task,) = case.ready_human_tasks()
    assert task.name == "handle_blocked"
    assert "paid" not in task.data
    assert "limit_error" not in task.data


def test_the_normal_path_is_not_offered_after_an_error(load_process, start_case, reload):
    loaded, case = _start(load_process, start_case, amount=500)
    (task,) = case.ready_human_tasks()
    case.complete(task.id, {})
    case = reload(loaded, case)

    assert case.completed
    assert "paid" not in case.data
    with pytest.raises(TaskNotReady):
        case.complete(task.id, {})


def test_an_uncaught_error_end_event_does_not_stop_the_process(load_process, start_case):
    """Engine pitfall, pinned: with no boundary for BLOCKED the subprocess simply ends and the
    parent carries on along its normal flow, although the payment was never booked."""
    loaded = load_process("error_uncaught.bpmn")
    case = start_case(loaded, {"amount": 50, "limit": 100, "payee": "mallory"})

    (task,) = case.ready_human_tasks()
    assert task.name == "ship"
    assert "paid" not in task.data
    assert case.outgoing_messages() == []  # not surfaced as a message either
