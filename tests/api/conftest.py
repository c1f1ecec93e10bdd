"""Fixtures for the HTTP API tests: a small cast of users with tokens, the approval process deployed,
and a way to read the database's real state (bypassing the request session's identity map)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import CANDIDATE, OTHER_BRANCH_PERSON, World


@pytest.fixture
def people(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any]) -> None:
    make_person(CANDIDATE, "张三", "TZB-JX2301")
    make_person("2023010102", "李四", "TZB-JX2301")
    make_person(OTHER_BRANCH_PERSON, "王五", "TZB-JX2302")
    make_user("admin", [("admin", None)])
    make_user("zhangsan", [("member", None)], person=CANDIDATE)
    make_user("sec1", [("league_branch_secretary", "TZB-JX2301")], person="2023010102")
    make_user("sec1b", [("league_branch_secretary", "TZB-JX2301")])
    make_user("committee1", [("league_branch_committee", "TZB-JX2301")])
    make_user("sec2", [("league_branch_secretary", "TZB-JX2302")])
    make_user("wangwu", [("member", None)], person=OTHER_BRANCH_PERSON)


USERS = ("admin", "zhangsan", "sec1", "sec1b", "committee1", "sec2", "wangwu")


@pytest.fixture
def world(people: None, client: Any, login: Callable[[str], dict[str, str]], deploy: Callable[..., Any]) -> World:
    deploy("approval")
    return World(client, {name: login(name) for name in USERS})


@pytest.fixture
def raw_db(app: Any) -> Iterator[sa.Engine]:
    """A separate engine on the test database: it sees only what was committed."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    yield engine
    engine.dispose()


@pytest.fixture
def db_state(raw_db: sa.Engine) -> Callable[[int], dict[str, Any]]:
    """db_state(instance_id) -> every committed row that a step of that case may touch."""

    def snapshot(instance_id: int) -> dict[str, Any]:
        with raw_db.connect() as conn:
            instance = conn.execute(sa.text("SELECT * FROM instance WHERE id = :i"), {"i": instance_id}).mappings().one()
            tasks = conn.execute(sa.text("SELECT * FROM human_task WHERE instance_id = :i ORDER BY id"),
                                 {"i": instance_id}).mappings().all()
            audit = conn.execute(sa.text("SELECT id, action, task_id FROM audit_event ORDER BY id")).all()
            waits = conn.execute(sa.text("SELECT name FROM message_wait WHERE instance_id = :i ORDER BY name"),
                                 {"i": instance_id}).all()
            instances = conn.execute(sa.text("SELECT count(*) FROM instance")).scalar_one()
        return {"instance": dict(instance), "tasks": [dict(t) for t in tasks], "audit": [tuple(a) for a in audit],
                "waits": [tuple(w) for w in waits], "instances": instances}

    return snapshot
