"""Helpers for the browser tests: run the Streamlit app in a subprocess, drive it with Chromium.

Chromium is Debian's (``apt-get install chromium``), never a Playwright download.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def require_chromium() -> str:
    """The Chromium binary; FAIL (not skip) with the fix when it is absent."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium. "
            "Install it with `apt-get install chromium` (never `playwright install`).",
            pytrace=False,
        )
    return CHROMIUM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AppServer:
    """``streamlit run streamlit_app.py`` on a free port, with its own environment."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> "AppServer":
        self.port = free_port()
        log = self.log_path.open("ab")
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"),
            "--server.port", str(self.port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # only the group we started
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def restart(self) -> "AppServer":
        self.stop()
        return self.start()


@contextmanager
def app_server(env: dict[str, str], log_path: Path) -> Iterator[AppServer]:
    srv = AppServer(env, log_path).start()
    try:
        yield srv
    finally:
        srv.stop()


def wait_idle(page, timeout_ms: int = 45_000) -> None:
    """Wait until the Streamlit script run is over (no 'running' indicator) and the app is drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            if (document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')) return false;
            if (document.querySelector('[data-testid="stSkeleton"]')) return false;
            const st = app.getAttribute('data-test-script-state');
            return st === 'notRunning' || st === 'compilationError';
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)


def screenshot(page, name: str, max_height_px: int = 4000) -> Path:
    """Screenshot of the whole page: Streamlit scrolls inside its main container, so the viewport
    is stretched to the content height first (and restored afterwards)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    h = page.evaluate(
        """() => { const m = document.querySelector('[data-testid="stMain"]');
                   return m ? m.scrollHeight : document.body.scrollHeight; }"""
    )
    page.set_viewport_size({"width": size["width"], "height": int(min(max(h, size["height"]), max_height_px))})
    page.wait_for_timeout(600)
    page.screenshot(path=str(p))
    page.set_viewport_size(size)
    return p


HOSTILE = "<img src=x onerror=alert(7)> `${alert(8)}` ![x](https://elders.example/p.png)"
"""A name that would run as script (or fetch an outside URL) if a map or card showed it as HTML."""


def make_hostile_area(target: Path) -> Path:
    """The demo town saved to ``target`` with every wijk, park, street and stop named :data:`HOSTILE`.

    Such names come from OpenStreetMap, which anyone can edit; the app must show them as text.
    """
    from gezondestad.layers.demo import build_demo_area
    from gezondestad.layers.studyarea import save_study_area

    area = build_demo_area()
    area.wijken["wijk_naam"] = [f"{HOSTILE} {i}" for i in range(len(area.wijken))]
    area.green["name"] = HOSTILE
    area.streets["name"] = HOSTILE
    area.pois["name"] = HOSTILE
    return save_study_area(area, target)
