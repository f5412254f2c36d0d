-- Directory users. Console accounts are directory users with a password and a directory role.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,          -- uuid, exposed to mappings as objectId
    user_principal_name TEXT NOT NULL COLLATE NOCASE UNIQUE,
    display_name        TEXT NOT NULL,
    given_name          TEXT,
    surname             TEXT,
    mail                TEXT,
    mail_nickname       TEXT,
    account_enabled     INTEGER,                            -- NULL: not set, which counts as enabled
    department          TEXT,
    job_title           TEXT,
    employee_id         TEXT,
    manager_id          TEXT REFERENCES users(id) ON DELETE SET NULL,
    preferred_language  TEXT,
    telephone_number    TEXT,
    mobile              TEXT,
    password_hash       TEXT,                               -- argon2id PHC string; NULL: cannot sign in
    directory_role      TEXT,                               -- NULL: not a console account
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    deleted_at          TEXT                                -- soft delete
);

CREATE INDEX users_directory_role ON users(directory_role) WHERE directory_role IS NOT NULL;
