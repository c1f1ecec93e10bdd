"""The service's single notion of "now".

Production reads the system clock. Tests and `timers run-due --now` (only where the config sets
ALLOW_CLOCK_OVERRIDE) move it with `frozen_at(...)`; the engine's timer code reads the same clock.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime

_override: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("clock_override", default=None)


def now() -> datetime:
    """Timezone-aware current time (UTC)."""
    return _override.get() or datetime.now(UTC)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    token = _override.set(moment)
    try:
        yield
    finally:
        _override.reset(token)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 Aug + 6 -> 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
