-- Console sessions (tower-sessions' SQLite store, which created this table itself before it was
-- part of the migrations): the id is a hash of the cookie's (server/src/sessions.rs).
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);
