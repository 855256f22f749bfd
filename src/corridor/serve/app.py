"""The ``corridor serve`` application: FastAPI on uvicorn, one process over one store.

Why FastAPI (on Starlette) and uvicorn: both are maintained and widely used; FastAPI declares
each route's parameters with types, validates them before the handler runs (a bad MMSI or
date is a 422 with the reason, never SQL), and generates the OpenAPI document from the same
declarations, so the API documentation cannot drift from the code; Starlette underneath gives
static files, middleware and test clients; uvicorn is the reference ASGI server. A single
uvicorn worker process is used on purpose: DuckDB allows one writing process per file, so the
server is that process and serialises writes itself (:mod:`corridor.serve.db`).

Everything is refused without a session (401 for the API, a redirect to ``/login`` for the
page) except the login page, the login request and the static assets. Responses carry a
Content-Security-Policy that allows scripts, styles and images from this server only: with no
inline script allowed, a vessel name or report text that slipped into the page as HTML still
could not run.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from corridor.serve.auth import LoginThrottle, Sessions, cookie_secret
from corridor.serve.basemap import land_geojson
from corridor.serve.db import Database
from corridor.serve.track import TrackCache

STATIC = Path(str(resources.files("corridor").joinpath("serve", "static")))

#: Content-Security-Policy of every response: this origin only, no inline script, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")

#: paths served without a session (everything else needs one)
PUBLIC_PATHS = ("/login", "/api/login")
PUBLIC_PREFIXES = ("/static/",)


def create_app(db_path: str | Path, *, secure_cookie: bool = False, session_hours: float = 8.0,
               max_upload_mb: int = 200, login_max_failures: int = 5,
               login_window_s: float = 300.0) -> FastAPI:
    """The application over the store at ``db_path`` (opened, and migrated, now)."""
    from corridor.serve.api import router

    db = Database(db_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        db.close()  # the server stops: the store is released for the command line

    app = FastAPI(title="corridor serve", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan,
                  description="The corridor team workspace: vessels, tracks, events, cases, claims, "
                              "sightings, sources and uploads over one corridor store.")
    with db.write() as store, store.transaction():
        secret = cookie_secret(store)
    app.state.db = db
    app.state.sessions = sessions = Sessions(secret, session_hours)

    def _written(tables: set[str]) -> None:
        if tables & {"*", "sessions", "users"}:
            sessions.forget()

    db.on_write = _written
    app.state.throttle = LoginThrottle(login_max_failures, login_window_s)
    app.state.secure_cookie = secure_cookie
    app.state.max_upload_bytes = int(max_upload_mb) << 20
    app.state.cache = {}
    app.state.tracks = TrackCache()
    app.state.log = logging.getLogger("corridor.serve")
    pages = {name: (STATIC / name).read_text(encoding="utf-8") for name in ("app.html", "login.html")}
    app.state.page = pages.__getitem__
    app.include_router(router)
    # the world's land outline takes ~2 s to simplify: done now, not on the first page view
    threading.Thread(target=land_geojson, args=(0.05,), daemon=True).start()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(HTTPException)
    async def _http_errors(request: Request, exc: HTTPException):
        if exc.status_code == 401 and request.method == "GET" and not request.url.path.startswith("/api/"):
            return RedirectResponse("/login", status_code=303)
        return await http_exception_handler(request, exc)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        if request.method == "POST" and request.url.path.startswith(("/api/uploads/", "/api/attachments")):
            # refuse a declared oversize body before it is read (the handler also counts the
            # bytes it stores, for bodies sent without a length)
            size = request.headers.get("content-length", "")
            if size.isdigit() and int(size) > app.state.max_upload_bytes + (1 << 16):
                response = JSONResponse({"detail": "larger than the upload limit "
                                         f"({app.state.max_upload_bytes >> 20} MB)"}, status_code=413)
                response.headers["Content-Security-Policy"] = CSP
                return response
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    return host in ("localhost", "::1") or host.startswith("127.")


TLS_WARNING = ("warning: corridor serve is listening on {host}, beyond this machine. It speaks plain "
               "HTTP: put it behind a TLS-terminating proxy (e.g. Caddy or nginx with a certificate) "
               "so passwords and session cookies are never sent in clear; session cookies are marked "
               "Secure and only travel over HTTPS.")


def run(db_path: str | Path, host: str = "127.0.0.1", port: int = 8000, *, session_hours: float = 8.0,
        max_upload_mb: int = 200, echo=print) -> None:
    """Serve the store at ``db_path`` until interrupted (one uvicorn process)."""
    import uvicorn

    loopback = is_loopback(host)
    if not loopback:
        echo(TLS_WARNING.format(host=host))
    app = create_app(db_path, secure_cookie=not loopback, session_hours=session_hours,
                     max_upload_mb=max_upload_mb)
    echo(f"corridor serve: http://{host if ':' not in host else f'[{host}]'}:{port}/ over {db_path}")
    uvicorn.run(app, host=host, port=port, workers=1, log_level="info", proxy_headers=not loopback)
