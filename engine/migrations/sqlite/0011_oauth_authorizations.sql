-- "Authorize" (OAuth 2.0 authorization code, the console as the client of a target's provider):
-- each authorization from its start to its callback and how that ended, in the database so that
-- any console process may receive the callback and any may show the outcome
-- (engine/src/applications/oauth.rs). The PKCE verifier and the nonce are sealed like every other
-- secret (context 'oauth/<state>/pkce_verifier', 'oauth/<state>/nonce').
CREATE TABLE oauth_authorizations (
    state          TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL,
    pkce_verifier  BLOB NOT NULL,
    nonce          BLOB,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    succeeded      INTEGER,
    outcome        TEXT
);
CREATE INDEX oauth_authorizations_outcome ON oauth_authorizations(application_id, account_id, finished_at);
