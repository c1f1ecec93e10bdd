"""The browser session: who is signed in, signing in and out, and the guard for pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for
from flask_wtf.csrf import generate_csrf

from service.auth.actor import Actor
from service.cache import app_cache
from service.errors import forbidden
from service.extensions import db
from service.org.models import User

F = TypeVar("F", bound=Callable[..., Any])


def login_user(user: User) -> None:
    """Start a fresh session for `user` (a new session, so a planted cookie cannot be reused)."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["token_generation"] = user.token_generation
    g.pop("csrf_token", None)
    generate_csrf()  # a new CSRF token with the new session (the API's session check reads it too)
    g.pop("page_actor", None)


def logout_user() -> None:
    session.clear()
    g.pop("csrf_token", None)
    g.pop("page_actor", None)


def session_actor() -> Actor | None:
    """The signed-in actor, or None. A password change elsewhere (new token generation) ends the session."""
    if "page_actor" in g:
        return g.page_actor
    actor = None
    user_id, generation = session.get("user_id"), session.get("token_generation")
    if user_id is not None:
        from service.auth.operations import actor_for

        def load() -> Actor | None:
            user = db.session.get(User, user_id)
            if user is None or not user.active or user.token_generation != generation:
                return None
            return actor_for(user)

        actor = app_cache("actors").get_or_load((user_id, generation), load)
    g.page_actor = actor
    return actor


def safe_next(target: str | None) -> str | None:
    """Only a path on this site may be a redirect target after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if session_actor() is None:
            return redirect(url_for("auth_pages.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Signed-in admins only: others are sent to the login page (no session) or get 403."""

    @login_required
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_page_actor().is_admin:
            raise forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_page_actor() -> Actor:
    actor = session_actor()
    assert actor is not None, "use @login_required"
    return actor
