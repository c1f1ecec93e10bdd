"""Issue 8: launching a branch-assessment campaign for 1,000 League branches — target < 3 s.

The real bpmn/branch_assessment.bpmn (with its DMN and forms) is deployed into a fresh database with
1,000 League branches (and their Party branches) and two reviewers. The timed part is what
`POST /api/v1/campaigns` does in one transaction: `launch_campaign` (eligibility, one case per
branch run to its first wait state, human tasks, audit) plus the commit. A second, smaller campaign
for another year is timed first as a warm-up (spec cache, imports).

    python bench/campaign_launch.py [--branches 1000] [--database postgresql://...]

Exit status: 0 target met, 2 target missed, 1 wrong result.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

TARGET_SECONDS = 3.0


def _add_reviewers(app, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    from service.extensions import db
    from service.org.models import User

    with app.app_context():
        pw_hash = generate_password_hash(common.PASSWORD, method=common.HASH_METHOD)
        for name in names:
            db.session.add(User(username=name, password_hash=pw_hash))
        db.session.commit()


def launch(app, year: int, reviewers: list[str]) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    """Launch as the admin, commit; returns (seconds, cases started, ready tasks)."""
    from sqlalchemy import func, select

    from service import clock
    from service.auth.actor import Actor
    from service.campaigns.operations import launch_campaign
    from service.extensions import db
    from service.instances.models import HumanTask, Instance

    admin = Actor(user_id=1, username="admin", person_id=None, roles=frozenset({("admin", None)}))
    with app.app_context():
        deadline = clock.now().date() + timedelta(days=30)
        start = time.perf_counter()
        campaign, instances = launch_campaign(admin, "branch_assessment", year, deadline, reviewers)
        db.session.commit()
        elapsed = time.perf_counter() - start
        tasks = db.session.scalar(select(func.count()).select_from(HumanTask).join(Instance)
                                  .where(Instance.campaign_id == campaign.id, HumanTask.completed_at.is_(None)))
        return elapsed, len(instances), tasks or 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=1000)
    ap.add_argument("--database", default=None, help="PostgreSQL server URL (default: a SQLite file)")
    args = ap.parse_args(argv)
    common.exit_on_sigterm()
    print(f"== campaign launch for {args.branches} League branches ({common.machine()}) ==")
    print(common.load_average() + " at start")
    url = common.fresh_database("campaign", server=args.database)
    try:
        app = common.make_app(url, BPMN_DIR=str(common.ROOT / "bpmn"), FORMS_DIR=str(common.ROOT / "forms"))
        common.migrate(app)
        with common.timed("seeding"):
            common.seed_org(app, league_branches=args.branches, members=1)
            _add_reviewers(app, ["reviewer1", "reviewer2"])
            from service.extensions import db
            from service.modeler.operations import deploy_bpmn

            with app.app_context():
                deploy_bpmn((common.ROOT / "bpmn" / "branch_assessment.bpmn").read_bytes(),
                            filename="branch_assessment.bpmn")
                db.session.commit()
        print(f"database: {common.describe_database(url)}")
        # warm-up on a small set: the same launch path, another year (units founded 2023 are eligible)
        with app.app_context():
            from sqlalchemy import update

            from service.org.models import OrgUnit

            db.session.execute(update(OrgUnit).where(OrgUnit.kind == "league_branch",
                                                     OrgUnit.code > f"TZB-{20:03d}").values(kind="league_branch_tmp"))
            db.session.commit()
        warm, warm_n, _ = launch(app, 2025, ["reviewer1", "reviewer2"])
        with app.app_context():
            db.session.execute(update(OrgUnit).where(OrgUnit.kind == "league_branch_tmp").values(kind="league_branch"))
            db.session.commit()
        print(f"warm-up: {warm_n} branches in {warm:.2f}s")
        elapsed, started, tasks = launch(app, 2026, ["reviewer1", "reviewer2"])
        per_case = 1000 * elapsed / max(started, 1)
        verdict = "OK" if elapsed < TARGET_SECONDS else "BELOW TARGET"
        print(f"launch {started} cases: {elapsed:.2f} s ({per_case:.2f} ms per case), {tasks} ready tasks "
              f"— target < {TARGET_SECONDS:.0f} s: {verdict}")
        print(common.load_average() + " at end")
        if started != args.branches or tasks != args.branches:
            print(f"WRONG: expected {args.branches} cases with one ready task each")
            return 1
        return 0 if elapsed < TARGET_SECONDS else 2
    finally:
        common.remove_database(url)


if __name__ == "__main__":
    sys.exit(main())
