-- Settings > Email: the SMTP server that notification emails go through (one row). The password
-- is sealed like every other secret.
CREATE TABLE smtp_settings (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    host         TEXT NOT NULL,
    port         INTEGER NOT NULL,
    -- None, StartTls or Tls.
    security     TEXT NOT NULL,
    username     TEXT NOT NULL DEFAULT '',
    password     BLOB,
    from_address TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- The quarantine reason an email was last sent for, so a reason is announced once.
ALTER TABLE provisioning_jobs ADD COLUMN notified_reason TEXT;
