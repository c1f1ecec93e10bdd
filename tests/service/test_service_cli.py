"""The command line: deploy (lint + versions), timers run-due --now, worker --once, demo."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from service.extensions import db
from service.instances.models import HumanTask
from service.modeler.models import ProcessModel, ProcessVersion
from service.org.models import OrgUnit, Person, User

DATA = Path(__file__).resolve().parent.parent / "data"


def test_deploy_all_then_unchanged(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["deploy"])
    assert first.exit_code == 0, first.output
    assert "approval v1 (new version" in first.output
    keys = set(db.session.scalars(select(ProcessModel.key)))
    assert {"approval", "deadline", "relay_sender", "relay_receiver"} <= keys
    second = runner.invoke(args=["deploy"])
    assert second.exit_code == 0
    assert "approval v1 (unchanged" in second.output
    assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == len(keys)


def test_deploy_reports_lint_errors_with_element_and_line(app, tmp_path):
    broken = tmp_path / "approval.bpmn"
    text = (DATA / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")
    broken.write_text(text.replace("urgent == True", "urgent ==== True"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["deploy", str(broken)])
    assert result.exit_code != 0
    assert "f_urgent" in result.output and "line" in result.output
    assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == 0


def test_deploy_changed_file_makes_version_two(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["deploy", str(DATA / "bpmn" / "approval.bpmn")]).exit_code == 0
    changed = tmp_path / "approval.bpmn"
    shutil.copy(DATA / "bpmn" / "approval.bpmn", changed)
    changed.write_text(changed.read_text(encoding="utf-8").replace("审核 Review", "审核 Review v2"), encoding="utf-8")
    result = runner.invoke(args=["deploy", str(changed), "--comment", "rename"])
    assert result.exit_code == 0, result.output
    assert "approval v2 (new version" in result.output
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.number == 2))
    assert version.comment == "rename"


def test_timers_run_due_with_now(app, college, deploy):
    from service.instances.operations import start_instance

    deploy("deadline")
    start_instance(None, "deadline", "TZB-JX2301")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["timers", "run-due", "--now", "2099-01-01T00:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "fired 1 instance(s)" in result.output
    assert db.session.scalar(select(HumanTask.name).where(HumanTask.status == "ready")) == "escalated"


def test_now_needs_the_override(app):
    app.config["ALLOW_CLOCK_OVERRIDE"] = False
    result = app.test_cli_runner().invoke(args=["timers", "run-due", "--now", "2099-01-01T00:00:00"])
    assert result.exit_code != 0
    assert "ALLOW_CLOCK_OVERRIDE" in result.output


def test_worker_once(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0
    assert "worker stopped" in result.output


def test_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    people = db.session.scalar(select(func.count()).select_from(Person))
    branches = db.session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.kind == "league_branch"))
    assert people >= 300 and branches == 12
    # every League branch is paired with a Party branch
    assert db.session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.kind == "league_branch", OrgUnit.paired_with_id.is_(None))) == 0
    users = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "already present" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_demo_users_can_log_in(app, client):
    app.test_cli_runner().invoke(args=["demo"])
    response = client.post("/api/v1/auth/token", json={"username": "jx2301_shuji", "password": "demo1234"})
    assert response.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.get_json()['token']}"}).get_json()
    assert {"role": "league_branch_secretary", "org_unit": "TZB-JX2301"} in me["roles"]


def test_demo_cases_on_the_real_processes(app):
    """`make run`: deploy bpmn/ and load the demo: cases of every process at several stages, none broken."""
    from service.instances.models import Instance

    root = DATA.parent.parent
    app.config.update(BPMN_DIR=str(root / "bpmn"), FORMS_DIR=str(root / "forms"))
    runner = app.test_cli_runner()
    deployed = runner.invoke(args=["deploy"])
    assert deployed.exit_code == 0, deployed.output
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    rows = db.session.execute(select(Instance.process_key, Instance.status, Instance.milestone)).all()
    deployed_keys = set(db.session.scalars(select(ProcessModel.key)))
    assert {"recommendation", "branch_assessment", "rectification"} <= deployed_keys
    assert {key for key, _, _ in rows} == deployed_keys  # the demo shows cases of every process
    assert not [r for r in rows if r.status == "error"]
    for key in deployed_keys:  # each at more than one stage
        assert len({(status, milestone) for k, status, milestone in rows if k == key}) >= 2, key
    stages = {milestone for key, _, milestone in rows if key == "recommendation"}
    assert len(stages) >= 4, stages  # a living college: cases spread over the steps
    assert any(status == "completed" for _, status, _ in rows)
    # the people involved find work in their inbox
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready")) > 20
