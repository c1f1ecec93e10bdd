"""The browser tests' machinery: the app served on 127.0.0.1 by a real server in a thread, Debian's
Chromium driven by Playwright, and screenshots kept under artifacts/screenshots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
BUNDLE = ROOT / "service" / "static" / "dist" / "task-form.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 860}


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"browser tests skipped: no Chromium at {CHROMIUM}"
    if not BUNDLE.exists():
        return f"browser tests skipped: no form bundle at {BUNDLE.relative_to(ROOT)} (make setup builds it)"
    return None


def require_browser(*bundles: str) -> Any:
    """At a browser test module's top: skip the module unless Playwright, Chromium and the named
    bundles (files under service/static/dist/) are there; returns playwright.sync_api."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="browser tests skipped: the playwright package is not installed")
    if skip_reason():
        pytest.skip(skip_reason(), allow_module_level=True)
    for name in bundles:
        bundle = ROOT / "service" / "static" / "dist" / name
        if not bundle.exists():
            pytest.skip(f"browser tests skipped: no bundle at {bundle.relative_to(ROOT)} (make setup builds it)",
                        allow_module_level=True)
    return sync_api


@contextmanager
def launched_chromium(sync_api: Any) -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright, for as long as the block lasts."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base: str, username: str, password: str = "secret-pass-1") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/inbox")


def sign_out(page: Any) -> None:
    if not page.locator(".nav button.link").is_visible():  # on a phone the menu is folded
        page.locator("label.nav-button").click()
    page.locator(".nav button.link").click()
