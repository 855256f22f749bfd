"""The evidence report: a reconstruction rendered as one self-contained HTML file.

- :mod:`corridor.report.build` — ``write_report(store, corridor, out, fmt)``: HTML, PDF/PNG
  (headless Chromium), GeoJSON; AIS tracks and the simulated section from the store;
- :mod:`corridor.report.html` — the document from the ``corridor.reconstruction/1`` JSON;
- :mod:`corridor.report.map`, :mod:`corridor.report.timeline`, :mod:`corridor.report.charts`
  — the SVG figures; :mod:`corridor.report.basemap` — bundled Natural Earth and projections.
"""
