"""The evidence report: a reconstruction rendered as one self-contained HTML file.

- :mod:`corridor.report.build` — ``write_report(store, corridor, out, fmt)``: HTML, PDF/PNG
  (headless Chromium), GeoJSON; AIS tracks, the simulated section, imagery and the store's
  fingerprint from the store, which the report only reads;
- :mod:`corridor.report.html` — the document from the ``corridor.reconstruction/1`` JSON (or
  a typed reconstruction), rendered by the Jinja2 templates in ``report/templates/``;
- :mod:`corridor.report.text` — dates, numbers and prose that names places and links objects;
- :mod:`corridor.report.map`, :mod:`corridor.report.timeline`, :mod:`corridor.report.charts`
  — the SVG figures; :mod:`corridor.report.basemap` — projections over the bundled Natural
  Earth data;
- :mod:`corridor.report.imagery` — annotated images behind counts, stored by SHA-256.
"""
