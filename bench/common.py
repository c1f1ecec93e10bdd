"""Shared helpers for the benchmarks: a fresh SQLite database, a seeded org, the test process
deployed, and a real HTTP server on loopback in a subprocess (gunicorn if installed, else
`flask run`). Benchmarks print figures; they are not tests.

Everything here is bounded: server start-up waits at most START_TIMEOUT seconds, and the server
process group is always killed when the `Server` context exits.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
BPMN_DIR = DATA / "bpmn"
FORMS_DIR = DATA / "forms"
APPROVAL_BPMN = BPMN_DIR / "approval.bpmn"
PASSWORD = "bench-pass-1"
HASH_METHOD = "pbkdf2:sha256:1000"  # cheap: logins are not what we measure
SECRET_KEY = "bench-secret-key"
START_TIMEOUT = 60.0


# -- database -----------------------------------------------------------------------------------------
def fresh_database(name: str, server: str | None = None) -> str:
    """A new, empty database; returns its SQLAlchemy URL. Without `server`: a SQLite file under /tmp;
    with a PostgreSQL server URL (postgresql://user@host:port/anydb): a database bench_<name>_<pid>."""
    if server:
        import sqlalchemy as sa

        from service.config import normalise_database_url

        base = sa.make_url(normalise_database_url(server))
        target = f"bench_{name}_{os.getpid()}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{target}"'))
        admin.dispose()
        return base.set(database=target).render_as_string(hide_password=False)
    path = Path(f"/tmp/bench-{name}-{os.getpid()}.db")
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
    return f"sqlite:///{path}"


def remove_database(url: str) -> None:
    if url.startswith("postgresql"):
        import sqlalchemy as sa

        target = sa.make_url(url)
        if not (target.database or "").startswith("bench_"):
            return
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with contextlib.suppress(Exception), admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        admin.dispose()
        return
    path = url.removeprefix("sqlite:///")
    if not path.startswith("/tmp/bench-"):
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def describe_database(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL)"


def app_config(url: str, **extra: Any) -> dict[str, Any]:
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET_KEY,
        "PASSWORD_HASH_METHOD": HASH_METHOD,
        "BPMN_DIR": str(BPMN_DIR),
        "FORMS_DIR": str(FORMS_DIR),
    }
    config.update(extra)
    return config


def make_app(url: str, **extra: Any) -> Any:
    from service import create_app

    return create_app(app_config(url, **extra))


def migrate(app: Any) -> None:
    """Alembic upgrade to head; its log lines are shown only if it fails."""
    import io
    import logging

    from flask_migrate import upgrade

    captured = io.StringIO()
    try:
        with app.app_context(), contextlib.redirect_stderr(captured):
            upgrade()
    except BaseException:
        sys.stderr.write(captured.getvalue())
        raise
    finally:
        for name in ("alembic", "alembic.runtime.migration"):  # its handlers point at the captured stream
            logging.getLogger(name).handlers.clear()


# -- org, users, process ---------------------------------------------------------------------------------
@dataclass
class Org:
    """Codes of what `seed_org` created. League branch i is `TZB-{i:03d}`; its paired Party branch
    is `DZB-{i // 5:03d}`."""

    league_branches: list[str]
    party_branches: list[str]
    units: int
    admin: str = "admin"
    members: list[str] = field(default_factory=list)  # usernames (each with a person in league_branches[0])
    member_people: dict[str, str] = field(default_factory=dict)  # username -> person id
    secretary: str = "secretary"  # league_branch_secretary at league_branches[0]


def seed_org(app: Any, *, league_branches: int = 4, members: int = 4, password: str = PASSWORD) -> Org:
    """One 党总支 + 团总支 pair, Party branches (one per 5 League branches) and `league_branches`
    League branches; an admin, `members` member users with a person each in the first League branch,
    and that branch's League secretary (a person in the second branch, so separation of duty holds)."""
    from datetime import date

    from werkzeug.security import generate_password_hash

    from service.extensions import db
    from service.org.models import OrgUnit, Person, RoleAssignment, User

    pw_hash = generate_password_hash(password, method=HASH_METHOD)
    with app.app_context():
        dzz = OrgUnit(code="DZZ", name="党总支", kind="party_general_branch")
        tzz = OrgUnit(code="TZZ", name="团总支", kind="league_general_branch", paired_with=dzz)
        db.session.add_all([dzz, tzz])
        party: list[OrgUnit] = []
        for j in range((league_branches + 4) // 5):
            party.append(OrgUnit(code=f"DZB-{j:03d}", name=f"党支部{j}", kind="party_branch", parent=dzz))
        league: list[OrgUnit] = []
        for i in range(league_branches):
            league.append(OrgUnit(code=f"TZB-{i:03d}", name=f"团支部{i}", kind="league_branch", parent=tzz,
                                  paired_with=party[i // 5], founded=date(2023, 9, 15)))
        db.session.add_all(party + league)
        db.session.flush()

        def person(pid: str, name: str, unit: OrgUnit) -> Person:
            p = Person(id=pid, name=name, gender="男", birth_date=date(2004, 3, 1), org_unit=unit,
                       league_member=True, league_joined=date(2019, 5, 4), party_status="applicant",
                       party_applied=date(2024, 10, 10))
            db.session.add(p)
            return p

        def user(username: str, roles: Sequence[tuple[str, OrgUnit | None]], person_id: str | None = None) -> User:
            u = User(username=username, person_id=person_id, password_hash=pw_hash)
            for role, unit in roles:
                u.roles.append(RoleAssignment(role=role, org_unit=unit))
            db.session.add(u)
            return u

        org = Org([u.code for u in league], [u.code for u in party], len(league) + len(party) + 2)
        user("admin", [("admin", None)])
        for k in range(members):
            pid = f"2023{k:06d}"
            person(pid, f"成员{k}", league[0])
            name = f"member{k}"
            user(name, [("member", league[0])], pid)
            org.members.append(name)
            org.member_people[name] = pid
        other = league[1] if len(league) > 1 else league[0]
        person("2099000001", "书记", other)
        user("secretary", [("league_branch_secretary", league[0]), ("member", other)], "2099000001")
        db.session.commit()
    return org


def deploy_approval(app: Any) -> int:
    """Deploy tests/data/bpmn/approval.bpmn; returns the ProcessVersion id."""
    from service.extensions import db
    from service.modeler.operations import deploy_bpmn

    with app.app_context():
        result = deploy_bpmn(APPROVAL_BPMN.read_bytes(), filename="approval.bpmn")
        db.session.commit()
        return result.version.id


def prepare_database(name: str, server: str | None = None, **seed: Any) -> tuple[str, Org, int]:
    """Fresh database (SQLite, or on the PostgreSQL `server`), migrated, org seeded, approval
    deployed: (url, org, version id)."""
    url = fresh_database(name, server=server)
    try:
        app = make_app(url)
        migrate(app)
        org = seed_org(app, **seed)
        version_id = deploy_approval(app)
        with app.app_context():
            from service.extensions import db

            db.engine.dispose()
    except BaseException:
        remove_database(url)
        raise
    return url, org, version_id


# -- HTTP server in a subprocess ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_gunicorn() -> bool:
    return importlib.util.find_spec("gunicorn") is not None


def _die_with_parent() -> None:
    """In the server child: get SIGTERM if the benchmark process dies (Linux), so no server outlives it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `with Server(...)` blocks still stop their server."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


class Server:
    """`with Server(url, workers=2) as server: server.base` — the service on 127.0.0.1:<free port>."""

    def __init__(self, database_url: str, *, workers: int = 2, threads: int = 1, kind: str | None = None,
                 log_path: str | None = None, extra_env: dict[str, str] | None = None,
                 prefix: Sequence[str] = (), start_timeout: float = START_TIMEOUT, stop_timeout: float = 10.0):
        self.database_url = database_url
        self.workers = workers
        self.threads = threads
        self.kind = kind or ("gunicorn" if have_gunicorn() else "flask")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or f"/tmp/bench-server-{os.getpid()}-{self.port}.log"
        self.extra_env = extra_env or {}
        self.keep_log = False
        self._metrics_dir = ""  # made in __enter__: the workers' shared metric files
        self.prefix = list(prefix)  # e.g. valgrind and its options (bench/instructions.py)
        self.start_timeout, self.stop_timeout = start_timeout, stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def description(self) -> str:
        if self.kind == "gunicorn":
            kind = f"gthread worker(s) x {self.threads} threads" if self.threads > 1 else "sync worker(s)"
            return f"gunicorn (service/gunicorn_conf.py), {self.workers} {kind}"
        return "flask run (werkzeug, threaded)"

    def command(self) -> list[str]:
        bindir = Path(sys.executable).parent
        if self.kind == "gunicorn":  # the production config (service/gunicorn_conf.py); the options below win
            return [sys.executable, "-m", "gunicorn", "-c", "python:service.gunicorn_conf", "-w", str(self.workers),
                    "--threads", str(self.threads), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                    "--timeout", "60", "--max-requests", "0", "service:create_app()"]
        flask = bindir / "flask"
        head = [str(flask)] if flask.exists() else [sys.executable, "-m", "flask"]
        return [*head, "--app", "service", "run", "--host", "127.0.0.1", "--port", str(self.port),
                "--with-threads", "--no-reload", "--no-debugger"]

    def __enter__(self) -> Server:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url, "SECRET_KEY": SECRET_KEY, "BPMN_DIR": str(BPMN_DIR),
            "FORMS_DIR": str(FORMS_DIR), "PASSWORD_HASH_METHOD": HASH_METHOD, "PYTHONUNBUFFERED": "1",
        })
        env["GUNICORN_THREADS"] = str(self.threads)  # 1: the sync worker (service/gunicorn_conf.py)
        self._metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-")
        env["PROMETHEUS_MULTIPROC_DIR"] = self._metrics_dir
        env.update(self.extra_env)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in __exit__
        self._log = log
        self.proc = subprocess.Popen([*self.prefix, *self.command()], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        try:
            self._wait_ready()
        except BaseException:
            self.keep_log = True
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        probe = f"{self.base}/api/v1/me"  # 401 without a token: the app answers
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + Path(self.log_path).read_text(errors="replace")[-3000:])
            try:
                urllib.request.urlopen(probe, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {self.start_timeout:.0f}s; see {self.log_path}")

    def __exit__(self, *exc: Any) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.proc = None
        if self._metrics_dir:
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
        with contextlib.suppress(Exception):
            self._log.close()
        if exc and exc[0] is None and not self.keep_log:
            with contextlib.suppress(OSError):
                Path(self.log_path).unlink()  # kept only when the run failed

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of every live process of the server (master and workers)."""
        if self.proc is None:
            return 0.0
        return process_group_cpu(self.proc.pid)

    def log_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return Path(self.log_path).read_text(errors="replace")[-chars:]
        return ""


def process_group_cpu(pgid: int) -> float:
    """Sum of utime + stime (seconds) of the live processes in a process group (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def load_average() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


# -- figures ---------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summary_ms(values_s: Sequence[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"p50 {percentile(ms, 50):7.2f} ms  p95 {percentile(ms, 95):7.2f} ms  "
            f"max {max(ms):7.2f} ms  (n={len(ms)}, mean {statistics.fmean(ms):.2f})")


def machine() -> str:
    import platform

    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}"


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    print(f"  ({label}: {time.perf_counter() - start:.1f}s)")


# -- a lean HTTP/1.1 client ------------------------------------------------------------------------------
class ClientError(Exception):
    pass


class KeepAliveClient:
    """JSON over one persistent HTTP/1.1 connection (http.client), reconnecting when the server closes it.

    The benchmark's client shares the machine's cores with the server: `requests` spends about 2 ms of
    CPU per request, this about 0.3 ms, so the figures are about the server rather than the client."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
                ) -> tuple[int, Any]:
        """(status, decoded JSON or None). A request on a connection the server has just closed is sent
        again once on a new one (only a connection that had served a request before)."""
        data = json.dumps(body).encode() if body is not None else None
        head = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=head)
                response = conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 1 and reused:
                    continue
                raise ClientError(f"{method} {path}: {exc!r}") from exc
            except OSError as exc:
                self.close()
                raise ClientError(f"{method} {path}: {exc!r}") from exc
            if response.getheader("Connection", "").lower() == "close" or response.will_close:
                self.close()
            ctype = response.getheader("Content-Type", "")
            return response.status, (json.loads(raw) if raw and "json" in ctype else None)
        raise ClientError(f"{method} {path}: no answer")

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return self.request("POST", path, body, headers)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return self.request("GET", path, None, headers)
