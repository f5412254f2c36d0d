-- The provisioning engine: one job per application, the links between directory objects and
-- their accounts in the target (with what was last sent), objects in escrow, and the
-- provisioning logs.

CREATE TABLE provisioning_jobs (
    application_id      TEXT PRIMARY KEY NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    -- NotRun, Active, Paused, Quarantine, Disabled.
    state               TEXT NOT NULL DEFAULT 'NotRun',
    next_run_at         TEXT,
    -- Who runs the job now, until when (a crashed owner's lease simply expires).
    lease_owner         TEXT,
    lease_expires_at    TEXT,
    -- The last change-feed sequence whose objects are all recorded.
    watermark           INTEGER NOT NULL DEFAULT 0,
    -- Set by "Allow deletes": the next cycle may exceed the accidental-deletion threshold.
    deletes_allowed     INTEGER NOT NULL DEFAULT 0,
    quarantine_reason   TEXT,
    quarantine_began_at TEXT,
    quarantine_series   INTEGER NOT NULL DEFAULT 0,
    -- JSON: the running cycle's progress, and the last completed cycle's summary.
    current_cycle       TEXT,
    last_cycle          TEXT,
    updated_at          TEXT NOT NULL
);

CREATE TABLE provisioning_links (
    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    source_id      TEXT NOT NULL,
    object_type    TEXT NOT NULL CHECK (object_type IN ('User', 'Group')),
    target_id      TEXT NOT NULL,
    -- The SCIM resource last sent (JSON), to PATCH only what changed.
    exported       TEXT NOT NULL,
    -- Disabled in the target (out of scope) rather than deleted.
    disabled       INTEGER NOT NULL DEFAULT 0,
    exported_at    TEXT NOT NULL,
    PRIMARY KEY (application_id, source_id)
) WITHOUT ROWID;
CREATE INDEX provisioning_links_target ON provisioning_links(application_id, target_id);

CREATE TABLE provisioning_escrows (
    application_id  TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    source_id       TEXT NOT NULL,
    object_type     TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL,
    PRIMARY KEY (application_id, source_id)
) WITHOUT ROWID;

CREATE TABLE provisioning_logs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id TEXT NOT NULL,
    at             TEXT NOT NULL,
    cycle_id       TEXT NOT NULL,
    change_id      TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    source_name    TEXT NOT NULL,
    target_id      TEXT,
    -- Create, Update, Disable, Delete, StagedDelete, Other.
    action         TEXT NOT NULL,
    -- Success, Failure, Skipped, Warning.
    status         TEXT NOT NULL,
    steps          TEXT NOT NULL,
    modified       TEXT NOT NULL,
    error_code     TEXT,
    reason         TEXT,
    duration_ms    INTEGER NOT NULL
);
CREATE INDEX provisioning_logs_app_at ON provisioning_logs(application_id, id);
CREATE INDEX provisioning_logs_source ON provisioning_logs(source_id);
CREATE INDEX provisioning_logs_cycle ON provisioning_logs(cycle_id);
