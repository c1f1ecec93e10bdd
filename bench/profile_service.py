"""Where a request's time goes: the approval workload driven in-process through the Flask test
client (no sockets, one thread), timed per chunk of instances and optionally profiled.

    python bench/profile_service.py [--n 300] [--chunk 100] [--profile cprofile|pyinstrument] [--only submit] [--gc default]

Prints instances/s per chunk (does the cost grow with the number of rows?), the per-request
mean, and with --profile the top of the profile of the requests (all three, or one kind).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from http_throughput import REVIEW_DATA, SUBMIT_DATA  # noqa: E402

# (module, attribute) pairs timed by --phases; missing ones are skipped (the code moves)
PHASES = [
    ("service.api", "_load_actor"),
    ("service.instances.operations", "start_instance"),
    ("service.instances.operations", "complete_task"),
    ("service.instances.operations", "get_task_for"),
    ("service.instances.operations", "_actionable"),
    ("service.instances.operations", "restore_case"),
    ("service.instances.operations", "validate_task_data"),
    ("service.instances.operations", "_advance"),
    ("service.instances.operations", "_persist"),
    ("service.instances.operations", "_sync_tasks"),
    ("service.instances.operations", "latest_version"),
    ("service.instances.operations", "resolve_subject"),
    ("service.instances.operations", "policies_for"),
    ("service.engine.runtime", "Case.complete"),
    ("service.engine.runtime", "Case.run"),
    ("service.engine.runtime", "Case.state_json"),
    ("service.engine.runtime", "Case.ready_human_tasks"),
    ("service.engine.runtime", "Engine.restore"),
    ("service.engine.runtime", "Engine.start"),
    ("service.instances.views", "instance_views"),
    ("service.transaction", "commit"),
    ("sqlalchemy.orm.session", "Session.flush"),
    ("sqlalchemy.orm.session", "Session.commit"),
]


class Phases:
    """Inclusive wall time of selected functions (outermost call only) and of SQL statements."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.depth: dict[str, int] = defaultdict(int)
        self._sql_start = 0.0

    def _wrap(self, owner: Any, name: str, label: str) -> None:
        import functools

        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*a: Any, **k: Any) -> Any:
            self.depth[label] += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.depth[label] -= 1
                if self.depth[label] == 0:
                    self.total[label] += time.perf_counter() - t0
                    self.calls[label] += 1

        setattr(owner, name, timed)

    def install(self, app: Any) -> None:
        import importlib

        from sqlalchemy import event

        for module_name, attr in PHASES:
            module = importlib.import_module(module_name)
            owner: Any = module
            parts = attr.split(".")
            for part in parts[:-1]:
                owner = getattr(owner, part, None)
            if owner is None or not hasattr(owner, parts[-1]):
                continue
            self._wrap(owner, parts[-1], attr)
            # modules that imported the function by name keep their own reference: patch those too
            if len(parts) == 1:
                for other in ("service.instances.routes", "service.inbox.routes", "service.instances.operations"):
                    mod = importlib.import_module(other)
                    if other != module_name and getattr(mod, attr, None) is getattr(module, attr).__wrapped__:
                        setattr(mod, attr, getattr(module, attr))
        with app.app_context():
            from service.extensions import db

            engine = db.engine

        def before(*_: Any) -> None:
            self._sql_start = time.perf_counter()

        def after(*_: Any) -> None:
            self.total["SQL (cursor.execute)"] += time.perf_counter() - self._sql_start
            self.calls["SQL (cursor.execute)"] += 1

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

    def reset(self) -> None:
        self.total.clear()
        self.calls.clear()

    def report(self, requests: int) -> None:
        print("  phases (inclusive wall ms per request, averaged over all requests; nested phases overlap):")
        for label, value in sorted(self.total.items(), key=lambda kv: -kv[1]):
            print(f"    {label:<34} {1000 * value / requests:7.3f} ms   {self.calls[label] / requests:5.2f} calls/request")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--profile", choices=["cprofile", "pyinstrument"], default=None)
    ap.add_argument("--only", choices=["start", "submit", "review"], default=None,
                    help="profile only this request kind")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--show-all", action="store_true", help="pyinstrument: do not hide library frames")
    ap.add_argument("--gc", default="50000,20,20",
                    help="GC thresholds, as service/gunicorn_conf.py sets them in a web worker ('default': Python's)")
    ap.add_argument("--cache-ttl", type=float, default=None, help="CACHE_TTL_SECONDS for the app")
    ap.add_argument("--phases", action="store_true",
                    help="time the service's main steps (inclusive wall ms per request) and the SQL statements")
    ap.add_argument("--engine-options", default=None,
                    help='SQLALCHEMY_ENGINE_OPTIONS as JSON, e.g. \'{}\' to try without pool_pre_ping')
    args = ap.parse_args(argv)

    url, org, _ = common.prepare_database("profile", members=1)
    extra: dict[str, Any] = {}
    if args.cache_ttl is not None:
        extra["CACHE_TTL_SECONDS"] = args.cache_ttl
    if args.engine_options is not None:
        import json

        extra["SQLALCHEMY_ENGINE_OPTIONS"] = json.loads(args.engine_options)
    phases = Phases() if args.phases else None
    app = common.make_app(url, **extra)
    if args.gc != "default":
        gc.set_threshold(*(int(part) for part in args.gc.split(",")))
    if phases:
        phases.install(app)
    client = app.test_client()

    def token(user: str) -> dict[str, str]:
        r = client.post("/api/v1/auth/token", json={"username": user, "password": common.PASSWORD})
        assert r.status_code == 200, r.get_json()
        return {"Authorization": f"Bearer {r.get_json()['token']}"}

    h_admin, h_member, h_sec = token(org.admin), token(org.members[0]), token(org.secretary)
    subject = org.member_people[org.members[0]]

    profiler: Any = None
    if args.profile == "cprofile":
        profiler = cProfile.Profile()
    elif args.profile == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)

    def call(kind: str, fn: Any) -> Any:
        active = profiler is not None and (args.only is None or args.only == kind)
        if active:
            if args.profile == "cprofile":
                profiler.enable()
            else:
                profiler.start()
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            times[kind].append(time.perf_counter() - t0)
            if active:
                if args.profile == "cprofile":
                    profiler.disable()
                else:
                    profiler.stop()

    def one() -> None:
        r = call("start", lambda: client.post("/api/v1/instances", headers=h_admin,
                                              json={"process": "approval", "subject": subject}))
        assert r.status_code == 201, r.get_json()
        tid = r.get_json()["ready_tasks"][0]["id"]
        r = call("submit", lambda: client.post(f"/api/v1/tasks/{tid}/complete", headers=h_member,
                                               json={"data": SUBMIT_DATA}))
        assert r.status_code == 200, r.get_json()
        tid = r.get_json()["ready_tasks"][0]["id"]
        r = call("review", lambda: client.post(f"/api/v1/tasks/{tid}/complete", headers=h_sec,
                                               json={"data": REVIEW_DATA}))
        assert r.status_code == 200 and r.get_json()["outcome"] == "approved", r.get_json()

    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(5):
        one()
    times.clear()
    if phases:
        phases.reset()
    cpu0 = time.process_time()
    try:
        done = 0
        while done < args.n:
            size = min(args.chunk, args.n - done)
            t0 = time.perf_counter()
            for _ in range(size):
                one()
            elapsed = time.perf_counter() - t0
            done += size
            print(f"instances {done - size + 1:>5}-{done:<5}: {size / elapsed:7.1f} instances/s (in-process, 1 thread)")
        requests_done = sum(len(v) for v in times.values())
        print(f"  CPU {1000 * (time.process_time() - cpu0) / requests_done:.2f} ms per request (this process)")
        for kind, values in times.items():
            print(f"  {kind:<7}: {common.summary_ms(values)}")
        if phases:
            phases.report(requests_done)
        if args.profile == "cprofile":
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            if os.environ.get("PROFILE_DUMP"):
                stats.dump_stats(os.environ["PROFILE_DUMP"])
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
        elif args.profile == "pyinstrument":
            print(profiler.output_text(unicode=True, color=False, show_all=bool(args.show_all)))
    finally:
        with app.app_context():
            from service.extensions import db

            db.engine.dispose()
        common.remove_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
