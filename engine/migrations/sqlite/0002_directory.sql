-- The directory proper: the rest of a user's attributes, groups and their members, the change
-- feed every provisioning job reads, the audit log, and machine tokens.

ALTER TABLE users ADD COLUMN external_id TEXT;
-- Entra's extensionAttribute1..15, as a JSON object of the ones that are set.
ALTER TABLE users ADD COLUMN extension_attributes TEXT NOT NULL DEFAULT '{}';
-- Bumped by every update; SCIM's ETag / meta.version and the UI's optimistic concurrency.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE INDEX users_display_name ON users(display_name, id);
CREATE INDEX users_given_name ON users(given_name);
CREATE INDEX users_surname ON users(surname);
CREATE INDEX users_mail ON users(mail);
CREATE INDEX users_department ON users(department);
CREATE INDEX users_external_id ON users(external_id);
CREATE INDEX users_deleted_at ON users(deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE groups (
    id            TEXT PRIMARY KEY NOT NULL,
    display_name  TEXT NOT NULL,
    description   TEXT,
    mail_nickname TEXT,
    external_id   TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT
);
CREATE INDEX groups_display_name ON groups(display_name COLLATE NOCASE, id);
CREATE INDEX groups_external_id ON groups(external_id);

-- Direct members only; a member is a user or a group (nested groups are kept, not expanded).
CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members(member_id);

-- Every change to a directory object, in order. Hard deletes stay here as tombstones.
CREATE TABLE change_feed (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    object_type TEXT NOT NULL CHECK (object_type IN ('User', 'Group')),
    object_id   TEXT NOT NULL,
    change      TEXT NOT NULL,
    related_id  TEXT,
    changed_at  TEXT NOT NULL
);
CREATE INDEX change_feed_object ON change_feed(object_id, sequence);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    actor_type     TEXT NOT NULL,
    actor_id       TEXT,
    actor_name     TEXT NOT NULL,
    activity       TEXT NOT NULL,
    target_type    TEXT NOT NULL,
    target_id      TEXT,
    target_name    TEXT,
    before         TEXT,
    after          TEXT,
    client_address TEXT
);
CREATE INDEX audit_log_actor ON audit_log(actor_name, id);
CREATE INDEX audit_log_target ON audit_log(target_id, id);
CREATE INDEX audit_log_activity ON audit_log(activity, id);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,              -- space-separated: scim, api
    secret_hash  TEXT NOT NULL UNIQUE,       -- SHA-256 of the token, hex
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX tokens_user ON tokens(user_id);
