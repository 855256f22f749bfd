"""The canonical tables, in one place.

Every table corridor stores is declared here twice: as DuckDB DDL (what the
store creates and migrates) and, for the tables that flow between modules as
Arrow batches, as a ``pyarrow`` schema (what detectors take and return).

Units and conventions (see DESIGN.md):
- times are UTC ``TIMESTAMP`` (microseconds), naive in DuckDB, ``timestamp[us, tz=UTC]``
  is *not* used in Arrow: we keep ``timestamp[us]`` and treat it as UTC everywhere;
- positions are WGS84 degrees; speeds in knots; distances in metres unless the
  column name says otherwise (``_km``, ``_nm``);
- ``obs_id`` is a stable 64-bit hash (see :mod:`corridor.ids`) so that the same
  observation has the same id on every machine and on every engine.
"""

from __future__ import annotations

import pyarrow as pa

#: Bump when the DDL below changes; add a step to ``store.MIGRATIONS``.
SCHEMA_VERSION = 1

POSITIONS = pa.schema(
    [
        ("obs_id", pa.int64()),
        ("mmsi", pa.int64()),
        ("ts", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("sog", pa.float32()),
        ("cog", pa.float32()),
        ("heading", pa.int16()),
        ("nav_status", pa.int8()),
        ("msg_type", pa.int8()),
        ("source", pa.string()),
    ]
)

VESSEL_REPORTS = pa.schema(
    [
        ("obs_id", pa.int64()),
        ("mmsi", pa.int64()),
        ("ts", pa.timestamp("us")),
        ("msg_type", pa.int8()),
        ("imo", pa.int64()),
        ("name", pa.string()),
        ("callsign", pa.string()),
        ("ship_type", pa.int16()),
        ("length_m", pa.float32()),
        ("beam_m", pa.float32()),
        ("draught_m", pa.float32()),
        ("destination", pa.string()),
        ("source", pa.string()),
    ]
)

PLACES = pa.schema(
    [
        ("place_id", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("country", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("geometry", pa.string()),
        ("radius_m", pa.float64()),
        ("aliases", pa.list_(pa.string())),
        ("precision", pa.string()),
        ("source", pa.string()),
        ("port_id", pa.string()),
    ]
)

EVENTS = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("mmsi", pa.int64()),
        ("other_mmsi", pa.int64()),
        ("segment_id", pa.string()),
        ("start_ts", pa.timestamp("us")),
        ("end_ts", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("place_id", pa.string()),
        ("from_place_id", pa.string()),
        ("to_place_id", pa.string()),
        ("attrs", pa.string()),  # JSON object: measurements and every parameter used
        ("evidence", pa.list_(pa.int64())),  # obs_ids that support the event
    ]
)

#: Shipments of a reconstruction (``corridor reconstruct``): the rows
#: :meth:`corridor.corridors.objects.Reconstruction.save` writes. Same columns as the DDL below;
#: the JSON of a shipment (docs/reconstruction.md) is :class:`corridor.corridors.objects.Shipment`.
SHIPMENTS = pa.schema(
    [
        ("shipment_id", pa.string()),
        ("corridor_id", pa.string()),
        ("mode", pa.string()),
        ("vessel_id", pa.string()),
        ("mmsi", pa.int64()),
        ("from_place_id", pa.string()),
        ("to_place_id", pa.string()),
        ("depart_earliest", pa.timestamp("us")),
        ("depart_latest", pa.timestamp("us")),
        ("arrive_earliest", pa.timestamp("us")),
        ("arrive_latest", pa.timestamp("us")),
        ("tier", pa.string()),
        ("evidence", pa.list_(pa.string())),
        ("cargo_low", pa.float64()),
        ("cargo_high", pa.float64()),
        ("cargo_unit", pa.string()),
        ("cargo_basis", pa.string()),
        ("attrs", pa.string()),  # JSON: leg_id, tier_reason, sources, marks, counts_toward_totals
    ]
)

#: A case's places as the analyst wrote them, with or without a coordinate (``case_places``).
CASE_PLACES = pa.schema(
    [
        ("collection", pa.string()),
        ("place_id", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("country", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("precision", pa.string()),
        ("precision_note", pa.string()),
        ("radius_m", pa.float64()),
        ("aliases", pa.list_(pa.string())),
        ("mark", pa.string()),
        ("sources", pa.list_(pa.string())),
        ("note", pa.string()),
    ]
)

#: Segments as runs: one row per run of consecutive kept positions (in time order) of one
#: segment of one MMSI. A segment is one run unless it interleaves with another segment of
#: the same MMSI (two ships transmitting one MMSI), so the table stays about as small as the
#: number of segments; ``position_segments`` (a view) gives each position its segment.
SEGMENTS = pa.schema(
    [
        ("mmsi", pa.int64()),
        ("segment_id", pa.string()),
        ("start_ts", pa.timestamp("us")),  # first position of the run
        ("end_ts", pa.timestamp("us")),  # last position of the run
        ("positions", pa.int32()),  # positions in the run
    ]
)

#: Big append-only tables keyed by a content id without a PRIMARY KEY constraint: DuckDB's
#: index makes bulk inserts 4-6x slower (measured: 2M positions in 6.7 s with the index, 1.1 s
#: with an anti-join). ``Store.insert_arrow`` keeps them unique by an anti-join instead,
#: restricted to the batch's time range (the id hashes the time, so duplicates share it) so
#: DuckDB's zone maps skip the rest of the table. Value: (key column, time column or None).
DEDUP_KEYS: dict[str, tuple[str, str | None]] = {
    "positions": ("obs_id", "ts"),
    "vessel_reports": ("obs_id", None),
}

# DuckDB DDL. Table order matters only for readability.
DDL: dict[str, str] = {
    "schema_version": """
        CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER NOT NULL,
            applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )""",
    "ingest_log": """
        CREATE TABLE IF NOT EXISTS ingest_log (
            ingest_id BIGINT PRIMARY KEY,
            kind VARCHAR NOT NULL,          -- nmea, positions, sightings, rail, watchlist, report
            path VARCHAR NOT NULL,
            size_bytes BIGINT,
            content_sha256 VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL,        -- running, done, partial, failed
            rows_in BIGINT,
            rows_stored BIGINT,
            counts JSON,                    -- per-reason skip counts and per-table stored counts
            message VARCHAR
        )""",
    "positions": """
        CREATE TABLE IF NOT EXISTS positions (
            obs_id BIGINT NOT NULL,         -- unique; enforced by Store.insert_arrow (see DEDUP_KEYS)
            mmsi BIGINT NOT NULL,
            ts TIMESTAMP NOT NULL,
            lat DOUBLE NOT NULL,
            lon DOUBLE NOT NULL,
            sog REAL,
            cog REAL,
            heading SMALLINT,
            nav_status TINYINT,
            msg_type TINYINT,
            source VARCHAR,
            ingest_id BIGINT
        )""",
    "vessel_reports": """
        CREATE TABLE IF NOT EXISTS vessel_reports (
            obs_id BIGINT NOT NULL,         -- unique; enforced by Store.insert_arrow (see DEDUP_KEYS)
            mmsi BIGINT NOT NULL,
            ts TIMESTAMP,
            msg_type TINYINT,
            imo BIGINT,
            name VARCHAR,
            callsign VARCHAR,
            ship_type SMALLINT,
            length_m REAL,
            beam_m REAL,
            draught_m REAL,
            destination VARCHAR,
            source VARCHAR,
            ingest_id BIGINT
        )""",
    "position_marks": """
        CREATE TABLE IF NOT EXISTS position_marks (
            obs_id BIGINT NOT NULL,
            mark VARCHAR NOT NULL,          -- e.g. noise, duplicate, impossible_speed
            segment_id VARCHAR,
            run_id VARCHAR
        )""",
    "places": """
        CREATE TABLE IF NOT EXISTS places (
            place_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,  -- port, berth, anchorage, rail_crossing, rail_terminal, depot,
                                    -- area, settlement
            country VARCHAR,                -- ISO 3166 alpha-2
            lat DOUBLE NOT NULL,            -- representative point (centroid for polygons)
            lon DOUBLE NOT NULL,
            geometry VARCHAR,               -- GeoJSON geometry (Point or Polygon)
            radius_m DOUBLE,                -- for points: geofence radius
            aliases VARCHAR[],
            precision VARCHAR,              -- facility, settlement, approximate
            source VARCHAR NOT NULL,        -- citation
            port_id VARCHAR                 -- the port (a place_id) this place belongs to
        )""",
    "events": """
        CREATE TABLE IF NOT EXISTS events (
            event_id VARCHAR PRIMARY KEY,
            type VARCHAR NOT NULL,
            mmsi BIGINT,
            other_mmsi BIGINT,
            segment_id VARCHAR,
            start_ts TIMESTAMP NOT NULL,
            end_ts TIMESTAMP,
            lat DOUBLE,
            lon DOUBLE,
            place_id VARCHAR,
            from_place_id VARCHAR,
            to_place_id VARCHAR,
            attrs JSON,
            evidence BIGINT[]
        )""",
    "detect_state": """
        CREATE TABLE IF NOT EXISTS detect_state (
            mmsi BIGINT PRIMARY KEY,
            positions_seen BIGINT NOT NULL, -- count of positions when last detected
            max_obs_ts TIMESTAMP,
            params_hash VARCHAR NOT NULL,
            detected_at TIMESTAMP NOT NULL
        )""",
    "detect_passes": """
        CREATE TABLE IF NOT EXISTS detect_passes (
            pass VARCHAR PRIMARY KEY,       -- a cross-vessel pass, e.g. 'encounter'
            params_hash VARCHAR NOT NULL,   -- its parameters when it last covered every vessel
            detected_at TIMESTAMP NOT NULL
        )""",
    "vessels": """
        CREATE TABLE IF NOT EXISTS vessels (
            vessel_id VARCHAR PRIMARY KEY,  -- slug, e.g. angara
            name VARCHAR NOT NULL,
            aliases VARCHAR[],
            imo BIGINT,
            imo_status VARCHAR,             -- confirmed, unverified, conflicting
            mmsi BIGINT,
            flag VARCHAR,
            vessel_type VARCHAR,
            length_m REAL,
            gross_tonnage REAL,
            capacity_teu INTEGER,
            owner VARCHAR,
            notes VARCHAR,
            marks VARCHAR[],                -- case-file marks: C, I, U, ⚠
            source VARCHAR
        )""",
    "sightings": """
        CREATE TABLE IF NOT EXISTS sightings (
            sighting_id VARCHAR PRIMARY KEY,
            ts_start TIMESTAMP NOT NULL,
            ts_end TIMESTAMP NOT NULL,      -- exclusive; a date is [day, day + 1)
            date_text VARCHAR,              -- the date as written ("mid-Aug 2023")
            date_uncertain BOOLEAN,         -- range widened from a vague date
            place_id VARCHAR,
            place_text VARCHAR,             -- the place as written (pier, unlocated place)
            lat DOUBLE,
            lon DOUBLE,
            vessel_id VARCHAR,
            vessel_name VARCHAR,
            identification VARCHAR,         -- stated, probable, unidentified
            imo BIGINT,
            mmsi BIGINT,
            subject VARCHAR,                -- vessel, containers, train, railcars, activity
            count INTEGER,
            activity VARCHAR,               -- loading, unloading, berthed, anchored, ...
            evidence_type VARCHAR,          -- satellite image, AIS, photo, document, statement
            description VARCHAR,
            source VARCHAR NOT NULL,
            confidence VARCHAR,             -- confirmed, inferred, unverified, conflicting
            marks VARCHAR[],                -- case-file marks: C, I, U, ⚠
            ingest_id BIGINT
        )""",
    "rail_observations": """
        CREATE TABLE IF NOT EXISTS rail_observations (
            rail_obs_id VARCHAR PRIMARY KEY,
            obs_date DATE NOT NULL,
            obs_date_end DATE,              -- last day covered (same as obs_date for one day)
            date_text VARCHAR,
            date_uncertain BOOLEAN,
            place_id VARCHAR NOT NULL,
            kind VARCHAR,                   -- count, baseline, statement
            railcars INTEGER,
            qualifier VARCHAR,              -- about, at_most_about, at_least, exact
            car_type VARCHAR,
            direction VARCHAR,
            description VARCHAR,
            source VARCHAR NOT NULL,
            confidence VARCHAR,
            marks VARCHAR[],
            ingest_id BIGINT
        )""",
    "watchlist": """
        CREATE TABLE IF NOT EXISTS watchlist (
            entity_id VARCHAR PRIMARY KEY,
            name VARCHAR,
            aliases VARCHAR[],
            imo BIGINT,
            mmsi BIGINT,
            flag VARCHAR,
            programs VARCHAR[],
            listed_on DATE,
            authority VARCHAR,              -- US, EU, UK, KR, UN, ... when known
            note VARCHAR,
            marks VARCHAR[],
            source VARCHAR NOT NULL,
            ingest_id BIGINT
        )""",
    "reports": """
        CREATE TABLE IF NOT EXISTS reports (
            report_id VARCHAR PRIMARY KEY,  -- hash of the normalised text
            title VARCHAR,
            publisher VARCHAR,
            published DATE,
            url VARCHAR,
            path VARCHAR,
            text VARCHAR NOT NULL,
            ingested_at TIMESTAMP NOT NULL
        )""",
    "claims": """
        CREATE TABLE IF NOT EXISTS claims (
            claim_id VARCHAR PRIMARY KEY,
            report_id VARCHAR,
            sentence VARCHAR NOT NULL,
            span_start INTEGER,
            span_end INTEGER,
            attribution VARCHAR,
            supplier VARCHAR,
            recipient VARCHAR,
            materiel VARCHAR,
            quantity DOUBLE,
            quantity_unit VARCHAR,
            qualifier VARCHAR,              -- more_than, about, at_least, up_to, exact
            period_start DATE,
            period_end DATE,
            places VARCHAR[],               -- place_ids
            fields JSON,                    -- every extracted field with its character span
            confidence DOUBLE,
            origin VARCHAR NOT NULL         -- extracted, manual
        )""",
    "sources": """
        CREATE TABLE IF NOT EXISTS sources (
            collection VARCHAR NOT NULL,    -- e.g. the case id the tags belong to
            tag VARCHAR NOT NULL,           -- S6, S19b
            parent VARCHAR,                 -- S19 for S19b
            publisher VARCHAR,
            title VARCHAR,
            date VARCHAR,                   -- as precise as known (YYYY, YYYY-MM, YYYY-MM-DD)
            url VARCHAR,
            other_urls VARCHAR[],
            marks VARCHAR[],
            citation VARCHAR,               -- the full citation as written
            PRIMARY KEY (collection, tag)
        )""",
    "sighting_cargo": """
        CREATE TABLE IF NOT EXISTS sighting_cargo (
            sighting_id VARCHAR PRIMARY KEY,
            unit VARCHAR,                   -- the unit of the sighting's count (shells, tonnes…)
            vessels INTEGER                 -- how many ships the count covers (default 1)
        )""",
    "case_places": """
        CREATE TABLE IF NOT EXISTS case_places (
            collection VARCHAR NOT NULL,    -- the case id
            place_id VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            kind VARCHAR,
            country VARCHAR,
            lat DOUBLE,                     -- NULL when no source gives a coordinate
            lon DOUBLE,
            precision VARCHAR,              -- facility, settlement, approximate
            precision_note VARCHAR,         -- the analyst's words on what the coordinate is
            radius_m DOUBLE,
            aliases VARCHAR[],
            mark VARCHAR,                   -- case-file mark of the coordinate: C, I, U, ⚠
            sources VARCHAR[],              -- S# tags
            note VARCHAR,
            PRIMARY KEY (collection, place_id)
        )""",
    "shipments": """
        CREATE TABLE IF NOT EXISTS shipments (
            shipment_id VARCHAR PRIMARY KEY,
            corridor_id VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,          -- sea, rail
            vessel_id VARCHAR,
            mmsi BIGINT,
            from_place_id VARCHAR,
            to_place_id VARCHAR,
            depart_earliest TIMESTAMP,
            depart_latest TIMESTAMP,
            arrive_earliest TIMESTAMP,
            arrive_latest TIMESTAMP,
            tier VARCHAR NOT NULL,          -- confirmed, probable, possible
            evidence VARCHAR[],             -- event ids, sighting ids, rail observation ids
            cargo_low DOUBLE,
            cargo_high DOUBLE,
            cargo_unit VARCHAR,
            cargo_basis VARCHAR,
            attrs JSON
        )""",
    # ---- corridor serve (the team workspace): accounts, sessions, audit. New tables only,
    # created by Store._migrate without a version bump (see there); nothing else reads them.
    "users": """
        CREATE TABLE IF NOT EXISTS users (
            username VARCHAR PRIMARY KEY,
            role VARCHAR NOT NULL,          -- viewer, analyst, admin
            password_hash VARCHAR NOT NULL, -- argon2id (argon2-cffi), never the password
            created_at TIMESTAMP NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT false
        )""",
    "sessions": """
        CREATE TABLE IF NOT EXISTS sessions (
            session_id VARCHAR PRIMARY KEY, -- random; the cookie holds it signed
            username VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            csrf_token VARCHAR NOT NULL,
            revoked BOOLEAN NOT NULL DEFAULT false
        )""",
    "serve_settings": """
        CREATE TABLE IF NOT EXISTS serve_settings (
            key VARCHAR PRIMARY KEY,        -- e.g. cookie_secret
            value VARCHAR NOT NULL
        )""",
    "audit_log": """
        CREATE TABLE IF NOT EXISTS audit_log (
            audit_id BIGINT PRIMARY KEY,
            changed_at TIMESTAMP NOT NULL,  -- UTC
            username VARCHAR,               -- who (NULL: an anonymous attempt)
            action VARCHAR NOT NULL,        -- create, update, upload, login, login_failed, ...
            object_kind VARCHAR,            -- sighting, claim, user, upload, annotation
            object_id VARCHAR,
            before JSON,                    -- the object before the write (NULL when created)
            after JSON,                     -- the object after the write
            detail VARCHAR
        )""",
    "annotations": """
        CREATE TABLE IF NOT EXISTS annotations (
            annotation_id VARCHAR PRIMARY KEY,
            object_kind VARCHAR NOT NULL,   -- event, vessel, sighting, claim, shipment
            object_id VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            username VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
    "attachments": """
        CREATE TABLE IF NOT EXISTS attachments (
            attachment_id VARCHAR PRIMARY KEY, -- hash of the bytes and the object
            object_kind VARCHAR NOT NULL,   -- sighting, event, claim, vessel, shipment
            object_id VARCHAR NOT NULL,
            filename VARCHAR NOT NULL,      -- as uploaded, cleaned to letters, digits, . _ -
            media_type VARCHAR NOT NULL,    -- image/png, image/jpeg, image/webp (checked bytes)
            sha256 VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL,
            content BLOB NOT NULL,
            username VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
    # -- segments (added without a schema version bump: new tables and views are created
    # -- when a store is opened; run_detect refills them on the first run after an upgrade)
    "segments": """
        CREATE TABLE IF NOT EXISTS segments (
            mmsi BIGINT NOT NULL,
            segment_id VARCHAR NOT NULL,    -- MMSI-first position time, as in events
            start_ts TIMESTAMP NOT NULL,    -- first position of this run of the segment
            end_ts TIMESTAMP NOT NULL,      -- last position of this run
            positions INTEGER NOT NULL      -- kept positions in the run
        )""",
    # each position's segment: its conflict mark's segment if it has one, NULL if a mark
    # excludes it from detection (duplicate, invalid_position, type27_noise, noise_segment),
    # else the run of its MMSI that covers its time (the latest run starting at or before it)
    "position_segments": """
        CREATE VIEW IF NOT EXISTS position_segments AS
        SELECT p.obs_id, p.mmsi, p.ts,
               CASE WHEN m.excluded THEN NULL
                    ELSE coalesce(m.conflict_segment_id,
                                  CASE WHEN p.ts <= s.end_ts THEN s.segment_id END)
               END AS segment_id,
               m.marks
        FROM positions p
        ASOF LEFT JOIN segments s ON s.mmsi = p.mmsi AND p.ts >= s.start_ts
        LEFT JOIN (
            SELECT obs_id,
                   bool_or(mark IN ('duplicate', 'invalid_position', 'type27_noise',
                                    'noise_segment')) AS excluded,
                   max(segment_id) FILTER (WHERE mark = 'conflict_segment') AS conflict_segment_id,
                   list(DISTINCT mark ORDER BY mark) AS marks
            FROM position_marks GROUP BY obs_id
        ) m ON m.obs_id = p.obs_id""",
}
