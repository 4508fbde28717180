"""The gallery opened in a real browser: Debian's Chromium driven by Selenium, headless.

The page must load without console errors, the filter must narrow the cards, every link and image
must resolve to a file, and the keyboard alone must reach every link. The page weight (HTML plus
thumbnails) and the load time measured here are printed and kept, with a screenshot, in the
gitignored ``test-artifacts/`` folder. Without Chromium and its driver the test FAILS (it never
skips): install them with ``apt-get install -y chromium chromium-driver`` (done by .ci/run).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from test_gallery import SYNTHETIC_BARS, synthetic_reports

from analysis.core import paths
from analysis.presentation import gallery

pytest_plugins = ["conftest_job"]
# A real browser (and, for one test, the main job): slower than the unit tests around it.
pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = ("the gallery test needs Debian's Chromium and its driver: "
                "`sudo apt-get update && sudo apt-get install -y chromium chromium-driver` "
                f"(expected {CHROMIUM} and {CHROMEDRIVER}; .ci/run installs them)")
ARGUMENTS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1280,1600")
TAB_BATCH = 40


def artifacts_dir() -> Path:
    folder = paths.project_root() / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException

    profile = tempfile.mkdtemp(prefix="gallery-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*ARGUMENTS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingOptions", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.fail(f"Chromium did not start ({exc.msg}): {INSTALL_HINT}", pytrace=False)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_gallery(driver, reports: Path) -> float:
    """Load the page from disk; the load time (ms) as the browser measured it."""
    index, _ = gallery.write_gallery(reports)
    driver.get_log("browser")  # drop messages of an earlier page
    driver.get(index.as_uri())
    return driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;")


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def visible_cards(driver) -> int:
    return driver.execute_script("return document.querySelectorAll('figure[data-search]:not([hidden])').length;")


def type_filter(driver, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "filter")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def unresolved_targets(driver, reports: Path) -> list[str]:
    """Every href and image source that is a local file but does not exist (web pages are not fetched)."""
    urls = driver.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
        ".concat([...document.querySelectorAll('img')].map(i => i.src));")
    missing = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme == "file":
            target = Path(unquote(parsed.path))
            if not target.is_file() or reports.resolve() not in target.resolve().parents:
                missing.append(url)
        elif parsed.scheme not in ("http", "https"):
            missing.append(url)
    return missing


def links_reached_by_keyboard(driver) -> tuple[int, set[int]]:
    """Press Tab from the top until focus wraps; the number of links and the indices focus landed on."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    total = driver.execute_script("""
        window.__reached = new Set();
        const links = [...document.querySelectorAll('a[href]')];
        document.addEventListener('focusin', e => { const i = links.indexOf(e.target); if (i >= 0) __reached.add(i); });
        document.activeElement && document.activeElement.blur();
        window.scrollTo(0, 0);
        return links.length;""")
    focusable = driver.execute_script("return document.querySelectorAll('a[href], input, summary').length;")
    for _ in range(0, focusable + 2, TAB_BATCH):
        chain = ActionChains(driver)
        for _ in range(TAB_BATCH):
            chain.send_keys(Keys.TAB)
        chain.perform()
    return total, set(driver.execute_script("return [...window.__reached];"))


def page_weight(reports: Path) -> dict[str, int]:
    thumbs = sorted((reports / gallery.THUMBNAILS).rglob("*.png"))
    full = sorted((reports / "figures").rglob("*.png"))
    return {"html_bytes": (reports / "index.html").stat().st_size,
            "thumbnail_bytes": sum(p.stat().st_size for p in thumbs), "thumbnails": len(thumbs),
            "full_png_bytes": sum(p.stat().st_size for p in full)}


def check_gallery(driver, reports: Path, label: str) -> dict:
    """Every browser check on one reports folder; the measurements, also written to test-artifacts/."""
    load_ms = open_gallery(driver, reports)
    assert console_errors(driver) == []
    n_cards = visible_cards(driver)
    assert n_cards == gallery.render_gallery(reports)[1] > 0
    missing = unresolved_targets(driver, reports)
    assert missing == [], f"links or images that do not resolve: {missing[:10]}"
    total, reached = links_reached_by_keyboard(driver)
    assert total > 0 and reached == set(range(total)), f"{total - len(reached)} of {total} links not reached by Tab"
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0);")
    driver.save_screenshot(str(artifacts_dir() / f"gallery-{label}.png"))
    measured = {"load_ms": round(load_ms, 1), "cards": n_cards, "links": total, **page_weight(reports)}
    (artifacts_dir() / f"gallery-{label}.json").write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")
    print(f"\ngallery ({label}): {measured}")
    return measured


def test_synthetic_gallery_in_chromium(browser, tmp_path):
    reports = synthetic_reports(tmp_path)
    measured = check_gallery(browser, reports, "synthetic")
    # filtering by a country narrows the cards to the charts that draw it, and hides empty headings
    only_two = SYNTHETIC_BARS[2][1]
    type_filter(browser, only_two.lower())
    assert visible_cards(browser) == 2 < measured["cards"]
    assert browser.execute_script("return document.querySelector('[data-group][hidden]') !== null;")
    assert f"2 of {measured['cards']} charts shown" in browser.find_element("id", "filter-count").text
    type_filter(browser, "no chart has this text")
    assert visible_cards(browser) == 0
    type_filter(browser, "")
    assert visible_cards(browser) == measured["cards"]
    assert console_errors(browser) == []


def test_published_gallery_of_the_main_job_in_chromium(browser, main_job, tmp_path):
    """The real job's reports folder (the session's one run), copied: the gallery is redrawn there."""
    assert main_job.returncode == 0, main_job.output[-2000:]
    reports = tmp_path / "reports"
    shutil.copytree(main_job.root / "reports", reports)
    measured = check_gallery(browser, reports, "main-job")
    # every chart the job published, under every folder, is on the page
    charts = [p for p in (reports / "figures").rglob("*.json") if p.with_suffix(".png").exists()]
    assert measured["cards"] == len(charts)
    assert measured["thumbnail_bytes"] < measured["full_png_bytes"] / 4
