"""Headless Chromium for tests: Debian's ``chromium`` driven by Selenium through Debian's chromedriver.

Both paths are given to Selenium explicitly, so Selenium Manager never runs: it would try to
download a browser and driver, and CI reaches only package registries.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTEFACTS = Path(__file__).resolve().parent.parent / "artefacts"  # tests/artefacts, git-ignored
INSTALL_HINT = "install Debian's browser and driver: apt-get install -y chromium chromium-driver"


def chromium_driver(download_dir: Path | None = None) -> webdriver.Chrome:
    """A new headless Chromium session; the caller quits it. Downloads go to ``download_dir`` if given."""
    browser = shutil.which("chromium")
    if browser is None:
        raise RuntimeError(f"'chromium' is not on PATH: {INSTALL_HINT}")
    if not CHROMEDRIVER.is_file():
        raise RuntimeError(f"{CHROMEDRIVER} is missing: {INSTALL_HINT}")
    options = Options()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # Chromium's sandbox cannot start as root (CI runs as root)
        "--disable-dev-shm-usage",  # small /dev/shm (containers) crashes renderers; use /tmp
        "--window-size=1400,900",
    ):
        options.add_argument(arg)
    if download_dir is not None:
        download_dir.mkdir(parents=True, exist_ok=True)
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(download_dir), "download.prompt_for_download": False},
        )
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def save_screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save the current viewport as ``tests/artefacts/<name>.png`` (kept after the run for humans)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).removesuffix(".png")
    path = ARTEFACTS / f"{stem}.png"
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"Chromium could not write the screenshot {path}")
    return path
