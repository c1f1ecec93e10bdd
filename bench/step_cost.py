"""Issue 8: the cost of completing a task as a case grows — the 1st vs the 100th progress report of
one long rectification (整改), through the service's operations with a commit per step. Also the
database bytes per finished case.

Workload: the real bpmn/rectification.bpmn with the policy `max_progress_reports` raised so that one
round takes `--steps` reports; each step is `complete_task` + commit (what a request does, minus
HTTP), timed on its own; the state size after each step is recorded. Then `--cases` short
rectifications are run to their end and the database growth per finished case is measured.

    python bench/step_cost.py [--steps 100] [--cases 50] [--database postgresql://...]

Verdict: "flat" when the median of the last 10 steps costs < 2x the median of steps 2–11.
Exit status: 0 flat, 2 growing, 1 wrong result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

PROBLEMS = ["组织生活不规范", "团员教育管理薄弱", "推优程序不完整"]
MEASURES = [{"problem": i, "measure": f"整改措施 {i}", "deadline": "2027-01-31", "owner": "李四"} for i in range(3)]


def _actor():  # type: ignore[no-untyped-def]
    from service.auth.actor import Actor

    return Actor(user_id=1, username="admin", person_id=None, roles=frozenset({
        ("admin", None), ("league_branch_secretary", "TZB-000"), ("league_general_branch_secretary", "TZZ"),
        ("party_general_branch_secretary", "DZZ")}))


def _ready(instance_id: int, name: str) -> str:
    from sqlalchemy import select

    from service.extensions import db
    from service.instances.models import HumanTask

    task_id = db.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.name == name, HumanTask.status == "ready"))
    if task_id is None:
        names = db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.status == "ready")).all()
        raise RuntimeError(f"{name} is not ready; ready: {names}")
    return task_id


def _step(instance_id: int, name: str, data: dict) -> float:  # type: ignore[type-arg]
    from service.extensions import db
    from service.instances.operations import complete_task

    start = time.perf_counter()
    complete_task(_actor(), _ready(instance_id, name), data)
    db.session.commit()
    return time.perf_counter() - start


def _start(deadline: str) -> int:
    from service.extensions import db
    from service.instances.operations import start_instance

    instance = start_instance(None, "rectification", "TZB-000", extra={
        "problems": PROBLEMS, "deadline": deadline, "issuer": "league_general_branch"})
    db.session.commit()
    _step(instance.id, "acknowledge", {"acknowledged": True, "note": "已收到"})
    _step(instance.id, "plan", {"measures": MEASURES})
    _step(instance.id, "plan_review", {"decision": "approve", "comment": ""})
    return instance.id


def _state_bytes(instance_id: int) -> int:
    from service.extensions import db
    from service.instances.models import Instance

    return len(db.session.get(Instance, instance_id, populate_existing=True).state.encode())


def long_case(steps: int) -> tuple[list[float], list[int]]:
    times, sizes = [], []
    instance_id = _start(date(2030, 12, 31).isoformat())
    for i in range(steps):
        times.append(_step(instance_id, "progress_report", {"done": [], "report": f"第 {i + 1} 期进展",
                                                            "evidence": "会议记录"}))
        sizes.append(_state_bytes(instance_id))
    return times, sizes


def _database_bytes(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            if url.startswith("postgresql"):
                return c.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
            c.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            pages = c.execute(sa.text("PRAGMA page_count")).scalar_one()
            free = c.execute(sa.text("PRAGMA freelist_count")).scalar_one()
            size = c.execute(sa.text("PRAGMA page_size")).scalar_one()
            return (pages - free) * size
    finally:
        engine.dispose()


def finished_cases(url: str, count: int) -> tuple[float, dict[str, int]]:
    from sqlalchemy import func, select

    from service.extensions import db
    from service.instances.models import Instance

    db.session.remove()
    before = _database_bytes(url)
    for _ in range(count):
        instance_id = _start(date(2030, 12, 31).isoformat())
        _step(instance_id, "progress_report", {"done": [0, 1, 2], "report": "全部完成", "evidence": "台账"})
        _step(instance_id, "completion_report", {"report": "三个问题均已整改到位", "evidence": "整改台账"})
        _step(instance_id, "acceptance", {"accepted": [0, 1, 2], "decision": "close", "comment": ""})
    outcomes = dict(db.session.execute(select(Instance.status, func.count()).group_by(Instance.status)).all())
    db.session.remove()
    return (_database_bytes(url) - before) / count, outcomes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--database", default=None, help="PostgreSQL server URL (default: a SQLite file)")
    args = ap.parse_args(argv)
    common.exit_on_sigterm()
    print(f"== step cost as a rectification grows, bytes per finished case ({common.machine()}) ==")
    print(common.load_average() + " at start")
    url = common.fresh_database("steps", server=args.database)
    try:
        app = common.make_app(url, BPMN_DIR=str(common.ROOT / "bpmn"), FORMS_DIR=str(common.ROOT / "forms"))
        common.migrate(app)
        common.seed_org(app, league_branches=5, members=1)
        with app.app_context():
            from service import clock
            from service.extensions import db
            from service.instances.models import Policy
            from service.modeler.operations import deploy_bpmn

            deploy_bpmn((common.ROOT / "bpmn" / "rectification.bpmn").read_bytes(), filename="rectification.bpmn")
            db.session.add(Policy(process_key="rectification", key="max_progress_reports",
                                  value={"value": args.steps + 10}, updated_by=None, updated_at=clock.now()))
            db.session.commit()
            print(f"database: {common.describe_database(url)}")
            times, sizes = long_case(args.steps)
            early = statistics.median(times[1:11])
            late = statistics.median(times[-10:])
            for n in (1, 2, 10, 25, 50, 75, args.steps):
                if n <= len(times):
                    print(f"  report {n:>3}: {1000 * times[n - 1]:7.2f} ms   state {sizes[n - 1] / 1024:8.1f} KiB")
            growth = late / early
            verdict = "flat" if growth < 2 else "GROWING"
            print(f"median of reports 2–11: {1000 * early:.2f} ms; of the last 10: {1000 * late:.2f} ms "
                  f"→ {growth:.2f}x ({verdict}); state grows {(sizes[-1] - sizes[0]) / max(len(sizes) - 1, 1) / 1024:.1f}"
                  f" KiB per report")
            per_case, outcomes = finished_cases(url, args.cases)
            print(f"database bytes per finished case (acknowledge → plan → review → 1 report → completion → "
                  f"acceptance, {args.cases} cases): {per_case / 1024:.1f} KiB  (instances by status: {outcomes})")
        print(common.load_average() + " at end")
        if outcomes.get("completed", 0) < args.cases:
            print("WRONG: not every short case finished")
            return 1
        return 0 if growth < 2 else 2
    finally:
        common.remove_database(url)


if __name__ == "__main__":
    sys.exit(main())
