-- Mirrors sqlite/0012_openid_connect.sql.
CREATE TABLE oidc_client_secrets (
    id             UUID PRIMARY KEY NOT NULL,
    application_id UUID NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    secret_hash    TEXT NOT NULL,
    hint           TEXT NOT NULL,
    description    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_client_secrets_application ON oidc_client_secrets(application_id);

CREATE TABLE oidc_grants (
    id             UUID PRIMARY KEY NOT NULL,
    application_id UUID NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    user_id        UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ
);

CREATE TABLE oidc_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    grant_id   UUID NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('code', 'access', 'refresh')),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX oidc_tokens_grant ON oidc_tokens(grant_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);
