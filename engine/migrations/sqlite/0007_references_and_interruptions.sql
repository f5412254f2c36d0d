-- References deferred by a cycle whose object failed (docs/engine.md, References), sent by a
-- later cycle's reference pass once that object has its account.
CREATE TABLE provisioning_pending_references (
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    source_id      TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    source_name    TEXT NOT NULL,
    -- The target attribute, as a PATCH path.
    path           TEXT NOT NULL,
    referenced_id  TEXT NOT NULL,
    since          TEXT NOT NULL,
    PRIMARY KEY (application_id, source_id, path)
) WITHOUT ROWID;

-- The last cycle that could not finish (the target unreachable, credentials refused), kept
-- until a cycle completes (JSON: at, reason), and how many cycles in a row found the target
-- unreachable (docs/engine.md, Quarantine).
ALTER TABLE provisioning_jobs ADD COLUMN last_interruption TEXT;
ALTER TABLE provisioning_jobs ADD COLUMN unreachable_series INTEGER NOT NULL DEFAULT 0;
