"""Fixtures for the page tests: a college with a League member, League and Party branch secretaries,
the approval and party_review processes deployed, and cases started the way the system starts them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from web_support import MEMBER, MEMBER_2, OTHER_MEMBER

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE.parent.parent / "service" / "translations"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """`make setup` compiles the catalogues; do it here too when pytest runs on its own."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


class RequestContextClient(FlaskClient):
    """Each request in an app context of its own, as on a server: the test's own context (which the
    factories use) would otherwise lend its `g` (the CSRF token, the locale, the signed-in actor)
    from one request to the next."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Any) -> FlaskClient:
    app.test_client_class = RequestContextClient
    return app.test_client()


@pytest.fixture
def cast(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
         deploy: Callable[..., Any]) -> None:
    make_person(MEMBER, "张三", "TZB-JX2301")
    make_person(MEMBER_2, "赵六", "TZB-JX2301")
    make_person("2023010102", "李四", "TZB-JX2301")
    make_person(OTHER_MEMBER, "王五", "TZB-JX2302")
    make_user("zhangsan", [("member", None)], person=MEMBER)
    make_user("zhaoliu", [("member", None)], person=MEMBER_2)
    make_user("sec1", [("league_branch_secretary", "TZB-JX2301")], person="2023010102")
    make_user("sec2", [("league_branch_secretary", "TZB-JX2302")])
    make_user("psec1", [("party_branch_secretary", "DZB-S1")])
    deploy("approval")
    deploy(HERE / "data" / "party_review.bpmn")


@pytest.fixture
def start_case(cast: None) -> Callable[..., int]:
    """start_case("approval", MEMBER, {...}) -> instance id, started by the system and committed."""
    from service.extensions import db
    from service.instances.operations import start_instance

    def start(process: str, subject: str, data: dict[str, Any] | None = None) -> int:
        instance = start_instance(None, process, subject, data)
        db.session.commit()
        return instance.id

    return start


@pytest.fixture
def ready_task() -> Callable[[int], Any]:
    """ready_task(instance_id) -> the case's open human_task row."""
    import sqlalchemy as sa

    from service.extensions import db
    from service.instances.models import HumanTask

    def find(instance_id: int) -> Any:
        db.session.expire_all()
        return db.session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.status == "ready")).one()

    return find


@pytest.fixture
def complete_as() -> Callable[..., None]:
    """complete_as("sec1", task_id, {...}): a step done outside the pages (setting the scene)."""
    import sqlalchemy as sa

    from service.auth.operations import actor_for
    from service.extensions import db
    from service.instances.operations import complete_task
    from service.org.models import User

    def complete(username: str, task_id: str, data: dict[str, Any]) -> None:
        user = db.session.scalars(sa.select(User).where(User.username == username)).one()
        complete_task(actor_for(user), task_id, data)
        db.session.commit()

    return complete


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium for a browser test module (which calls browser_support.require_browser first)."""
    from browser_support import launched_chromium, require_browser

    with launched_chromium(require_browser()) as launched:
        yield launched
