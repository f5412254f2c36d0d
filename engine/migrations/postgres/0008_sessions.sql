-- Mirrors sqlite/0008_sessions.sql: console sessions, in the layout of tower-sessions' PostgreSQL
-- store, so that every replica behind a load balancer sees every session.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_date ON sessions(expiry_date);
