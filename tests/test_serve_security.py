"""Security of ``corridor serve``, checked against the real app and store:

- a walk over EVERY registered route: each refuses an anonymous request, and one from every
  role below the least role the route declares; the only routes without a role are the login
  page, the login request and the static files;
- every state-changing route refuses a request without (or with a wrong) CSRF token, even
  from an admin;
- SQL metacharacters in every query parameter and path parameter change nothing and leak
  nothing;
- static files cannot reach outside their directory; responses carry the security headers.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from serve_sample import ROLES, client, make_app
from starlette.routing import Mount

from corridor.serve.auth import Role

PUBLIC = {("GET", "/login"), ("POST", "/api/login")}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
INJECTIONS = ["' OR '1'='1", "1; DROP TABLE positions; --", "\" OR 1=1 --", "%' UNION SELECT "
              "password_hash, 1 FROM users --", "\\'); DELETE FROM users; --", "%_%", "*/ SELECT 1 /*"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    a = make_app(tmp_path_factory.mktemp("serve-sec"))
    yield a
    a.state.db.close()


@pytest.fixture(scope="module")
def clients(app):
    return {name: client(app, name) for name in ROLES}


def min_role(route: APIRoute) -> Role | None:
    """The least role a route's dependencies demand (None: no session needed)."""
    found = []

    def walk(dep):
        r = getattr(dep.call, "min_role", None)
        if r is not None:
            found.append(r)
        for d in dep.dependencies:
            walk(d)

    walk(route.dependant)
    return max(found) if found else None


def registered(routes, prefix: str = "") -> list:
    """Every route of the app, with included routers opened (FastAPI >= 0.13x keeps an included
    router as one ``_IncludedRouter`` entry; older versions copied its routes)."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            ctx = getattr(r, "include_context", None)
            assert not getattr(ctx, "prefix", ""), "the walk assumes routers included without prefix"
            out += registered(inner.routes, prefix)
        else:
            out.append(r)
    return out


def api_routes(app) -> list[tuple[str, APIRoute]]:
    out = [(m, r) for r in registered(app.routes) if isinstance(r, APIRoute) for m in sorted(r.methods)]
    assert len(out) >= 30, "the walk must see the whole API"
    return out


def fill(app, path: str) -> str:
    """A route path with real ids in its parameters."""
    store = app.state.db.reader()
    ids = {
        "mmsi": str(store.query("SELECT mmsi FROM positions LIMIT 1").column(0)[0].as_py()),
        "event_id": store.query("SELECT event_id FROM events ORDER BY event_id LIMIT 1").column(0)[0].as_py(),
        "case_id": "dprk-russia-2023",
        "sighting_id": store.query("SELECT sighting_id FROM sightings ORDER BY 1 LIMIT 1"
                                   ).column(0)[0].as_py(),
        "claim_id": store.query("SELECT claim_id FROM claims ORDER BY 1 LIMIT 1").column(0)[0].as_py(),
        "report_id": (store.query("SELECT report_id FROM reports ORDER BY 1 LIMIT 1").column(0).to_pylist()
                      or ["no-report"])[0],
        "kind": "sightings",
        "attachment_id": "no-attachment",
        "username": "vera",
    }
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_every_route_declares_a_role_except_the_public_ones(app):
    routes = api_routes(app)
    without = {(m, r.path) for m, r in routes if min_role(r) is None}
    assert without == PUBLIC
    mounts = [r for r in registered(app.routes) if isinstance(r, Mount)]
    assert [m.path for m in mounts] == ["/static"]
    other = [r for r in registered(app.routes) if not isinstance(r, (APIRoute, Mount))]
    assert other == [], f"routes outside the walk: {other}"


def test_route_walk_refuses_anonymous_and_lower_roles(app, clients):
    anon = client(app)
    checked = 0
    for method, route in api_routes(app):
        need = min_role(route)
        if need is None:
            continue
        url = fill(app, route.path)
        r = anon.request(method, url, follow_redirects=False)
        if route.path.startswith("/api/"):
            assert r.status_code == 401, (method, url, r.status_code)
        else:  # the page: sent to the login page, and nothing of it shown
            assert r.status_code == 303 and r.headers["location"] == "/login", (method, url)
        for name, role in ROLES.items():
            c = clients[name]
            headers = {"X-CSRF-Token": c.csrf}
            if Role[role] < need:
                r = c.request(method, url, headers=headers, follow_redirects=False)
                assert r.status_code == 403, (method, url, name, r.status_code)
                assert need.name in r.json()["detail"]
            elif method == "GET":
                r = c.request(method, url, headers=headers, follow_redirects=False)
                assert r.status_code not in (401, 403), (method, url, name, r.status_code, r.text[:200])
        checked += 1
    assert checked == len(api_routes(app)) - len(PUBLIC)


def test_csrf_token_required_on_every_state_changing_route(app, clients):
    admin = clients["adam"]
    unsafe = [(m, r) for m, r in api_routes(app) if m in UNSAFE and min_role(r) is not None]
    assert len(unsafe) >= 8
    before = app.state.db.reader().query("SELECT count(*) FROM audit_log").column(0)[0].as_py()
    for method, route in unsafe:
        url = fill(app, route.path)
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": clients["ana"].csrf}):
            r = admin.request(method, url, headers=headers, json={})
            assert r.status_code == 403 and "CSRF" in r.json()["detail"], (method, url, headers)
    after = app.state.db.reader().query("SELECT count(*) FROM audit_log").column(0)[0].as_py()
    assert after == before  # nothing was written


def _counts(app) -> dict:
    store = app.state.db.reader()
    return {t: store.count(t) for t in ("positions", "events", "users", "sessions", "sightings", "claims",
                                        "vessels", "watchlist", "audit_log")}


def test_sql_metacharacters_in_every_parameter_are_harmless(app, clients):
    c = clients["vera"]
    before = _counts(app)
    hits = 0
    for method, route in api_routes(app):
        if method != "GET" or min_role(route) is None:
            continue
        names = [p.name for p in route.dependant.query_params]
        path_names = [p.name for p in route.dependant.path_params]
        for payload in INJECTIONS:
            for name in names:
                r = c.get(fill(app, route.path), params={name: payload})
                assert r.status_code in (200, 404, 422), (route.path, name, payload, r.status_code)
                assert "$argon2" not in r.text  # no password hash leaks (the payload may be echoed)
                hits += 1
            for name in path_names:
                url = re.sub(r"\{" + name + r"\}", payload.replace("/", "%2F").replace("#", "%23")
                             .replace("?", "%3F"), route.path)
                r = c.get(fill(app, url))
                assert r.status_code in (200, 404, 422), (url, payload, r.status_code)
                assert "$argon2" not in r.text
                hits += 1
    assert hits > 100
    assert _counts(app) == before
    # an injection that would match everything matches nothing
    for payload in INJECTIONS[:5]:
        assert c.get("/api/vessels", params={"q": payload}).json()["count"] == 0
        assert c.get("/api/sightings", params={"vessel": payload}).json()["count"] == 0


def test_static_files_stay_in_their_directory_and_headers_are_set(app, clients):
    anon = client(app)
    assert anon.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    for bad in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2Fapi.py",
                "/static/vendor/../../auth.py"):
        r = anon.get(bad)
        assert r.status_code == 404 or "def create_app" not in r.text
        assert "import" not in r.text[:200]
    r = clients["vera"].get("/")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in r.text  # no inline script to allow
    assert "cdn" not in r.text.lower() and "http://" not in r.text and "https://" not in r.text


def test_openapi_document_is_behind_login_and_lists_the_api(app, clients):
    assert client(app).get("/api/openapi.json").status_code == 401
    doc = clients["vera"].get("/api/openapi.json").json()
    assert "/api/vessels" in doc["paths"] and "/api/vessels/{mmsi}/track" in doc["paths"]
    assert client(app).get("/docs").status_code == 404
