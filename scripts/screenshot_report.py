"""The HTML report as a person sees it, in a real browser (headless Chromium).

Translates the bundled sample both ways through the reference endpoint into a temporary folder,
writes ``parallelner report``'s page, opens it from disk in Chromium, checks that every plot
rendered (each SVG has a size), that the entity consistency section is there and that the
page asked for nothing over the network, and saves docs/screenshots/report.png.
Run: .venv/bin/python scripts/screenshot_report.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from screenshot_review import OUT, REPO, browser

from parallelner.config import load_settings
from parallelner.reference.process import ReferenceServer
from parallelner.report.html import write_html_report
from parallelner.run.jobs import translate_job


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parallelner-report-") as tmp:
        run = Path(tmp) / "run"
        with ReferenceServer(REPO / "sample" / "pud-pairs.jsonl") as ref:
            settings = load_settings(
                overrides={"base_urls": [ref.base_url], "model": "reference"}, env={}
            )
            for src, tgt in (("en", "zh"), ("zh", "en")):
                translate_job([REPO / "sample" / f"{src}-pud.iob2"], run, src, tgt, settings)
        page = write_html_report(run)
        driver = browser()
        try:
            driver.set_window_size(1400, 1000)
            driver.get(page.as_uri())
            time.sleep(1)
            sizes = driver.execute_script(
                "return [...document.querySelectorAll('svg')].map(s => "
                "[s.getBoundingClientRect().width, s.getBoundingClientRect().height])"
            )
            assert len(sizes) == 4 and all(w > 100 and h > 50 for w, h in sizes), sizes
            fetched = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
            )
            assert not fetched, f"the page fetched {fetched}"
            heads = driver.execute_script(
                "return [...document.querySelectorAll('h2, h3')].map(h => h.textContent)"
            )
            assert "Entity consistency: one name, one rendering" in heads, heads
            assert "en-zh: rendered more than one way" in heads, heads
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(1400, height + 100)
            time.sleep(0.5)
            driver.save_screenshot(str(OUT / "report.png"))
            print(f"plots rendered: {sizes}; nothing fetched; saved docs/screenshots/report.png")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
