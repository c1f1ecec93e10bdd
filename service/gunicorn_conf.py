"""gunicorn settings for production:  gunicorn -c python:service.gunicorn_conf 'service:create_app()'

Environment (defaults in brackets):
  BIND [0.0.0.0:8000]            address to listen on (behind a reverse proxy: 127.0.0.1:8000)
  WEB_CONCURRENCY [2*cores+1]    worker processes
  GUNICORN_THREADS [4]           threads per worker (gthread); 1: gunicorn's sync worker (for SQLite)
  GUNICORN_TIMEOUT [60]          seconds before a silent worker is killed and replaced
  GUNICORN_GRACEFUL_TIMEOUT [30] seconds a worker gets to finish its requests on restart
  GUNICORN_KEEPALIVE [5]         seconds to keep an idle connection from the proxy
  GUNICORN_MAX_REQUESTS [2000]   recycle a worker after this many requests (with jitter); 0: never
  GC_THRESHOLD [50000,20,20]     the garbage collector's thresholds in each worker (service/ops/gc_thresholds.py)
  PROMETHEUS_MULTIPROC_DIR       where the worker processes keep their metric values; a fresh
                                 temporary directory when unset. Its *.db files are cleared when gunicorn
                                 starts; timer workers on the same host may share it (start them after
                                 gunicorn) so that /metrics includes the timers they fire
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
accesslog = None  # the app writes one JSON line per request (service/ops/logging.py)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")  # the reverse proxy
proc_name = "dangjian-bpm"

# metrics across processes: set before any worker imports prometheus_client
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bpm-metrics-")


def on_starting(server: Any) -> None:
    """Values left by an earlier run would be added to this run's."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # only prometheus_client's value files
        stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """The app is loaded: set the garbage collector's thresholds for a web worker (GC_THRESHOLD)."""
    from service.ops.gc_thresholds import apply_gc_thresholds

    apply_gc_thresholds()
