-- Mirrors sqlite/0011_oauth_authorizations.sql.
CREATE TABLE oauth_authorizations (
    state          TEXT PRIMARY KEY NOT NULL,
    application_id UUID NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    account_id     UUID NOT NULL,
    pkce_verifier  BYTEA NOT NULL,
    nonce          BYTEA,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    succeeded      BOOLEAN,
    outcome        TEXT
);
CREATE INDEX oauth_authorizations_outcome ON oauth_authorizations(application_id, account_id, finished_at);
