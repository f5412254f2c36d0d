-- Enterprise applications: created from a gallery template, with owners, app roles, the
-- assignments of users and groups to those roles, and the provisioning configuration.

CREATE TABLE applications (
    id            TEXT PRIMARY KEY NOT NULL,
    template      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    logo_monogram TEXT NOT NULL,
    logo_color    TEXT NOT NULL,
    notes         TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX applications_display_name ON applications(display_name COLLATE NOCASE, id);

-- Application Owners manage only the applications they own.
CREATE TABLE application_owners (
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, user_id)
) WITHOUT ROWID;
CREATE INDEX application_owners_user ON application_owners(user_id);

-- Every application has Default Access (is_default, no value); templates add others.
CREATE TABLE app_roles (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    display_name   TEXT NOT NULL,
    value          TEXT,
    description    TEXT NOT NULL DEFAULT '',
    enabled        INTEGER NOT NULL DEFAULT 1,
    is_default     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX app_roles_name ON app_roles(application_id, display_name COLLATE NOCASE);

CREATE TABLE app_role_assignments (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    role_id        TEXT NOT NULL REFERENCES app_roles(id) ON DELETE CASCADE,
    principal_type TEXT NOT NULL CHECK (principal_type IN ('User', 'Group')),
    principal_id   TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (application_id, principal_id, role_id)
);
CREATE INDEX app_role_assignments_principal ON app_role_assignments(principal_id);

-- A hard-deleted user or group loses its assignments (soft deletes keep them, for restore).
CREATE TRIGGER users_hard_delete_assignments AFTER DELETE ON users BEGIN
    DELETE FROM app_role_assignments WHERE principal_id = old.id;
END;
CREATE TRIGGER groups_hard_delete_assignments AFTER DELETE ON groups BEGIN
    DELETE FROM app_role_assignments WHERE principal_id = old.id;
END;

-- One row per application: its settings as JSON (mode, credentials without secrets, mappings,
-- scoping filters, settings, status), the secrets sealed (see engine/src/secrets.rs), and who
-- authorized OAuth and until when its access token is good.
CREATE TABLE provisioning (
    application_id      TEXT PRIMARY KEY NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    settings            TEXT NOT NULL,
    secret_token        BLOB,
    client_secret       BLOB,
    access_token        BLOB,
    refresh_token       BLOB,
    token_expires_at    TEXT,
    authorized_by       TEXT,
    authorized_at       TEXT,
    -- Set when mappings, scoping or scope change: the next cycle is an initial one.
    needs_initial_cycle INTEGER NOT NULL DEFAULT 1,
    version             INTEGER NOT NULL DEFAULT 1,
    updated_at          TEXT NOT NULL
);
