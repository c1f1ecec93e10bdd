"""The unit of work: a request or job commits once, at its edge, or leaves nothing behind."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.errors import ApiError
from service.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def is_lock_conflict(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig else str(exc).lower()
    return "locked" in text or "could not serialize" in text or "deadlock" in text


def commit() -> None:
    """Commit the session; a concurrent change to the same instance becomes a 409."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ApiError(409, "conflict") from None
    except OperationalError as exc:
        db.session.rollback()
        if is_lock_conflict(exc):
            raise ApiError(409, "conflict") from None
        raise


def transactional(fn: F) -> F:
    """Run a view as one transaction: commit after it returns, roll back on any exception."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except StaleDataError:
            db.session.rollback()
            raise ApiError(409, "conflict") from None
        except OperationalError as exc:
            db.session.rollback()
            if is_lock_conflict(exc):
                raise ApiError(409, "conflict") from None
            raise
        except BaseException:
            db.session.rollback()
            raise
        commit()
        return result

    return wrapper  # type: ignore[return-value]
