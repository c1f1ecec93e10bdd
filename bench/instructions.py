"""The CPU cost of a case in instructions, which do not drift with the machine's speed.

On a shared 2-core VM the throughput ratio of requirement (a) moves by ±25 % from one minute to the next
(bench/README.md). This counts what does not move: the machine instructions per instance, under
valgrind's callgrind, of
  raw/stock  plain SpiffWorkflow as in http_throughput.py (deserialize → run → serialize the whole
             workflow with the stock serializer, three steps per instance), and
  service    the same approval workload through the service in-process (Flask test client: routing,
             token, validation, engine, SQL on a SQLite file, commit, JSON answer; no sockets, no gunicorn).
Each is run twice, with --small and --large instances after the same warm-up, and the difference divided
by the extra instances, so start-up and imports drop out. Counts repeat to within a fraction of a
percent; time under valgrind is 50–100× native, so the run takes a few minutes.

    python bench/instructions.py [--small 10] [--large 40]

Needs valgrind (on this machine kind; `apt-get install valgrind` elsewhere). Exit status 0, or 1 on errors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve()
WARMUP = 5


# -- the two workloads, run in a child process (under valgrind) ------------------------------------------
def _child_raw(n: int) -> None:
    from http_throughput import REVIEW_DATA, START_DATA, SUBMIT_DATA, _complete_ready, _parse_spec
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    spec, subprocess_specs = _parse_spec()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def one() -> None:
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.task_tree.data = dict(START_DATA)
        workflow.do_engine_steps()
        workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
        _complete_ready(workflow, "submit", SUBMIT_DATA)
        workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
        _complete_ready(workflow, "review", REVIEW_DATA)
        final = serializer.deserialize_json(serializer.serialize_json(workflow))
        assert final.completed and final.data.get("outcome") == "approved"

    for _ in range(WARMUP + n):
        one()


def _child_service(n: int, setup: str) -> None:
    import gc

    from http_throughput import REVIEW_DATA, SUBMIT_DATA

    info = json.loads(setup)
    app = common.make_app(info["url"])
    gc.set_threshold(50000, 20, 20)  # as service/gunicorn_conf.py sets it in every web worker
    client = app.test_client()

    def token(user: str) -> dict[str, str]:
        response = client.post("/api/v1/auth/token", json={"username": user, "password": common.PASSWORD})
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    h_admin, h_member, h_sec = token(info["admin"]), token(info["member"]), token(info["secretary"])

    def one() -> None:
        r = client.post("/api/v1/instances", headers=h_admin, json={"process": "approval", "subject": info["subject"]})
        assert r.status_code == 201, r.get_json()
        r = client.post(f"/api/v1/tasks/{r.get_json()['ready_tasks'][0]['id']}/complete", headers=h_member,
                        json={"data": SUBMIT_DATA})
        assert r.status_code == 200, r.get_json()
        r = client.post(f"/api/v1/tasks/{r.get_json()['ready_tasks'][0]['id']}/complete", headers=h_sec,
                        json={"data": REVIEW_DATA})
        assert r.status_code == 200 and r.get_json()["outcome"] == "approved", r.get_json()

    for _ in range(WARMUP + n):
        one()


# -- the parent: valgrind runs and arithmetic --------------------------------------------------------------
def _instructions(kind: str, n: int, setup: str) -> tuple[int, float]:
    """(instructions of the whole child run, seconds it took under valgrind)."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
                   sys.executable, str(HERE), "--child", kind, "--count", str(n), "--setup", setup]
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts, run after run
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=common.ROOT)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} x{n} failed under valgrind:\n{proc.stderr[-3000:]}")
        match = re.search(r"^(?:summary|totals):\s+(\d+)", out.read_text(errors="replace"), re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no instruction total in {out}")
        return int(match.group(1)), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=10, help="instances in the short runs (default 10)")
    ap.add_argument("--large", type=int, default=40, help="instances in the long runs (default 40)")
    ap.add_argument("--child", choices=["raw", "service"], help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--setup", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child == "raw":
        _child_raw(args.count)
        return 0
    if args.child == "service":
        _child_service(args.count, args.setup)
        return 0
    if not 0 < args.small < args.large:
        ap.error("need 0 < --small < --large")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 1
    common.exit_on_sigterm()
    print(f"== instructions per instance, raw SpiffWorkflow against the service ({common.machine()}) ==")
    url, org, _ = common.prepare_database("instructions", members=1)
    try:
        setup = json.dumps({"url": url, "admin": org.admin, "secretary": org.secretary, "member": org.members[0],
                            "subject": org.member_people[org.members[0]]})
        per_instance: dict[str, float] = {}
        for kind in ("raw", "service"):
            small, seconds_small = _instructions(kind, args.small, setup)
            large, seconds_large = _instructions(kind, args.large, setup)
            per_instance[kind] = (large - small) / (args.large - args.small)
            print(f"{kind:<8}: {small:>15,} instructions for {args.small} instances ({seconds_small:.0f} s), "
                  f"{large:>15,} for {args.large} ({seconds_large:.0f} s): "
                  f"{per_instance[kind] / 1e6:8.2f} M instructions per instance")
    finally:
        common.remove_database(url)
    ratio = per_instance["service"] / per_instance["raw"]
    print(f"service / raw-stock = {ratio:.2f}x the instructions per instance (in-process: no sockets, no gunicorn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
