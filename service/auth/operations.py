"""Passwords, tokens and the login rate limit."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from service import clock
from service.cache import app_cache, invalidate
from service.errors import ApiError
from service.extensions import db
from service.org.models import User

from .actor import Actor
from .models import LoginFailure

_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def _check_rate_limit(username: str, remote_addr: str | None) -> None:
    window_start = clock.now() - timedelta(minutes=10)
    failures = db.session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at >= window_start))
    if failures is not None and failures >= current_app.config["LOGIN_RATE_LIMIT"]:
        raise ApiError(429, "too_many_requests")


def authenticate(username: str, password: str, remote_addr: str | None) -> User:
    """Check credentials. A failure is recorded (and committed by the caller's edge) before raising."""
    global _DUMMY_HASH
    _check_rate_limit(username, remote_addr)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        # same work as a real check, so timing does not reveal which usernames exist
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not a password")
        check_password_hash(_DUMMY_HASH, password)
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        db.session.add(LoginFailure(username=username[:64], remote_addr=remote_addr, at=clock.now()))
        db.session.commit()  # the failure must count even though the request fails
        raise ApiError(401, "invalid_credentials")
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


def issue_token(user: User) -> tuple[str, str]:
    lifetime = current_app.config["TOKEN_LIFETIME_SECONDS"]
    token = _serializer().dumps({"u": user.id, "g": user.token_generation})
    expires = clock.now().replace(microsecond=0) + timedelta(seconds=lifetime)
    return token, expires.isoformat()


def _token_payload(token: str) -> dict:
    """The signed payload of a valid, unexpired token. The signature check is cached per process for a few
    seconds (the same token comes with every request of a session); the expiry is checked every time."""
    payload, issued = app_cache("token_payloads").get_or_load(token, lambda: _verified_token(token))
    if time.time() - issued > current_app.config["TOKEN_LIFETIME_SECONDS"]:
        raise ApiError(401, "token_invalid")
    return payload


def _verified_token(token: str) -> tuple[dict, float]:
    try:
        payload, issued = _serializer().loads(token, max_age=current_app.config["TOKEN_LIFETIME_SECONDS"],
                                              return_timestamp=True)
    except (SignatureExpired, BadSignature):
        raise ApiError(401, "token_invalid") from None
    if not isinstance(payload, dict):
        raise ApiError(401, "token_invalid")
    return payload, issued.timestamp()


def user_from_token(token: str) -> User:
    payload = _token_payload(token)
    user = db.session.get(User, payload.get("u"))
    if user is None or not user.active or user.token_generation != payload.get("g"):
        raise ApiError(401, "token_invalid")
    return user


def actor_from_token(token: str) -> Actor:
    """The token's actor. Roles are cached for a few seconds per process (CACHE_TTL_SECONDS), so a
    role change or password change takes effect within that time everywhere."""
    payload = _token_payload(token)  # signature and expiry are checked on every request

    def load() -> Actor | None:
        user = db.session.get(User, payload.get("u"))
        if user is None or not user.active or user.token_generation != payload.get("g"):
            return None
        return actor_for(user)

    actor = app_cache("actors").get_or_load((payload.get("u"), payload.get("g")), load)
    if actor is None:
        raise ApiError(401, "token_invalid")
    return actor


def actor_for(user: User) -> Actor:
    roles = frozenset((r.role, r.org_unit.code if r.org_unit else None) for r in user.roles)
    return Actor(user.id, user.username, user.person_id, roles)


def change_password(user: User, old: str, new: str) -> None:
    if not check_password_hash(user.password_hash, old):
        raise ApiError(403, "forbidden", None, [{"field": "old_password", "message": "原密码错误 / wrong password"}])
    if len(new) < 8:
        raise ApiError(422, "validation_failed", None,
                       [{"field": "new_password", "message": "新密码至少 8 位 / at least 8 characters"}])
    user.password_hash = hash_password(new)
    user.token_generation += 1
    invalidate("actors")
