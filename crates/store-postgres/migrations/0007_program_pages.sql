-- The program's public pages (issue #9); see the SQLite migration 0010_program_pages.sql.
CREATE TABLE program_entries (
    id         BIGINT PRIMARY KEY,
    section    TEXT NOT NULL,
    position   BIGINT NOT NULL,
    title_en   TEXT NOT NULL,
    body_en    TEXT NOT NULL,
    title_ja   TEXT NOT NULL,
    body_ja    TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
