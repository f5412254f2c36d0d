-- OpenID Connect (docs/sso.md, OpenID Connect; engine/src/sso/oidc.rs).

-- Each application's client secrets: only their SHA-256 is kept, and the first three
-- characters so an administrator can tell them apart.
CREATE TABLE oidc_client_secrets (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    secret_hash    TEXT NOT NULL,
    hint           TEXT NOT NULL,
    description    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX oidc_client_secrets_application ON oidc_client_secrets(application_id);

-- A grant: one sign-in of one user to one application through the authorization endpoint,
-- with what its code was issued for. Revoking it revokes every token issued from it.
CREATE TABLE oidc_grants (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      TEXT,
    created_at     TEXT NOT NULL,
    revoked_at     TEXT
);

-- Codes, access tokens and refresh tokens, by the SHA-256 of their value. A code or refresh
-- token is used once (used_at); seen again, its grant is revoked.
CREATE TABLE oidc_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    grant_id   TEXT NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('code', 'access', 'refresh')),
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX oidc_tokens_grant ON oidc_tokens(grant_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);
