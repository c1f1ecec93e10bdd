"""Health, readiness and the Prometheus metrics: what a load balancer and a scraper see."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from service.extensions import db
from service.timers.operations import run_due


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_answers_without_login_or_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_ready_when_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_refuses_while_migrations_are_pending(app, client):
    head = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0012'"))
    db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "reason": "migrations_pending"}
    finally:
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        db.session.commit()


def test_readyz_refuses_when_the_database_is_unreachable(app_config, tmp_path):
    config = dict(app_config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db")
    broken = create_app(config)
    client = broken.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database_unreachable"}
    assert client.get("/healthz").status_code == 200  # alive, only not ready
    assert client.get("/metrics").status_code == 200  # the counters are still served


def test_metrics_count_requests_completions_and_timers(client, login, start_deadline):
    before = scrape(client)
    first, _second = start_deadline(), start_deadline()
    headers = login("sec")
    tasks = client.get("/api/v1/tasks", headers=headers).get_json()["items"]
    task = next(t for t in tasks if t["instance_id"] == first)
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json={"data": {}}).status_code == 200
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json={"data": {}})
    assert again.status_code == 409  # rolled back: not counted

    result = run_due()  # the second case's reminder and deadline are two days late
    assert result.fired == 1
    after = scrape(client)

    assert value(after, "bpm_tasks_completed_total", process="deadline") - \
        value(before, "bpm_tasks_completed_total", process="deadline") == 1
    assert value(after, "bpm_timers_fired_total") - value(before, "bpm_timers_fired_total") == 1
    assert value(after, "bpm_timer_lateness_seconds_count") - value(before, "bpm_timer_lateness_seconds_count") == 1
    late = value(after, "bpm_timer_lateness_seconds_sum") - value(before, "bpm_timer_lateness_seconds_sum")
    assert late > 24 * 3600  # the reminder was due 47 hours ago
    endpoint = "/api/v1/tasks/<string:task_id>/complete"
    assert value(after, "bpm_http_requests_total", endpoint=endpoint, method="POST", status="200") - \
        value(before, "bpm_http_requests_total", endpoint=endpoint, method="POST", status="200") == 1
    assert value(after, "bpm_http_requests_total", endpoint=endpoint, method="POST", status="409") - \
        value(before, "bpm_http_requests_total", endpoint=endpoint, method="POST", status="409") == 1
    assert value(after, "bpm_http_request_duration_seconds_count", endpoint=endpoint) - \
        value(before, "bpm_http_request_duration_seconds_count", endpoint=endpoint) == 2
    # queue depths come from the database: the second case escalated (one open task), nothing else is due
    assert value(after, "bpm_timers_due") == 0
    assert value(after, "bpm_open_tasks") == 1
    assert value(after, "bpm_incidents_open") == 0


def test_queue_depth_counts_due_timers(client, start_deadline):
    start_deadline()
    start_deadline()
    assert value(scrape(client), "bpm_timers_due") == 2
    assert value(scrape(client), "bpm_open_tasks") == 2
