"""The service's single notion of "now".

Production reads the system clock. Tests and `timers run-due --now` (only where the config sets
ALLOW_CLOCK_OVERRIDE) move it with `frozen_at(...)`; the engine's timer code reads the same clock.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime

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


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
