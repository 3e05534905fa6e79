"""Drive Debian's chromium headless through Playwright, for the browser tests.

Playwright never downloads a browser here: it launches `$CHROMIUM` (default
/usr/bin/chromium; `make test` installs Debian's package when it is missing) with a fresh
profile, and screenshots go under `.artifacts/browser/` (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from trading_assets_tests.e2e import REPO

ARTIFACTS = REPO / ".artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> Path:
    path = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
    if not path.exists():
        pytest.fail(
            f"{path} is missing: run `make test` (it installs Debian's chromium as root), "
            "`apt-get install -y chromium`, or set CHROMIUM to a Chromium binary"
        )
    return path


@contextmanager
def browser_page(width: int = 1400, height: int = 900) -> Iterator:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="ta-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium()),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def open_page(page, url: str) -> None:
    """Go to `url`, wait for the UI to settle, and close Dagster's first-visit dialog."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url, wait_until="networkidle")
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=3000)
        skip.click()
    except PlaywrightTimeout:  # the dialog is shown once per browser profile
        pass
    page.get_by_text("Loading...").first.wait_for(state="hidden", timeout=30_000)


def screenshot(page, test: str, name: str) -> Path:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path
