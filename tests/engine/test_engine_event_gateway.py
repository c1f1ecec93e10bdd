"""An event-based gateway (public notice: the period ends, or an objection arrives first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import clock

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _start(load_process, start_case):
    loaded = load_process("event_gateway.bpmn")
    with clock.frozen_at(T0):
        return loaded, start_case(loaded)


def test_gateway_reports_its_timer_and_message(load_process, start_case, reload):
    loaded, case = _start(load_process, start_case)
    case = reload(loaded, case)
    assert case.next_timer_due() == T0 + timedelta(days=5)
    assert case.waiting_messages() == {"objection"}


def test_message_wins_before_the_timer(load_process, start_case, reload):
    loaded, case = _start(load_process, start_case)
    case = reload(loaded, case)
    case.deliver_message("objection", {"reason": "不属实"})
    assert [t.name for t in case.ready_human_tasks()] == ["investigate"]
    assert case.ready_human_tasks()[0].data["objection"] == {"reason": "不属实"}
    assert case.next_timer_due() is None


def test_timer_wins_when_no_objection(load_process, start_case, reload):
    loaded, case = _start(load_process, start_case)
    case = reload(loaded, case)
    with clock.frozen_at(T0 + timedelta(days=5, seconds=1)):
        case.fire_due_timers()
    assert [t.name for t in case.ready_human_tasks()] == ["review"]
    assert case.waiting_messages() == set()
