"""The inbox page: the caller's and their groups' open tasks, counts per process, overdue first,
filters, search by name or student number, paging with a fixed number of queries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from web_support import MEMBER, MEMBER_2, OTHER_MEMBER, sign_in, task_ids

from service import clock


@pytest.fixture
def reviews(start_case: Any, ready_task: Any, complete_as: Any) -> dict[str, Any]:
    """Two approval cases waiting for 机械2301's secretary (张三's overdue), one for 机械2302's."""
    found = {}
    for subject, user in ((MEMBER, "zhangsan"), (MEMBER_2, "zhaoliu")):
        iid = start_case("approval", subject)
        complete_as(user, ready_task(iid).id, {"reason": f"{subject} 申请"})
        found[subject] = ready_task(iid)
    found[OTHER_MEMBER] = ready_task(start_case("approval", OTHER_MEMBER, {"reason": "x", "urgent": False}))
    from service.extensions import db

    found[MEMBER].due_at = clock.now() - timedelta(days=1)
    db.session.commit()
    return found


def rows(page: str) -> list[str]:
    return re.findall(r'class="task-link">([^<]+)</a>', page)


def test_inbox_lists_my_groups_tasks_overdue_first(client: Any, reviews: dict[str, Any]) -> None:
    sign_in(client, "sec1")
    page = client.get("/inbox").get_data(as_text=True)
    assert task_ids(page) == [reviews[MEMBER].id, reviews[MEMBER_2].id]
    assert page.index("张三") < page.index("赵六") and "已逾期" in page and "机械2301团支部" in page
    assert "测试审批 Test approval <b>2</b>" in page and "逾期 1" in page  # counts per process
    assert reviews[OTHER_MEMBER].id not in page  # another branch's


def test_inbox_filters_and_search(client: Any, reviews: dict[str, Any]) -> None:
    sign_in(client, "sec1")

    def ids(query: str) -> list[str]:
        response = client.get("/inbox?" + query)
        assert response.status_code == 200
        return task_ids(response.get_data(as_text=True))

    both = [reviews[MEMBER].id, reviews[MEMBER_2].id]
    assert ids("process=approval") == both and ids("process=party_review") == []
    assert ids("q=张") == [reviews[MEMBER].id]
    assert ids("q=2023010103") == [reviews[MEMBER_2].id]  # a student number
    assert ids("q=20230101") == both  # a prefix of student numbers
    assert ids("q=机械2301") == []  # people are found by name or number only; the unit has its own filter
    assert ids("q=%25") == []  # LIKE wildcards are literal
    assert ids("overdue=1") == [reviews[MEMBER].id] and ids("overdue=0") == [reviews[MEMBER_2].id]
    assert ids("unit=TZB-JX2301") == both and ids("unit=TZZ") == both and ids("unit=TZB-JX2302") == []
    assert ids("mine=1") == [] and ids("mine=0") == both
    assert 'selected>机械2301团支部' in client.get("/inbox?unit=TZB-JX2301").get_data(as_text=True)


def test_claimed_tasks_are_mine_and_leave_colleagues_inboxes(client: Any, reviews: dict[str, Any],
                                                             make_user: Any) -> None:
    make_user("sec1b", [("league_branch_secretary", "TZB-JX2301")])
    sign_in(client, "sec1")
    task_id = reviews[MEMBER_2].id
    page = client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    claimed = client.post(f"/inbox/tasks/{task_id}/claim", data={"csrf_token": token}, follow_redirects=True)
    assert "已认领" in claimed.get_data(as_text=True) and "认领人：sec1" in claimed.get_data(as_text=True)
    assert task_ids(client.get("/inbox?mine=1").get_data(as_text=True)) == [task_id]
    colleague = client.application.test_client()
    sign_in(colleague, "sec1b")
    assert task_ids(colleague.get("/inbox").get_data(as_text=True)) == [reviews[MEMBER].id]
    unclaimed = client.post(f"/inbox/tasks/{task_id}/unclaim", data={"csrf_token": token}, follow_redirects=True)
    assert "已释放" in unclaimed.get_data(as_text=True)
    assert task_id in task_ids(colleague.get("/inbox").get_data(as_text=True))


@contextmanager
def counted_queries(app: Any) -> Iterator[list[str]]:
    from service.extensions import db

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _copy_tasks(template: Any, n: int) -> None:
    """n more open tasks like `template` (rows only: the inbox never reads the engine)."""
    from service.extensions import db
    from service.instances.models import HumanTask

    columns = {c.key: getattr(template, c.key) for c in sa.inspect(HumanTask).mapper.column_attrs}
    for i in range(n):
        db.session.add(HumanTask(**{**columns, "id": str(uuid.uuid4()), "engine_task_id": str(uuid.uuid4()),
                                    "due_at": clock.now() + timedelta(days=i + 1)}))
    db.session.commit()


def test_paging_costs_the_same_number_of_queries_for_any_inbox_size(app: Any, client: Any,
                                                                    reviews: dict[str, Any]) -> None:
    sign_in(client, "sec1")
    client.get("/inbox")  # warm caches (form snapshots, org tree) as a running server has them
    with counted_queries(app) as small:
        assert client.get("/inbox").status_code == 200
    _copy_tasks(reviews[MEMBER_2], 45)
    with counted_queries(app) as large:
        first = client.get("/inbox").get_data(as_text=True)
    assert len(large) == len(small), (small, large)
    assert len(task_ids(first)) == 20 and "第 1 / 3 页" in first and 'rel="next"' in first
    with counted_queries(app) as filtered:
        last = client.get("/inbox?q=赵&page=3").get_data(as_text=True)
    assert len(filtered) <= len(small) + 1  # the unit list is the same query; the search adds none
    assert len(task_ids(last)) == 6 and "第 3 / 3 页" in last and 'rel="prev"' in last
    assert "q=%E8%B5%B5" in last  # the pager keeps the filters


def test_inbox_in_english(client: Any, reviews: dict[str, Any]) -> None:
    sign_in(client, "sec1")
    page = client.get("/inbox?lang=en").get_data(as_text=True)
    assert "My tasks" in page and "Overdue" in page and "我的待办" not in page
