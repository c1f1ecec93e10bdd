"""Hostile uploads and scripts through the deploy API: XXE, entity bombs, malformed XML, sandbox
escapes at deploy, and a script that never ends at run time."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import API_BPMN, HOSTILE_BPMN, assert_error


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A short script time limit: the endless loop below must be stopped quickly."""
    return {**app_config, "SCRIPT_TIME_LIMIT": 0.5}


def _hostile(name: str) -> str:
    return (HOSTILE_BPMN / name).read_text(encoding="utf-8")


def _deploy(world: Any, key: str, xml: str | bytes, status: int) -> Any:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return world.post("admin", f"/api/v1/process-models/{key}/versions", status, data=data,
                      content_type="application/xml")


def _line_of(xml: str, needle: str) -> int:
    [line] = [n for n, text in enumerate(xml.splitlines(), start=1) if needle in text]
    return line


def _deployed_keys(raw_db: sa.Engine) -> set[str]:
    with raw_db.connect() as conn:
        return set(conn.execute(sa.text("SELECT key FROM process_model")).scalars())


@pytest.mark.parametrize("name,key", [("xxe.bpmn", "xxe_probe"), ("xxe_text.bpmn", "xxe_text"),
                                      ("xxe_dtd.bpmn", "xxe_dtd"), ("billion_laughs.bpmn", "lolz")])
def test_documents_with_a_doctype_are_refused(world: Any, raw_db: sa.Engine, name: str, key: str) -> None:
    started = time.monotonic()
    response = world.post("admin", f"/api/v1/process-models/{key}/versions", 422, data=_hostile(name).encode(),
                          content_type="application/xml")
    assert time.monotonic() - started < 2
    text = response if isinstance(response, str) else str(response)
    assert "root:" not in text and "/bin/" not in text and "lollol" not in text
    error = assert_error(response, "invalid_bpmn")
    assert error["details"][0]["message"] and isinstance(error["details"][0]["line"], int)
    assert _deployed_keys(raw_db) == {"approval"}
    # and nothing can be read back under that key
    assert_error(world.get("admin", f"/api/v1/process-models/{key}/versions/1/bpmn", 404))


def test_malformed_xml_is_422_with_its_line(world: Any) -> None:
    xml = _hostile("malformed.bpmn")
    error = assert_error(_deploy(world, "malformed", xml, 422), "invalid_bpmn")
    [detail] = error["details"]
    assert detail["message"].startswith("malformed XML")
    # the unclosed <bpmn:endEvent> is reported where the parser notices the mismatch
    assert detail["line"] == _line_of(xml, "</bpmn:process>")
    for garbage in (b"not xml at all", b"\xff\xfe\x00<", b"<a><b></a>", b"{}"):
        assert_error(_deploy(world, "garbage", garbage, 422), "invalid_bpmn")
    error = assert_error(_deploy(world, "x", '<?xml version="1.0"?><root/>', 422), "invalid_bpmn")
    assert "BPMN" in error["details"][0]["message"]


SCRIPT_PAYLOADS = {
    "import": ("import os", "import"),
    "open": ('open("/etc/passwd").read()', "open"),
    "subclasses": ("().__class__.__base__.__subclasses__()", "__class__"),
    "builtins via a frame": ("x = (lambda: 0).__globals__", "__globals__"),
    "dunder import": ("__import__('os').system('id')", "__import__"),
}


@pytest.mark.parametrize("payload,marker", list(SCRIPT_PAYLOADS.values()), ids=list(SCRIPT_PAYLOADS))
def test_hostile_scripts_are_refused_at_deploy(world: Any, raw_db: sa.Engine, payload: str, marker: str) -> None:
    xml = _hostile("script_payload.bpmn").replace("PAYLOAD", payload)
    error = assert_error(_deploy(world, "script_payload", xml, 422), "invalid_bpmn")
    assert error["details"], error
    for detail in error["details"]:
        assert detail["element_id"] == "hostile_script"
        assert detail["line"] == _line_of(xml, "<bpmn:script>")
    assert any(marker in d["message"] for d in error["details"]), error["details"]
    assert _deployed_keys(raw_db) == {"approval"}


CONDITION_PAYLOADS = {
    "import": ("import os", "syntax"),
    "open": ('open("/etc/passwd").read() != ""', "open"),
    "subclasses": ("len(().__class__.__base__.__subclasses__()) > 0", "__class__"),
    "dunder import": ("__import__('os') is None", "__import__"),
}


@pytest.mark.parametrize("payload,marker", list(CONDITION_PAYLOADS.values()), ids=list(CONDITION_PAYLOADS))
def test_hostile_conditions_are_refused_at_deploy(world: Any, raw_db: sa.Engine, payload: str, marker: str) -> None:
    xml = _hostile("condition_payload.bpmn").replace("PAYLOAD", payload)
    error = assert_error(_deploy(world, "condition_payload", xml, 422), "invalid_bpmn")
    assert error["details"], error
    for detail in error["details"]:
        assert detail["element_id"] == "f_hostile"
        assert detail["line"] == _line_of(xml, "<bpmn:conditionExpression>")
    assert any(marker in d["message"] for d in error["details"]), error["details"]
    assert _deployed_keys(raw_db) == {"approval"}


def test_an_endless_script_stops_and_the_service_carries_on(world: Any) -> None:
    assert _deploy(world, "endless_loop", _hostile("endless_loop.bpmn"), 201)["version"] == 1
    instance = world.start(process="endless_loop")
    go = world.ready(instance["id"], "go")

    started = time.monotonic()
    stuck = world.complete("zhangsan", go["id"], {})
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed  # SCRIPT_TIME_LIMIT is 0.5 s in the test config
    assert stuck["status"] == "error" and stuck["ready_tasks"] == []
    assert stuck["error"]["timed_out"] is True and stuck["error"]["element_id"] == "spin"
    fetched = world.instance(instance["id"])
    assert fetched["status"] == "error" and fetched["history"][-1]["action"] == "instance_error"
    assert world.get("admin", "/api/v1/instances", query_string={"status": "error"})["total"] == 1

    # another case of another process still runs start to finish
    other = world.start("2023010102")
    world.complete("sec1", world.ready(other["id"], "submit")["id"], {"reason": "服务正常 still fine"})
    done = world.complete("sec1b", world.ready(other["id"], "review")["id"], {"decision": "approve"})
    assert (done["status"], done["outcome"]) == ("completed", "approved")

    # the admin can put the stuck case away
    assert world.post("admin", f"/api/v1/instances/{instance['id']}/terminate", json={})["status"] == "terminated"
    assert world.instance(instance["id"])["status"] == "terminated"


def test_hostile_task_data_is_refused(world: Any) -> None:
    """Task data is stored in the case and visible to scripts: no dunder or non-identifier keys, no
    overriding the case's reserved values (for a task without a form these checks are all there is)."""
    world.post("admin", "/api/v1/process-models/unit_notice/versions", 201,
               data=(API_BPMN / "unit_notice.bpmn").read_bytes(), content_type="application/xml")
    instance = world.start("TZB-JX2301", "unit_notice")
    world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", json={"name": "objection"})
    handle = world.ready(instance["id"], "handle")
    for data, field in (({"__class__": 1}, "__class__"), ({"not an identifier": 1}, "not an identifier"),
                        ({"subject": "TZB-JX2302"}, "subject"), ({"policies": {}}, "policies"),
                        ({"_private": 1}, "_private")):
        error = assert_error(world.complete("sec1", handle["id"], data, 422), "validation_failed")
        assert field in {d["field"] for d in error["details"]}
    assert world.complete("sec1", handle["id"], {"note": "ok"})["status"] == "completed"
