"""Load and fault tests: real gunicorn and worker processes on a private PostgreSQL cluster. They run only
with RUN_LOAD_TESTS=1 (`make load-test`, .ci/run); the normal suite skips them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from load_support import Cluster, prepare_database

LOAD_USERS = int(os.environ.get("LOAD_USERS", "50"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RUN_LOAD_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="load test: set RUN_LOAD_TESTS=1 (make load-test)")
    for item in items:
        if "load" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A throw-away PostgreSQL cluster of our own (never the machine's main one: we restart it)."""
    problem = Cluster.unavailable()
    if problem:
        pytest.skip(f"no private PostgreSQL cluster: {problem}")
    # not under pytest's temporary root: that is private to us, and the server runs as postgres
    found = Cluster(Path(tempfile.mkdtemp(prefix="bpm-load-pg-")))
    found.start()
    try:
        yield found
    finally:
        found.destroy()


@pytest.fixture(scope="session")
def load_db(cluster: Cluster) -> Iterator[dict]:
    """Database load_<pid> in the cluster, migrated, with the deadline process, branches and users."""
    name = f"load_{os.getpid()}"
    url = cluster.create_database(name)
    yield prepare_database(url, users=LOAD_USERS)
    cluster.drop_database(name)
