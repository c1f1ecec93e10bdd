"""The production gunicorn settings (service/gunicorn_conf.py): worker kind by thread count, GC thresholds."""

from __future__ import annotations

import gc
import importlib
import sys

import pytest


def _conf(monkeypatch: pytest.MonkeyPatch, **env: str):  # type: ignore[no-untyped-def]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/bpm-test-metrics-unused")
    sys.modules.pop("service.gunicorn_conf", None)
    return importlib.import_module("service.gunicorn_conf")


@pytest.fixture(autouse=True)
def _restore_gc():  # type: ignore[no-untyped-def]
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)
    sys.modules.pop("service.gunicorn_conf", None)


def test_one_thread_runs_the_sync_worker_and_more_run_gthread(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _conf(monkeypatch, GUNICORN_THREADS="1").worker_class == "sync"
    conf = _conf(monkeypatch, GUNICORN_THREADS="4")
    assert (conf.worker_class, conf.threads) == ("gthread", 4)


def test_worker_init_raises_the_gc_thresholds_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.set_threshold(700, 10, 10)
    _conf(monkeypatch).post_worker_init(None)
    assert gc.get_threshold() == (50000, 20, 20)
    gc.set_threshold(700, 10, 10)
    _conf(monkeypatch, GC_THRESHOLD="1000,5,5").post_worker_init(None)
    assert gc.get_threshold() == (1000, 5, 5)
    gc.set_threshold(700, 10, 10)
    _conf(monkeypatch, GC_THRESHOLD="default").post_worker_init(None)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_malformed_threshold_is_refused_with_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.ops.gc_thresholds import apply_gc_thresholds

    before = gc.get_threshold()
    for bad in ("1000,5", "a,b,c", "0,10,10"):
        with pytest.raises(ValueError, match="GC_THRESHOLD"):
            apply_gc_thresholds(bad)
        assert gc.get_threshold() == before
