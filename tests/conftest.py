"""Test fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), migrated
with the real Alembic migrations, and factories for org units, people, users and deployed processes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service import create_app
from service.config import normalise_database_url

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
TEST_PASSWORD = "secret-pass-1"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Migrate once per session: a template SQLite file, or a PostgreSQL database per xdist worker."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        base = sa.make_url(url)
        name = f"{base.database}_{_worker()}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        target = base.set(database=name).render_as_string(hide_password=False)
        _migrate(target)
        return {"kind": "postgresql", "url": target}
    template = tmp_path_factory.mktemp("db") / "template.db"
    _migrate(f"sqlite:///{template}")
    return {"kind": "sqlite", "template": template}


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        from service.extensions import db

        db.engine.dispose()


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
        if tables:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(database_template: dict[str, Any], tmp_path: Path) -> str:
    if database_template["kind"] == "postgresql":
        _truncate_all(database_template["url"])
        return database_template["url"]
    target = tmp_path / "test.db"
    shutil.copyfile(database_template["template"], target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "ALLOW_CLOCK_OVERRIDE": True,
        "BPMN_DIR": str(DATA / "bpmn"),
        "FORMS_DIR": str(DATA / "forms"),
        # generous: on a loaded 2-core machine a script's first run (compiling, importing) can take a
        # good part of a second; tests of the limit itself set a short one (tests/api/test_api_hostile.py)
        "SCRIPT_TIME_LIMIT": 5.0,
        "CACHE_TTL_SECONDS": 0,  # every request sees role and org changes at once
        "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    application = create_app(app_config)
    with application.app_context():
        yield application
        from service.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def db_session(app: Any) -> Any:
    from service.extensions import db

    return db.session


# -- factories ---------------------------------------------------------------------------------------------
@pytest.fixture
def college(app: Any) -> dict[str, Any]:
    """A small college: 党总支 DZZ with two Party branches, 团总支 TZZ with three League branches."""
    from service.extensions import db
    from service.org.models import OrgUnit

    def unit(code: str, name: str, kind: str, parent: OrgUnit | None = None, paired: OrgUnit | None = None,
             founded: date | None = None) -> OrgUnit:
        u = OrgUnit(code=code, name=name, kind=kind, parent=parent, paired_with=paired, founded=founded)
        db.session.add(u)
        return u

    dzz = unit("DZZ", "机械工程学院党总支", "party_general_branch")
    s1 = unit("DZB-S1", "学生第一党支部", "party_branch", dzz)
    s2 = unit("DZB-S2", "学生第二党支部", "party_branch", dzz)
    tzz = unit("TZZ", "机械工程学院团总支", "league_general_branch", paired=dzz)
    b1 = unit("TZB-JX2301", "机械2301团支部", "league_branch", tzz, s1, date(2023, 9, 15))
    b2 = unit("TZB-JX2302", "机械2302团支部", "league_branch", tzz, s1, date(2023, 9, 15))
    b3 = unit("TZB-JX2401", "机械2401团支部", "league_branch", tzz, s2, date(2024, 9, 15))
    db.session.commit()
    return {u.code: u for u in (dzz, s1, s2, tzz, b1, b2, b3)}


@pytest.fixture
def make_person(app: Any) -> Callable[..., Any]:
    from service.extensions import db
    from service.org.models import OrgUnit, Person

    def make(person_id: str, name: str, unit: str | None = None, **fields: Any) -> Person:
        org = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == unit)) if unit else None
        defaults = {"gender": "男", "birth_date": date(2004, 3, 1), "league_member": True,
                    "league_joined": date(2019, 5, 4), "party_status": "applicant", "party_applied": date(2024, 10, 10)}
        defaults.update(fields)
        person = Person(id=person_id, name=name, org_unit=org, **defaults)
        db.session.add(person)
        db.session.commit()
        return person

    return make


@pytest.fixture
def make_user(app: Any) -> Callable[..., Any]:
    """make_user("zhang", roles=[("league_branch_secretary", "TZB-JX2301")], person="2023010101")"""
    from service.auth.operations import hash_password
    from service.extensions import db
    from service.org.models import OrgUnit, RoleAssignment, User

    def make(username: str, roles: list[tuple[str, str | None]] = (), person: str | None = None) -> User:  # type: ignore[assignment]
        user = User(username=username, person_id=person, password_hash=hash_password(TEST_PASSWORD))
        db.session.add(user)
        for role, code in roles:
            org = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code)) if code else None
            user.roles.append(RoleAssignment(role=role, org_unit=org))
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client: Any) -> Callable[[str], dict[str, str]]:
    """login("zhang") -> Authorization headers for that user (through the real token endpoint)."""

    def do(username: str, password: str = TEST_PASSWORD) -> dict[str, str]:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return do


@pytest.fixture
def deploy(app: Any) -> Callable[..., Any]:
    """deploy("approval") deploys tests/data/bpmn/approval.bpmn (or a path / XML text) and commits."""
    from service.extensions import db
    from service.modeler.operations import deploy_bpmn

    def do(name_or_xml: str | Path, **kwargs: Any) -> Any:
        if isinstance(name_or_xml, Path):
            xml = name_or_xml.read_bytes()
        elif name_or_xml.lstrip().startswith("<"):
            xml = name_or_xml.encode()
        else:
            xml = (DATA / "bpmn" / f"{name_or_xml}.bpmn").read_bytes()
        result = deploy_bpmn(xml, **kwargs)
        db.session.commit()
        return result.version

    return do
