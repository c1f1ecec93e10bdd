"""Issue 5: the tracking pages with 50,000 cases in the database render in under 200 ms server time.

Population (SQLite file under /tmp): the real bpmn/ processes deployed; 1 党总支, 40 党支部, 1 团总支,
200 团支部 with 25 people each; a real 团支部年度考核 campaign over the 200 branches launched and driven
through the real operations (150 branches self-assessed and reviewed by two reviewers, 50 left at an
overdue self-assessment); then, written straight into the tables with bulk inserts, the rest up to
`--instances` (default 50,000) cases:
- 推优入党 cases about the people, started 2023–2026, each advanced to a random stage (completed task rows
  for the steps done, one ready task for running ones, some overdue), finished ones with an outcome;
- three finished assessment campaigns (2022–2024) of the 200 branches, with grades;
- rectification cases of the branches, open, overdue, closed or terminated.
Bulk-written cases carry a placeholder state ("{}"); the pages measured here read the task and case
tables (the campaign board restores its 200 real cases, cached per revision).

The general branch secretary signs in through the real /login form; each page is requested `--reps`
times (after one untimed request: the first, cold figure is printed too) with the Flask test client,
timing the whole request in this process.

    python bench/tracking_pages.py [--instances 50000] [--reps 20]

Exit status: 0 every page's p95 under the target, 2 a page missed it, 1 a page failed or showed wrong numbers.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

TARGET_MS = 200.0
BRANCHES = 200
PEOPLE_PER_BRANCH = 25
CAMPAIGN_GRADED = 150
RECOMMENDATION_STEPS = [
    ("apply", "提交推优申请", "member"), ("committee_review", "团支部委员会审查", "league_branch_committee"),
    ("meeting_approval", "团总支批准召开推优大会", "league_general_branch_secretary"),
    ("meeting_record", "录入推优大会记录", "league_branch_secretary"),
    ("committee_opinion", "支委会组织意见", "league_branch_committee"),
    ("general_branch_review", "团总支审核", "league_general_branch_secretary"),
    ("party_branch_decision", "党支部研究决定", "party_branch_secretary"),
]
RECOMMENDATION_OUTCOMES = ["ineligible", "rejected", "rejected", "not_passed", "not_passed", "objection_upheld",
                           "rejected", "accepted"]  # by the step reached
RECTIFICATION_STEPS = [("acknowledge", "确认收到整改通知"), ("plan", "制定整改方案"), ("plan_review", "审核整改方案"),
                       ("progress_report", "报告整改进展"), ("completion_report", "提交整改完成报告"),
                       ("acceptance", "整改验收")]
GRADES = ["excellent", "good", "good", "fair", "fair", "fair", "lagging", "weak"]
CANDIDATE = "P000-00"  # the person whose page is measured (gets a handful of cases)


def _unit(branch: int) -> str:
    return f"TZB-{branch:03d}"


def _person(branch: int, k: int) -> str:
    return f"P{branch:03d}-{k:02d}"


def _scope(role: str, branch: int) -> str | None:
    if role in ("league_branch_secretary", "league_branch_committee", "member"):
        return None if role == "member" else _unit(branch)
    if role == "party_branch_secretary":
        return f"DZB-{branch // 5:03d}"
    return "TZZ"


def setup(app: Any) -> dict[str, Any]:
    """Org, people, users, the real processes, and the real campaign driven through the operations."""
    import sqlalchemy as sa
    from werkzeug.security import generate_password_hash

    from service import clock
    from service.auth.operations import actor_for
    from service.campaigns.operations import launch_campaign
    from service.extensions import db
    from service.instances.models import HumanTask
    from service.instances.operations import complete_task
    from service.modeler.operations import deploy_bpmn
    from service.org.models import OrgUnit, Person, RoleAssignment, User

    common.seed_org(app, league_branches=BRANCHES, members=0)
    pw_hash = generate_password_hash(common.PASSWORD, method=common.HASH_METHOD)
    with app.app_context():
        units = {u.code: u for u in db.session.scalars(sa.select(OrgUnit))}
        db.session.execute(sa.insert(Person), [
            {"id": _person(b, k), "name": f"学生{b}-{k}", "org_unit_id": units[_unit(b)].id, "league_member": True,
             "gender": "男", "birth_date": date(2004, 3, 1), "league_joined": date(2019, 5, 4),
             "party_status": "applicant", "party_applied": date(2024, 10, 10), "phone": "13800000000", "extra": {}}
            for b in range(BRANCHES) for k in range(PEOPLE_PER_BRANCH)])

        def user(name: str, roles: list[tuple[str, str | None]]) -> None:
            u = User(username=name, password_hash=pw_hash)
            for role, code in roles:
                u.roles.append(RoleAssignment(role=role, org_unit=units[code] if code else None))
            db.session.add(u)

        user("tzz_sec", [("league_general_branch_secretary", "TZZ")])
        user("rev1", [("league_general_branch_committee", "TZZ")])
        user("rev2", [("league_general_branch_committee", "TZZ")])
        user("counsellor", [("counsellor", _unit(b)) for b in range(5)])
        for b in range(BRANCHES):
            user(f"sec{b:03d}", [("league_branch_secretary", _unit(b))])
        db.session.commit()
        versions = {}
        for name in ("recommendation", "branch_assessment", "rectification"):
            xml = (common.ROOT / "bpmn" / f"{name}.bpmn").read_bytes()
            versions[name] = deploy_bpmn(xml, filename=f"{name}.bpmn").version.id
        db.session.commit()

        def actor(name: str) -> Any:
            return actor_for(db.session.scalars(sa.select(User).where(User.username == name)).one())

        launch = datetime(2026, 3, 2, 2, tzinfo=UTC)
        with clock.frozen_at(launch):
            campaign, _instances = launch_campaign(actor("tzz_sec"), "branch_assessment", 2025, date(2026, 4, 15),
                                                   ["rev1", "rev2"])
            db.session.commit()
        rng = random.Random(5)
        scores = {"committee_work": 25, "organisational_life": 25, "recommendation": 12, "registration": 8,
                  "activities": 12}
        for b in range(CAMPAIGN_GRADED):
            with clock.frozen_at(launch + timedelta(days=1 + b % 20)):
                for name, who in (("self_assessment", f"sec{b:03d}"), ("review", "rev1"), ("review", "rev2")):
                    reviewer = actor(who)
                    task = db.session.scalars(sa.select(HumanTask).where(
                        HumanTask.subject == _unit(b), HumanTask.status == "ready", HumanTask.name == name)
                        .order_by(HumanTask.assigned_user_id != reviewer.user_id)).first()
                    data: dict[str, Any] = {"scores": {k: max(0, v - rng.randrange(6)) for k, v in scores.items()}}
                    data.update({"evidence": "记录", "representative": "代表"} if name == "self_assessment"
                                else {"veto": False})
                    complete_task(reviewer, task.id, data)
                db.session.commit()
        # the candidate's own cases, real (their page restores each 推优 case): two finished, one under way
        from service.instances.operations import start_instance

        user("cand", [("member", None)])
        db.session.flush()
        db.session.scalars(sa.select(User).where(User.username == "cand")).one().person_id = CANDIDATE
        db.session.commit()
        for round_ in range(3):
            with clock.frozen_at(datetime(2024 + round_, 5, 10, 2, tzinfo=UTC)):
                case = start_instance(None, "recommendation", CANDIDATE, {})
                db.session.commit()
                apply = db.session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == case.id,
                                                                      HumanTask.status == "ready")).one()
                complete_task(actor("cand"), apply.id, {"statement": "我志愿加入中国共产党。"})
                db.session.commit()
        return {"versions": versions, "campaign": campaign.id}


def bulk_cases(app: Any, versions: dict[str, int], total: int, seed: int = 7) -> dict[str, int]:
    """The rest of the population, straight into the tables."""
    import sqlalchemy as sa

    from service.campaigns.models import Campaign
    from service.extensions import db
    from service.instances.models import HumanTask, Instance

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    with app.app_context():
        conn = db.session.connection()
        next_id = (conn.execute(sa.select(sa.func.max(Instance.id))).scalar() or 0) + 1
        existing = conn.execute(sa.select(sa.func.count()).select_from(Instance)).scalar() or 0
        instances: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []

        def flush(force: bool = False) -> None:
            if instances and (force or len(instances) >= 5000 or len(tasks) >= 20000):  # cases before their tasks
                conn.execute(sa.insert(Instance), instances)
                instances.clear()
            if tasks and (force or len(tasks) >= 20000):
                conn.execute(sa.insert(HumanTask), tasks)
                tasks.clear()

        def task(iid: int, process: str, subject: str, name: str, title: str, role: str, scope: str | None,
                 created: datetime, done: datetime | None, due: datetime | None = None) -> None:
            tasks.append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "engine_task_id": str(uuid.uuid4()),
                "instance_id": iid, "process_key": process, "name": name, "title": title, "lane_role": role,
                "scope_unit": scope, "subject": subject, "status": "completed" if done else "ready",
                "form_schema": f"{name}.schema.json", "due_at": due, "created_at": created, "completed_at": done})

        def case(process: str, kind: str, subject: str, unit: str, started: datetime, status: str,
                 outcome: str | None, milestone: str, campaign_id: int | None = None) -> int:
            nonlocal next_id
            iid, next_id = next_id, next_id + 1
            instances.append({
                "id": iid, "version_id": versions[process], "process_key": process, "subject_kind": kind,
                "subject": subject, "subject_unit": unit, "status": status, "outcome": outcome,
                "milestone": milestone, "state": "{}", "revision": 1, "summary": {}, "started_at": started,
                "updated_at": started, "completed_at": started + timedelta(days=60) if status != "running" else None,
                "campaign_id": campaign_id})
            return iid

        counts = {"recommendation": 0, "assessment": 0, "rectification": 0}
        # three finished campaigns, 2022-2024
        for year in (2022, 2023, 2024):
            cid = conn.execute(sa.insert(Campaign).values(
                process_key="branch_assessment", year=year, deadline=date(year + 1, 4, 15), status="confirmed",
                launched_at=datetime(year + 1, 3, 1), settings={"quotas": {"excellent": 0.2, "good": 0.6}})
            ).inserted_primary_key[0]
            for b in range(BRANCHES):
                started = datetime(year + 1, 3, 1, 2)
                grade = rng.choice(GRADES)
                iid = case("branch_assessment", "org_unit", _unit(b), _unit(b), started, "completed", grade,
                           f"已结束 completed: {grade}", cid)
                at = started
                for name, title, role in (("self_assessment", "支部自评", "league_branch_secretary"),
                                          ("review", "团总支评审", None), ("review", "团总支评审", None),
                                          ("confirm", "确认考核等级", "league_general_branch_secretary"),
                                          ("party_acceptance", "党总支审核", "party_general_branch_secretary")):
                    done = at + timedelta(hours=rng.randrange(2, 400))
                    task(iid, "branch_assessment", _unit(b), name, title, role,
                         "DZZ" if role == "party_general_branch_secretary" else _scope(role or "x", b), at, done)
                    at = done
                counts["assessment"] += 1
        flush()
        n_rect = max(0, (total - existing - counts["assessment"]) * 14 // 100)
        n_rec = total - existing - counts["assessment"] - n_rect
        for _ in range(n_rect):
            b = rng.randrange(BRANCHES)
            started = now - timedelta(days=rng.randrange(1, 1200))
            state = rng.random()
            status = "running" if state < 0.5 else "completed" if state < 0.9 else "terminated"
            reached = rng.randrange(1, len(RECTIFICATION_STEPS) + 1)
            iid = case("rectification", "org_unit", _unit(b), _unit(b), started, status,
                       "closed" if status == "completed" else "terminated" if status == "terminated" else None,
                       RECTIFICATION_STEPS[reached - 1][1] if status == "running" else "已结束 completed")
            at = started
            for index, (name, title) in enumerate(RECTIFICATION_STEPS[:reached]):
                last = index == reached - 1 and status == "running"
                done = None if last else at + timedelta(hours=rng.randrange(4, 800))
                due = at + timedelta(days=rng.randrange(5, 90)) if last and rng.random() < 0.7 else None
                role = "league_general_branch_secretary" if name in ("plan_review", "acceptance") else \
                    "league_branch_secretary"
                task(iid, "rectification", _unit(b), name, title, role, _scope(role, b), at, done, due)
                at = done or at
            counts["rectification"] += 1
            flush()
        for _ in range(n_rec):
            b, k = rng.randrange(BRANCHES), rng.randrange(1, PEOPLE_PER_BRANCH)  # the candidate's cases are real
            started = now - timedelta(days=rng.randrange(1, 1400), minutes=rng.randrange(1440))
            reached = rng.randrange(1, len(RECOMMENDATION_STEPS) + 1)
            running = rng.random() < 0.3
            status = "running" if running else "completed"
            outcome = None if running else ("accepted" if reached == len(RECOMMENDATION_STEPS) and rng.random() < 0.8
                                            else RECOMMENDATION_OUTCOMES[reached])
            iid = case("recommendation", "person", _person(b, k), _unit(b), started, status, outcome,
                       RECOMMENDATION_STEPS[reached - 1][1] if running else f"已结束 completed: {outcome}")
            at = started
            for index, (name, title, role) in enumerate(RECOMMENDATION_STEPS[:reached]):
                last = index == reached - 1 and running
                done = None if last else at + timedelta(hours=rng.randrange(1, 600))
                due = at + timedelta(days=rng.randrange(3, 30)) if last and rng.random() < 0.6 else None
                task(iid, "recommendation", _person(b, k), name, title, role, _scope(role, b), at, done, due)
                at = done or at
            counts["recommendation"] += 1
            flush()
        flush(force=True)
        db.session.commit()
        counts["instances"] = db.session.scalar(sa.select(sa.func.count()).select_from(Instance))
        counts["human_tasks"] = db.session.scalar(sa.select(sa.func.count()).select_from(HumanTask))
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    return counts


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = _CSRF.search(page)
    response = client.post("/login", data={"username": username, "password": common.PASSWORD,
                                            "csrf_token": token.group(1) if token else ""})
    if response.status_code != 302:
        raise RuntimeError(f"login failed for {username}: {response.status_code}")


def measure(client: Any, url: str, reps: int, statements: list[int]) -> tuple[float, list[float], int, str]:
    """The cold first request, `reps` timed requests after it, statements of the last, its body."""
    t0 = time.perf_counter()
    first = client.get(url)
    cold = time.perf_counter() - t0
    if first.status_code != 200:
        raise RuntimeError(f"GET {url}: {first.status_code} {first.get_data(as_text=True)[:300]}")
    times, body = [], ""
    for _ in range(reps):
        statements[0] = 0
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        body = response.get_data(as_text=True)
    return cold, times, statements[0], body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=50_000, help="cases in the database (default 50,000)")
    ap.add_argument("--reps", type=int, default=20, help="timed requests per page (default 20)")
    ap.add_argument("--keep", action="store_true", help="keep the database file (for profiling); prints its path")
    args = ap.parse_args(argv)
    if args.instances < 1000 or args.reps < 1:
        ap.error("--instances must be ≥ 1000 and --reps ≥ 1")
    common.exit_on_sigterm()
    print(f"== tracking pages, server time ({common.machine()}; SQLite; {common.load_average()}) ==")
    url = common.fresh_database("tracking")
    try:
        from sqlalchemy import event

        from service.extensions import db

        app = common.make_app(url, BPMN_DIR=str(common.ROOT / "bpmn"), FORMS_DIR=str(common.ROOT / "forms"))
        common.migrate(app)
        app.logger.disabled = False  # Alembic's logging set-up disables existing loggers: keep errors visible
        app.logger.addHandler(logging.StreamHandler())
        t0 = time.perf_counter()
        made = setup(app)
        t1 = time.perf_counter()
        counts = bulk_cases(app, made["versions"], args.instances)
        print(f"-- {counts['instances']:,} instances ({counts['recommendation']:,} 推优 bulk, {counts['assessment']:,} "
              f"past assessments, {counts['rectification']:,} rectifications, {BRANCHES} in the live campaign), "
              f"{counts['human_tasks']:,} human_task rows; campaign driven in {t1 - t0:.1f}s, "
              f"bulk rows in {time.perf_counter() - t1:.1f}s")
        statements = [0]
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1))
        client = app.test_client()
        sign_in(client, "tzz_sec")
        year = datetime.now(UTC).year
        pages = [
            ("candidate page", f"/people/{CANDIDATE}", "学生0-0"),
            ("campaign page, 200 branches", f"/campaigns/{made['campaign']}", 'data-subject="TZB-199"'),
            ("campaign page, sorted + filtered", f"/campaigns/{made['campaign']}?sort=aggregate&order=desc&overdue=0",
             'data-subject="TZB-000"'),
            ("dashboards page (all five)", f"/dashboards?year={year}", "推优漏斗"),
            *[(f"dashboard API: {name}", f"/api/v1/dashboards/{name}?year={year}", '"name"')
              for name in ("funnel", "grades", "overdue", "step_times", "rectifications")],
            ("search: running 推优, page 1", "/search?process=recommendation&status=running", "搜索结果"),
            ("search: by step + dates", "/search?step=committee_review&started_from=2025-01-01", "搜索结果"),
        ]
        ok, missed = True, False
        print(f"\n{'page':<36} {'cold ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>4}")
        for label, path, expect in pages:
            cold, times, n_sql, body = measure(client, path, args.reps, statements)
            ms = [t * 1000 for t in times]
            p50, p95 = common.percentile(ms, 50), common.percentile(ms, 95)
            flag = "" if p95 < TARGET_MS else "  MISSED"
            if expect not in body:
                ok, flag = False, flag + "  WRONG CONTENT"
            missed |= p95 >= TARGET_MS
            print(f"{label:<36} {cold * 1000:8.1f} {p50:8.1f} {p95:8.1f} {max(ms):8.1f} {n_sql:4d}{flag}")
        client = app.test_client()
        sign_in(client, "counsellor")
        cold, times, n_sql, body = measure(client, f"/dashboards?year={year}", args.reps, statements)
        ms = [t * 1000 for t in times]
        print(f"{'dashboards page, counsellor (scoped)':<36} {cold * 1000:8.1f} {common.percentile(ms, 50):8.1f} "
              f"{common.percentile(ms, 95):8.1f} {max(ms):8.1f} {n_sql:4d}")
        missed |= common.percentile(ms, 95) >= TARGET_MS
        print(f"\ntarget: p95 < {TARGET_MS:.0f} ms per page: {'met' if not missed else 'MISSED'}")
        with app.app_context():
            db.engine.dispose()
    finally:
        if args.keep:
            print(f"database kept: {url}")
        else:
            common.remove_database(url)
    if not ok:
        return 1
    return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
