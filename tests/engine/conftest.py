"""Engine-level fixtures: compile a BPMN fixture from tests/data/engine and load it into an Engine.

No database and no Flask app: these tests drive service.engine directly, the way
service/instances/operations.py does (start -> run -> state_json/restore between steps -> complete).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from service.engine import Case, CompiledProcess, Engine, LoadedSpec, compile_process

ENGINE_DATA = Path(__file__).resolve().parent.parent / "data" / "engine"
_keys = itertools.count()


def _read(name: str) -> bytes:
    path = ENGINE_DATA / name
    assert path.is_file(), f"missing fixture {path}"
    return path.read_bytes()


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    """fixture_bytes("gateways.bpmn") -> the file's bytes."""
    return _read


@pytest.fixture
def engine() -> Engine:
    return Engine(time_limit=0.5)


@pytest.fixture
def compile_fixture() -> Callable[..., CompiledProcess]:
    """compile_fixture("main.bpmn", dmn=["rules.dmn"], library=["child.bpmn"], known_roles={...})."""

    def do(name: str, *, dmn: Iterable[str] = (), library: Iterable[str] = (),
           known_roles: Iterable[str] | None = None) -> CompiledProcess:
        return compile_process(
            _read(name), filename=name, dmn={d: _read(d) for d in dmn},
            library=[_read(lib) for lib in library], known_roles=known_roles,
        )

    return do


@pytest.fixture
def load_process(engine: Engine, compile_fixture: Callable[..., CompiledProcess]) -> Callable[..., LoadedSpec]:
    """load_process("gateways.bpmn", dmn=..., library=..., known_roles=..., functions=..., engine=...)
    compiles a fixture (deploy-time lint included) and returns the Engine-loaded spec."""

    def do(name: str, *, dmn: Iterable[str] = (), library: Iterable[str] = (),
           known_roles: Iterable[str] | None = None, functions: Mapping[str, Callable[..., Any]] | None = None,
           engine: Engine = engine) -> LoadedSpec:
        compiled = compile_fixture(name, dmn=dmn, library=library, known_roles=known_roles)
        return engine.load(("test", name, next(_keys)), compiled.spec_json, functions or {})

    return do


@pytest.fixture
def reload(engine: Engine) -> Callable[[LoadedSpec, Case], Case]:
    """reload(loaded, case): serialize the case and restore it, as the service does between requests."""

    def do(loaded: LoadedSpec, case: Case) -> Case:
        return engine.restore(loaded, case.state_json())

    return do


@pytest.fixture
def start_case(engine: Engine, reload: Callable[[LoadedSpec, Case], Case]) -> Callable[..., Case]:
    """start_case(loaded, data): start, run to the first wait, and hand back a restored copy."""

    def do(loaded: LoadedSpec, data: Mapping[str, Any] | None = None) -> Case:
        case = engine.start(loaded, data or {})
        case.run()
        return reload(loaded, case)

    return do


@pytest.fixture
def load_unchecked(engine: Engine) -> Callable[..., LoadedSpec]:
    """Like load_process, but parsed straight by SpiffWorkflow: no deploy lint, no sandbox checks at
    compile time (a spec that got past the lint some other way). Only the run-time sandbox remains."""
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    from service.engine.serialization import registry

    def do(name: str, *, dmn: Iterable[str] = (), engine: Engine = engine) -> LoadedSpec:
        parser = SpiffBpmnParser()
        parser.add_bpmn_str(_read(name))
        for d in dmn:
            parser.add_dmn_str(_read(d))
        process_id = parser.get_process_ids()[0]
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        spec_json = json.dumps({"spec": registry.convert(spec),
                                "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()}})
        return engine.load(("unchecked", name, next(_keys)), spec_json, {})

    return do
