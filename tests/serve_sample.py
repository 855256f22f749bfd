"""A real store for the ``corridor serve`` tests: the bundled AIS sample, detected, plus the
shipped case, and one account per role (passwords are test-only)."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

import corridor
from corridor.serve.app import create_app
from corridor.serve.auth import add_user

PASSWORDS = {"vera": "viewer-password-1", "ana": "analyst-password-1", "adam": "admin-password-1"}
ROLES = {"vera": "viewer", "ana": "analyst", "adam": "admin"}

_TEMPLATE: dict[str, Path] = {}


def build_store(path: Path) -> Path:
    """The sample store at ``path`` (built once per session, then copied)."""
    if "db" not in _TEMPLATE or not _TEMPLATE["db"].exists():
        tpl = path.parent / "serve-template.duckdb"
        with corridor.open(tpl) as ws:
            ws.ingest_positions([ws.sample_path()])
            ws.detect()
            ws.load_case("dprk-russia-2023")
            for name, role in ROLES.items():
                add_user(ws.store, name, role, PASSWORDS[name])
        _TEMPLATE["db"] = tpl
    if path != _TEMPLATE["db"]:
        shutil.copy(_TEMPLATE["db"], path)
    return path


def client(app, username: str | None = None) -> TestClient:
    """A client of ``app``, logged in as ``username`` (None: anonymous); ``client.csrf`` holds
    the session's CSRF token."""
    c = TestClient(app, base_url="http://testserver")
    c.csrf = ""
    if username:
        r = c.post("/api/login", json={"username": username, "password": PASSWORDS[username]})
        assert r.status_code == 200, r.text
        c.csrf = r.json()["csrf_token"]
    return c


def make_app(tmp_path: Path, **kw):
    return create_app(build_store(tmp_path / "serve.duckdb"), **kw)
