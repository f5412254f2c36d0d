-- PostgreSQL version of migrations/sqlite/0001_users.sql (same version number, same change).
--
-- Directory users. Console accounts are directory users with a password and a directory role.
-- Names compare without regard to case, so the Users blade's prefix searches and sorts run on
-- the indexes below.
--
-- SQLite's COLLATE NOCASE is this nondeterministic ICU collation: unquoted identifiers fold to
-- lower case, so `x = ? COLLATE NOCASE` and `ORDER BY x COLLATE NOCASE` read the same in both
-- databases. (ICU level 2 also folds non-ASCII case, which NOCASE does not. PostgreSQL 15 refuses
-- LIKE on a nondeterministic collation: pattern matches name another collation, such as "C".)
CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE users (
    id                  UUID PRIMARY KEY NOT NULL,          -- exposed to mappings as objectId
    user_principal_name TEXT COLLATE nocase NOT NULL UNIQUE,
    display_name        TEXT COLLATE nocase NOT NULL,
    given_name          TEXT COLLATE nocase,
    surname             TEXT COLLATE nocase,
    mail                TEXT COLLATE nocase,
    mail_nickname       TEXT,
    account_enabled     BOOLEAN,                            -- NULL: not set, which counts as enabled
    department          TEXT COLLATE nocase,
    job_title           TEXT,
    employee_id         TEXT,
    manager_id          UUID REFERENCES users(id) ON DELETE SET NULL,
    preferred_language  TEXT,
    telephone_number    TEXT,
    mobile              TEXT,
    password_hash       TEXT,                               -- argon2id PHC string; NULL: cannot sign in
    directory_role      TEXT,                               -- NULL: not a console account
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    deleted_at          TIMESTAMPTZ,                        -- soft delete
    -- SQLite's implicit rowid, which the engine orders and selects by (insertion order).
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE INDEX users_directory_role ON users(directory_role) WHERE directory_role IS NOT NULL;
