-- PostgreSQL version of migrations/sqlite/0003_applications.sql (same version number, same
-- change).
--
-- Enterprise applications: created from a gallery template, with owners, app roles, the
-- assignments of users and groups to those roles, and the provisioning configuration.

CREATE TABLE applications (
    id            UUID PRIMARY KEY NOT NULL,
    template      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    logo_monogram TEXT NOT NULL,
    logo_color    TEXT NOT NULL,
    notes         TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX applications_display_name ON applications(display_name COLLATE nocase, id);

-- Application Owners manage only the applications they own.
CREATE TABLE application_owners (
    application_id UUID NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    user_id        UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, user_id)
);
CREATE INDEX application_owners_user ON application_owners(user_id);

-- Every application has Default Access (is_default, no value); templates add others.
CREATE TABLE app_roles (
    id             UUID PRIMARY KEY NOT NULL,
    application_id UUID NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    display_name   TEXT NOT NULL,
    value          TEXT,
    description    TEXT NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    is_default     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX app_roles_name ON app_roles(application_id, display_name COLLATE nocase);

CREATE TABLE app_role_assignments (
    id             UUID PRIMARY KEY NOT NULL,
    application_id UUID NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    role_id        UUID NOT NULL REFERENCES app_roles(id) ON DELETE CASCADE,
    principal_type TEXT NOT NULL CHECK (principal_type IN ('User', 'Group')),
    principal_id   UUID NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (application_id, principal_id, role_id)
);
CREATE INDEX app_role_assignments_principal ON app_role_assignments(principal_id);

-- A hard-deleted user or group loses its assignments (soft deletes keep them, for restore).
CREATE FUNCTION hard_delete_assignments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM app_role_assignments WHERE principal_id = OLD.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_hard_delete_assignments AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION hard_delete_assignments();
CREATE TRIGGER groups_hard_delete_assignments AFTER DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION hard_delete_assignments();

-- One row per application: its settings as JSON (mode, credentials without secrets, mappings,
-- scoping filters, settings, status), the secrets sealed (see engine/src/secrets.rs), and who
-- authorized OAuth and until when its access token is good.
CREATE TABLE provisioning (
    application_id      UUID PRIMARY KEY NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    settings            JSONB NOT NULL,
    secret_token        BYTEA,
    client_secret       BYTEA,
    access_token        BYTEA,
    refresh_token       BYTEA,
    token_expires_at    TIMESTAMPTZ,
    authorized_by       TEXT,
    authorized_at       TIMESTAMPTZ,
    -- Set when mappings, scoping or scope change: the next cycle is an initial one.
    needs_initial_cycle BOOLEAN NOT NULL DEFAULT TRUE,
    version             BIGINT NOT NULL DEFAULT 1,
    updated_at          TIMESTAMPTZ NOT NULL
);
