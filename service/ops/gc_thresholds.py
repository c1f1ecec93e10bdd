"""The garbage collector's thresholds of a gunicorn web worker (service/gunicorn_conf.py).

A step allocates tens of thousands of short-lived container objects (the case's task tree as it is read,
run and written) and leaves almost no cyclic garbage (about 270 objects per case). With Python's default
thresholds (700, 10, 10) the collector ran 617 times per 935 requests, 3 of them full walks of the heap,
about 0.3 ms per request; with (50000, 20, 20) 8 times, 0.14 ms (bench/README.md, session 4). The timer
worker keeps Python's: draining 2,000 due timers took as long with either (bench/timer_backlog.py).
GC_THRESHOLD="a,b,c" sets others; GC_THRESHOLD=default keeps Python's."""

from __future__ import annotations

import gc
import os

DEFAULT = "50000,20,20"


def apply_gc_thresholds(value: str | None = None) -> tuple[int, ...] | None:
    """Set the thresholds from `value` or GC_THRESHOLD (default DEFAULT); None if Python's are kept."""
    wanted = (value if value is not None else os.environ.get("GC_THRESHOLD", DEFAULT)).strip()
    if wanted == "default":
        return None
    try:
        parts = tuple(int(part) for part in wanted.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise ValueError(f"GC_THRESHOLD must be three positive integers or 'default', not {wanted!r}")
    gc.set_threshold(*parts)
    return parts
