"""``corridor serve``: the team workspace, an authenticated web application over one store.

Modules: :mod:`~corridor.serve.app` (the FastAPI application and ``run``),
:mod:`~corridor.serve.db` (the single-writer hold on the DuckDB file),
:mod:`~corridor.serve.auth` (accounts, sessions, CSRF, roles, login throttling),
:mod:`~corridor.serve.api` (the JSON API), :mod:`~corridor.serve.audit` (audit log and object
versions), :mod:`~corridor.serve.search` (vessel search), :mod:`~corridor.serve.track` (track
thinning), :mod:`~corridor.serve.basemap` (Natural Earth land as GeoJSON); ``static/`` holds the
page, its script and style, and the vendored Leaflet (see ``static/vendor/NOTICE.md``).
"""
