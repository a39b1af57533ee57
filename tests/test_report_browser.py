"""The HTML report in a real browser: headless Chromium driven by Selenium through Debian's chromedriver.

Skips, with the reason, when Selenium, Chromium or its driver is missing
(`.ci/run` installs Debian's `chromium` and `chromium-driver` with apt when it
can). The driver is given by path, so Selenium never downloads one. With
WHUFFIE_REPORT_SCREENSHOT=PATH the screenshot is also copied there:
docs/report.png is that file, reduced to 48 colours.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from whuffie.report import text_value
from clirun import whuffie

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "examples" / "library"
AUDIT = ["--bands", "age=40,65"]

webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed (pip install selenium)")
BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(BROWSER is None or DRIVER is None,
                                reason="headless Chromium is not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,900", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def open_page(driver, page: Path) -> tuple[list[dict], list[str]]:
    """Load a file; the console messages and every URL the page asked for besides its own."""
    driver.get_log("browser"), driver.get_log("performance")  # drop what earlier pages left
    driver.get(page.as_uri())
    driver.execute_script("return document.readyState")
    console = driver.get_log("browser")
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url != page.as_uri():
                requests.append(url)
    return console, requests


def test_the_network_check_sees_a_request(browser, tmp_path):
    # The control: a page that does ask for something is caught, so an empty list below means something.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>',
                       encoding="utf-8")
    _, requests = open_page(browser, control)
    assert requests == ["http://127.0.0.1:9/x.png"]


def test_the_report_in_headless_chromium(browser, tmp_path, monkeypatch):
    for name in ("rules.whuf", "events.jsonl", "subjects.jsonl"):  # the page names its files as they are given
        shutil.copyfile(LIB / name, tmp_path / name)
    (tmp_path / "old_rules.whuf").write_text(
        (LIB / "rules.whuf").read_text(encoding="utf-8").replace("award 2\n", "award 1\n", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    library = ["rules.whuf", "events.jsonl", "--subjects", "subjects.jsonl"]
    page = tmp_path / "report.html"
    made = whuffie("report", *library, *AUDIT, "--old", "old_rules.whuf", "-o", page)
    assert made.exit_code == 0, made.stderr
    audited = whuffie("audit", *library, *AUDIT, "--format", "json")
    assert audited.exit_code == 0, audited.stderr
    audit = json.loads(audited.stdout)

    console, requests = open_page(browser, page)
    assert [m for m in console if m["level"] in ("SEVERE", "WARNING")] == []
    assert requests == []

    charts = browser.execute_script("""
        return Array.from(document.querySelectorAll('svg.chart')).map(svg => [
            svg.getAttribute('aria-label'), svg.getBoundingClientRect().width,
            Array.from(svg.querySelectorAll('[id^="mark-"]')).filter(m => {
                const box = m.getBoundingClientRect(); return box.width > 0 && box.height > 0; }).length]);
    """)
    assert [c[0] for c in charts] == ["authors", "score-0", "tiers", "rules", "diff-rules"]
    for label, width, marks in charts:
        assert width > 100 and marks > 0, label

    cells = browser.execute_script("""
        return Array.from(document.querySelectorAll('[data-field^="/audit/"]'))
                    .map(cell => [cell.dataset.field, cell.textContent]);
    """)
    assert len(cells) > 50
    for where, shown in cells:
        value = audit
        for part in where.split("/")[2:]:
            value = value[int(part)] if isinstance(value, list) else value[part]
        expected = str(value) if where.endswith("/count") and "/groups/" in where else text_value(value, 2)
        if where.endswith("difference"):
            shown = shown.removeprefix("+")  # a difference in running text keeps its sign
        assert shown.split()[0] == expected, where
    flags = browser.execute_script(
        "return Array.from(document.querySelectorAll('td.flagged, td.uncertain')).map(td => td.textContent);")
    flagged = [("flagged?" if s["uncertain"] else "flagged") for g in audit["groups"]
               for s in [*g["tiers"].values(), *g["privileges"].values()] if s["flagged"]]
    assert sorted(flags) == sorted(flagged) and flagged

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, min(height, 8000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("WHUFFIE_REPORT_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["WHUFFIE_REPORT_SCREENSHOT"])
