"""Helpers shared by the API tests (a module, not a conftest, so tests can import them by name)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEST_PASSWORD = "secret-pass-1"  # the password tests/conftest.py gives every user

DATA = Path(__file__).resolve().parent.parent / "data"
API_BPMN = DATA / "bpmn_api"
HOSTILE_BPMN = DATA / "bpmn_hostile"

CANDIDATE = "2023010101"  # 张三, member of TZB-JX2301, the subject of most cases here
OTHER_BRANCH_PERSON = "2023020101"  # 王五, member of TZB-JX2302


def assert_error(body: Any, code: str | None = None) -> dict[str, Any]:
    """The one error shape of the API: {"error": {"code", "message", "details": [...]}}."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    if code is not None:
        assert error["code"] == code, error
    return error


@dataclass
class World:
    """The college of tests/conftest.py with users, their tokens and the approval process (version 1).

    Users: admin; zhangsan (the candidate, member lane); sec1 and sec1b (league_branch_secretary at
    TZB-JX2301, the review lane); committee1 (league_branch_committee at TZB-JX2301: sees the branch's
    cases but is not in any lane of approval); sec2 (league_branch_secretary at TZB-JX2302);
    wangwu (a member of TZB-JX2302)."""

    client: Any
    auth: dict[str, dict[str, str]]

    def call(self, user: str | None, method: str, path: str, status: int | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if user is not None:
            headers.update(self.auth[user])
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        if status is not None:
            assert response.status_code == status, (method, path, response.status_code, response.get_data(as_text=True))
        return response.get_json() if response.is_json and response.data else response

    def get(self, user: str | None, path: str, status: int | None = 200, **kwargs: Any) -> Any:
        return self.call(user, "GET", path, status, **kwargs)

    def post(self, user: str | None, path: str, status: int | None = 200, **kwargs: Any) -> Any:
        return self.call(user, "POST", path, status, **kwargs)

    def start(self, subject: str = CANDIDATE, process: str = "approval", data: dict | None = None,
              user: str = "admin") -> dict[str, Any]:
        return self.post(user, "/api/v1/instances", 201,
                         json={"process": process, "subject": subject, "data": data or {}})

    def instance(self, instance_id: int, user: str = "admin") -> dict[str, Any]:
        return self.get(user, f"/api/v1/instances/{instance_id}")

    def ready(self, instance_id: int, name: str) -> dict[str, Any]:
        """The one ready task called `name` of a case."""
        tasks = [t for t in self.instance(instance_id)["ready_tasks"] if t["name"] == name]
        assert len(tasks) == 1, self.instance(instance_id)["ready_tasks"]
        return tasks[0]

    def complete(self, user: str, task_id: str, data: dict[str, Any], status: int = 200) -> Any:
        return self.post(user, f"/api/v1/tasks/{task_id}/complete", status, json={"data": data})

    def submitted(self, reason: str = "申请入党 I wish to apply", urgent: bool = False) -> dict[str, Any]:
        """A new approval case whose submit step the candidate has done: it waits at a review."""
        instance = self.start()
        task = self.ready(instance["id"], "submit")
        return self.complete("zhangsan", task["id"], {"reason": reason, "urgent": urgent})
