"""Fixtures for the roster tests: a complete roster document and the database's committed row counts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from roster_support import DOCUMENT


@pytest.fixture
def roster_document() -> dict[str, Any]:
    """A fresh deep copy of a complete, valid roster (4 org units, 2 people, 3 users)."""
    return copy.deepcopy(DOCUMENT)


@pytest.fixture
def table_counts(app: Any) -> Callable[[], dict[str, int]]:
    """Committed row counts, read on a connection of its own (not the session under test)."""
    from service.extensions import db

    def count() -> dict[str, int]:
        tables = ("org_unit", "person", "app_user", "role_assignment", "audit_event")
        with db.engine.connect() as connection:
            return {t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}

    return count
