"""The chromium fixture is a real headless Chromium: it runs a page's JavaScript and takes screenshots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browsers import chromium as chromium_module
from tests.browsers.chromium import chromium_driver, save_screenshot

_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>CDI browser check</title></head>
<body>
  <p id="status">waiting</p>
  <button id="go" onclick="document.getElementById('status').textContent = 'clicked by JavaScript'">Go</button>
</body></html>
"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_click_runs_javascript_and_screenshot_is_saved(chromium: Chrome, page_url: str) -> None:
    chromium.get(page_url)
    assert chromium.title == "CDI browser check"
    assert chromium.find_element(By.ID, "status").text == "waiting"

    chromium.find_element(By.ID, "go").click()
    WebDriverWait(chromium, 10).until(ec.text_to_be_present_in_element((By.ID, "status"), "clicked by JavaScript"))

    shot = save_screenshot(chromium, "browser-check")
    assert shot.is_file()
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000  # a real rendered viewport, not an empty file


def test_browser_is_headless_chromium(chromium: Chrome) -> None:
    assert chromium.capabilities["browserName"] == "chrome"  # what chromedriver calls Chromium
    assert chromium.execute_script("return navigator.webdriver") is True
    size = chromium.get_window_size()
    assert (size["width"], size["height"]) == (1400, 900)


def test_missing_driver_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(chromium_module, "CHROMEDRIVER", tmp_path / "chromedriver")
    with pytest.raises(RuntimeError, match="chromium-driver"):
        chromium_driver()
