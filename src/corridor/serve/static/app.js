// corridor serve: the workspace page (vessel search, track map, time slider, events, case view,
// sightings, uploads, audit log). Every string from the server is put into the page with
// textContent (el() below), never as HTML: vessel names, report texts and file names are
// written by whoever sent the data.
"use strict";

let CSRF = "";
let ME = null;

// ------------------------------------------------------------------ helpers
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

async function api(path, opts = {}) {
  const o = Object.assign({ credentials: "same-origin", headers: {} }, opts);
  if (o.method && o.method !== "GET") o.headers["X-CSRF-Token"] = CSRF;
  if (o.json !== undefined) {
    o.body = JSON.stringify(o.json);
    o.headers["Content-Type"] = "application/json";
    delete o.json;
  }
  const r = await fetch(path, o);
  if (r.status === 401) { window.location.assign("/login"); throw new Error("logged out"); }
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const msg = data && data.detail ? (typeof data.detail === "string" ? data.detail
      : JSON.stringify(data.detail)) : `HTTP ${r.status}`;
    const e = new Error(msg); e.status = r.status; throw e;
  }
  return { data, etag: r.headers.get("ETag") };
}

function kvTable(obj, skip = []) {
  const t = el("table", { class: "kv" });
  for (const [k, v] of Object.entries(obj)) {
    if (skip.includes(k) || v === null || v === undefined || v === "") continue;
    const text = (typeof v === "object") ? JSON.stringify(v) : String(v);
    t.appendChild(el("tr", {}, el("td", {}, k), el("td", {}, text)));
  }
  return t;
}

function fmtTime(iso) { return iso ? iso.replace("T", " ").slice(0, 19) : ""; }

// ------------------------------------------------------------------ map
const map = L.map("map", { worldCopyJump: true, preferCanvas: false }).setView([30, 0], 2);
// Credits as plain text: Leaflet's default prefix links to its website, and the workspace
// links to nothing outside this server (it works offline).
map.attributionControl.setPrefix("Leaflet (BSD-2-Clause) · Natural Earth (public domain)");
map.createPane("land").style.zIndex = 350;  // under the tracks and markers (overlayPane: 400)
const trackLayer = L.layerGroup().addTo(map);
const eventLayer = L.layerGroup().addTo(map);
const caseLayer = L.layerGroup().addTo(map);
let cursor = null;

const LAND_STYLE = { color: "#9aa79b", weight: 0.6, fillColor: "#eae6da", fillOpacity: 1 };
let worldLand = null;
let detailLand = null;
let detailKey = "";

async function loadLand() {
  const { data } = await api("/api/basemap/land?tolerance_deg=0.05");
  worldLand = L.geoJSON(data, { style: LAND_STYLE, interactive: false, pane: "land" });
  if (!detailLand) worldLand.addTo(map);
}

// zoomed in, the coast is drawn from the full 1:10m outline of the area in view
async function loadDetailLand() {
  if (map.getZoom() < 8) {
    if (detailLand) { map.removeLayer(detailLand); detailLand = null; detailKey = ""; }
    if (worldLand && !map.hasLayer(worldLand)) worldLand.addTo(map);
    return;
  }
  const b = map.getBounds();
  const box = [Math.floor(b.getWest()), Math.floor(b.getSouth()), Math.ceil(b.getEast()),
               Math.ceil(b.getNorth())].map((x) => Math.max(-180, Math.min(180, x)));
  box[1] = Math.max(-90, box[1]); box[3] = Math.min(90, box[3]);
  const key = box.join(",");
  if (key === detailKey || box[2] - box[0] > 20 || box[3] - box[1] > 20) return;
  detailKey = key;
  const { data } = await api(`/api/basemap/land?tolerance_deg=0.001&bbox=${key}`);
  if (detailKey !== key) return;
  if (detailLand) map.removeLayer(detailLand);
  detailLand = L.geoJSON(data, { style: LAND_STYLE, interactive: false, pane: "land" }).addTo(map);
  if (worldLand && map.hasLayer(worldLand)) map.removeLayer(worldLand);  // its coarse coast would show
}
map.on("moveend", () => { loadDetailLand().catch(() => {}); });

// the server thins a track for a zoom level: zoomed in or out by two levels, fetch it again
map.on("zoomend", async () => {
  if (!TRACK || Math.abs(map.getZoom() - TRACK.zoom) < 2) return;
  const want = TRACK;
  want.zoom = map.getZoom();
  const { data } = await api(`/api/vessels/${encodeURIComponent(want.mmsi)}/track?zoom=${want.zoom}`);
  if (TRACK !== want) return;  // another vessel was opened meanwhile
  TRACK.points = drawSegments(data.segments).points;
  const s = document.getElementById("track-summary");
  if (s) s.textContent = `${data.positions} positions, ${data.points} drawn, ${data.events.length} events`;
  moveCursor();
});

const EVENT_COLOURS = { port_visit: "#1b6e3a", encounter: "#a4161a", loitering: "#c9820a",
  gap: "#5a2ca0", voyage: "#3a5575", identity_change: "#6b7785", position_conflict: "#000" };

// ------------------------------------------------------------------ tabs
for (const b of document.querySelectorAll(".tab")) {
  b.addEventListener("click", () => {
    for (const x of document.querySelectorAll(".tab")) x.classList.toggle("active", x === b);
    for (const p of document.querySelectorAll(".panel")) p.classList.add("hidden");
    document.getElementById("tab-" + b.dataset.tab).classList.remove("hidden");
    if (b.dataset.tab === "audit") loadAudit();
    if (b.dataset.tab === "case") loadCases();
    if (b.dataset.tab === "users") loadUsers();
  });
}

// ------------------------------------------------------------------ vessel search
document.getElementById("search-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const p = new URLSearchParams();
  const q = document.getElementById("q").value.trim();
  const flag = document.getElementById("flag").value.trim();
  if (q) p.set("q", q);
  if (flag) p.set("flag", flag);
  if (document.getElementById("watchlisted").checked) p.set("watchlisted", "true");
  const list = clear(document.getElementById("results"));
  try {
    const { data } = await api("/api/vessels?" + p.toString());
    if (!data.vessels.length) list.appendChild(el("li", { class: "muted" }, "no vessel found"));
    for (const v of data.vessels) {
      const li = el("li", { class: "vessel-result", "data-key": v.key },
        el("strong", { class: "vessel-name" }, v.name || "(no name)"),
        el("span", { class: "badge" }, v.kind === "ais" ? "AIS" : "case file"),
        v.watchlist.length ? el("span", { class: "badge hit" }, "watchlist") : null,
        el("div", { class: "muted" },
          [v.mmsi ? `MMSI ${v.mmsi}` : null, v.imo ? `IMO ${v.imo}` : null, v.flag,
           v.positions ? `${v.positions} positions` : null].filter(Boolean).join(" · ")),
        v.aliases.length ? el("div", { class: "muted" }, "also: " + v.aliases.join(", ")) : null);
      li.addEventListener("click", () => openVessel(v));
      list.appendChild(li);
    }
  } catch (e) { list.appendChild(el("li", { class: "error" }, e.message)); }
});

// ------------------------------------------------------------------ track
let TRACK = null;  // {points: [{t, lat, lon, obs}], events}

async function openVessel(v) {
  const d = clear(document.getElementById("detail"));
  d.appendChild(el("h3", {}, v.name || "(no name)"));
  d.appendChild(kvTable({ kind: v.kind, mmsi: v.mmsi, imo: v.imo, flag: v.flag, aliases: v.aliases.join(", "),
    first_seen: fmtTime(v.first_seen), last_seen: fmtTime(v.last_seen), positions: v.positions }));
  for (const h of v.watchlist) {
    d.appendChild(el("p", { class: "error" }, `watchlist: ${h.name || h.entity_id} ` +
      `(${(h.programs || []).join(", ")}) ${h.source || ""}`));
  }
  if (v.mmsi && v.positions) await loadTrack(v.mmsi);
  else d.appendChild(el("p", { class: "muted" }, "no AIS positions for this vessel in the store"));
  const p = new URLSearchParams({ vessel: v.kind === "case" ? v.key : String(v.mmsi) });
  const { data } = await api("/api/sightings?" + p.toString());
  d.appendChild(el("h3", {}, `Sightings (${data.count})`));
  const ul = el("ul", { class: "list" });
  for (const s of data.sightings) {
    ul.appendChild(el("li", { onclick: () => openSighting(s.sighting_id) },
      `${fmtTime(s.ts_start).slice(0, 10)} ${s.place_id || s.place_text || ""}: ${s.description || s.subject}`));
  }
  d.appendChild(ul);
}

function drawSegments(segments) {
  trackLayer.clearLayers();
  const points = [];
  const bounds = [];
  for (const seg of segments) {
    const ll = seg.coords.map(([lon, lat]) => [lat, lon]);
    L.polyline(ll, { color: "#1d4e89", weight: 2, className: "track-line", interactive: false }).addTo(trackLayer);
    seg.ts.forEach((t, i) => points.push({ t: Date.parse(t + "Z"), lat: ll[i][0], lon: ll[i][1],
                                           obs: seg.obs_id[i] }));
    bounds.push(...ll);
  }
  return { points, bounds };
}

async function loadTrack(mmsi) {
  const zoom = Math.max(map.getZoom(), 6);
  const { data } = await api(`/api/vessels/${encodeURIComponent(mmsi)}/track?zoom=${zoom}`);
  eventLayer.clearLayers();
  const { points, bounds } = drawSegments(data.segments);
  for (const e of data.events) drawEvent(e);
  TRACK = { points, events: data.events, mmsi, zoom };
  if (bounds.length) map.fitBounds(bounds, { padding: [30, 30] });
  const slider = document.getElementById("slider");
  slider.disabled = points.length === 0;
  slider.value = 1000;
  moveCursor();
  const d = document.getElementById("detail");
  d.appendChild(el("p", { class: "muted", id: "track-summary" },
    `${data.positions} positions, ${data.points} drawn, ${data.events.length} events`));
  const ul = el("ul", { class: "list", id: "event-list" });
  for (const e of data.events) {
    ul.appendChild(el("li", { class: "event-item", "data-type": e.type, onclick: () => openEvent(e.event_id) },
      `${e.type} ${fmtTime(e.start_ts)}`));
  }
  d.appendChild(ul);
}

function drawEvent(e) {
  const colour = EVENT_COLOURS[e.type] || "#333";
  const attrs = e.attrs || {};
  if (e.type === "gap" && attrs.off_lat !== undefined) {
    const line = L.polyline([[attrs.off_lat, attrs.off_lon], [attrs.on_lat, attrs.on_lon]],
      { color: colour, weight: 3, dashArray: "6 6", className: "gap-line" });
    line.on("click", () => openEvent(e.event_id));
    line.bindTooltip(`gap ${Number(attrs.duration_hours || 0).toFixed(1)} h`);
    line.addTo(eventLayer);
    const m = L.circleMarker([attrs.off_lat, attrs.off_lon],
      { radius: 6, color: colour, fillOpacity: 0.8, className: "event-marker event-gap" });
    m.on("click", () => openEvent(e.event_id));
    m.addTo(eventLayer);
    return;
  }
  if (e.lat === null || e.lon === null || e.type === "voyage") return;
  const m = L.circleMarker([e.lat, e.lon], { radius: e.type === "encounter" ? 8 : 6, color: colour,
    fillOpacity: 0.7, className: "event-marker event-" + e.type });
  m.bindTooltip(e.type === "encounter" ? `encounter ${e.mmsi} & ${e.other_mmsi}` : e.type);
  m.on("click", () => openEvent(e.event_id));
  m.addTo(eventLayer);
}

async function openEvent(id) {
  const d = clear(document.getElementById("detail"));
  const { data } = await api(`/api/events/${encodeURIComponent(id)}`);
  d.appendChild(el("h3", { id: "event-title" }, `${data.type} ${fmtTime(data.start_ts)}`));
  d.appendChild(kvTable({ event_id: data.event_id, mmsi: data.mmsi, other_mmsi: data.other_mmsi,
    start: fmtTime(data.start_ts), end: fmtTime(data.end_ts), lat: data.lat, lon: data.lon,
    place_id: data.place_id, from: data.from_place_id, to: data.to_place_id }));
  // an encounter has two ships: either track can be opened from here
  for (const m of [data.mmsi, data.other_mmsi]) {
    if (m && (!TRACK || String(TRACK.mmsi) !== String(m))) {
      d.appendChild(el("button", { class: "open-track", onclick: () => loadTrack(m) }, `Show the track of ${m}`));
    }
  }
  d.appendChild(el("h3", {}, "Parameters and measurements"));
  const attrs = Object.assign({}, data.attrs || {});
  const params = attrs.params; delete attrs.params;
  d.appendChild(kvTable(attrs));
  if (params) d.appendChild(kvTable(params));
  d.appendChild(el("h3", {}, `Evidence: ${data.evidence.length} observation ids`));
  d.appendChild(el("div", { class: "ids", id: "evidence-ids" }, data.evidence.join(" ")));
  const t = el("table", { class: "kv" });
  for (const o of data.observations) {
    t.appendChild(el("tr", {}, el("td", {}, o.obs_id), el("td", {}, `${fmtTime(o.ts)} ${o.lat}, ${o.lon}`)));
  }
  d.appendChild(t);
  annotationsBox(d, "event", data.event_id, data.annotations);
  attachmentsBox(d, "event", data.event_id);
}

async function attachmentsBox(d, kind, id) {
  d.appendChild(el("h3", {}, "Images"));
  const box = el("div", { class: "attachments" });
  d.appendChild(box);
  const show = async () => {
    clear(box);
    const p = new URLSearchParams({ object_kind: kind, object_id: id });
    const { data } = await api("/api/attachments?" + p.toString());
    for (const a of data.attachments) {
      box.appendChild(el("figure", {}, el("img", { src: `/api/attachments/${encodeURIComponent(a.attachment_id)}`,
        alt: a.filename, class: "attachment" }), el("figcaption", { class: "muted" },
        `${a.filename} · ${a.username} · sha256 ${a.sha256.slice(0, 12)}…`)));
    }
    if (!data.attachments.length) box.appendChild(el("p", { class: "muted" }, "no image attached"));
  };
  await show();
  if (ME && ME.role !== "viewer") {
    const input = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp", name: "file" });
    const msg = el("p", { role: "status" });
    const f = el("form", { class: "attach-form" }, input, el("button", { type: "submit" }, "Attach image"), msg);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const fd = new FormData();
      fd.append("object_kind", kind); fd.append("object_id", id);
      if (input.files[0]) fd.append("file", input.files[0]);
      try { await api("/api/attachments", { method: "POST", body: fd }); msg.textContent = ""; await show(); }
      catch (e) { msg.className = "error"; msg.textContent = e.message; }
    });
    d.appendChild(f);
  }
}

function annotationsBox(d, kind, id, notes) {
  d.appendChild(el("h3", {}, "Notes"));
  const ul = el("ul", { class: "list" });
  for (const n of notes || []) ul.appendChild(el("li", {}, `${n.username} ${fmtTime(n.created_at)}: ${n.text}`));
  d.appendChild(ul);
  if (ME && ME.role !== "viewer") {
    const input = el("input", { placeholder: "add a note", maxlength: 5000 });
    const f = el("form", {}, input, el("button", { type: "submit" }, "Add note"));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const { data } = await api("/api/annotations", { method: "POST",
          json: { object_kind: kind, object_id: id, text: input.value } });
        ul.appendChild(el("li", {}, `${data.username} ${fmtTime(data.created_at)}: ${data.text}`));
        input.value = "";
      } catch (e) { ul.appendChild(el("li", { class: "error" }, e.message)); }
    });
    d.appendChild(f);
  }
}

// ------------------------------------------------------------------ time slider
function moveCursor() {
  if (!TRACK || !TRACK.points.length) return;
  const pts = TRACK.points;
  const s = document.getElementById("slider");
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
  const t = t0 + (t1 - t0) * Number(s.value) / 1000;
  let lo = 0, hi = pts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (pts[mid].t <= t) lo = mid; else hi = mid - 1; }
  const p = pts[lo];
  if (!cursor) cursor = L.circleMarker([p.lat, p.lon], { radius: 7, color: "#000", fillColor: "#ffd60a",
                                                          fillOpacity: 1 }).addTo(map);
  cursor.setLatLng([p.lat, p.lon]);
  document.getElementById("slider-time").textContent = new Date(t).toISOString().slice(0, 16).replace("T", " ");
}
document.getElementById("slider").addEventListener("input", moveCursor);
let playing = null;
document.getElementById("play").addEventListener("click", () => {
  const s = document.getElementById("slider");
  if (playing) { clearInterval(playing); playing = null; return; }
  if (Number(s.value) >= 1000) s.value = 0;
  playing = setInterval(() => {
    s.value = Math.min(1000, Number(s.value) + 5);
    moveCursor();
    if (Number(s.value) >= 1000) { clearInterval(playing); playing = null; }
  }, 50);
});

// ------------------------------------------------------------------ case view
let CASES_LOADED = false;
async function loadCases() {
  if (CASES_LOADED) return;
  const { data } = await api("/api/cases");
  const sel = clear(document.getElementById("case-select"));
  for (const c of data.cases) sel.appendChild(el("option", { value: c.id }, c.title || c.id));
  sel.addEventListener("change", () => openCase(sel.value));
  CASES_LOADED = true;
  if (data.cases.length) openCase(data.cases[0].id);
  loadReports();
}

async function loadReports() {
  const ul = clear(document.getElementById("report-list"));
  const { data } = await api("/api/reports");
  for (const r of data.reports) {
    ul.appendChild(el("li", { class: "report-item", "data-id": r.report_id, onclick: () => openReport(r.report_id) },
      el("strong", {}, r.title || r.report_id), el("div", { class: "muted" },
        [r.publisher, r.published, `${r.chars} characters`].filter(Boolean).join(" · "))));
  }
  if (!data.reports.length) ul.appendChild(el("li", { class: "muted" }, "no report text stored"));
}

async function openReport(id) {
  const d = clear(document.getElementById("detail"));
  const { data } = await api(`/api/reports/${encodeURIComponent(id)}`);
  d.appendChild(el("h3", { id: "report-title" }, data.title || data.report_id));
  d.appendChild(kvTable({ report_id: data.report_id, publisher: data.publisher, published: data.published,
                          url: data.url }));
  d.appendChild(el("h3", {}, `Claims (${data.claims.length})`));
  const ul = el("ul", { class: "list" });
  for (const c of data.claims) ul.appendChild(el("li", { onclick: () => openClaim(c.claim_id) }, c.sentence));
  d.appendChild(ul);
  d.appendChild(el("h3", {}, "Text"));
  d.appendChild(el("pre", { id: "report-text" }, data.text));
}

async function openCase(id) {
  const v = clear(document.getElementById("case-view"));
  document.getElementById("report-link").setAttribute("href", `/api/cases/${encodeURIComponent(id)}/report`);
  v.appendChild(el("p", { class: "muted" }, "reconstructing…"));
  let data;
  try { data = (await api(`/api/cases/${encodeURIComponent(id)}/reconstruction`)).data; }
  catch (e) { clear(v).appendChild(el("p", { class: "error" }, e.message)); return; }
  clear(v);
  caseLayer.clearLayers();
  v.appendChild(el("h3", {}, `Nodes (${data.nodes.length})`));
  const bounds = [];
  const ul = el("ul", { class: "list" });
  for (const n of data.nodes) {
    ul.appendChild(el("li", {}, `${n.role}: ${n.name || n.place_id}`));
    if (n.lat !== null && n.lon !== null) {
      L.circleMarker([n.lat, n.lon], { radius: 5, color: "#000", fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(`${n.role}: ${n.name || n.place_id}`).addTo(caseLayer);
      bounds.push([n.lat, n.lon]);
    }
  }
  v.appendChild(ul);
  v.appendChild(el("h3", {}, `Legs (${data.legs.length})`));
  const legs = el("ul", { class: "list" });
  for (const g of data.legs) legs.appendChild(el("li", {}, `${g.mode || ""} ${g.from || ""} → ${g.to || ""}`
    .replace(/\s+/g, " ")));
  v.appendChild(legs);
  for (const tier of ["confirmed", "probable", "possible"]) {
    const ships = data.shipments.filter((s) => s.tier === tier);
    v.appendChild(el("h3", {}, `Shipments, ${tier} (${ships.length})`));
    const sl = el("ul", { class: "list" });
    for (const s of ships) {
      sl.appendChild(el("li", { class: "tier-" + tier },
        `${s.mode} ${s.vessel_name || ""} ${s.from_place_id || "?"} → ${s.to_place_id || "?"} ` +
        `${fmtTime(s.depart && s.depart.earliest).slice(0, 10)}`,
        el("div", { class: "muted case-evidence" }, "evidence: ",
          (s.evidence || []).map((x) => el("a", { href: "#", class: "evidence-link", "data-id": x.id,
            title: x.summary || x.kind, onclick: (ev) => { ev.preventDefault(); openEvidence(x); } },
          `${x.kind} ${x.id}`, " ")))));
    }
    v.appendChild(sl);
  }
  v.appendChild(el("h3", {}, `Claims (${data.claims.length})`));
  const cl = el("ul", { class: "list" });
  for (const c of data.claims) {
    cl.appendChild(el("li", { onclick: () => openClaim(c.claim_id) },
      el("strong", {}, `[${c.verdict}] `), c.sentence, el("div", { class: "muted" }, c.arithmetic || "")));
  }
  v.appendChild(cl);
  if (bounds.length) map.fitBounds(bounds, { padding: [30, 30] });
}

function openEvidence(x) {
  if (x.kind === "sighting") return openSighting(x.id);
  if (["gap", "port_visit", "encounter", "loitering", "voyage", "event"].includes(x.kind)) return openEvent(x.id);
  const d = clear(document.getElementById("detail"));
  d.appendChild(el("h3", {}, `${x.kind} ${x.id}`));
  d.appendChild(kvTable(x));
}

async function openClaim(id) {
  const d = clear(document.getElementById("detail"));
  const { data, etag } = await api(`/api/claims/${encodeURIComponent(id)}`);
  d.appendChild(el("h3", {}, "Claim"));
  d.appendChild(el("blockquote", {}, data.sentence));
  d.appendChild(kvTable(data, ["sentence", "audit", "annotations", "fields"]));
  if (ME && ME.role !== "viewer") {
    const fields = ["quantity", "quantity_unit", "qualifier", "period_start", "period_end"];
    const inputs = {};
    const msg = el("p", { role: "status" });
    const f = el("form", { id: "claim-edit" }, el("div", { class: "muted" },
      "Correct the extracted values (the sentence stays as the source wrote it):"),
      fields.map((k) => { inputs[k] = el("input", { name: k, size: 10 }); inputs[k].value = data[k] ?? "";
                          return el("label", {}, k + " ", inputs[k]); }),
      el("button", { type: "submit" }, "Save correction"), msg);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = {};
      for (const k of fields) if (String(inputs[k].value) !== String(data[k] ?? "")) body[k] = inputs[k].value;
      try {
        await api(`/api/claims/${encodeURIComponent(id)}`, { method: "PUT", json: body,
                                                             headers: { "If-Match": etag } });
        openClaim(id);
      } catch (e) { msg.className = "error"; msg.textContent = e.message; }
    });
    d.appendChild(f);
  }
  auditBox(d, data.audit);
  annotationsBox(d, "claim", data.claim_id, data.annotations);
}

// ------------------------------------------------------------------ sightings
async function openSighting(id) {
  const d = clear(document.getElementById("detail"));
  const { data, etag } = await api(`/api/sightings/${encodeURIComponent(id)}`);
  d.appendChild(el("h3", { id: "sighting-title" }, `Sighting ${data.sighting_id}`));
  d.appendChild(kvTable(data, ["audit", "annotations"]));
  if (ME && ME.role !== "viewer") {
    const desc = el("textarea", { rows: 2, name: "description" });
    desc.value = data.description || "";
    const msg = el("p", { role: "status" });
    const f = el("form", { id: "sighting-edit" }, el("label", {}, "Correct the description ", desc),
      el("button", { type: "submit" }, "Save correction"), msg);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api(`/api/sightings/${encodeURIComponent(id)}`, { method: "PUT",
          json: { description: desc.value }, headers: { "If-Match": etag } });
        openSighting(id);
      } catch (e) { msg.className = "error"; msg.textContent = e.message; }
    });
    d.appendChild(f);
  }
  auditBox(d, data.audit);
  annotationsBox(d, "sighting", data.sighting_id, data.annotations);
  attachmentsBox(d, "sighting", data.sighting_id);
}

function auditBox(d, rows) {
  d.appendChild(el("h3", {}, "History"));
  const ul = el("ul", { class: "list audit-history" });
  for (const a of rows || []) ul.appendChild(auditItem(a));
  if (!(rows || []).length) ul.appendChild(el("li", { class: "muted" }, "no change through the workspace"));
  d.appendChild(ul);
}

function auditItem(a) {
  const changed = [];
  if (a.before && a.after) {
    for (const k of Object.keys(a.after)) {
      if (JSON.stringify(a.before[k]) !== JSON.stringify(a.after[k])) {
        changed.push(`${k}: ${JSON.stringify(a.before[k])} → ${JSON.stringify(a.after[k])}`);
      }
    }
  }
  return el("li", { class: "audit-item" },
    el("strong", {}, `${fmtTime(a.at)} ${a.username || "(anonymous)"} ${a.action} `),
    `${a.object_kind || ""} ${a.object_id || ""}`,
    a.detail ? el("div", { class: "muted" }, a.detail) : null,
    changed.length ? el("div", { class: "muted" }, changed.join("; ")) : null);
}

document.getElementById("sighting-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("sighting-result");
  const body = {};
  for (const [k, v] of new FormData(ev.target).entries()) if (String(v).trim()) body[k] = String(v).trim();
  try {
    const { data } = await api("/api/sightings", { method: "POST", json: body });
    out.className = "ok";
    out.textContent = `stored sighting ${data.sighting_id}`;
    ev.target.reset();
    openSighting(data.sighting_id);
  } catch (e) { out.className = "error"; out.textContent = e.message; }
});

document.getElementById("claim-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("claim-result");
  const body = {};
  for (const [k, v] of new FormData(ev.target).entries()) if (String(v).trim()) body[k] = String(v).trim();
  try {
    const { data } = await api("/api/claims", { method: "POST", json: body });
    out.className = "ok";
    out.textContent = `stored claim ${data.claim_id}`;
    ev.target.reset();
    openClaim(data.claim_id);
  } catch (e) { out.className = "error"; out.textContent = e.message; }
});

document.getElementById("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("upload-result");
  const fd = new FormData(ev.target);
  const kind = fd.get("kind");
  fd.delete("kind");
  for (const k of ["title", "published"]) if (kind !== "report" || !String(fd.get(k)).trim()) fd.delete(k);
  out.textContent = "uploading…";
  try {
    const { data } = await api(`/api/uploads/${encodeURIComponent(kind)}`, { method: "POST", body: fd });
    out.textContent = data.results.map((r) => r.lines.join("\n")).join("\n");
  } catch (e) { out.textContent = "error: " + e.message; }
});

document.getElementById("detect-button").addEventListener("click", async () => {
  const out = document.getElementById("detect-result");
  out.textContent = "detecting…";
  try {
    const { data } = await api("/api/detect", { method: "POST" });
    out.textContent = `${data.vessels_detected} vessels detected: ` +
      Object.entries(data.events).map(([k, v]) => `${v} ${k}`).join(", ");
  } catch (e) { out.textContent = "error: " + e.message; }
});

// ------------------------------------------------------------------ audit log
async function loadAudit() {
  const ul = clear(document.getElementById("audit-list"));
  try {
    const { data } = await api("/api/audit?limit=200");
    for (const a of data.audit) {
      const li = auditItem(a);
      if (a.object_kind === "sighting") li.addEventListener("click", () => openSighting(a.object_id));
      if (a.object_kind === "claim") li.addEventListener("click", () => openClaim(a.object_id));
      ul.appendChild(li);
    }
  } catch (e) { ul.appendChild(el("li", { class: "error" }, e.message)); }
}
document.getElementById("audit-refresh").addEventListener("click", loadAudit);

// ------------------------------------------------------------------ users (admins)
async function loadUsers() {
  const ul = clear(document.getElementById("user-list"));
  try {
    const { data } = await api("/api/users");
    for (const u of data.users) {
      const role = el("select", {}, ["viewer", "analyst", "admin"].map((r) =>
        el("option", { value: r, selected: r === u.role ? "selected" : null }, r)));
      const change = async (body) => {
        try { await api(`/api/users/${encodeURIComponent(u.username)}`, { method: "PUT", json: body }); }
        catch (e) { ul.appendChild(el("li", { class: "error" }, e.message)); }
        loadUsers();
      };
      role.addEventListener("change", () => change({ role: role.value }));
      ul.appendChild(el("li", { class: "user-item" }, el("strong", {}, u.username), " ", role, " ",
        el("button", { onclick: () => change({ disabled: !u.disabled }) }, u.disabled ? "Enable" : "Disable"),
        u.disabled ? el("span", { class: "badge" }, "disabled") : null));
    }
  } catch (e) { ul.appendChild(el("li", { class: "error" }, e.message)); }
}

document.getElementById("user-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("user-result");
  const body = Object.fromEntries(new FormData(ev.target).entries());
  try {
    const { data } = await api("/api/users", { method: "POST", json: body });
    out.className = "ok"; out.textContent = `user ${data.username} (${data.role}) added`;
    ev.target.reset(); loadUsers();
  } catch (e) { out.className = "error"; out.textContent = e.message; }
});

// ------------------------------------------------------------------ session
document.getElementById("logout").addEventListener("click", async () => {
  try { await api("/api/logout", { method: "POST" }); } finally { window.location.assign("/login"); }
});

(async function start() {
  const { data } = await api("/api/me");
  ME = data; CSRF = data.csrf_token;
  document.getElementById("who").textContent = `${data.username} (${data.role})`;
  if (data.role === "viewer") document.querySelector('[data-tab="work"]').classList.add("hidden");
  if (data.role === "admin") document.querySelector('[data-tab="users"]').classList.remove("hidden");
  document.body.dataset.ready = "1";
  loadLand().catch(() => {});
})();
