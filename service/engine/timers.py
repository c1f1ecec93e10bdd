"""Timer support: the engine reads the service clock, and timer literals are checked at deploy."""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from service import clock


class _ClockDatetime(datetime):
    """datetime whose now() is the service clock (so tests and `--now` move engine timers too)."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = clock.now()
        return current.astimezone(tz) if tz else current.replace(tzinfo=None)


def install_clock() -> None:
    spiff_timer.datetime = _ClockDatetime  # type: ignore[misc]


def validate_timer_literal(kind: str, value: str) -> str | None:
    """Return a problem description, or None when SpiffWorkflow can use the value."""
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:  # the engine raises ValueError/TypeError/AttributeError variously
        return f"not a valid ISO 8601 {kind} ({exc.__class__.__name__}) / 不是有效的 ISO 8601 时间表达式"
    return None


def parse_due(value: object) -> datetime | None:
    """A pending timer's due time from waiting_events() details."""
    if isinstance(value, dict):  # cycle timers: {'cycles', 'next', 'duration'}
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        due = TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None
    return datetime.combine(due.date(), due.time(), due.tzinfo)  # a plain datetime, not the clock subclass
