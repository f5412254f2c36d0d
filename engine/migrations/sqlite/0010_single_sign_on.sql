-- Single sign-on (docs/sso.md). An application's method and settings as the Single sign-on blade
-- saves them (JSON); no row means Disabled.
CREATE TABLE single_sign_on (
    application_id TEXT PRIMARY KEY NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    settings       TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL
);

-- Each application's signing keys: the private key sealed like every other secret (context
-- 'sso/<application id>/<key id>'), the self-signed certificate that carries its public half
-- (DER). One is Active (it signs); the others are Inactive (published until they expire, so a
-- service provider that reloaded metadata trusts the next key before it is made active).
CREATE TABLE sso_signing_keys (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    private_key    BLOB NOT NULL,
    certificate    BLOB NOT NULL,
    active         INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX sso_signing_keys_application ON sso_signing_keys(application_id, created_at);

-- Every sign-in: to the console itself (application_id NULL) or to an application through
-- single sign-on. user_id is NULL when the name given matched nobody.
CREATE TABLE sign_in_logs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  TEXT NOT NULL,
    user_id             TEXT,
    user_principal_name TEXT NOT NULL,
    application_id      TEXT,
    application_name    TEXT NOT NULL,
    protocol            TEXT NOT NULL,
    result              TEXT NOT NULL,
    reason              TEXT NOT NULL,
    client_address      TEXT,
    correlation_id      TEXT NOT NULL
);
CREATE INDEX sign_in_logs_at ON sign_in_logs(at);
