"""Screenshots of review tasks as annotators see them, in a real browser (headless Chromium).

Starts its own Label Studio (scripts/labelstudio.sh, a temporary data folder, 127.0.0.1) and the
reference endpoint, translates a few UNER PUD sentences EN->ZH (one with its entities swapped by
the endpoint's ``swap_entities`` fault), pushes every candidate to a project, logs in with
Chromium and saves one PNG per chosen task under docs/screenshots/; then checks, as an annotator
would, that every span shows its label as text, that a reject without its reason is refused
(a warning, nothing saved) and that an approve is saved. Stops what it started.

Needs: apt-get install chromium chromium-driver fonts-noto-cjk; pip install selenium.
Run: .venv/bin/python scripts/screenshot_review.py [--ids n01005024 n01001011 ...]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from parallelner.config import RoutingSettings, load_settings
from parallelner.records import Candidate
from parallelner.reference.process import ReferenceServer
from parallelner.review.jobs import review_push_job
from parallelner.review.label_studio import LabelStudioServer
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.jobs import translate_job

REPO = Path(__file__).resolve().parent.parent
PAIRS = REPO / "sample" / "pud-pairs.jsonl"
OUT = REPO / "docs" / "screenshots"
# Samples whose first two entities the endpoint swaps: translated names of one label (the check
# cannot confirm the pairing) and transliterated ones (a suspect pairing, with hints).
SWAPPED = ("n01005024", "n01020021")


# Right to left: Article 1 of the Universal Declaration of Human Rights (OHCHR), EN -> AR.
RTL_ID = "udhr-1:en-ar"
RTL_SOURCE = "All human beings are born free and equal in dignity and rights."
RTL_TARGET = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."


def add_rtl_candidate(run: Path) -> None:
    """An EN->AR pair beside the sample's, to see Arabic laid out right to left."""
    pair = Candidate(RTL_ID, "udhr-1", "en", "ar", RTL_SOURCE, RTL_TARGET, (), (), "passed")
    with CandidateStore(run).writer() as writer:
        writer.add(pair.with_verdict((), 0.8))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1100"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def log_in(driver: webdriver.Chrome, url: str, user: str, password: str) -> None:
    driver.get(f"{url}/user/login/")
    WebDriverWait(driver, 60).until(ready.presence_of_element_located((By.NAME, "email")))
    driver.find_element(By.NAME, "email").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
    WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)


def shoot(driver: webdriver.Chrome, url: str, project_id: int, task_id: int, path: Path) -> None:
    driver.get(f"{url}/projects/{project_id}/data?task={task_id}")
    WebDriverWait(driver, 90).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "[class*='htx-richtext']"))
    )
    time.sleep(3)  # regions and relation arrows are drawn after the text
    driver.save_screenshot(str(path))
    print(f"saved {path.relative_to(REPO)}")


def check_decisions(driver, url: str, project_id: int, tasks: list[dict], server) -> None:
    """Reject without a reason: refused, nothing saved; approve: saved. Raises if not."""

    def open_task(task: dict) -> None:
        driver.get(f"{url}/projects/{project_id}/data?task={task['id']}")
        WebDriverWait(driver, 90).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, "[class*='htx-richtext']"))
        )
        time.sleep(3)

    def choose_and_submit(choice: str) -> None:
        driver.find_element(By.XPATH, f"//*[normalize-space(text())='{choice}']").click()
        time.sleep(0.5)
        driver.find_element(By.XPATH, "//button[normalize-space(.)='Submit']").click()
        time.sleep(3)

    def saved(task: dict) -> int:
        return len(server.sdk.tasks.get(task["id"]).annotations or [])

    first, second = tasks[0], tasks[1]
    open_task(first)
    span = driver.find_elements(By.CSS_SELECTOR, ".htx-highlight")[0]
    shown = driver.execute_script("return getComputedStyle(arguments[0], '::after').content", span)
    assert ":" in shown, f"span label not shown as text: {shown!r}"
    print(f"label on a span: {shown}")
    choose_and_submit("reject")
    assert "A reject needs its reason" in driver.find_element(By.TAG_NAME, "body").text
    assert saved(first) == 0, "a reject without its reason was saved"
    driver.save_screenshot(str(OUT / "review-reject-needs-reason.png"))
    print("reject without a reason: refused, nothing saved")
    open_task(second)
    choose_and_submit("approve")
    assert saved(second) == 1, "an approve was not saved"
    print("approve: saved")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", nargs="*", default=["n01001011"], help="untouched source ids to show")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parallelner-shots-") as tmp:
        port, token, password = free_port(), secrets.token_hex(20), secrets.token_urlsafe(12)
        env = {
            **os.environ,
            "LABEL_STUDIO_DATA": f"{tmp}/ls",
            "LABEL_STUDIO_PORT": str(port),
            "LABEL_STUDIO_API_KEY": token,
            "LABEL_STUDIO_PASSWORD": password,
        }
        script = str(REPO / "scripts" / "labelstudio.sh")
        subprocess.run([script, "start"], env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            server = LabelStudioServer(url, SecretStr(token))
            run = Path(tmp) / "run"
            with ReferenceServer(PAIRS) as ref:
                # The first two entities of SWAPPED exchanged: the pairing check has work to show.
                swaps = {f"pud-{sid}": {"kind": "swap_entities"} for sid in SWAPPED}
                ref.admin("faults", {"faults": swaps})
                settings = load_settings(
                    overrides={"base_urls": [ref.base_url], "model": "reference"}, env={}
                )
                translate_job([REPO / "sample" / "en-pud.iob2"], run, "en", "zh", settings)
            add_rtl_candidate(run)
            review_push_job(run, "screenshots", server, RoutingSettings("all"))
            project_id = next(
                p.id for p in server.sdk.projects.list(title="screenshots") if p.title
            )
            tasks = {t["data"]["candidate_id"]: t for t in server.tasks(project_id)}
            driver = browser()
            try:
                log_in(driver, url, "admin@parallelner.local", password)
                for sid in [*args.ids, *SWAPPED, RTL_ID]:
                    task = tasks.get(f"{sid}:en-zh") or tasks.get(sid)
                    if task is None:
                        print(f"{sid}: not pushed (rejected)")
                        continue
                    print(f"{sid}: {task['data']['pairing_note']}")
                    name = sid.split(":")[0]
                    shoot(driver, url, project_id, task["id"], OUT / f"review-{name}.png")
                order = [tasks[f"{sid}:en-zh"] for sid in args.ids if f"{sid}:en-zh" in tasks]
                others = [t for t in tasks.values() if t not in order]
                check_decisions(driver, url, project_id, [*order, *others][:2], server)
            finally:
                driver.quit()
        finally:
            subprocess.run([script, "stop"], env=env, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
