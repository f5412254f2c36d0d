-- Directory users. Console accounts are directory users with a password and a directory role.
-- Names compare without regard to (ASCII) case, so the Users blade's prefix searches and sorts
-- run on the indexes below.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,          -- uuid, exposed to mappings as objectId
    user_principal_name TEXT NOT NULL COLLATE NOCASE UNIQUE,
    display_name        TEXT COLLATE NOCASE NOT NULL,
    given_name          TEXT COLLATE NOCASE,
    surname             TEXT COLLATE NOCASE,
    mail                TEXT COLLATE NOCASE,
    mail_nickname       TEXT,
    account_enabled     INTEGER,                            -- NULL: not set, which counts as enabled
    department          TEXT COLLATE NOCASE,
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
