"""Fixtures for the 推优入党 process tests: the real bpmn/ files compiled once, and a case starter
that builds the initial data the way service/instances/operations.py start_instance does."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
from recommendation_support import BPMN, T0, Recommendation, candidate_facts

from processes.recommendation import DEFINITION, POLICIES
from service.engine import Engine, compile_process
from service.pack import ROLES

_keys = itertools.count()


@pytest.fixture(scope="session")
def recommendation_spec() -> str:
    compiled = compile_process(
        (BPMN / "recommendation.bpmn").read_bytes(), filename="recommendation.bpmn",
        dmn={"recommendation_eligibility.dmn": (BPMN / "recommendation_eligibility.dmn").read_bytes()},
        known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


@pytest.fixture
def rec_engine() -> Engine:
    return Engine(time_limit=2.0)


@pytest.fixture
def start(rec_engine: Engine, recommendation_spec: str) -> Callable[..., Recommendation]:
    """start(facts=None, data=None, policies=None, at=T0) -> a Recommendation at its first wait state."""
    loaded = rec_engine.load(("recommendation", next(_keys)), recommendation_spec, DEFINITION.functions)

    def do(facts: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
           policies: Mapping[str, Any] | None = None, at: datetime = T0) -> Recommendation:
        facts = dict(facts or candidate_facts())
        assert DEFINITION.initial_data is not None
        # the service's start_instance, step by step: defaults, start data, then the roster's facts
        initial = {**DEFINITION.start_defaults, **(data or {})}
        initial.update(DEFINITION.initial_data(facts))
        initial.update({"subject": facts["id"], "subject_unit": facts["org_unit"], "process": DEFINITION.key,
                        "policies": {**POLICIES, **(policies or {})}})
        case = rec_engine.start(loaded, initial)
        rec = Recommendation(rec_engine, loaded, case)
        return rec._step(at, case.run)

    return do


# -- the HTTP journey: the real bpmn/ and forms/ folders --------------------------------------------------
@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    root = BPMN.parent
    return {**app_config, "BPMN_DIR": str(root / "bpmn"), "FORMS_DIR": str(root / "forms")}
