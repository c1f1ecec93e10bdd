"""Fixtures for the 整改 tests: the real bpmn/rectification.bpmn compiled once, a case starter that builds
the initial data the way service/instances/operations.py start_instance does, and, for the API test,
the app pointed at the repository's bpmn/ and forms/."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
from rectification_support import BPMN, DEADLINE, PROBLEMS, ROOT, T0, Rectification, unit_facts

from processes.rectification import DEFINITION, POLICIES
from service import clock
from service.engine import Engine, compile_process
from service.pack import ROLES

_keys = itertools.count()


@pytest.fixture(scope="session")
def rectification_spec() -> str:
    compiled = compile_process((BPMN / "rectification.bpmn").read_bytes(), filename="rectification.bpmn",
                               known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


@pytest.fixture
def rect_engine() -> Engine:
    return Engine(time_limit=2.0)


@pytest.fixture
def start(rect_engine: Engine, rectification_spec: str) -> Callable[..., Rectification]:
    """start(problems=PROBLEMS, deadline=DEADLINE, policies=None, unit_kind="league_branch", data=None, at=T0)
    -> a Rectification waiting at its first task."""
    loaded = rect_engine.load(("rectification", next(_keys)), rectification_spec, DEFINITION.functions)

    def do(problems: Any = PROBLEMS, deadline: str | None = DEADLINE, policies: Mapping[str, Any] | None = None,
           unit_kind: str = "league_branch", data: Mapping[str, Any] | None = None, at: datetime = T0) -> Rectification:
        facts = unit_facts(unit_kind)
        assert DEFINITION.initial_data is not None
        initial = dict(DEFINITION.start_defaults)
        initial.update({"problems": copy.deepcopy(problems), "deadline": deadline})
        initial.update(data or {})
        initial.update(DEFINITION.initial_data(facts))  # the roster's facts win over start data
        initial.update({"subject": facts["code"], "subject_unit": facts["code"], "process": DEFINITION.key,
                        "policies": {**copy.deepcopy(POLICIES), **(policies or {})}})
        with clock.frozen_at(at):
            case = rect_engine.start(loaded, initial)
        case_driver = Rectification(rect_engine, loaded, case, unit_kind, at)
        return case_driver._step(at, case.run)

    return do


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}
