"""The console as a person uses it: Debian's headless Chromium, driven by Selenium through Debian's
chromedriver, against a real ``dialguard serve`` on a store seeded with a week of real decisions
(:mod:`devkit.console_seed`). Sign in, read the overview's chart, filter the decisions, open one,
make and download the signed quarterly report (PDF checked with poppler).

Screenshots of every page land in ``artefacts/console/`` (gitignored; ``DIALGUARD_ARTEFACTS``
moves it). A missing browser, driver or poppler FAILS the test (never skips): the README's test
command and CI install them (``./dev``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from devkit.console_seed import seed, write_config
from devkit.gate import dialguard_executable
from devkit.net import free_port, wait_for_listener

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("DIALGUARD_ARTEFACTS", ROOT / "artefacts")) / "console"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOOLS = {
    CHROMIUM: "apt-get install chromium",
    CHROMEDRIVER: "apt-get install chromium-driver",
    "pdftoppm": "apt-get install poppler-utils",
    "pdftotext": "apt-get install poppler-utils",
}


@dataclass(frozen=True)
class Console:
    url: str
    token: str
    config: Path
    downloads: Path


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    missing = [f"{tool} ({hint})" for tool, hint in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the browser tests need: {', '.join(missing)}", pytrace=False)
    directory = tmp_path_factory.mktemp("console")
    port = free_port()
    config = write_config(directory, api_port=port)
    seeded = asyncio.run(seed(config, calls=300))
    env = clean_env()
    log = (directory / "serve.log").open("wb")
    serve = subprocess.Popen(
        [dialguard_executable(), "--config", str(config), "serve"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_listener(port, timeout=30)
        downloads = directory / "downloads"
        downloads.mkdir()
        yield Console(f"http://127.0.0.1:{port}", seeded.auditor_token, config, downloads)
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(console: Console) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--lang=en-US"):  # fmt: skip
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(console.downloads),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def clean_env() -> dict[str, str]:
    """The environment without DIALGUARD_* (the suite's own key paths): the config file rules."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DIALGUARD_")}


def shot(driver: WebDriver, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))


def wait(driver: WebDriver, seconds: float = 30) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, seconds)


def test_sign_in_and_read_the_overview_chart(console: Console, browser: WebDriver) -> None:
    browser.get(f"{console.url}/console/")
    assert "/console/login" in browser.current_url
    browser.find_element(By.ID, "token").send_keys("dgt_not_a_token")
    browser.find_element(By.ID, "sign-in").click()
    refused = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".error"))
    assert "invalid or revoked" in refused[0].text
    shot(browser, "00-sign-in-refused")
    browser.get_log("browser")  # drain: the refused sign-in's 401 is expected
    browser.find_element(By.ID, "token").send_keys(console.token)
    browser.find_element(By.ID, "sign-in").click()
    wait(browser).until(
        lambda d: d.find_element(By.ID, "denials-chart").get_attribute("data-rendered")
    )
    canvas = browser.find_element(By.ID, "denials-chart")
    assert int(canvas.get_attribute("data-points") or 0) > 0
    # Chart.js drew on the canvas: its pixels are not all blank.
    painted = browser.execute_script(
        "const c = arguments[0];"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n;",
        canvas,
    )
    assert painted > 1000
    assert int(browser.find_element(By.ID, "decided").text) > 0
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    shot(browser, "01-overview")


def test_filter_decisions_and_open_one(console: Console, browser: WebDriver) -> None:
    browser.get(f"{console.url}/console/decisions")
    Select(browser.find_element(By.ID, "f-verdict")).select_by_value("deny")
    browser.find_element(By.ID, "f-reason").send_keys("callerid.unregistered")
    browser.find_element(By.ID, "f-apply").click()
    wait(browser).until(lambda d: "verdict=deny" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#decisions tbody tr")
    assert rows and all("deny" in (r.get_attribute("class") or "") for r in rows)
    assert {r.find_elements(By.TAG_NAME, "td")[2].text for r in rows} == {"callerid.unregistered"}
    shot(browser, "02-decisions-filtered")
    rows[0].find_element(By.CSS_SELECTOR, "a.open").click()
    wait(browser).until(lambda d: d.find_elements(By.ID, "decision-id"))
    assert browser.find_element(By.ID, "verdict").text == "deny"
    assert "decision.deny" in browser.find_element(By.ID, "audit-entries").text
    shot(browser, "03-decision")


def test_obligations_and_evidence_pages(console: Console, browser: WebDriver) -> None:
    browser.get(f"{console.url}/console/obligations")
    assert "export" in browser.find_element(By.ID, "dsr").text  # the seeded open request
    shot(browser, "04-obligations")
    browser.get(f"{console.url}/console/evidence")
    browser.find_element(By.ID, "verify").click()
    wait(browser, 60).until(lambda d: d.find_elements(By.ID, "verify-result"))
    assert browser.find_element(By.ID, "verify-result").text.startswith("OK")
    shot(browser, "05-evidence")


def test_download_the_signed_quarterly_report(console: Console, browser: WebDriver) -> None:
    browser.get(f"{console.url}/console/report")
    Select(browser.find_element(By.ID, "r-lang")).select_by_value("zh")
    browser.find_element(By.ID, "r-make").click()
    wait(browser, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.download"))
    shot(browser, "06-report")
    links = browser.find_elements(By.CSS_SELECTOR, "a.download")
    for link in links:
        link.click()
    names = {link.text for link in links}
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".pdf.sig") for n in names)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        have = {p.name for p in console.downloads.iterdir() if not p.name.endswith(".crdownload")}
        if names <= have:
            break
        time.sleep(0.2)
    pdf = next(console.downloads.glob("*.pdf"))
    verified = subprocess.run(
        [dialguard_executable(), "--config", str(console.config), "report", "verify",
         str(pdf), str(pdf) + ".sig"],
        capture_output=True, text=True, timeout=60, check=False, env=clean_env(),
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "80",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(ARTEFACTS / "07-report"),
        ],
        check=True,
        timeout=60,
    )
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "季度合规自查报告" in text
