"""Fixtures for the 团支部年度考核 tests: the real bpmn/ files compiled once, a case starter that builds
the initial data the way service/instances/operations.py start_instance does (with the extra data a
campaign adds), and, for the API tests, the app pointed at the repository's bpmn/ and forms/."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
from branch_assessment_support import BPMN, DEADLINE, REVIEWERS, ROOT, T0, Assessment, branch_facts

from processes.branch_assessment import DEFINITION, POLICIES
from service.engine import Engine, compile_process
from service.pack import ROLES

_keys = itertools.count()


@pytest.fixture(scope="session")
def branch_assessment_spec() -> str:
    compiled = compile_process(
        (BPMN / "branch_assessment.bpmn").read_bytes(), filename="branch_assessment.bpmn",
        dmn={"branch_grade.dmn": (BPMN / "branch_grade.dmn").read_bytes()}, known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


@pytest.fixture
def ba_engine() -> Engine:
    return Engine(time_limit=2.0)


@pytest.fixture
def start(ba_engine: Engine, branch_assessment_spec: str) -> Callable[..., Assessment]:
    """start(reviewers=REVIEWERS, deadline=DEADLINE, policies=None, data=None, at=T0) -> an Assessment at its first wait."""
    loaded = ba_engine.load(("branch_assessment", next(_keys)), branch_assessment_spec, DEFINITION.functions)

    def do(reviewers: list[str] | None = None, deadline: str | None = DEADLINE,
           policies: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
           at: datetime = T0) -> Assessment:
        facts = branch_facts()
        extra: dict[str, Any] = {"year": 2026, "reviewers": list(REVIEWERS if reviewers is None else reviewers),
                                 "campaign_id": 1}
        if deadline is not None:
            extra["deadline"] = deadline
        initial = dict(DEFINITION.start_defaults)  # the service's start_instance, step by step
        initial.update(data or {})
        initial.update(extra)
        assert DEFINITION.initial_data is not None
        initial.update(DEFINITION.initial_data(facts))  # the roster's facts win
        initial.update({"subject": facts["code"], "subject_unit": facts["code"], "process": DEFINITION.key,
                        "policies": {**copy.deepcopy(POLICIES), **(policies or {})}})
        case = ba_engine.start(loaded, initial)
        assessment = Assessment(ba_engine, loaded, case)
        return assessment._step(at, case.run)

    return do


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}
