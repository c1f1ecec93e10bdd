"""`flask --app service demo`: a living demo college — 机械工程学院 with its Party general branch,
four Party branches, a League general branch with twelve class branches paired to them, about
300 students, a user for every role, and (when the processes are deployed) cases at various stages.

Every demo user's password is `demo1234` (printed by the command). Running it twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from service.extensions import db
from service.org.models import OrgUnit, Person, RoleAssignment, User

DEMO_PASSWORD = "demo1234"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "华", "鑫", "宇", "浩",
         "欣怡", "子涵", "梓萱", "雨轩", "思远", "博文", "晨曦", "佳怡", "一鸣", "嘉豪", "俊杰", "诗琪", "天宇", "文静"]
CLASSES = [  # (code suffix, name, grade year, paired party branch)
    ("JX2201", "机械2201", 2022, "DZB-S3"), ("JX2202", "机械2202", 2022, "DZB-S3"), ("CL2201", "车辆2201", 2022, "DZB-S3"),
    ("JX2301", "机械2301", 2023, "DZB-S2"), ("JX2302", "机械2302", 2023, "DZB-S2"), ("CL2301", "车辆2301", 2023, "DZB-S2"),
    ("JX2401", "机械2401", 2024, "DZB-S1"), ("JX2402", "机械2402", 2024, "DZB-S1"), ("CL2401", "车辆2401", 2024, "DZB-S1"),
    ("JX2501", "机械2501", 2025, "DZB-S1"), ("JX2502", "机械2502", 2025, "DZB-S1"), ("ZN2501", "智能制造2501", 2025, "DZB-S1"),
]


def _unit(code: str, name: str, kind: str, parent: OrgUnit | None = None, paired: OrgUnit | None = None,
          founded: date | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, paired_with=paired, founded=founded)
    db.session.add(unit)
    return unit


def _students(rng: random.Random, branch: OrgUnit, grade: int, class_no: int, count: int) -> list[Person]:
    people = []
    for i in range(1, count + 1):
        birth = date(grade - 18, 1, 1) + timedelta(days=rng.randrange(0, 600))
        status = rng.choices(["masses", "applicant", "activist", "development_candidate", "probationary"],
                             weights=[25, 45, 20, 6, 4] if grade <= 2023 else [40, 50, 8, 2, 0])[0]
        applied = date(grade, 10, 1) + timedelta(days=rng.randrange(0, 300)) if status != "masses" else None
        person = Person(
            id=f"{grade}0{class_no:02d}{i:02d}", name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            gender=rng.choice(["男", "男", "女"]), birth_date=birth, org_unit=branch, league_member=rng.random() > 0.05,
            league_joined=birth + timedelta(days=365 * 14 + rng.randrange(0, 700)),
            league_number=f"T{grade}{rng.randrange(10**6):06d}", league_post="无", party_status=status,
            party_applied=applied, phone=f"13{rng.randrange(10**9):09d}",
        )
        people.append(person)
        db.session.add(person)
    return people


def build_roster(rng: random.Random, password_hash: str) -> dict[str, Any]:
    """Create the org, people and users. Returns the usernames by role for printing."""
    dzz = _unit("DZZ", "机械工程学院党总支", "party_general_branch")
    party = {c: _unit(c, n, "party_branch", dzz) for c, n in [
        ("DZB-T", "教工党支部"), ("DZB-S1", "学生第一党支部"), ("DZB-S2", "学生第二党支部"), ("DZB-S3", "学生第三党支部")]}
    tzz = _unit("TZZ", "机械工程学院团总支", "league_general_branch", paired=dzz, founded=date(2010, 9, 1))
    users: dict[str, list[str]] = {}

    def user(username: str, person: Person | None, *roles: tuple[str, OrgUnit | None]) -> None:
        account = User(username=username, person=person, password_hash=password_hash)
        for role, unit in roles:
            account.roles.append(RoleAssignment(role=role, org_unit=unit))
        db.session.add(account)
        for role, _ in roles:
            users.setdefault(role, []).append(username)

    user("admin", None, ("admin", None))
    staff = {}
    for pid, name, post in [("T1001", "刘建国", "dzz"), ("T1002", "陈晓红", "tzz"), ("T1003", "王海燕", "c1"),
                            ("T1004", "赵立新", "c2"), ("T1005", "孙丽", "dzbt")]:
        staff[post] = Person(id=pid, name=name, gender="男" if name[-1] in "国新" else "女", birth_date=date(1980, 5, 1),
                             party_status="full", league_member=False)
        db.session.add(staff[post])
    user("dzz_shuji", staff["dzz"], ("party_general_branch_secretary", dzz), ("party_branch_committee", party["DZB-T"]))
    user("tzz_shuji", staff["tzz"], ("league_general_branch_secretary", tzz))
    user("dzbt_shuji", staff["dzbt"], ("party_branch_secretary", party["DZB-T"]))
    for code in ("DZB-S1", "DZB-S2", "DZB-S3"):
        teacher = Person(id=f"T2{code[-1]}01", name=rng.choice(SURNAMES) + rng.choice(GIVEN), gender="女",
                         birth_date=date(1985, 3, 1), party_status="full")
        db.session.add(teacher)
        user(f"{code.lower().replace('-', '')}_shuji", teacher, ("party_branch_secretary", party[code]))
    branches = []
    ordinary: list[Person] = []
    for class_no, (suffix, name, grade, paired) in enumerate(CLASSES, start=1):
        branch = _unit(f"TZB-{suffix}", f"{name}团支部", "league_branch", tzz, party[paired], date(grade, 9, 15))
        branches.append(branch)
        students = _students(rng, branch, grade, class_no, 25)
        ordinary.extend(students[10:])
        secretary, organiser, publicist = students[0], students[1], students[2]
        secretary.league_post, organiser.league_post, publicist.league_post = "书记", "组织委员", "宣传委员"
        low = suffix.lower()
        user(f"{low}_shuji", secretary, ("league_branch_secretary", branch), ("member", branch))
        user(f"{low}_zuzhi", organiser, ("league_branch_committee", branch), ("member", branch))
        user(f"{low}_xuanchuan", publicist, ("league_branch_committee", branch), ("member", branch))
        for n, student in enumerate(students[3:8], start=1):  # a few ordinary members with accounts
            user(f"{low}_m{n}", student, ("member", branch))
    for i, person in enumerate(rng.sample(ordinary, 3), start=1):
        user(f"tzz_wy{i}", person, ("league_general_branch_committee", tzz))
    user("fdy1", staff["c1"], *[("counsellor", b) for b in branches[:6]])
    user("fdy2", staff["c2"], *[("counsellor", b) for b in branches[6:]])
    return users


@click.command("demo")
@click.option("--seed", default=2026, show_default=True)
@with_appcontext
def demo_command(seed: int) -> None:
    """Load the demo college (roster, users, cases). Safe to run twice."""
    from werkzeug.security import generate_password_hash

    if db.session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.code == "TZZ")):
        click.echo("demo college already present / 演示学院已存在")
        return
    rng = random.Random(seed)
    # one hash for every demo account: the demo should load in seconds, not hash 150 passwords
    password_hash = generate_password_hash(DEMO_PASSWORD)
    users = build_roster(rng, password_hash)
    db.session.commit()
    people = db.session.scalar(select(func.count()).select_from(Person))
    click.echo(f"demo college loaded / 演示学院已创建: {people} people, "
               f"{sum(len(v) for v in users.values())} role assignments; password / 密码: {DEMO_PASSWORD}")
    for role in ("admin", "party_general_branch_secretary", "league_general_branch_secretary",
                 "party_branch_secretary", "league_branch_secretary", "counsellor"):
        click.echo(f"  {role}: {', '.join(list(dict.fromkeys(users.get(role, [])))[:4])}")
    try:
        from service.demo_cases import create_demo_cases
    except ImportError:
        return
    created = create_demo_cases(rng)
    db.session.commit()
    click.echo(f"demo cases / 演示案例: {created}")
