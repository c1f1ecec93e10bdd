"""The step's rows written with plain statements (service/instances/rows.py) behave like the ORM's flush:
the revision check holds, a rollback forgets what was inserted, and the session is left clean."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.instances.operations import complete_task, start_instance
from service.instances.rows import write_rows


@pytest.fixture
def member(college, make_person, make_user):
    make_person("2023010101", "张三", "TZB-JX2301")
    return make_user("zhang", person="2023010101")


@pytest.fixture
def case(member, deploy):
    deploy("approval")
    instance = start_instance(None, "approval", "2023010101")
    db.session.commit()
    return instance


def _revision(instance_id: int) -> int:
    return db.session.execute(sa.text("SELECT revision FROM instance WHERE id = :i"), {"i": instance_id}).scalar_one()


def test_a_step_writes_its_rows_and_leaves_the_session_clean(case, member):
    from service.auth.operations import actor_for

    before = _revision(case.id)
    task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id, HumanTask.status == "ready"))
    complete_task(actor_for(member), task.id, {"reason": "理由 reason", "urgent": False})
    assert not db.session.dirty and not db.session.new  # nothing left for the ORM's flush
    assert _revision(case.id) == before + 1 == case.revision  # one UPDATE, revision checked and bumped
    ready = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                       HumanTask.status == "ready")).all()
    assert [t.name for t in ready] == ["review"]
    assert ready[0] in db.session and ready[0].claimed_by is None  # persistent, every column set
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Instance, case.id)
    assert stored.revision == before + 1 and stored.state == case.state


def test_a_row_changed_by_someone_else_is_a_conflict(case):
    db.session.execute(sa.text("UPDATE instance SET revision = revision + 1 WHERE id = :i"), {"i": case.id})
    case.milestone = "changed here"
    with pytest.raises(StaleDataError):
        write_rows(Instance)
    db.session.rollback()


def test_a_rollback_forgets_the_rows_inserted(member, deploy):
    deploy("approval")
    instance = start_instance(None, "approval", "2023010101")
    rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert rows and instance in db.session
    db.session.rollback()
    assert instance not in db.session and all(row not in db.session for row in rows)  # as after an ORM flush
    assert db.session.scalar(select(sa.func.count()).select_from(Instance)) == 0
    again = start_instance(None, "approval", "2023010101")  # may reuse the id on SQLite
    db.session.commit()
    assert db.session.get(Instance, again.id) is again
