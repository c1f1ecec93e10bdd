"""The CPU cost of a case in instructions, which do not drift with the machine's speed.

On a shared 2-core VM the throughput ratio of requirement (a) moves by ±25 % from one minute to the next
(bench/README.md). This counts what does not move: the machine instructions per instance, under
valgrind's callgrind (user space only: the kernel's work for sockets and files is not counted), of
  raw/stock  plain SpiffWorkflow as in http_throughput.py (deserialize → run → serialize the whole
             workflow with the stock serializer, three steps per instance);
  service    the same approval workload through the service in-process (Flask test client: routing,
             token, validation, engine, SQL on a SQLite file, commit, JSON answer; no sockets);
  http       the same over HTTP through gunicorn with the production config and one sync worker; the
             counts are the server's (master and worker), not the client's.
Each is run twice, with --small and --large instances after the same warm-up, and the difference divided
by the extra instances, so start-up and imports drop out. Seen here: raw/stock 20.01, 20.01 and 19.97 M
instructions per instance in three runs; the service 33.2 to 34.5 M (its database grows between runs).
Time under valgrind is 20–100× native: the default run takes about ten minutes.

    python bench/instructions.py [--small 10] [--large 40] [--cache-sim] [--no-http]

Needs valgrind (on this machine kind; `apt-get install valgrind` elsewhere; without it the run is skipped).
Exit status 0, or 1 on errors.
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
from collections import defaultdict
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


def _http_instructions(n: int, info: dict[str, str], cache_sim: bool) -> tuple[dict[str, int], float]:
    """The whole server's events (gunicorn's master and its one sync worker, production config, each under
    callgrind) while WARMUP + n instances are driven over HTTP from this process, which is not counted."""
    import http_throughput as ht

    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        prefix = ["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={tmp}/out.%p",
                  f"--cache-sim={'yes' if cache_sim else 'no'}"]
        started = time.perf_counter()
        server = common.Server(info["url"], workers=1, prefix=prefix, start_timeout=600, stop_timeout=300,
                               extra_env={"PYTHONHASHSEED": "0", "GUNICORN_TIMEOUT": "600"})
        with server:
            client = common.KeepAliveClient(server.base, timeout=600)
            headers = {name: {"Authorization": f"Bearer {ht._token(client, info[name])}"}
                       for name in ("admin", "member", "secretary")}
            latencies: dict[str, list[float]] = defaultdict(list)  # recorded by _run_instance, not used here
            for _ in range(WARMUP + n):
                ht._run_instance(client, info["subject"], headers["admin"], headers["member"], headers["secretary"],
                                 latencies)
            client.close()
        seconds = time.perf_counter() - started
        totals: dict[str, int] = {}
        for path in Path(tmp).glob("out.*"):
            counted = _totals(path.read_text(errors="replace"), path)
            for event, value in counted.items():
                totals[event] = totals.get(event, 0) + value
        if not totals:
            raise RuntimeError("callgrind wrote no totals for the server")
        return totals, seconds


def _totals(text: str, path: Path) -> dict[str, int]:
    events = re.search(r"^events:\s+(.+)$", text, re.MULTILINE)
    totals = re.search(r"^(?:summary|totals):\s+(.+)$", text, re.MULTILINE)
    if events is None or totals is None:
        raise RuntimeError(f"no event totals in {path}")
    return dict(zip(events.group(1).split(), map(int, totals.group(1).split()), strict=False))


# -- the parent: valgrind runs and arithmetic --------------------------------------------------------------
def _instructions(kind: str, n: int, setup: str, cache_sim: bool = False) -> tuple[dict[str, int], float]:
    """({event: count} of the whole child run, seconds it took under valgrind). The events are Ir
    (instructions) and, with the cache simulation, I1mr/ILmr (instruction fetches missing the first-level and
    the last-level cache), Dr/D1mr/DLmr (data reads and their misses) and Dw/D1mw/DLmw (data writes)."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
                   f"--cache-sim={'yes' if cache_sim else 'no'}",
                   sys.executable, str(HERE), "--child", kind, "--count", str(n), "--setup", setup]
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts, run after run
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=common.ROOT)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} x{n} failed under valgrind:\n{proc.stderr[-3000:]}")
        return _totals(out.read_text(errors="replace"), out), seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=10, help="instances in the short runs (default 10)")
    ap.add_argument("--large", type=int, default=40, help="instances in the long runs (default 40)")
    ap.add_argument("--cache-sim", action="store_true",
                    help="also simulate the caches: misses per instance (slower)")
    ap.add_argument("--no-http", action="store_true", help="skip the run through gunicorn over HTTP")
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
        print("skipped: valgrind is not installed (apt-get install valgrind)")
        return 0
    common.exit_on_sigterm()
    print(f"== instructions per instance, raw SpiffWorkflow against the service ({common.machine()}) ==")
    url, org, _ = common.prepare_database("instructions", members=1)
    try:
        setup = json.dumps({"url": url, "admin": org.admin, "secretary": org.secretary, "member": org.members[0],
                            "subject": org.member_people[org.members[0]]})
        per_instance: dict[str, dict[str, float]] = {}
        for kind in ("raw", "service", "http"):
            if kind == "http" and args.no_http:
                continue
            if kind == "http":
                small, seconds_small = _http_instructions(args.small, json.loads(setup), args.cache_sim)
                large, seconds_large = _http_instructions(args.large, json.loads(setup), args.cache_sim)
            else:
                small, seconds_small = _instructions(kind, args.small, setup, args.cache_sim)
                large, seconds_large = _instructions(kind, args.large, setup, args.cache_sim)
            per_instance[kind] = {event: (large[event] - small[event]) / (args.large - args.small) for event in large}
            print(f"{kind:<8}: {small['Ir']:>15,} instructions for {args.small} instances ({seconds_small:.0f} s), "
                  f"{large['Ir']:>15,} for {args.large} ({seconds_large:.0f} s): "
                  f"{per_instance[kind]['Ir'] / 1e6:8.2f} M instructions per instance")
            if args.cache_sim:
                print("          per instance: " + ", ".join(
                    f"{event} {value / 1e3:,.0f}k" for event, value in per_instance[kind].items() if event != "Ir"))
    finally:
        common.remove_database(url)
    ratio = per_instance["service"]["Ir"] / per_instance["raw"]["Ir"]
    print(f"service / raw-stock = {ratio:.2f}x the instructions per instance (in-process: no sockets, no gunicorn)")
    if "http" in per_instance:
        print(f"http    / raw-stock = {per_instance['http']['Ir'] / per_instance['raw']['Ir']:.2f}x the instructions "
              f"per instance (the whole gunicorn server: master and one sync worker)")
    if args.cache_sim:
        for event in ("I1mr", "ILmr", "D1mr", "DLmr", "D1mw", "DLmw"):
            raw = per_instance["raw"].get(event)
            if raw:
                print(f"service / raw-stock {event:<4} = {per_instance['service'][event] / raw:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
