"""Helpers for the page tests: the cast of users, signing in through the login form, reading pages."""

from __future__ import annotations

import html
import json
import re
from typing import Any

MEMBER = "2023010101"      # 张三, 机械2301团支部
MEMBER_2 = "2023010103"    # 赵六, 机械2301团支部
OTHER_MEMBER = "2023010201"  # 王五, 机械2302团支部
WEB_PASSWORD = "secret-pass-1"  # tests/conftest.py TEST_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = WEB_PASSWORD) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def data_attr(page: str, name: str) -> Any:
    """The JSON in the form island's data-<name> attribute."""
    found = re.search(rf'data-{name}="([^"]*)"', page)
    assert found, f"no data-{name} attribute"
    return json.loads(html.unescape(found.group(1)))


def task_ids(page: str) -> list[str]:
    return re.findall(r'name="task" value="([0-9a-f-]{36})"', page)
