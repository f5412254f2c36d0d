-- Every lease a provisioning job was given: who held it, from when, until when it was renewed,
-- and when it was given back (NULL: the holder stopped without returning it, so it expired at
-- held_until). Two holders never overlap (docs/architecture.md, "Databases").
CREATE TABLE provisioning_leases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    owner          TEXT NOT NULL,
    taken_at       TEXT NOT NULL,
    held_until     TEXT NOT NULL,
    released_at    TEXT
);
CREATE INDEX provisioning_leases_application ON provisioning_leases(application_id, id);

-- Failed sign-ins per account ('account:<upn>') and per client address ('client:<ip>'), shared
-- by every console process (engine/src/accounts/throttle.rs).
CREATE TABLE sign_in_failures (
    key          TEXT PRIMARY KEY NOT NULL,
    failures     INTEGER NOT NULL,
    last_failure TEXT NOT NULL
);
