"""Bad input never yields a 500: schemathesis generates requests for every operation of the OpenAPI
document (valid and invalid ones) and sends them as an admin to an app with a deployed process and
a running case. Responses must also match what the document says."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from api_support import assert_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app: Any, world: Any) -> Any:
    case = world.submitted()  # ids that exist: instance 1, its tasks
    assert case["id"] == 1
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_input_makes_a_server_error(case: Any, world: Any) -> None:
    response = case.call(headers=world.auth["admin"])
    case.validate_response(response, checks=CHECKS)


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
SUBMIT_DATA = st.one_of(
    st.fixed_dictionaries({"reason": st.text(max_size=40)}, optional={"urgent": JSON_LEAF}),
    st.dictionaries(st.text(max_size=10), JSON_VALUE, max_size=4),
    JSON_VALUE,
)


def _valid_submit(data: Any) -> bool:
    """tests/data/forms/approval/submit.schema.json, plus the API's refusal of NUL characters."""
    if not isinstance(data, dict) or not set(data) <= {"reason", "urgent"}:
        return False
    reason = data.get("reason")
    return (isinstance(reason, str) and 2 <= len(reason) <= 2000 and "\x00" not in reason
            and isinstance(data.get("urgent", False), bool))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=SUBMIT_DATA)
def test_any_task_data_is_either_taken_or_refused_without_a_trace(world: Any, db_state: Any, data: Any) -> None:
    current: dict[str, Any] = world.__dict__.setdefault("fuzz_case", {})
    if not current:
        instance = world.start()
        current.update(id=instance["id"], task=world.ready(instance["id"], "submit")["id"])
    before = db_state(current["id"])
    response = world.client.post(f"/api/v1/tasks/{current['task']}/complete", json={"data": data},
                                 headers=world.auth["zhangsan"])
    body = response.get_json()
    if _valid_submit(data):
        assert response.status_code == 200, body
        expected = "review_urgent" if data.get("urgent") else "review"
        assert [t["name"] for t in body["ready_tasks"]] == [expected]
        current.clear()
    else:
        assert response.status_code in (400, 422), body
        assert_error(body)
        assert db_state(current["id"]) == before
