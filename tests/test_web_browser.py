"""End to end in a real headless browser: Debian's chromium driven by Playwright (never a
downloaded browser). Logs in, filters, sees charts drawn, saves screenshots, and checks
that the pages asked for nothing outside the site.

Runs when /usr/bin/chromium exists; with REQUIRE_BROWSER=1 (CI) a missing chromium fails.
Screenshots go to the test's temporary directory, or to SCREENSHOT_DIR when set.
"""
import datetime as dt
import os
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from . import web_data

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.browser


DRAWN = """canvas => {
  const chart = window.Chart && Chart.getChart(canvas);
  if (!chart) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


def more_days():
    """Eight more days of Alpha Clinic with counts large enough to show (20 + day
    patients over 10 hours), so its sparkline and charts have points."""
    from etl.models import ClinicDay, ClinicScore
    for d in range(3, 11):
        day = dt.date(2024, 3, d)
        pph = Decimal(20 + d) / 10
        ClinicDay.objects.create(day=day, clinic_id=10, region_id=1, nr_visits=30 + d, nr_cancelled=0, nr_no_show=0,
                                 nr_patients=20 + d, no_show_rate=0, rostered_hours=10, staff_cost=500, nr_staff=2,
                                 patients_per_hour=pph, cost_per_patient=round(Decimal(500) / (20 + d), 4))
        ClinicScore.objects.create(
            day=day, clinic_id=10, region_id=1, patients_per_hour=pph, cost_per_patient=round(Decimal(500) / (20 + d), 4),
            visits_7d=200, pph_baseline_days=20, pph_mean=2.4, pph_sd=0.2, pph_z=float((pph - Decimal("2.4")) / Decimal("0.2")),
            cpp_baseline_days=20, cpp_mean=20.0, cpp_sd=1.0, cpp_z=0.1, is_outlier=d == 10, pph_rank=1, pph_pct_rank=0)


@contextmanager
def browser_page(tmp_path):
    """A chromium page (1280x900) and the screenshot folder; skips or fails without chromium."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (scripts/ensure_chromium.sh installs it)")
        pytest.skip(f"{CHROMIUM} is missing (scripts/ensure_chromium.sh installs it)")
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # Imported here: Playwright's sync API runs an event loop, so the ORM work is done first.
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900}), shots
        finally:
            browser.close()


def log_in(page, username):
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", web_data.PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")


def test_log_in_filter_and_see_charts(transactional_db, live_server, tmp_path):
    web_data.load()
    more_days()
    requested: list[str] = []
    with browser_page(tmp_path) as (page, shots):
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_server.url}/clinics/")
        assert "/login/" in page.url
        log_in(page, "alpha")
        page.wait_for_url("**/clinics/")
        scoreboard = page.inner_text("main")
        assert "Alpha Clinic" in scoreboard and "Bravo" not in scoreboard
        assert page.locator("svg.spark polyline").count() == 1

        # Filter the overview to one day through the form: the URL carries the filter.
        page.goto(f"{live_server.url}/")
        page.fill("input[name=day_from]", "2024-03-01")
        page.fill("input[name=day_to]", "2024-03-08")
        page.click("button:has-text('Apply')")
        page.wait_for_url("**day_from=2024-03-01**")
        canvas = page.locator("canvas[data-chart]").first
        assert canvas.get_attribute("role") == "img" and canvas.get_attribute("aria-label")
        page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart]'))")
        assert canvas.evaluate(DRAWN) > 500
        page.screenshot(path=str(shots / "overview.png"), full_page=True)

        page.goto(f"{live_server.url}/clinics/10/?day_from=2024-03-01&day_to=2024-03-10")
        page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length === 2 && "
                               "[...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
        for chart in page.locator("canvas[data-chart]").all():
            assert chart.evaluate(DRAWN) > 500
        assert "<11" in page.inner_text("main table")
        page.screenshot(path=str(shots / "clinic.png"), full_page=True)
    outside = [url for url in requested if not url.startswith(live_server.url)]
    assert outside == []
    assert (shots / "overview.png").stat().st_size > 10_000


def test_every_page_renders_without_script_errors(transactional_db, live_server, tmp_path):
    """As a superuser, every page loads with no console error and no failed request."""
    web_data.load()
    more_days()
    from django.contrib.auth.models import User
    User.objects.create_superuser("admin2", password=web_data.PASSWORD)
    problems: list[str] = []
    with browser_page(tmp_path) as (page, shots):
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text} at {m.location.get('url')} on {page.url}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{live_server.url}/login/")
        log_in(page, "admin2")
        page.wait_for_url(f"{live_server.url}/")
        for name in ("clinics", "outliers", "staff", "regions", "builds", "api/docs", "admin"):
            page.goto(f"{live_server.url}/{name}/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(shots / f"{name.replace('/', '-')}.png"), full_page=True)
    assert problems == []
