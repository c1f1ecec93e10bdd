"""The unit of work: a request or job commits once, at its edge, or leaves nothing behind."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.errors import ApiError
from service.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def is_lock_conflict(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig else str(exc).lower()
    return "locked" in text or "could not serialize" in text or "deadlock" in text


@contextlib.contextmanager
def _conflicts_as_409() -> Iterator[None]:
    """Roll back on any failure; a concurrent change to the same row becomes a 409."""
    try:
        yield
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


def commit() -> None:
    with _conflicts_as_409():
        db.session.commit()


def transactional(fn: F) -> F:
    """Run a view as one transaction: commit after it returns, roll back on any exception."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _conflicts_as_409():
            result = fn(*args, **kwargs)
            db.session.commit()
        return result

    return wrapper  # type: ignore[return-value]
