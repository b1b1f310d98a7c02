-- The program's public pages (issue #9): text blocks and questions with answers, in English and
-- Japanese, edited by operators. Content, not registry state: nothing here is in the log; who
-- wrote each entry's current version is kept beside it (and in the security audit trail).
CREATE TABLE program_entries (
    id         INTEGER PRIMARY KEY,
    section    TEXT NOT NULL,
    position   INTEGER NOT NULL,
    title_en   TEXT NOT NULL,
    body_en    TEXT NOT NULL,
    title_ja   TEXT NOT NULL,
    body_ja    TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
