"""The ``corridor serve`` JSON API over HTTP (Starlette's TestClient) against the real app on a
real store: the bundled AIS sample (detected) and the shipped case."""

from __future__ import annotations

import csv
import html
import json
import time

import pytest
import shapely
import shapely.geometry
from serve_sample import PASSWORDS, client, make_app

import corridor
from corridor.corridors.reconstruct import reconstruct
from corridor.ingest.observations import ingest_sightings
from corridor.store import Store


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    a = make_app(tmp_path_factory.mktemp("serve-api"))
    yield a
    a.state.db.close()


@pytest.fixture(scope="module")
def ana(app):
    return client(app, "ana")


@pytest.fixture(scope="module")
def vera(app):
    return client(app, "vera")


def _gap_vessel(app) -> tuple[int, dict]:
    rows = app.state.db.reader().query("SELECT mmsi, event_id FROM events WHERE type = 'gap' "
                                       "ORDER BY event_id").to_pylist()
    assert rows, "the sample has gaps"
    return rows[0]["mmsi"], rows[0]


# ------------------------------------------------------------------ session
def test_login_sets_a_signed_httponly_samesite_cookie_and_wrong_password_is_refused(app):
    c = client(app)
    r = c.post("/api/login", json={"username": "ana", "password": "not the password"})
    assert r.status_code == 401
    assert "set-cookie" not in r.headers
    r = c.post("/api/login", json={"username": "ana", "password": PASSWORDS["ana"]})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "corridor_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=28800" in cookie
    assert c.get("/api/me").json()["role"] == "analyst"
    # a tampered cookie is no session
    value = c.cookies.get("corridor_session")
    c.cookies.set("corridor_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert c.get("/api/me").status_code == 401


def test_login_must_be_json_from_this_site(app):
    c = client(app)
    r = c.post("/api/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    assert r.status_code in (415, 422)
    r = c.post("/api/login", json={"username": "ana", "password": PASSWORDS["ana"]},
               headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_logout_ends_the_session(app):
    c = client(app, "vera")
    assert c.get("/api/me").status_code == 200
    assert c.post("/api/logout", headers={"X-CSRF-Token": c.csrf}).status_code == 200
    assert c.get("/api/me").status_code == 401


def test_sessions_expire(tmp_path):
    a = make_app(tmp_path, session_hours=1 / 3600)  # one second
    try:
        c = client(a, "vera")
        assert c.get("/api/me").status_code == 200
        time.sleep(2.1)
        assert c.get("/api/me").status_code == 401
    finally:
        a.state.db.close()


def test_failed_logins_are_rate_limited_and_logged(tmp_path, caplog):
    a = make_app(tmp_path, login_max_failures=3)
    try:
        c = client(a)
        codes = [c.post("/api/login", json={"username": "adam", "password": f"guess-{i}"}).status_code
                 for i in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        # blocked even with the right password until the window passes
        r = c.post("/api/login", json={"username": "adam", "password": PASSWORDS["adam"]})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        failed = a.state.db.reader().query(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'login_failed' AND object_id = 'adam'"
        ).column("n")[0].as_py()
        assert failed == 3
        assert sum("failed login for 'adam'" in r.getMessage() for r in caplog.records) == 3
    finally:
        a.state.db.close()


# ------------------------------------------------------------------ vessels
def test_vessel_search_by_mmsi_imo_name_alias_flag_and_watchlist(app, vera):
    mmsi, _ = _gap_vessel(app)
    r = vera.get("/api/vessels", params={"q": str(mmsi)}).json()
    assert r["count"] == 1 and r["vessels"][0]["mmsi"] == mmsi and r["vessels"][0]["positions"] > 0
    store = app.state.db.reader()
    case = store.query("SELECT vessel_id, name, imo, aliases, flag FROM vessels WHERE imo IS NOT NULL "
                       "ORDER BY vessel_id").to_pylist()
    assert case
    v = case[0]
    assert [e["key"] for e in vera.get("/api/vessels", params={"q": f"IMO {v['imo']}"}).json()["vessels"]] \
        == [v["vessel_id"]]
    by_name = vera.get("/api/vessels", params={"q": v["name"].lower()}).json()["vessels"]
    assert v["vessel_id"] in [e["key"] for e in by_name]
    with_alias = [x for x in case if x["aliases"] and x["aliases"][0].upper() != x["name"].upper()]
    if with_alias:
        a = with_alias[0]
        hits = vera.get("/api/vessels", params={"q": a["aliases"][0]}).json()["vessels"]
        assert a["vessel_id"] in [e["key"] for e in hits]
    flagged = vera.get("/api/vessels", params={"flag": v["flag"]}).json()["vessels"]
    assert flagged and all(v["flag"].lower() in (e["flag"] or "").lower() for e in flagged)
    listed = store.query("SELECT count(*) AS n FROM watchlist").column("n")[0].as_py()
    assert listed > 0
    hits = vera.get("/api/vessels", params={"watchlisted": "true", "limit": 1000}).json()["vessels"]
    assert hits and all(e["watchlist"] for e in hits)
    misses = vera.get("/api/vessels", params={"watchlisted": "false", "limit": 1000}).json()["vessels"]
    assert misses and not any(e["watchlist"] for e in misses)
    assert vera.get("/api/vessels", params={"q": "no such vessel anywhere"}).json()["count"] == 0


def test_a_case_vessel_with_an_mmsi_has_that_mmsis_track(tmp_path):
    a = make_app(tmp_path)
    try:
        mmsi, _ = _gap_vessel(a)
        a.state.db.writer.con.execute("INSERT INTO vessels (vessel_id, name, mmsi, flag) VALUES "
                                      "('test-ship', 'TEST SHIP', ?, 'MT')", [mmsi])
        c = client(a, "vera")
        hits = c.get("/api/vessels", params={"q": "test ship"}).json()["vessels"]
        assert [(h["kind"], h["mmsi"]) for h in hits] == [("case", mmsi)]
        n = a.state.db.reader().query("SELECT count(*) FROM positions WHERE mmsi = ?", [mmsi]).column(0)[0]
        assert hits[0]["positions"] == n.as_py() > 0
    finally:
        a.state.db.close()


def test_track_is_thinned_per_zoom_cut_at_gaps_and_traceable(app, vera):
    mmsi, gap = _gap_vessel(app)
    store = app.state.db.reader()
    n = store.query("SELECT count(*) AS n FROM positions WHERE mmsi = ?", [mmsi]).column("n")[0].as_py()
    coarse = vera.get(f"/api/vessels/{mmsi}/track", params={"zoom": 2}).json()
    fine = vera.get(f"/api/vessels/{mmsi}/track", params={"zoom": 18}).json()
    assert coarse["positions"] == fine["positions"] == n
    assert 2 <= coarse["points"] < fine["points"] <= n
    assert len(fine["segments"]) >= 2  # cut at the gap
    ids = [int(x) for s in coarse["segments"] for x in s["obs_id"]]
    stored = store.query("SELECT count(*) AS n FROM positions WHERE mmsi = ? AND obs_id IN "
                         "(SELECT unnest(?::BIGINT[]))", [mmsi, ids]).column("n")[0].as_py()
    assert stored == len(set(ids)) == len(ids)
    assert gap["event_id"] in [e["event_id"] for e in fine["events"]]
    capped = vera.get(f"/api/vessels/{mmsi}/track", params={"zoom": 22, "max_points": 10}).json()
    assert capped["points"] <= 10 + 2 * len(capped["segments"])
    window = vera.get(f"/api/vessels/{mmsi}/track",
                      params={"zoom": 22, "until": fine["segments"][0]["ts"][2]}).json()
    assert window["positions"] == 3


def test_events_by_type_area_vessel_and_detail_with_evidence(app, vera):
    mmsi, gap = _gap_vessel(app)
    store = app.state.db.reader()
    n_gaps = store.query("SELECT count(*) AS n FROM events WHERE type = 'gap'").column("n")[0].as_py()
    r = vera.get("/api/events", params={"type": "gap"}).json()
    assert r["count"] == n_gaps > 0 and {e["type"] for e in r["events"]} == {"gap"}
    mine = vera.get("/api/events", params={"mmsi": mmsi}).json()["events"]
    assert mine and all(mmsi in (e["mmsi"], e["other_mmsi"]) for e in mine)
    e = next(x for x in r["events"] if x["event_id"] == gap["event_id"])
    box = f"{e['lon'] - 0.01},{e['lat'] - 0.01},{e['lon'] + 0.01},{e['lat'] + 0.01}"
    inside = vera.get("/api/events", params={"bbox": box}).json()["events"]
    assert gap["event_id"] in [x["event_id"] for x in inside]
    far = vera.get("/api/events", params={"bbox": "0,0,1,1"}).json()
    assert far["count"] == 0
    assert vera.get("/api/events", params={"type": "nonsense"}).status_code == 422
    detail = vera.get(f"/api/events/{gap['event_id']}").json()
    ev = store.query("SELECT evidence FROM events WHERE event_id = ?", [gap["event_id"]]).to_pylist()[0]
    assert detail["evidence"] == [str(x) for x in ev["evidence"]]
    assert [o["obs_id"] for o in detail["observations"]] and \
        {o["obs_id"] for o in detail["observations"]} == set(detail["evidence"])
    assert detail["attrs"]["params"]["min_gap_hours"] > 0
    assert vera.get("/api/events/nope").status_code == 404


# ------------------------------------------------------------------ cases
def test_case_reconstruction_is_the_cli_one_and_is_not_saved(app, vera):
    store = app.state.db.reader()
    before = store.count("shipments")
    cases = vera.get("/api/cases").json()["cases"]
    assert len(cases) >= 2 and "dprk-russia-2023" in [c["id"] for c in cases]
    # the case loaded into this store comes first (the workspace opens it), the others after
    assert (cases[0]["id"], cases[0]["loaded"]) == ("dprk-russia-2023", True)
    by_id = {c["id"]: c for c in cases}
    assert by_id["crimea-grain-2022"]["loaded"] is False  # shipped, not loaded here
    r = vera.get("/api/cases/dprk-russia-2023/reconstruction")
    assert r.status_code == 200
    data = r.json()
    expected = reconstruct(store, "dprk-russia-2023", save=False).to_json()
    assert len(expected["shipments"]) > 0
    assert [s["shipment_id"] for s in data["shipments"]] == [s["shipment_id"] for s in expected["shipments"]]
    assert [(c["claim_id"], c["verdict"]) for c in data["claims"]] == \
        [(c["claim_id"], c["verdict"]) for c in expected["claims"]]
    assert store.count("shipments") == before
    assert vera.get("/api/cases/..%2F..%2Fetc%2Fpasswd/reconstruction").status_code == 404
    assert vera.get("/api/cases/no-such-case/reconstruction").status_code == 404


def test_report_download_is_the_report_builder_html(app, vera):
    r = vera.get("/api/cases/dprk-russia-2023/report")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.text.lstrip().lower().startswith("<!doctype html")
    title = vera.get("/api/cases/dprk-russia-2023/reconstruction").json()["corridor"]["title"]
    assert html.escape(title, quote=False) in r.text


def test_sources_claims_reports_places_listings(app, vera):
    store = app.state.db.reader()
    assert len(vera.get("/api/sources").json()["sources"]) == store.count("sources") > 0
    assert vera.get("/api/claims", params={"limit": 5000}).json()["count"] == store.count("claims") > 0
    one = vera.get("/api/claims").json()["claims"][0]
    got = vera.get(f"/api/claims/{one['claim_id']}")
    assert got.status_code == 200 and got.json()["sentence"] == one["sentence"] and got.headers["etag"]
    reports = vera.get("/api/reports").json()["reports"]
    assert len(reports) == store.count("reports")
    for r in reports[:1]:
        full = vera.get(f"/api/reports/{r['report_id']}").json()
        assert len(full["text"]) == r["chars"]
        assert all(c["report_id"] == r["report_id"] for c in full["claims"])
    assert vera.get("/api/reports/nope").status_code == 404
    places = vera.get("/api/places", params={"q": "_"}).json()["places"]
    assert all("_" in (p["place_id"] + (p["name"] or "")) for p in places)


# ------------------------------------------------------------------ sightings
def test_add_sighting_validates_like_the_cli_and_is_audited(app, ana, tmp_path):
    bad = {"date": "mid-Oct", "source": "[S6]", "place": "rajin", "vessel_name": "TEST SHIP"}
    r = ana.post("/api/sightings", json=bad, headers={"X-CSRF-Token": ana.csrf})
    assert r.status_code == 422
    # the CLI's message for the same row
    path = tmp_path / "s.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(bad))
        w.writeheader()
        w.writerow(bad)
    with Store.open(tmp_path / "cli.duckdb") as s:
        s.con.execute("INSERT INTO places (place_id, name, kind, lat, lon, source) VALUES "
                      "('rajin', 'Rajin', 'port', 42.24, 130.29, 'test')")
        summary = ingest_sightings(s, path)
    assert summary.skipped == {"bad date": 1}
    assert r.json()["detail"] in summary.details["bad date"]
    r = ana.post("/api/sightings", json=dict(bad, date="2023-09-07", place="nowhere-at-all"),
                 headers={"X-CSRF-Token": ana.csrf})
    assert r.status_code == 422 and "not in the places table" in r.json()["detail"]
    good = dict(bad, date="2023-09-07", description="two cranes at the berth")
    r = ana.post("/api/sightings", json=good, headers={"X-CSRF-Token": ana.csrf})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["place_id"] == "rajin" and body["ts_start"].startswith("2023-09-07")
    assert body["audit"][0]["username"] == "ana" and body["audit"][0]["action"] == "create"
    assert body["audit"][0]["after"]["description"] == "two cranes at the berth"
    again = ana.post("/api/sightings", json=good, headers={"X-CSRF-Token": ana.csrf})
    assert again.status_code == 409


def test_correction_needs_the_latest_version(app, ana):
    good = {"date": "2023-09-08", "source": "[S7]", "place": "rajin", "description": "first"}
    r = ana.post("/api/sightings", json=good, headers={"X-CSRF-Token": ana.csrf})
    sid, v1 = r.json()["sighting_id"], r.headers["etag"]
    other = client(app, "adam")  # a second person editing the same sighting
    r2 = other.put(f"/api/sightings/{sid}", json={"description": "second"},
                   headers={"X-CSRF-Token": other.csrf, "If-Match": v1})
    assert r2.status_code == 200 and r2.json()["description"] == "second"
    assert r2.headers["etag"] != v1
    stale = ana.put(f"/api/sightings/{sid}", json={"description": "third"},
                    headers={"X-CSRF-Token": ana.csrf, "If-Match": v1})
    assert stale.status_code == 412
    assert "adam" in stale.json()["detail"] and "not saved" in stale.json()["detail"]
    missing = ana.put(f"/api/sightings/{sid}", json={"description": "third"},
                      headers={"X-CSRF-Token": ana.csrf})
    assert missing.status_code == 428
    now = ana.get(f"/api/sightings/{sid}").json()
    assert now["description"] == "second"
    upd = [a for a in now["audit"] if a["action"] == "update"]
    assert len(upd) == 1 and upd[0]["before"]["description"] == "first" \
        and upd[0]["after"]["description"] == "second" and upd[0]["username"] == "adam"
    bad = ana.put(f"/api/sightings/{sid}", json={"date": "sometime"},
                  headers={"X-CSRF-Token": ana.csrf, "If-Match": r2.headers["etag"]})
    assert bad.status_code == 422
    assert ana.get(f"/api/sightings/{sid}").json()["date_text"] != "sometime"


def test_claims_add_and_correct_through_claims_add(app, ana):
    r = ana.post("/api/claims", json={"sentence": "Officials said 300 containers were shipped.",
                                      "quantity": "300", "quantity_unit": "containers",
                                      "period_start": "2023-09-01"},
                 headers={"X-CSRF-Token": ana.csrf})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["origin"] == "manual" and c["quantity"] == 300
    bad = ana.put(f"/api/claims/{c['claim_id']}", json={"period_end": "not a date"},
                  headers={"X-CSRF-Token": ana.csrf, "If-Match": r.headers["etag"]})
    assert bad.status_code == 422 and "not a date" in bad.json()["detail"]
    fixed = ana.put(f"/api/claims/{c['claim_id']}", json={"quantity": "350"},
                    headers={"X-CSRF-Token": ana.csrf, "If-Match": r.headers["etag"]})
    assert fixed.status_code == 200 and fixed.json()["quantity"] == 350
    assert fixed.json()["sentence"] == c["sentence"]
    stale = ana.put(f"/api/claims/{c['claim_id']}", json={"quantity": "400"},
                    headers={"X-CSRF-Token": ana.csrf, "If-Match": r.headers["etag"]})
    assert stale.status_code == 412


def test_annotations_are_attached_and_audited(app, ana, vera):
    _, gap = _gap_vessel(app)
    r = ana.post("/api/annotations", json={"object_kind": "event", "object_id": gap["event_id"],
                                           "text": "check the receiver coverage here"},
                 headers={"X-CSRF-Token": ana.csrf})
    assert r.status_code == 201
    ev = vera.get(f"/api/events/{gap['event_id']}").json()
    assert [a["text"] for a in ev["annotations"]] == ["check the receiver coverage here"]
    assert vera.post("/api/annotations", json={"object_kind": "event", "object_id": "x", "text": "y"},
                     headers={"X-CSRF-Token": vera.csrf}).status_code == 403


# ------------------------------------------------------------------ uploads
def test_upload_positions_gives_the_cli_counts(tmp_path):
    a = make_app(tmp_path)  # a fresh copy: its positions are the sample's
    try:
        c = client(a, "ana")
        with corridor.open(tmp_path / "cli.duckdb") as ws:
            cli = ws.ingest_positions([ws.sample_path()])[0]
        a.state.db.writer.con.execute("DELETE FROM positions")
        a.state.db.writer.con.execute("DELETE FROM ingest_log")
        with open(corridor.Workspace.sample_path(), "rb") as fh:
            r = c.post("/api/uploads/positions", files={"file": ("../../sample.gpkg", fh)},
                       headers={"X-CSRF-Token": c.csrf})
        assert r.status_code == 200, r.text
        res = r.json()["results"][0]
        assert r.json()["file"] == "sample.gpkg"
        assert res["stored"] == cli.stored and res["rows_in"] == cli.rows_in and res["skipped"] == cli.skipped
        assert res["stored"]["positions"] > 0
        assert a.state.db.reader().count("positions") == cli.stored["positions"]
        audit = c.get("/api/audit", params={"kind": "upload"}).json()["audit"]
        assert audit[0]["username"] == "ana" and audit[0]["after"]["kind"] == "positions"
        # the uploaded positions become the CLI's events, with the same ids
        a.state.db.writer.con.execute("DELETE FROM events")
        a.state.db.writer.con.execute("DELETE FROM detect_state")
        r = c.post("/api/detect", headers={"X-CSRF-Token": c.csrf})
        assert r.status_code == 200 and r.json()["vessels_detected"] > 0
        with corridor.open(tmp_path / "cli.duckdb") as ws:
            ws.detect()
            cli_events = sorted(ws.query("SELECT event_id FROM events").column(0).to_pylist())
        served = sorted(a.state.db.reader().query("SELECT event_id FROM events").column(0).to_pylist())
        assert served == cli_events and len(served) > 0
    finally:
        a.state.db.close()


def test_upload_checks_type_size_and_reports_bad_rows_like_the_cli(tmp_path):
    a = make_app(tmp_path, max_upload_mb=1)
    try:
        c = client(a, "ana")
        h = {"X-CSRF-Token": c.csrf}
        assert c.post("/api/uploads/positions", files={"file": ("x.exe", b"MZ\x00\x00")},
                      headers=h).status_code == 415
        assert c.post("/api/uploads/positions", files={"file": ("x.parquet", b"not parquet")},
                      headers=h).status_code == 415
        assert c.post("/api/uploads/sightings", files={"file": ("x.csv", b"a,b\x00\x01\n")},
                      headers=h).status_code == 415
        big = b"a" * ((1 << 20) + 10)
        assert c.post("/api/uploads/report", files={"file": ("big.txt", big)}, headers=h).status_code == 413
        huge = b"a" * (2 << 20)  # refused from its Content-Length, before it is read
        r = c.post("/api/uploads/report", files={"file": ("huge.txt", huge)}, headers=h)
        assert r.status_code == 413 and "upload limit" in r.json()["detail"]
        assert c.post("/api/uploads/nope", files={"file": ("x.csv", b"a")}, headers=h).status_code == 404
        rows = b"date,source,place\n2023-09-07,[S6],rajin\nmid-Oct,[S6],rajin\n"
        r = c.post("/api/uploads/sightings", files={"file": ("<b>s</b>.csv", rows)}, headers=h)
        assert r.status_code == 200
        res = r.json()["results"][0]
        assert r.json()["file"] == "b_.csv"  # the part after the last slash, cleaned
        assert res["stored"] == {"sightings": 1} and res["skipped"] == {"bad date": 1}
        assert res["examples"] == {"bad date": [3]}
        assert any("skipped: 1 bad date (lines 3)" in line for line in res["lines"])
        assert "corridor-upload-" not in json.dumps(res)  # no server path shown
        report = b"Officials said 300 containers of munitions were shipped in September 2023."
        r = c.post("/api/uploads/report", files={"file": ("note.txt", report)},
                   data={"published": "2023-10-13", "title": "a note"}, headers=h)
        assert r.status_code == 200 and r.json()["results"][0]["report_id"]
    finally:
        a.state.db.close()


# ------------------------------------------------------------------ users
def test_admin_manages_users_and_a_disabled_user_is_logged_out(app):
    admin = client(app, "adam")
    h = {"X-CSRF-Token": admin.csrf}
    r = admin.post("/api/users", json={"username": "nina", "role": "viewer", "password": "short"}, headers=h)
    assert r.status_code == 422
    r = admin.post("/api/users", headers=h,
                   json={"username": "nina", "role": "viewer", "password": "nina-password-1"})
    assert r.status_code == 201
    nina = client(app)
    r = nina.post("/api/login", json={"username": "nina", "password": "nina-password-1"})
    assert r.status_code == 200
    assert nina.get("/api/me").json()["role"] == "viewer"
    assert admin.put("/api/users/nina", json={"disabled": True}, headers=h).status_code == 200
    assert nina.get("/api/me").status_code == 401
    names = [u["username"] for u in admin.get("/api/users").json()["users"]]
    assert "nina" in names and all("password" not in k for u in admin.get("/api/users").json()["users"]
                                   for k in u)


def test_basemap_is_the_bundled_land_whole_or_by_box(app, vera):
    world = vera.get("/api/basemap/land")
    assert world.status_code == 200 and world.headers["content-type"].startswith("application/geo+json")
    feats = world.json()["features"]
    assert len(feats) > 100 and "Natural Earth" in world.json()["source"]
    box = vera.get("/api/basemap/land", params={"tolerance_deg": 0.001, "bbox": "-71.3,42.1,-70.6,42.6"})
    assert box.status_code == 200
    geoms = [shapely.geometry.shape(f["geometry"]) for f in box.json()["features"]]
    coords = shapely.get_coordinates(geoms)
    assert len(coords) > 100  # the full outline of Boston's shores
    assert ((coords[:, 0] >= -72) & (coords[:, 0] <= -70) & (coords[:, 1] >= 42) & (coords[:, 1] <= 43)).all()
    assert vera.get("/api/basemap/land", params={"tolerance_deg": 0.001}).status_code == 422
    assert vera.get("/api/basemap/land", params={"bbox": "0,0,40,40"}).status_code == 422


def test_images_attach_to_a_sighting_checked_by_their_bytes(app, ana, vera):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, format="PNG")
    png = buf.getvalue()
    sid = vera.get("/api/sightings").json()["sightings"][0]["sighting_id"]
    h = {"X-CSRF-Token": ana.csrf}
    form = {"object_kind": "sighting", "object_id": sid}
    r = ana.post("/api/attachments", data=form, files={"file": ("../pier <1>.png", png)}, headers=h)
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["media_type"] == "image/png" and att["filename"] == "pier_1_.png"
    assert att["sha256"] == __import__("hashlib").sha256(png).hexdigest()
    listed = vera.get("/api/attachments", params=form).json()["attachments"]
    assert [a["attachment_id"] for a in listed] == [att["attachment_id"]]
    got = vera.get(f"/api/attachments/{att['attachment_id']}")
    assert got.content == png and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, body in (("x.svg", svg), ("x.png", b"not an image"), ("x.png", b"<html>")):
        r = ana.post("/api/attachments", data=form, files={"file": (name, body)}, headers=h)
        assert r.status_code == 415
    r = ana.post("/api/attachments", data=form, files={"file": ("p.png", png)}, headers=h)
    assert r.status_code == 409
    assert vera.post("/api/attachments", data=form, files={"file": ("p.png", png)},
                     headers={"X-CSRF-Token": vera.csrf}).status_code == 403
