-- The program lifecycle (issue #5). Its state is rebuilt on load by replaying the log entries
-- listed here; the entries themselves stay in log_entries.
CREATE TABLE lifecycle_entries (
    log_index INTEGER PRIMARY KEY REFERENCES log_entries (idx)
) STRICT;

-- Personal data (names, contact, exact parcel geometry) beside its public log entry, which carries
-- only a salted SHA-256 commitment of `payload`. Never served publicly; deleting a row erases
-- the data without changing the log.
CREATE TABLE log_private (
    log_index INTEGER PRIMARY KEY REFERENCES log_entries (idx),
    payload   BLOB NOT NULL
) STRICT;
