"""Screenshots of app pages in Debian's chromium: `python tools/screenshot.py URL OUT.png [WIDTHxHEIGHT]`."""

from __future__ import annotations

import sys
import time

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def shoot(url: str, out: str, size: str = "1920x1080", full_page: bool = True) -> None:
    width, height = (int(v) for v in size.split("x"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": height}, locale="fr-FR")
        page.goto(url)
        page.wait_for_selector('[data-testid="stApp"]')
        time.sleep(2)
        for _ in range(120):
            if page.locator('[data-testid="stStatusWidget"]').count() == 0:
                break
            time.sleep(0.5)
        # Charts (vega), maps (deck.gl) and tables (glide) draw after the script has finished.
        time.sleep(6)
        page.screenshot(path=out, full_page=full_page)
        browser.close()


if __name__ == "__main__":
    shoot(sys.argv[1], sys.argv[2], *(sys.argv[3:4] or ["1920x1080"]))
