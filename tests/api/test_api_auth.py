"""Token authentication, the login rate limit and GET /me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api_support import CANDIDATE, TEST_PASSWORD, assert_error

from service import clock

TOKEN_URL = "/api/v1/auth/token"


def test_token_then_me_shows_roles_with_scopes(world: Any) -> None:
    response = world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None and expires > datetime.now(UTC) + timedelta(hours=1)

    me = world.get(None, "/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me["username"] == "sec1"
    assert me["person"] == "2023010102" and me["name"] == "李四"
    assert me["roles"] == [{"role": "league_branch_secretary", "org_unit": "TZB-JX2301"}]

    admin = world.get("admin", "/api/v1/me")
    assert admin["roles"] == [{"role": "admin", "org_unit": None}]
    assert admin["person"] is None and admin["name"] is None
    member = world.get("zhangsan", "/api/v1/me")
    assert member["person"] == CANDIDATE and member["roles"] == [{"role": "member", "org_unit": None}]


def test_wrong_password_is_401_with_the_error_shape(world: Any) -> None:
    for username in ("sec1", "nobody-by-this-name"):
        response = world.client.post(TOKEN_URL, json={"username": username, "password": "wrong-password"})
        assert response.status_code == 401
        error = assert_error(response.get_json(), "invalid_credentials")
        assert error["details"] == []
    english = world.client.post(TOKEN_URL, json={"username": "sec1", "password": "nope"},
                                headers={"Accept-Language": "en"})
    assert assert_error(english.get_json())["message"] == "Wrong username or password"


def test_missing_or_bad_tokens_are_401(world: Any) -> None:
    assert_error(world.get(None, "/api/v1/me", 401), "unauthorized")
    token = world.auth["sec1"]["Authorization"].split(" ", 1)[1]
    for header in (f"Bearer {token}x", "Bearer ", "Basic c2VjMTpzZWNyZXQ=", f"Token {token}", "Bearer not.a.token"):
        body = world.get(None, "/api/v1/me", 401, headers={"Authorization": header})
        assert_error(body, "token_invalid")
    assert_error(world.get(None, "/api/v1/tasks", 401), "unauthorized")
    assert_error(world.post(None, "/api/v1/instances", 401, json={"process": "approval", "subject": CANDIDATE}))
    # an anonymous caller is turned away before the input is read: a bad body is 401, not 422
    assert_error(world.post(None, "/api/v1/instances", 401, json={"process": 7}), "unauthorized")
    assert_error(world.post(None, "/api/v1/campaigns", 401, json={}), "unauthorized")


def test_password_change_revokes_old_tokens(world: Any) -> None:
    old = world.auth["sec1b"]
    world.post("sec1b", "/api/v1/me/password", 204,
               json={"old_password": TEST_PASSWORD, "new_password": "a-new-password-2"})
    assert_error(world.get(None, "/api/v1/me", 401, headers=old), "token_invalid")
    assert world.client.post(TOKEN_URL, json={"username": "sec1b", "password": TEST_PASSWORD}).status_code == 401
    assert world.client.post(TOKEN_URL, json={"username": "sec1b", "password": "a-new-password-2"}).status_code == 200


def test_eleventh_failed_login_within_ten_minutes_is_429(world: Any) -> None:
    start = datetime.now(UTC)
    with clock.frozen_at(start):
        for attempt in range(10):
            response = world.client.post(TOKEN_URL, json={"username": "sec1", "password": f"guess-{attempt}"})
            assert response.status_code == 401, attempt
        # locked now, even with the right password; other accounts are not affected
        blocked = world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD})
        assert blocked.status_code == 429
        assert_error(blocked.get_json(), "too_many_requests")
        assert world.client.post(TOKEN_URL, json={"username": "sec1b", "password": TEST_PASSWORD}).status_code == 200
    # failures count for ten minutes only
    with clock.frozen_at(start + timedelta(minutes=9, seconds=59)):
        assert world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD}).status_code == 429
    with clock.frozen_at(start + timedelta(minutes=10, seconds=1)):
        assert world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD}).status_code == 200


def test_successful_login_clears_earlier_failures(world: Any) -> None:
    for attempt in range(9):
        assert world.client.post(TOKEN_URL, json={"username": "sec1", "password": f"x{attempt}"}).status_code == 401
    assert world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD}).status_code == 200
    for attempt in range(9):
        assert world.client.post(TOKEN_URL, json={"username": "sec1", "password": f"y{attempt}"}).status_code == 401
    assert world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD}).status_code == 200


def test_malformed_token_requests_are_4xx_not_500(world: Any) -> None:
    bodies: list[dict[str, Any]] = [
        {"json": {}}, {"json": {"username": "sec1"}}, {"json": {"username": 5, "password": []}},
        {"json": ["sec1", TEST_PASSWORD]}, {"data": "not json", "content_type": "application/json"},
        {"json": {"username": "x" * 65, "password": "p"}},
    ]
    for kwargs in bodies:
        response = world.client.post(TOKEN_URL, **kwargs)
        assert 400 <= response.status_code < 500, (kwargs, response.status_code)
        assert_error(response.get_json())


def test_a_token_expires_even_while_its_signature_check_is_cached(world: Any, monkeypatch: Any) -> None:
    import time

    body = world.client.post(TOKEN_URL, json={"username": "sec1", "password": TEST_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert world.get(None, "/api/v1/me", headers=headers)["username"] == "sec1"  # checked once, now cached
    lifetime = world.client.application.config["TOKEN_LIFETIME_SECONDS"]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + lifetime + 1)
    response = world.client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert_error(response.get_json(), "token_invalid")
