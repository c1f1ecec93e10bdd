"""Structured request logs: one JSON line per request on the "service.access" logger, and a request id
(the caller's X-Request-Id when it looks sane, else a new one) echoed in the response header."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, g, request, session

ACCESS_LOGGER = "service.access"
REQUEST_ID_HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = logging.getLogger(ACCESS_LOGGER)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn and test runners replace it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def request_id() -> str:
    rid = request.environ.get("ops.request_id")
    if rid is None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        rid = request.environ["ops.request_id"] = sent if _SANE_ID.match(sent) else uuid.uuid4().hex
    return rid


def _user_id() -> int | None:
    actor = g.get("actor") or g.get("page_actor")
    if actor is not None:
        return actor.user_id
    return session.get("user_id") if request.cookies else None  # a page whose actor was not needed


def access_record(status: int, duration_ms: float) -> dict[str, Any]:
    return {"ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": "info", "event": "request",
            "method": request.method, "path": request.path, "status": status,
            "duration_ms": round(duration_ms, 2), "user_id": _user_id(), "request_id": request_id(),
            "remote_addr": request.remote_addr}


def init_logging(app: Flask) -> None:
    wanted = app.config.get("ACCESS_LOG", os.environ.get("ACCESS_LOG", "1") != "0")  # ACCESS_LOG=0: silent
    if wanted and not app.testing and not log.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # one line, not also the root logger's copy

    @app.before_request
    def _take_request_id() -> None:
        request.environ["ops.started"] = time.perf_counter()
        request_id()

    @app.after_request
    def _log_request(response: Any) -> Any:
        started = request.environ.get("ops.started", time.perf_counter())
        response.headers[REQUEST_ID_HEADER] = request_id()
        if log.isEnabledFor(logging.INFO):
            record = access_record(response.status_code, (time.perf_counter() - started) * 1000)
            log.info(json.dumps(record, ensure_ascii=False, default=str))
        return response
