-- The external area: other registries' published records, imported by `furrow import` as reference
-- data for cross-registry checks. Never part of the log, the supply or any balance.

-- One row per imported file (by content): the provenance of everything it brought.
CREATE TABLE external_sources (
    sha256          TEXT PRIMARY KEY,
    file_name       TEXT NOT NULL,
    layout          TEXT NOT NULL,
    row_count       BIGINT NOT NULL,
    imported        BIGINT NOT NULL,
    already_present BIGINT NOT NULL,
    quarantined     BIGINT NOT NULL,
    imported_at     BIGINT NOT NULL  -- µs since the Unix epoch
);

-- One row per record of another registry; the origin id is unique per registry and kind.
CREATE TABLE external_records (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registry      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    origin_id     TEXT NOT NULL,
    dataset       TEXT NOT NULL,
    project       TEXT,
    name          TEXT,
    country       TEXT,
    methodology   TEXT,
    vintage       BIGINT,
    quantity      BIGINT,
    unit          TEXT NOT NULL,
    serial        TEXT,
    namespace     TEXT,
    range_start   BIGINT,
    range_end     BIGINT,
    event_date    TEXT,
    period_start  TEXT,
    period_end    TEXT,
    beneficiary   TEXT,
    latitude      DOUBLE PRECISION,
    longitude     DOUBLE PRECISION,
    digest        TEXT NOT NULL,
    source_sha256 TEXT NOT NULL REFERENCES external_sources (sha256),
    line          BIGINT NOT NULL,
    raw           TEXT NOT NULL,
    UNIQUE (registry, kind, origin_id)
);

CREATE INDEX external_records_by_range ON external_records (namespace, range_start);
CREATE INDEX external_records_by_project ON external_records (registry, project);

-- Rows kept out of the area, verbatim, with the reason.
CREATE TABLE external_quarantine (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_sha256 TEXT NOT NULL REFERENCES external_sources (sha256),
    line          BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    registry      TEXT,
    origin_id     TEXT,
    detail        TEXT NOT NULL,
    raw           TEXT NOT NULL,
    UNIQUE (source_sha256, line, reason)
);

-- What the cross-file, cross-registry and own-project checks found, for the operator.
CREATE TABLE external_flags (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code    TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL,
    UNIQUE (code, subject)
);
