"""Helpers of the load tests: a private PostgreSQL cluster, the gunicorn and worker processes, a simulated
user population and the figures they report."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
VENV_BIN = Path(sys.executable).parent
PASSWORD = "load-pass-1"
FAST_HASH = "pbkdf2:sha256:1000"
TIMER_BRANCH = "TZB-TIMERS"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- the private cluster ---------------------------------------------------------------------------------------
class Cluster:
    """initdb into a temporary directory and pg_ctl on a free port (as the postgres user when we are root)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.log = base / "postgres.log"
        self.port = free_port()
        self.bin = self.binaries()

    @staticmethod
    def binaries() -> Path | None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
        return versions[-1].parent if versions else None

    @classmethod
    def unavailable(cls) -> str | None:
        if cls.binaries() is None:
            return "no /usr/lib/postgresql/*/bin/initdb"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "running as root without runuser"
        if os.geteuid() == 0:
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user"
        return None

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return done

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--no-sync", "--locale=C.UTF-8")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=200 -c synchronous_commit=off", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except sa.exc.OperationalError:
            pass  # the cluster is going away anyway
        engine.dispose()


# -- the database's contents -----------------------------------------------------------------------------------
def app_env(url: str, workdir: Path) -> dict[str, str]:
    """The environment of every process of the service under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST", "PROMETHEUS_"))}
    env.update({
        "DATABASE_URL": url, "SECRET_KEY": "load-test-secret", "PASSWORD_HASH_METHOD": FAST_HASH,
        "BPMN_DIR": str(DATA / "bpmn"), "FORMS_DIR": str(DATA / "forms"), "LOGIN_RATE_LIMIT": "100000",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"), "JOB_LEASE_SECONDS": "10",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def in_app(url: str) -> Any:
    from service import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "PASSWORD_HASH_METHOD": FAST_HASH,
                       "BPMN_DIR": str(DATA / "bpmn"), "FORMS_DIR": str(DATA / "forms")})


def prepare_database(url: str, users: int) -> dict[str, Any]:
    """Migrate; deploy `deadline`; a League general branch with one branch per pair of simulated users
    (two secretaries each, so they race for the same tasks), a branch for the timer cases, an admin."""
    from flask_migrate import upgrade

    from service.auth.operations import hash_password
    from service.extensions import db
    from service.modeler.operations import deploy_bpmn
    from service.org.models import OrgUnit, RoleAssignment, User

    app = in_app(url)
    people: list[tuple[str, str]] = []
    with app.app_context():
        upgrade()
        deploy_bpmn((DATA / "bpmn" / "deadline.bpmn").read_bytes())
        tzz = OrgUnit(code="TZZ", name="团总支", kind="league_general_branch")
        db.session.add(tzz)
        hashed = hash_password(PASSWORD)

        def user(name: str, role: str, unit: OrgUnit | None) -> None:
            account = User(username=name, password_hash=hashed)
            account.roles.append(RoleAssignment(role=role, org_unit=unit))
            db.session.add(account)

        for pair in range((users + 1) // 2):
            branch = OrgUnit(code=f"TZB-L{pair:03d}", name=f"负载{pair}团支部", kind="league_branch", parent=tzz)
            db.session.add(branch)
            for side in ("a", "b")[: min(2, users - 2 * pair)]:
                user(f"load{pair:03d}{side}", "league_branch_secretary", branch)
                people.append((f"load{pair:03d}{side}", branch.code))
        timers = OrgUnit(code=TIMER_BRANCH, name="定时器团支部", kind="league_branch", parent=tzz)
        db.session.add(timers)
        user("timersec", "league_branch_secretary", timers)
        user("loadadmin", "admin", None)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"url": url, "users": people}


def start_due_cases(url: str, count: int) -> list[int]:
    """`count` deadline cases on the timer branch, started 2 hours ago, so each one's reminder is due: one
    started through the service, the rest copied from it in SQL (its rows with new ids), which is quick."""
    from service import clock
    from service.extensions import db
    from service.instances.operations import start_instance

    app = in_app(url)
    with app.app_context(), clock.frozen_at(clock.now() - timedelta(hours=2)):
        first = start_instance(None, "deadline", TIMER_BRANCH).id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(url)
    inspector = sa.inspect(engine)
    copied = [c["name"] for c in inspector.get_columns("instance") if c["name"] != "id"]
    task_columns = [c["name"] for c in inspector.get_columns("human_task") if c["name"] not in ("id", "instance_id")]
    with engine.begin() as conn:
        ids = [first, *conn.execute(sa.text(
            f"INSERT INTO instance ({', '.join(copied)}) SELECT {', '.join(copied)} FROM instance, "
            "generate_series(2, :n) WHERE id = :first RETURNING id"), {"n": count, "first": first}).scalars()]
        conn.execute(sa.text(
            f"INSERT INTO human_task (id, instance_id, {', '.join(task_columns)}) "
            f"SELECT gen_random_uuid()::text, i.id, {', '.join('t.' + c for c in task_columns)} "
            "FROM human_task t, instance i WHERE t.instance_id = :first AND i.id = ANY(:ids) AND i.id <> :first"),
            {"first": first, "ids": ids})
    engine.dispose()
    return ids


# -- processes -------------------------------------------------------------------------------------------------
class Web:
    """gunicorn with the production config: 2 worker processes on a free loopback port."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        (workdir / "metrics").mkdir(parents=True, exist_ok=True)
        env = dict(env, BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY="2", GUNICORN_THREADS="4",
                   GUNICORN_TIMEOUT="30", GUNICORN_MAX_REQUESTS="0")
        self.log = (workdir / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "python:service.gunicorn_conf", "service:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self.get("/healthz").status_code == 200, 60, "gunicorn did not start")

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.base + path, timeout=10, **kwargs)

    def worker_pids(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


class Worker:
    """`flask --app service worker`: fires due timers until stopped."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str) -> None:
        self.log_path = workdir / f"worker-{name}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "service", "worker", "--interval", "0.2"],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no chance to finish the current case
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def wait_for(check: Any, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, sa.exc.OperationalError):
            pass
        time.sleep(0.2)
    raise AssertionError(message)


# -- the simulated users ---------------------------------------------------------------------------------------
@dataclass
class Tally:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    completed_ok: list[str] = field(default_factory=list)   # task ids answered 200
    completion_lost: list[str] = field(default_factory=list)  # task ids whose answer never came (a crash)
    connection_errors: int = 0
    started_cases: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(seconds)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def token(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                             timeout=30)
    response.raise_for_status()
    return response.json()["token"]


class SimulatedUser(threading.Thread):
    """A branch secretary: has a case started for the branch, lists the inbox, completes what is there."""

    def __init__(self, base: str, username: str, branch: str, admin_token: str, until: float, tally: Tally) -> None:
        super().__init__(daemon=True)
        self.base, self.username, self.branch = base, username, branch
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.until, self.tally = until, tally
        self.session = requests.Session()

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, headers=headers, timeout=30, **kwargs)
        except requests.RequestException:
            with self.tally.lock:
                self.tally.connection_errors += 1
            self.session = requests.Session()
            return None
        self.tally.add(response.status_code, time.perf_counter() - started)
        return response

    def run(self) -> None:
        mine = {"Authorization": f"Bearer {token(self.base, self.username)}"}
        while time.monotonic() < self.until:
            started = self.call("POST", "/api/v1/instances", self.admin,
                                json={"process": "deadline", "subject": self.branch})
            if started is not None and started.status_code == 201:
                with self.tally.lock:
                    self.tally.started_cases.append(started.json()["id"])
            inbox = self.call("GET", "/api/v1/tasks?process=deadline&limit=5", mine)
            if inbox is None or inbox.status_code != 200:
                time.sleep(0.05)
                continue
            for task in inbox.json()["items"][:2]:
                done = self.call("POST", f"/api/v1/tasks/{task['id']}/complete", mine, json={"data": {}})
                with self.tally.lock:
                    if done is None:
                        self.tally.completion_lost.append(task["id"])
                    elif done.status_code == 200:
                        self.tally.completed_ok.append(task["id"])


def run_users(base: str, users: list[tuple[str, str]], seconds: float, tally: Tally,
              during: Any = None) -> float:
    """Run the users for `seconds`; `during(elapsed)` is called every 0.5 s (to inject faults). Returns the
    wall time."""
    admin_token = token(base, "loadadmin")
    until = time.monotonic() + seconds
    threads = [SimulatedUser(base, name, branch, admin_token, until, tally) for name, branch in users]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        if during is not None:
            during(time.monotonic() - began)
        time.sleep(0.5)
        if time.monotonic() > until + 120:
            raise AssertionError("simulated users hung")
    return time.monotonic() - began


# -- checks on the database ------------------------------------------------------------------------------------
def consistency(url: str, tally: Tally, since: Any) -> dict[str, Any]:
    """What the database says about the completions since `since` and about every case; asserts nothing is
    lost, doubled or half-applied."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        completed = dict(conn.execute(sa.text(
            "SELECT id, completed_by FROM human_task WHERE status = 'completed' AND process_key = 'deadline' "
            "AND completed_at >= :since"), {"since": since}).all())
        audit_rows = conn.execute(sa.text(
            "SELECT task_id, count(*) FROM audit_event WHERE action = 'task_completed' AND at >= :since "
            "GROUP BY task_id"), {"since": since}).all()
        half = conn.execute(sa.text("""
            SELECT i.id, i.status, count(t.id) FILTER (WHERE t.status = 'ready') AS ready
            FROM instance i LEFT JOIN human_task t ON t.instance_id = i.id
            WHERE i.process_key = 'deadline' AND i.subject <> :timers
            GROUP BY i.id, i.status
            HAVING (i.status = 'completed' AND count(t.id) FILTER (WHERE t.status = 'ready') <> 0)
                OR (i.status = 'running' AND count(t.id) FILTER (WHERE t.status = 'ready') <> 1)
                OR i.status NOT IN ('running', 'completed')"""), {"timers": TIMER_BRANCH}).all()
    engine.dispose()
    audited = {task_id: n for task_id, n in audit_rows}
    ok = tally.completed_ok
    assert len(ok) == len(set(ok)), "a task was answered 200 twice"
    assert set(ok) <= set(completed), "a 200 completion is missing from the database"
    unexplained = set(completed) - set(ok) - set(tally.completion_lost)
    assert not unexplained, f"completions without a 200 and without a lost answer: {sorted(unexplained)[:5]}"
    assert set(audited) == set(completed), "audit log and completions disagree"
    assert all(n == 1 for n in audited.values()), "a completion was audited twice"
    assert not half, f"cases whose tasks disagree with their state: {half[:5]}"
    return {"completions": len(completed), "ok_200": len(ok), "lost_answers": len(tally.completion_lost)}


def report(title: str, tally: Tally, wall: float, extra: dict[str, Any] | None = None) -> None:
    figures = {
        "requests": tally.requests, "requests/s": round(tally.requests / wall, 1) if wall else 0,
        "p95 ms": round(percentile(tally.latencies, 0.95) * 1000, 1),
        "p50 ms": round(percentile(tally.latencies, 0.5) * 1000, 1),
        "5xx": tally.server_errors, "409": tally.statuses.get(409, 0),
        "connection errors": tally.connection_errors, "cases started": len(tally.started_cases),
        **(extra or {}),
    }
    print(f"\n[load] {title}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
