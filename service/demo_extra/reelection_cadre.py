"""Demo cases of 团支部换届 and 团干部述职评议 at several stages, driven through the real operations.

Re-election: the general branch secretary launches this year's re-election campaign (one case per
League branch); one branch was re-elected ten months ago, so its case waits for the term reminder; the
others stand at every step from the request to the approval of the results, one finished with its
roster updated; the general branch's own re-election waits for its secretary's request.
Cadre assessment: this year's campaign, with cases at the report, scoring, confirmation and one
accepted by the Party general branch.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service import clock
from service.auth.operations import actor_for
from service.demo_cases import advance
from service.extensions import db
from service.instances.models import Instance
from service.instances.operations import start_instance
from service.modeler.models import ProcessModel
from service.org.models import OrgUnit, Person, User

Steps = list[tuple[str, dict[str, Any]]]


def _launch(process: str, days: int) -> list[Instance]:
    from service.campaigns.operations import launch_campaign

    secretary = db.session.scalar(select(User).where(User.username == "tzz_shuji"))
    if secretary is None:
        return []
    today = clock.now().date()
    _, instances = launch_campaign(actor_for(secretary), process, today.year, today + timedelta(days=days))
    return instances


def _members(code: str) -> list[Person]:
    return list(db.session.scalars(select(Person).join(OrgUnit, Person.org_unit_id == OrgUnit.id).where(
        OrgUnit.code == code, Person.league_member.is_(True)).order_by(Person.id)))


def _reelection_steps(code: str, rng: random.Random) -> Steps:
    members = _members(code)
    seats = 3
    chosen = members[1:5] if len(members) >= 5 else members
    posts = ["书记", "组织委员", "宣传委员", "宣传委员"]
    candidates = [{"person": p.id, "name": p.name, "post": post} for p, post in zip(chosen, posts, strict=False)]
    entitled = max(len(members), 5)
    present = max(entitled * 4 // 5 + 1, entitled - rng.randint(0, 3))
    present = min(present, entitled)
    votes = [{"person": c["person"], "yes": rng.randint(present // 2 + 1, present) if i < seats else rng.randint(1, present // 2)}
             for i, c in enumerate(candidates)]
    day = (clock.now().date() - timedelta(days=2)).isoformat()
    planned = (clock.now().date() + timedelta(days=10)).isoformat()
    return [
        ("request", {"planned_date": planned, "seats": seats, "work_report": "本届支委会按期召开组织生活会，开展主题团日活动 8 次。",
                     "plan": "召开团员大会，差额选举产生新一届支委会。"}),
        ("party_approval", {"party_decision": "approve", "party_comment": "同意换届"}),
        ("general_approval", {"general_decision": "approve", "general_comment": "同意换届"}),
        ("candidates", {"candidates": candidates}),
        ("candidates_review", {"candidates_decision": "approve"}),
        ("election_record", {"election_date": day, "entitled": entitled, "present": present, "ballots_issued": present,
                             "ballots_collected": present, "votes": votes}),
        ("report", {"report": "新一届支委会已完成分工并开展工作。"}),
        ("results_review", {"results_decision": "approve", "results_comment": "同意选举结果"}),
    ]


# the number of steps each re-election case is taken through (the first case waits for its term reminder)
REELECTION_STAGES = [0, 1, 3, 4, 5, 6, 7, 8, 8, 2, 0, 6]


def _reelections(rng: random.Random) -> int:
    waiting = db.session.scalar(select(OrgUnit).where(OrgUnit.kind == "league_branch").order_by(OrgUnit.code))
    if waiting is not None:  # re-elected ten months ago: the case waits for the reminder before the term ends
        waiting.last_reelection = clock.now().date() - timedelta(days=300)
        db.session.flush()
    instances = _launch("branch_reelection", 60)
    for instance, stage in zip(instances, REELECTION_STAGES * 2, strict=False):
        advance(instance, _reelection_steps(instance.subject, rng)[:stage], rng)
    count = len(instances)
    general = db.session.scalar(select(OrgUnit).where(OrgUnit.kind == "league_general_branch").order_by(OrgUnit.code))
    if general is not None:
        start_instance(None, "branch_reelection", general.code)
        count += 1
    return count


def _cadre_steps(rng: random.Random) -> Steps:
    base = rng.randint(72, 95)
    return [
        ("report", {"report_text": "本年度带领支委会完成组织生活会、主题团日和推优工作；不足是团员教育形式较单一，明年将加强。"}),
        ("member_scores", {"member_scores": [min(100, base + rng.randint(-8, 6)) for _ in range(rng.randint(5, 9))]}),
        ("general_score", {"general_score": min(100, base + rng.randint(-5, 5)), "general_comment": "工作认真负责"}),
        ("party_score", {"party_score": min(100, base + rng.randint(-5, 5)), "party_comment": "配合党支部工作积极"}),
        ("confirm", {"decision": "confirm"}),
        ("party_acceptance", {"acceptance": "accept"}),
    ]


CADRE_STAGES = [0, 1, 2, 4, 4, 4, 6, 0, 1, 4, 4, 3]


def _cadre_assessments(rng: random.Random) -> int:
    instances = _launch("cadre_assessment", 30)
    for instance, stage in zip(instances, CADRE_STAGES * 2, strict=False):
        advance(instance, _cadre_steps(rng)[:stage], rng)
    return len(instances)


def seed(rng: random.Random) -> dict[str, int]:
    deployed = set(db.session.scalars(select(ProcessModel.key)))
    created: dict[str, int] = {}
    if "branch_reelection" in deployed:
        created["branch_reelection"] = _reelections(rng)
    if "cadre_assessment" in deployed:
        created["cadre_assessment"] = _cadre_assessments(rng)
    return created
