"""Cases for the demo college, driven through the real operations (start, complete) so the demo
shows what the product does: recommendations at every stage, an assessment campaign, rectifications.

Each step is completed by a user who really holds the lane's role; form data is the step's
domain values filled up with plausible values for the form's other required fields.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from service import clock
from service.auth.operations import actor_for
from service.errors import ApiError
from service.extensions import db
from service.instances.access import may_act
from service.instances.models import HumanTask, Instance
from service.instances.operations import complete_task, fire_timers, form_schema, start_instance
from service.modeler.models import ProcessModel
from service.org.models import OrgUnit, Person, RoleAssignment, User

log = logging.getLogger(__name__)


def sample_value(schema: dict[str, Any], rng: random.Random) -> Any:
    """A plausible value for a JSON Schema node (used for fields a demo step does not set)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema and schema["oneOf"] and "const" in schema["oneOf"][0]:
        return schema["oneOf"][0]["const"]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer" or kind == "number":
        return max(schema.get("minimum", 0), min(schema.get("maximum", 1), 1))
    if kind == "boolean":
        return False
    if kind == "array":
        item = schema.get("items", {})
        return [sample_value(item, rng) for _ in range(schema.get("minItems", 0))]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: sample_value(props.get(name, {}), rng) for name in schema.get("required", [])}
    if schema.get("format") == "date":
        return (clock.now().date() + timedelta(days=7)).isoformat()
    if schema.get("format") == "date-time":
        return (clock.now() + timedelta(days=7)).isoformat()
    text = "情况属实，同意。"
    return text.ljust(schema.get("minLength", 0), "。")


def fill(schema: dict[str, Any] | None, data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    if not schema:
        return dict(data)
    filled = dict(data)
    for name in schema.get("required", []):
        if name not in filled:
            filled[name] = sample_value(schema.get("properties", {}).get(name, {}), rng)
    return filled


def _acting_user(task: HumanTask) -> User | None:
    if task.assigned_user_id:
        return db.session.get(User, task.assigned_user_id)
    users = db.session.scalars(select(User).join(RoleAssignment).join(OrgUnit).where(
        RoleAssignment.role == task.lane_role, OrgUnit.code == task.scope_unit))
    for user in users:
        if may_act(actor_for(user), task):
            return user
    return None


def advance(instance: Instance, steps: list[tuple[str, dict[str, Any]]], rng: random.Random) -> int:
    """Complete the listed steps in order while each is ready; returns how many were done."""
    done = 0
    for name, data in steps:
        task = db.session.scalar(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "ready", HumanTask.name == name))
        user = _acting_user(task) if task else None
        if task is None or user is None:
            break
        try:
            complete_task(actor_for(user), task.id, fill(form_schema(instance, task), data, rng))
        except ApiError as exc:  # the demo leaves such a case at this step rather than fail to load
            log.warning("demo case %s stopped at %s: %s %s", instance.id, name, exc.code, exc.details)
            break
        done += 1
    return done


def _recommendation_steps(rng: random.Random, branch: OrgUnit, stage: int) -> list[tuple[str, dict[str, Any]]]:
    members = db.session.scalar(select(func.count()).select_from(Person).where(
        Person.org_unit_id == branch.id, Person.league_member.is_(True))) or 25
    present = rng.randint(members * 3 // 4, members)
    yes = rng.randint(members // 2 + 1, present)
    meeting = (clock.now().date() - timedelta(days=3)).isoformat()
    steps: list[tuple[str, dict[str, Any]]] = [
        ("apply", {"statement": "我志愿申请加入中国共产党，请团组织推荐。", "league_discipline": False,
                   "evaluation": "excellent", "failed_course": False, "dues_in_arrears": False,
                   "academic_standing": f"专业排名 {rng.randint(1, 15)}/{members}"}),
        ("committee_review", {"decision": "approve", "reason": "表现突出"}),
        ("meeting_approval", {"decision": "approve", "meeting_date": meeting, "meeting_time": "14:30",
                              "meeting_place": "第一教学楼 201"}),
        ("meeting_record", {"entitled": members, "present": present, "yes": yes, "no": present - yes, "abstain": 0,
                            "ballots_issued": present, "ballots_collected": present, "meeting_date": meeting}),
        ("committee_opinion", {"opinion": "该同志思想上进，学习成绩优良，同意推荐。"}),
    ]
    return steps[:stage]


def _after_notice(instance: Instance, candidate: Person, rng: random.Random) -> None:
    """Let the public notice run out (the clock moved past it), then the reviews that follow."""
    with clock.frozen_at(clock.now() + timedelta(days=12)):
        fire_timers(instance)
        contacts = list(db.session.scalars(select(Person.id).where(
            Person.party_status == "full", Person.id != candidate.id).limit(2)))
        advance(instance, [("general_branch_review", {"decision": "approve", "comment": "同意推荐"}),
                           ("party_branch_decision", {"decision": "accept", "contacts": contacts,
                                                      "reason": "同意列为入党积极分子"})], rng)


def _recommendations(rng: random.Random) -> int:
    count = 0
    branches = list(db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "league_branch").order_by(OrgUnit.code)))
    for branch in branches[:8]:
        candidates = list(db.session.scalars(select(Person).where(
            Person.org_unit_id == branch.id, Person.party_status == "applicant", Person.league_member.is_(True))
            .order_by(Person.id)))[:3]
        for candidate in candidates:
            instance = start_instance(None, "recommendation", candidate.id)
            stage = rng.randint(0, 7)
            if advance(instance, _recommendation_steps(rng, branch, stage), rng) == 5 and stage == 7:
                _after_notice(instance, candidate, rng)
            count += 1
    return count


def _campaign(rng: random.Random) -> int:
    """This year's assessment campaign, launched by the League general branch secretary; a few
    branches have already filed their self-assessment."""
    from service.campaigns.operations import launch_campaign

    secretary = db.session.scalar(select(User).where(User.username == "tzz_shuji"))
    if secretary is None:
        return 0
    today = clock.now().date()
    _, instances = launch_campaign(actor_for(secretary), "branch_assessment", today.year, today + timedelta(days=30))
    for instance in instances[:4]:
        scores = {"committee_work": rng.randint(22, 30), "organisational_life": rng.randint(20, 30),
                  "recommendation": rng.randint(10, 15), "registration": rng.randint(7, 10),
                  "activities": rng.randint(9, 15)}
        advance(instance, [("self_assessment", {"scores": scores, "evidence": "支部工作台账、活动照片",
                                                "representative": "团员代表"})], rng)
    return len(instances)


def create_demo_cases(rng: random.Random) -> dict[str, int]:
    deployed = set(db.session.scalars(select(ProcessModel.key)))
    created: dict[str, int] = {}
    if "recommendation" in deployed:
        created["recommendation"] = _recommendations(rng)
    if "rectification" in deployed:
        branch = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "TZB-CL2201"))
        if branch is not None:
            deadline = (clock.now() + timedelta(days=60)).date().isoformat()
            case = start_instance(None, "rectification", branch.code, extra={
                "problems": ["组织生活会记录不完整", "团费收缴不及时"], "deadline": deadline,
                "issuer": "league_general_branch"})
            advance(case, [("acknowledge", {"acknowledged": True, "note": "已收到，立即整改"})], rng)
            created["rectification"] = 1
    if "branch_assessment" in deployed:
        created["branch_assessment"] = _campaign(rng)
    from service.demo_extra import seed_all

    created.update(seed_all(rng))
    return created
