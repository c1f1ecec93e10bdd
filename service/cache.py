"""Tiny per-app caches with a time-to-live, for data that changes rarely and is read on every request
(the org tree, a token's roles). Each process has its own; a short TTL bounds how stale they get."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app


class TTLCache:
    def __init__(self, ttl: float, max_items: int = 10_000):
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = load()
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def app_cache(name: str) -> TTLCache:
    caches: dict[str, TTLCache] = current_app.extensions.setdefault("ttl_caches", {})
    cache = caches.get(name)
    if cache is None:
        ttl = float(current_app.config.get("CACHE_TTL_SECONDS", 5.0))
        cache = caches.setdefault(name, TTLCache(ttl))
    return cache


def invalidate(name: str) -> None:
    caches: dict[str, TTLCache] = current_app.extensions.get("ttl_caches", {})
    if name in caches:
        caches[name].clear()
