"""The report in a real browser: Debian's Chromium, headless, driven by Playwright.

Chromium comes from the system package manager (scripts/system-deps.sh, run by ``make
test``); Playwright never downloads a browser here. Reports are opened from disk; every
request that is not ``file://`` is aborted and fails the test. Each report is checked at a
desktop width (1440 px) and a phone width (390 px) and printed to PDF (A4), whose pages are
counted and measured with pypdf. Screenshots are kept in ``test-artifacts/``.
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
from pypdf import PdfReader
from report_sample import CASPIAN_PLACES, write_caspian_case

from corridor.ids import position_obs_ids
from corridor.report.build import write_report
from corridor.schema import POSITIONS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
WIDTHS = (1440, 390)
#: smallest text a reader should meet in a figure, in CSS px on screen
MIN_SVG_TEXT_PX = 10.0


def _sim_positions() -> pa.Table:
    """A simulated crossing (fictitious MMSI) with a dark stretch."""
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
def reports(tmp_path_factory) -> dict[str, Path]:
    """The shipped case (with a simulated track), the Caspian test case and the full demo."""
    from corridor.corridors.case import load_case
    from corridor.demo import run_demo
    from corridor.store import Store

    d = tmp_path_factory.mktemp("browser")
    out = {"case": d / "case.html", "caspian": d / "caspian.html"}
    with Store.open(d / "r.duckdb") as store:
        load_case(store, "dprk-russia-2023")  # the real case, as shipped
        store.insert_arrow("positions", _sim_positions())
        write_report(store, "dprk-russia-2023", out["case"])
    case_dir, corridor_yaml = write_caspian_case(d)
    with Store.open(d / "c.duckdb") as store:
        load_case(store, case_dir)
        write_report(store, str(corridor_yaml), out["caspian"])
    out["demo"] = run_demo(d / "demo").report
    for p in out.values():
        assert str(d) not in p.read_text(encoding="utf-8")  # no local path in any report
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _open(browser, path: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
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
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(200)
    return page, outside, errors


def _variance(png: bytes) -> float:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return float(img.var())


#: elements wider than the viewport that are not inside a box scrolling on its own (an
#: SVG's inner shapes are clipped by the SVG itself: the <svg> is what is checked)
TOO_WIDE_JS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.ownerSVGElement) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || (r.right <= vw + 0.5 && r.left >= -0.5)) continue;
    let p = el.parentElement, boxed = false;
    while (p && p !== document.body) {
      const s = getComputedStyle(p);
      if ((s.overflowX === 'auto' || s.overflowX === 'scroll')
          && p.getBoundingClientRect().right <= vw + 0.5) { boxed = true; break; }
      p = p.parentElement;
    }
    if (!boxed) out.push(el.tagName + '#' + el.id + '.' + el.getAttribute('class'));
  }
  return out.slice(0, 10);
}"""

#: on-screen size (px) of every visible text in the figures: [id of its svg, text, px]
SVG_TEXT_JS = """() => [...document.querySelectorAll('figure svg text')].filter(t => {
    const s = getComputedStyle(t), r = t.getBoundingClientRect();
    return t.textContent.trim() && s.visibility !== 'hidden' && s.display !== 'none' && r.width;
  }).map(t => {
    const m = t.getScreenCTM(), scale = Math.sqrt(m.a * m.a + m.b * m.b);
    const fs = parseFloat(getComputedStyle(t).fontSize);
    return [t.ownerSVGElement.id, t.textContent.trim(), fs * scale];
  })"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["case", "caspian"])
def test_report_is_usable_at_desktop_and_phone_width(browser, reports, name, width):
    ARTIFACTS.mkdir(exist_ok=True)
    page, outside, errors = _open(browser, reports[name], width)
    # no horizontal page scroll; wide tables and timelines scroll inside their own box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(TOO_WIDE_JS) == []
    texts = page.evaluate(SVG_TEXT_JS)
    assert len(texts) > 15
    small = [t for t in texts if t[2] < MIN_SVG_TEXT_PX]
    assert small == [], small[:5]
    # the labels left visible on each map do not overlap one another
    boxes = page.evaluate("""() => [...document.querySelectorAll('svg.map')].map(svg =>
        [...svg.querySelectorAll('.node-label,.country-label')]
          .filter(t => getComputedStyle(t).visibility !== 'hidden')
          .map(t => { const r = t.getBoundingClientRect();
                      return [t.textContent, r.left, r.top, r.right, r.bottom]; }))""")
    assert sum(len(b) for b in boxes) >= 4
    for labels in boxes:
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                assert a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5 or a[4] <= b[2] + 0.5 \
                    or b[4] <= a[2] + 0.5, (a, b)
    ov = page.locator("#map-overview")
    box = ov.bounding_box()
    assert box and box["width"] >= min(width - 40, 900) and box["height"] > 150
    assert _variance(ov.screenshot(path=str(ARTIFACTS / f"report-{name}-{width}-map.png"))) > 100
    page.screenshot(path=str(ARTIFACTS / f"report-{name}-{width}.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside}"
    assert errors == [], f"console errors: {errors}"
    page.close()


def test_overview_holds_the_case_nodes_and_nothing_of_the_other_case(browser, reports):
    page, _, _ = _open(browser, reports["caspian"], 1440)
    ids = page.eval_on_selector_all("#map-overview [data-node]",
                                    "els => els.map(e => e.dataset.node)")
    assert sorted(ids) == sorted(CASPIAN_PLACES)
    # every node symbol lies inside the drawn overview
    svg = page.locator("#map-overview").bounding_box()
    for node in page.locator("#map-overview [data-node]").all():
        b = node.bounding_box()
        assert svg["x"] <= b["x"] and b["x"] + b["width"] <= svg["x"] + svg["width"]
        assert svg["y"] <= b["y"] and b["y"] + b["height"] <= svg["y"] + svg["height"]
    body = page.inner_text("body")
    for other in ("Rajin", "Tikhoretsk", "Vostochny", "Sea of Japan", "NORTH KOREA", "JAPAN"):
        assert other not in body and other not in page.content()
    assert page.locator("#map-closeup-1").count() == 0
    page.close()
    page, _, _ = _open(browser, reports["case"], 1440)
    ids = page.eval_on_selector_all("#map-overview [data-node]",
                                    "els => els.map(e => e.dataset.node)")
    assert len(ids) == 7 and not set(ids) & set(CASPIAN_PLACES)
    assert page.locator("#map-closeup-1 [data-node]").count() >= 3
    assert "Amirabad" not in page.content()
    page.close()


def test_zoom_keeps_labels_at_their_screen_size_and_tap_shows_details(browser, reports):
    page, _, errors = _open(browser, reports["case"], 1440)
    svg = page.locator("#map-overview")
    before = svg.get_attribute("viewBox")
    label = page.locator("#map-overview .node-label", has_text="Mozdok")
    h0 = label.bounding_box()["height"]
    page.locator("#map .zoom-ui").first.locator("button", has_text="+").click()
    page.locator("#map .zoom-ui").first.locator("button", has_text="+").click()
    zoomed = svg.get_attribute("viewBox")
    assert float(zoomed.split()[2]) < 0.6 * float(before.split()[2])
    assert abs(label.bounding_box()["height"] - h0) < 1.0   # not scaled with the map
    svg.dblclick(position={"x": 5, "y": 5})
    assert svg.get_attribute("viewBox") == before
    # a citation link jumps to its row in the sources table
    page.locator('#claims a[href="#src-S1"]').first.click()
    assert page.evaluate("location.hash") == "#src-S1"
    assert page.locator("#src-S1").is_visible()
    page.close()
    # on a phone a tap on a symbol shows what it stands for (no hover on touch screens)
    page, _, errors = _open(browser, reports["case"], 390)
    tip = page.locator("#map-overview ~ .tip")
    assert tip.is_hidden()
    page.locator('#map-overview [data-node="mozdok"]').click()
    assert tip.is_visible() and "Mozdok" in tip.inner_text()
    # evidence behind a shipment opens by tap
    ev = page.locator("#shipments details.ev").first
    assert not ev.locator("ul").is_visible()
    ev.locator("summary").click()
    assert ev.locator("ul li").first.is_visible()
    assert errors == []
    page.close()


def _pdf_pages(browser, path: Path, out: Path) -> tuple[list[tuple[str, float]], list[str]]:
    """(text, lowest text as a fraction of the page height from the top) per printed page,
    and the report's section headings."""
    page, _, _ = _open(browser, path, 1280)
    headings = page.eval_on_selector_all("main h2, main h3", "els => els.map(e => e.innerText)")
    page.pdf(path=str(out), format="A4", print_background=True)
    page.close()
    pages = []
    for p in PdfReader(str(out)).pages:
        h = float(p.mediabox.height)
        ys: list[float] = []

        def visit(text, cm, tm, font, size, ys=ys):
            if text.strip():
                ys.append(tm[5] * cm[3] + cm[5])

        text = p.extract_text(visitor_text=visit)
        pages.append((text, (h - min(ys)) / h if ys else 0.0))
    return pages, headings


@pytest.mark.parametrize("name", ["demo", "caspian"])
def test_printed_report_has_few_pages_and_none_mostly_blank(browser, reports, name):
    ARTIFACTS.mkdir(exist_ok=True)
    pages, headings = _pdf_pages(browser, reports[name], ARTIFACTS / f"report-{name}.pdf")
    assert len(pages) >= 2 and len(headings) >= 8
    if name == "demo":
        assert len(pages) <= 10
    # sources start on their own page; every other page is filled at least half way down
    # (the page before the sources and the last page may end early)
    src = next(i for i, (t, _) in enumerate(pages) if t.lstrip().startswith("Sources"))
    for i, (text, lowest) in enumerate(pages):
        if i in (src - 1, len(pages) - 1):
            continue
        assert lowest > 0.5, (i + 1, lowest, text[:80])
    assert pages[0][1] > 0.7   # the first page is not half blank
    # no heading is stranded at the foot of a page
    for i, (text, _) in enumerate(pages):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        assert lines and lines[-1] not in headings, (i + 1, lines[-1])
