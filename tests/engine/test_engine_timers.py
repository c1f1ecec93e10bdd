"""Boundary timers on a user task: non-interrupting reminder, interrupting deadline, cycles.

Time is moved with service.clock.frozen_at, which the engine's timer code reads (engine/timers.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service import clock
from service.engine import TaskNotReady

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _start(load_process, engine, reload, name="timers.bpmn", data=None):
    loaded = load_process(name)
    with clock.frozen_at(T0):
        case = engine.start(loaded, data if data is not None else {"deadline_days": 5})
        case.run()
    return loaded, reload(loaded, case)


def _fire_at(moment, case):
    with clock.frozen_at(moment):
        case.fire_due_timers()


def _tasks(case):
    return {t.name: t for t in case.ready_human_tasks()}


def test_due_and_reminder_times_are_fixed_when_the_task_is_reached(load_process, engine, reload):
    _, case = _start(load_process, engine, reload)

    (review,) = case.ready_human_tasks()
    assert review.name == "review"
    assert review.due_at == T0 + 5 * DAY  # interrupting boundary timer = deadline (expression f"P{deadline_days}D")
    assert review.reminders == [T0 + 2 * DAY]  # non-interrupting boundary timer = reminder
    assert case.next_timer_due() == T0 + 2 * DAY  # the earliest pending timer


def test_timer_expression_uses_case_data(load_process, engine, reload):
    _, case = _start(load_process, engine, reload, data={"deadline_days": 1})

    (review,) = case.ready_human_tasks()
    assert review.due_at == T0 + DAY
    assert case.next_timer_due() == T0 + DAY  # the deadline is now earlier than the reminder


def test_due_times_survive_serialization_and_a_later_restore(load_process, engine, reload):
    loaded, case = _start(load_process, engine, reload)
    state = case.state_json()

    with clock.frozen_at(T0 + DAY):  # restoring later must not recompute "now + P5D"
        restored = engine.restore(loaded, state)
        (review,) = restored.ready_human_tasks()
        assert review.due_at == T0 + 5 * DAY
        assert review.reminders == [T0 + 2 * DAY]
        assert restored.next_timer_due() == T0 + 2 * DAY


def test_nothing_fires_before_it_is_due(load_process, engine, reload):
    loaded, case = _start(load_process, engine, reload)
    review_id = case.ready_human_tasks()[0].id

    _fire_at(T0 + 2 * DAY - timedelta(seconds=1), case)
    case = reload(loaded, case)

    assert [t.id for t in case.ready_human_tasks()] == [review_id]
    assert case.next_timer_due() == T0 + 2 * DAY
    assert _tasks(case)["review"].reminders == [T0 + 2 * DAY]


def test_reminder_opens_a_parallel_path_and_keeps_the_task(load_process, engine, reload):
    loaded, case = _start(load_process, engine, reload)
    review_id = case.ready_human_tasks()[0].id

    _fire_at(T0 + 3 * DAY, case)
    case = reload(loaded, case)

    tasks = _tasks(case)
    assert set(tasks) == {"review", "chase"}
    assert tasks["review"].id == review_id  # not interrupted
    assert tasks["chase"].lane == "secretary"
    assert tasks["review"].reminders == []  # the reminder has fired
    assert tasks["review"].due_at == T0 + 5 * DAY
    assert case.next_timer_due() == T0 + 5 * DAY


def test_deadline_cancels_the_task_and_opens_the_escalation(load_process, engine, reload):
    loaded, case = _start(load_process, engine, reload)
    review_id = case.ready_human_tasks()[0].id

    _fire_at(T0 + 6 * DAY, case)  # both the reminder and the deadline are past
    case = reload(loaded, case)

    tasks = _tasks(case)
    assert "review" not in tasks
    assert set(tasks) == {"escalate", "chase"}
    assert tasks["escalate"].lane == "director"
    assert case.next_timer_due() is None
    with pytest.raises(TaskNotReady):  # the cancelled task cannot be completed any more
        case.complete(review_id, {"decision": "too late"})

    case.complete(tasks["escalate"].id, {"escalated": True})
    case.complete(tasks["chase"].id, {})
    assert case.completed
    assert case.data.get("decision") is None


def test_completing_in_time_cancels_both_timers(load_process, engine, reload):
    loaded, case = _start(load_process, engine, reload)
    (review,) = case.ready_human_tasks()

    with clock.frozen_at(T0 + DAY):
        case.complete(review.id, {"decision": "ok"})
    case = reload(loaded, case)

    assert case.completed
    assert case.ready_human_tasks() == []
    assert case.next_timer_due() is None
    _fire_at(T0 + 10 * DAY, case)  # nothing left to fire
    assert case.ready_human_tasks() == []
    assert case.data["decision"] == "ok"


def test_cycle_reminder_fires_the_given_number_of_times(load_process, engine, reload):
    loaded, case = _start(load_process, engine, reload, name="timers_cycle.bpmn", data={})
    assert _tasks(case)["review"].reminders == [T0 + DAY]
    assert _tasks(case)["review"].due_at is None  # no interrupting timer
    assert case.next_timer_due() == T0 + DAY

    _fire_at(T0 + DAY + timedelta(hours=1), case)
    case = reload(loaded, case)
    names = [t.name for t in case.ready_human_tasks()]
    assert sorted(names) == ["nudge", "review"]
    assert case.next_timer_due() == T0 + 2 * DAY  # the next repetition

    _fire_at(T0 + 2 * DAY + timedelta(hours=1), case)
    case = reload(loaded, case)
    assert sorted(t.name for t in case.ready_human_tasks()) == ["nudge", "nudge", "review"]

    _fire_at(T0 + 9 * DAY, case)  # R2: no third repetition, however late
    case = reload(loaded, case)
    assert sorted(t.name for t in case.ready_human_tasks()) == ["nudge", "nudge", "review"]
    assert case.next_timer_due() is None
    assert _tasks(case)["review"].reminders == []
