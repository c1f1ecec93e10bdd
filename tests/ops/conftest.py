"""Fixtures for the ops tests: a branch secretary and an admin, the deadline process deployed, and cases
started two days ago (so their reminder and deadline timers are due by the real clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from ops_support import RequestContextClient

from service import clock

BRANCH = "TZB-JX2301"


@pytest.fixture
def page_client(app: Any) -> FlaskClient:
    app.test_client_class = RequestContextClient
    return app.test_client()


@pytest.fixture
def cast(college: Any, make_user: Callable[..., Any], deploy: Callable[..., Any]) -> dict[str, Any]:
    users = {"sec": make_user("sec", [("league_branch_secretary", BRANCH)]),
             "admin": make_user("boss", [("admin", None)])}
    deploy("deadline")
    return users


@pytest.fixture
def started_at() -> Any:
    return clock.now().replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def start_deadline(cast: dict[str, Any], started_at: Any) -> Callable[[], int]:
    """start_deadline() -> the id of a deadline case started two days ago (committed)."""
    from service.extensions import db
    from service.instances.operations import start_instance

    def start() -> int:
        with clock.frozen_at(started_at):
            instance = start_instance(None, "deadline", BRANCH)
            db.session.commit()
        return instance.id

    return start
