"""Helpers of the ops tests: a client with a context per request, signing in through the login form."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

TEST_PASSWORD = "secret-pass-1"  # tests/conftest.py
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class RequestContextClient(FlaskClient):
    """Each request in an app context of its own, as on a server (see tests/web/conftest.py)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def csrf_from(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: Any, username: str) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
