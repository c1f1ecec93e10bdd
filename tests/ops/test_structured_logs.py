"""One JSON line per request on the "service.access" logger, with the request id echoed in X-Request-Id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from ops_support import sign_in

from service.ops.logging import ACCESS_LOGGER


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(json.loads(record.getMessage()))  # each line must be JSON on its own


@pytest.fixture
def access_log() -> Iterator[Lines]:
    logger = logging.getLogger(ACCESS_LOGGER)
    handler, level, disabled = Lines(), logger.level, logger.disabled
    logger.disabled = False  # alembic's fileConfig (the migrations of the test database) disables loggers
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.disabled = disabled


def test_a_request_logs_one_json_line(client, access_log):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.1"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.1"
    assert len(access_log.records) == 1
    line = access_log.records[0]
    assert {k: line[k] for k in ("method", "path", "status", "user_id", "request_id")} == {
        "method": "GET", "path": "/healthz", "status": 200, "user_id": None, "request_id": "lb-7f3a.1"}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_an_unusable_request_id_is_replaced(client, access_log):
    response = client.get("/healthz", headers={"X-Request-Id": "<script> and spaces" + "x" * 200})
    rid = response.headers["X-Request-Id"]
    assert len(rid) == 32 and rid.isalnum()
    assert access_log.records[-1]["request_id"] == rid
    other = client.get("/healthz").headers["X-Request-Id"]
    assert other != rid  # a new one per request


def test_the_api_caller_and_errors_are_logged(client, login, cast, access_log):
    headers = login("sec")
    client.get("/api/v1/me", headers=headers)
    client.get("/api/v1/instances/424242", headers=headers)
    me, missing = access_log.records[-2:]
    assert (me["path"], me["status"], me["user_id"]) == ("/api/v1/me", 200, cast["sec"].id)
    assert (missing["status"], missing["user_id"]) == (404, cast["sec"].id)
    client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert (access_log.records[-1]["status"], access_log.records[-1]["user_id"]) == (401, None)


def test_the_signed_in_page_user_is_logged(page_client, cast, access_log):
    sign_in(page_client, "boss")
    page_client.get("/admin/incidents")
    line = access_log.records[-1]
    assert (line["path"], line["status"], line["user_id"]) == ("/admin/incidents", 200, cast["admin"].id)
