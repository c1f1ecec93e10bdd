"""The tracking pages' scene: the real 推优入党 process (bpmn/ and forms/ of the repository) deployed,
a League branch with enough members, and a candidate whose case waits on the branch committee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
CANDIDATE = "2023010101"  # 张三, 机械2301团支部
SECRETARY = "2023010102"  # 李四, its League branch secretary
OTHER_MEMBER = "2024010101"  # 王五, 机械2401团支部


def real_process_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


def build_scene(make_person: Callable[..., Any], make_user: Callable[..., Any], deploy: Callable[..., Any]) -> None:
    make_person(CANDIDATE, "张三", "TZB-JX2301", birth_date=date(2005, 3, 1))
    make_person(SECRETARY, "李四", "TZB-JX2301", league_post="书记")
    for n in range(3, 9):
        make_person(f"202301010{n}", f"团员{n}", "TZB-JX2301")
    make_person(OTHER_MEMBER, "王五", "TZB-JX2401")
    make_user("zhangsan", [("member", None)], person=CANDIDATE)
    make_user("lisi", [("league_branch_secretary", "TZB-JX2301"), ("member", None)], person=SECRETARY)
    make_user("committee1", [("league_branch_committee", "TZB-JX2301")])
    make_user("tzz", [("league_general_branch_secretary", "TZZ")])
    make_user("sec3", [("league_branch_secretary", "TZB-JX2401")])
    make_user("wangwu", [("member", None)], person=OTHER_MEMBER)
    deploy(ROOT / "bpmn" / "recommendation.bpmn")


def recommendation_at_committee_review() -> int:
    """Start 张三's recommendation and file the application: the case then waits on the committee."""
    from service.auth.operations import actor_for
    from service.extensions import db
    from service.instances.models import HumanTask
    from service.instances.operations import complete_task, start_instance
    from service.org.models import User

    instance = start_instance(None, "recommendation", CANDIDATE, {})
    db.session.commit()
    apply = db.session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "ready")).one()
    member = db.session.scalars(sa.select(User).where(User.username == "zhangsan")).one()
    complete_task(actor_for(member), apply.id, {"statement": "我志愿加入中国共产党，请团组织推荐。"})
    db.session.commit()
    return instance.id
