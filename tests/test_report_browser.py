"""The report in a real browser: Debian's Chromium, headless, driven by Playwright.

Chromium comes from the system package manager (scripts/system-deps.sh, run by ``make
test``); Playwright never downloads a browser here. The report is opened from disk; every
request that is not ``file://`` is aborted and fails the test. Screenshots are kept in
``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from report_sample import sample

from corridor.ids import position_obs_ids
from corridor.report.build import write_report
from corridor.schema import POSITIONS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _sim_positions() -> pa.Table:
    """A simulated Najin -> Dunai crossing (fictitious MMSI) with a dark stretch."""
    lons = np.r_[np.linspace(130.45, 131.2, 30), np.linspace(131.9, 132.3, 20)]
    lats = np.r_[np.linspace(42.2, 42.45, 30), np.linspace(42.7, 42.85, 20)]
    n = len(lons)
    t0 = datetime(2023, 9, 1)
    ts = np.array([np.datetime64(t0 + timedelta(minutes=30 * i), "us") for i in range(n)])
    mm = np.full(n, 999000001, np.int64)
    return pa.table({"obs_id": position_obs_ids(mm, ts.astype(np.int64), lats, lons,
                                                np.ones(n, np.int64)),
                     "mmsi": mm, "ts": pa.array(ts, pa.timestamp("us")), "lat": lats,
                     "lon": lons, "sog": pa.array([11.0] * n, pa.float32()),
                     "cog": pa.nulls(n, pa.float32()), "heading": pa.nulls(n, pa.int16()),
                     "nav_status": pa.nulls(n, pa.int8()), "msg_type": pa.array([1] * n, pa.int8()),
                     "source": ["simulated"] * n}, schema=POSITIONS)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    from corridor.corridors.case import load_case
    from corridor.store import Store

    d = tmp_path_factory.mktemp("browser")
    path = d / "report.html"
    with Store.open(d / "r.duckdb") as store:
        load_case(store, "dprk-russia-2023")  # the real case, as shipped
        store.insert_arrow("positions", _sim_positions())
        write_report(store, "dprk-russia-2023", path)
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _variance(png: bytes) -> float:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return float(img.var())


def test_report_renders_offline_without_errors(browser, report_file):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    errors: list[str] = []

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report_file.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)

    for sel in ("#map-route", "#map-ports", "#timeline-window", "#timeline-claim",
                "#rail-tumangang", "#sim-map"):
        box = page.locator(sel).bounding_box()
        assert box and box["width"] > 400 and box["height"] > 150, sel
    assert page.locator("#map-route .node").count() >= 5
    assert page.locator("#map-route .leg-rail").count() >= 1
    assert page.locator("#map-ports .leg-sea").count() >= 1
    assert page.locator("#timeline-window .shipment").count() >= 2
    assert page.locator("#rail-tumangang .rail-bar.surge").count() == 1
    assert page.locator("#sim-map .track").count() == 1
    assert page.locator("#claims .verdict").count() >= 3

    map_png = page.locator("#map-route").screenshot(path=str(ARTIFACTS / "report-map.png"))
    tl_png = page.locator("#timeline-window").screenshot(
        path=str(ARTIFACTS / "report-timeline.png"))
    assert _variance(map_png) > 100, "route map screenshot is blank"
    assert _variance(tl_png) > 100, "timeline screenshot is blank"
    page.screenshot(path=str(ARTIFACTS / "report-page.png"), full_page=True)

    assert outside == [], f"requests left the machine: {outside}"
    assert errors == [], f"console errors: {errors}"
    page.close()


def test_zoom_buttons_change_the_map_view_and_sources_are_one_click_away(browser, report_file):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
               else r.abort())
    page.goto(report_file.resolve().as_uri(), wait_until="load")
    svg = page.locator("#map-ports")
    before = svg.get_attribute("viewBox")
    page.locator("#map .zoom-ui").nth(1).locator("button", has_text="+").click()
    zoomed = svg.get_attribute("viewBox")
    assert zoomed != before
    w_before, w_zoomed = float(before.split()[2]), float(zoomed.split()[2])
    assert w_zoomed < w_before
    svg.dblclick(position={"x": 5, "y": 5})
    assert svg.get_attribute("viewBox") == before
    # a citation link jumps to its row in the sources table
    page.locator('#claims a[href="#src-S1"]').first.click()
    assert page.evaluate("location.hash") == "#src-S1"
    assert page.locator("#src-S1").is_visible()
    page.close()


def test_pdf_export_prints_the_report(tmp_path, store):
    out = write_report(store, "dprk-russia-2023", tmp_path / "report.pdf", recon=sample())
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + \
        data.count(b"/Type/Page\n") >= 2 or len(data) > 50_000
