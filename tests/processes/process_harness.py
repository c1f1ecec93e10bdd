"""What the three process harnesses share: Beijing time for the service clock, and the service's own
check of submitted task data (defaults filled in, then validated against the task's real form)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from service.instances.validation import apply_defaults, validate_task_data

BEIJING = timedelta(hours=8)


def beijing(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A moment given in Beijing time, as the UTC datetime the service clock uses."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC) - BEIJING


class FormRejected(AssertionError):
    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__(problems)
        self.problems = problems

    @property
    def fields(self) -> set[str]:
        return {p["field"] for p in self.problems}


def checked_submission(schema: dict[str, Any], data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The data as the service would complete the task with it, or FormRejected with its problems."""
    submitted = apply_defaults(schema, dict(data or {}))
    problems = validate_task_data(schema, submitted)
    if problems:
        raise FormRejected(problems)
    return submitted
