"""The workspace in a real browser: Debian's Chromium, headless, driven by Playwright, against
``corridor serve`` running on loopback over a real store.

A person logs in, searches a vessel of the shipped case and a vessel heard on AIS, opens its
track, clicks a gap on the map and sees its evidence, adds a sighting and finds it in the audit
log. Attacker-written strings (a vessel name reported over AIS, a sighting's text, an uploaded
file's name) are shown as text: no dialog opens and no script of theirs runs. Every request
must go to the server itself (no CDN, no tiles).
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from serve_sample import PASSWORDS, build_store

from corridor.schema import VESSEL_REPORTS
from corridor.serve.app import create_app
from corridor.store import Store

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

XSS_NAME = '<img src=x onerror="window.__xss=1;alert(1)">'
XSS_TEXT = '<script>window.__xss=2;alert(2)</script><b onmouseover="alert(3)">bold</b>'
XSS_FILE = '<img src=y onerror=alert(4)>.csv'

pytestmark = pytest.mark.browser


def _gap_vessel(store: Store) -> tuple[int, str]:
    row = store.one("SELECT mmsi, event_id FROM events WHERE type = 'gap' ORDER BY event_id LIMIT 1")
    assert row, "the sample has gaps"
    return int(row[0]), row[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve-browser")
    path = build_store(d / "serve.duckdb")
    with Store.open(path) as store:
        mmsi, gap_id = _gap_vessel(store)
        report = {"obs_id": 1, "mmsi": mmsi, "ts": datetime(2014, 1, 5), "msg_type": 5, "imo": None,
                  "name": XSS_NAME, "callsign": None, "ship_type": None, "length_m": None, "beam_m": None,
                  "draught_m": None, "destination": None, "source": "test"}
        store.insert_arrow("vessel_reports", pa.Table.from_pylist([report], schema=VESSEL_REPORTS))
    app = create_app(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield {"url": f"http://127.0.0.1:{port}", "mmsi": mmsi, "gap_id": gap_id, "app": app}
    srv.should_exit = True
    t.join(timeout=10)
    app.state.db.close()


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Chromium missing: run scripts/system-deps.sh (make test does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def test_workspace_in_a_real_browser(server, browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    base = server["url"]
    # bypass_csp: the page's Content-Security-Policy would stop an injected script by itself; the
    # test turns it off so that it proves the page never puts a payload in as HTML at all (and
    # Playwright's own waits evaluate script text, which the policy forbids)
    page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    dialogs, outside, errors = [], [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)

    # not logged in: sent to the login page
    page.goto(base + "/")
    assert page.url == base + "/login"
    page.fill("#username", "ana")
    page.fill("#password", "wrong password")
    page.click("#login-button")
    page.wait_for_function("document.getElementById('login-error').textContent.length > 0")
    page.fill("#password", PASSWORDS["ana"])
    page.click("#login-button")
    page.wait_for_url(base + "/")
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#who") == "ana (analyst)"
    # offline: no link on the page leads outside this server (the map's credits are plain text)
    assert page.locator(".leaflet-control-attribution").count() == 1
    assert page.locator("a[href^='http:'], a[href^='https:']").count() == 0

    # a vessel of the shipped case, with its watchlist entries
    page.fill("#q", "angara")
    page.click("#search-button")
    page.wait_for_selector("#results li.vessel-result")
    assert page.locator("#results .vessel-name").first.text_content() == "ANGARA"
    assert page.locator("#results .badge.hit").count() >= 1

    # a vessel heard on AIS, whose reported name is an XSS payload: shown as text
    page.fill("#q", str(server["mmsi"]))
    page.click("#search-button")
    page.wait_for_selector(f"#results li[data-key='{server['mmsi']}']")
    name = page.locator("#results .vessel-name").first
    assert name.text_content() == XSS_NAME
    assert page.locator("#results img").count() == 0

    # its track, with the gap drawn dashed, and the gap's evidence on click
    page.click(f"#results li[data-key='{server['mmsi']}']")
    page.wait_for_selector("#event-list li")
    assert page.locator("path.gap-line").count() >= 1
    assert page.locator("path.gap-line").first.get_attribute("stroke-dasharray") == "6 6"
    assert page.locator("#track-summary").text_content().split()[0].isdigit()
    page.locator("path.event-gap").first.click(force=True)
    page.wait_for_selector("#evidence-ids")
    assert page.text_content("#event-title").startswith("gap ")
    ev = server["app"].state.db.reader().con.execute(
        "SELECT evidence FROM events WHERE type = 'gap' AND mmsi = ? ORDER BY start_ts",
        [server["mmsi"]]).fetchall()
    shown = page.text_content("#evidence-ids").split()
    assert shown and [int(x) for x in shown] in [list(r[0]) for r in ev]
    assert "min_gap_hours" in page.text_content("#detail")

    # the time slider moves the cursor along the track
    page.locator("#slider").fill("0")
    first = page.text_content("#slider-time")
    page.locator("#slider").fill("1000")
    assert page.text_content("#slider-time") > first
    page.screenshot(path=str(ARTIFACTS / "serve-track.png"))

    # add a sighting (its text is a script) and find it in the audit log
    page.click("[data-tab='work']")
    page.fill("#sighting-form [name=date]", "2023-09-07")
    page.fill("#sighting-form [name=source]", "[S6]")
    page.fill("#sighting-form [name=place]", "rajin")
    page.fill("#sighting-form [name=vessel_name]", "ANGARA")
    page.fill("#sighting-form [name=description]", XSS_TEXT)
    page.click("#sighting-submit")
    page.wait_for_selector("#sighting-title")
    sid = page.text_content("#sighting-title").split()[-1]
    assert page.locator(".audit-history .audit-item").first.text_content().count("ana create") == 1
    assert XSS_TEXT in page.text_content("#detail")
    stored = server["app"].state.db.reader().one(
        "SELECT description, place_id FROM sightings WHERE sighting_id = ?", [sid])
    assert stored == (XSS_TEXT, "rajin")
    # a satellite image attached to it, shown from the server
    from PIL import Image

    img = tmp_path / "pier.png"
    Image.new("RGB", (40, 30), (10, 120, 200)).save(img)
    page.set_input_files(".attach-form input[type=file]", str(img))
    page.click(".attach-form button")
    page.wait_for_selector("img.attachment")
    page.wait_for_function("document.querySelector('img.attachment').naturalWidth === 40")
    page.screenshot(path=str(ARTIFACTS / "serve-sighting.png"))
    page.click("[data-tab='audit']")
    page.wait_for_selector("#audit-list li.audit-item")
    items = page.locator("#audit-list li.audit-item").all_text_contents()
    assert any("ana create" in t and sid in t for t in items)

    # an upload whose file name is a payload: the summary shows it as (cleaned) text
    bad = tmp_path / XSS_FILE
    bad.write_text("date,source,place\n2023-09-08,[S6],rajin\n")
    page.click("[data-tab='work']")
    page.select_option("#upload-form select[name=kind]", "sightings")
    page.set_input_files("#upload-form input[type=file]", str(bad))
    page.click("#upload-form button")
    page.wait_for_function("document.getElementById('upload-result').textContent.includes('stored')")
    assert "1 sightings" in page.text_content("#upload-result")
    assert page.locator("#upload-result img").count() == 0

    # a report text and title written to attack the reader, uploaded and then read in the case tab
    rep = tmp_path / XSS_FILE.replace(".csv", ".txt")
    rep.write_text(f"Officials said 300 containers were shipped in September 2023. {XSS_TEXT}\n")
    page.select_option("#upload-form select[name=kind]", "report")
    page.fill("#upload-form [name=title]", XSS_NAME)
    page.fill("#upload-form [name=published]", "2023-10-13")
    page.set_input_files("#upload-form input[type=file]", str(rep))
    page.click("#upload-form button")
    page.wait_for_function("document.getElementById('upload-result').textContent.includes('stored report')")

    # the case view: shipments by tier and claims with verdicts, and the report link
    page.click("[data-tab='case']")
    page.wait_for_selector("#case-view h3", timeout=60_000)
    headings = page.locator("#case-view h3").all_text_contents()
    assert any(h.startswith("Shipments, confirmed") for h in headings)
    assert any(h.startswith("Claims (") for h in headings)
    assert page.get_attribute("#report-link", "href") == "/api/cases/dprk-russia-2023/report"
    # the new sighting (ANGARA at Rajin) is evidence of a shipment; its link opens it
    link = page.locator(f"#case-view a.evidence-link[data-id='{sid}']")
    assert link.count() >= 1
    link.first.click()
    page.wait_for_function(f"document.getElementById('sighting-title')?.textContent.includes('{sid}')")
    page.screenshot(path=str(ARTIFACTS / "serve-case.png"))
    page.locator("#report-list li.report-item", has_text=XSS_NAME).first.click()
    page.wait_for_selector("#report-text")
    assert page.text_content("#report-title") == XSS_NAME
    assert XSS_TEXT in page.text_content("#report-text")
    assert page.locator("#detail img, #detail script, #detail b").count() == 0

    assert page.evaluate("window.__xss") is None
    assert dialogs == [], dialogs
    assert outside == [], outside
    assert errors == [], errors
    page.close()


def _login(browser, base: str, username: str, password: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_url(base + "/")
    page.wait_for_selector("body[data-ready='1']")
    return page, errors


def test_admin_adds_a_viewer_who_can_read_but_not_write(server, browser):
    base = server["url"]
    admin, errors = _login(browser, base, "adam", PASSWORDS["adam"])
    assert admin.locator("[data-tab='users']").is_visible()
    admin.click("[data-tab='users']")
    admin.wait_for_selector("#user-list li.user-item")
    admin.fill("#user-form [name=username]", "olga")
    admin.select_option("#user-form [name=role]", "viewer")
    admin.fill("#user-form [name=password]", "olga-password-1")
    admin.click("#user-form button")
    admin.wait_for_selector("#user-list li.user-item:has-text('olga')")
    assert admin.text_content("#user-result") == "user olga (viewer) added"
    viewer, verrors = _login(browser, base, "olga", "olga-password-1")
    assert viewer.text_content("#who") == "olga (viewer)"
    assert not viewer.locator("[data-tab='work']").is_visible()
    assert not viewer.locator("[data-tab='users']").is_visible()
    viewer.fill("#q", str(server["mmsi"]))
    viewer.click("#search-button")
    viewer.wait_for_selector(f"#results li[data-key='{server['mmsi']}']")
    # a write forced from the page (as a curious viewer could) is refused by the server
    status = viewer.evaluate("""async () => {
        const me = await (await fetch('/api/me')).json();
        const r = await fetch('/api/sightings', {method: 'POST', headers: {'Content-Type':
          'application/json', 'X-CSRF-Token': me.csrf_token}, body: JSON.stringify({date:
          '2023-09-07', source: 'x', place_text: 'somewhere'})});
        return r.status; }""")
    assert status == 403
    viewer.click("#logout")
    viewer.wait_for_url(base + "/login")
    viewer.goto(base + "/")
    assert viewer.url == base + "/login"
    assert errors == [] and verrors == []
    admin.close()
    viewer.close()
