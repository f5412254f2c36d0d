-- PostgreSQL version of migrations/sqlite/0005_smtp.sql (same version number, same change).
--
-- Settings > Email: the SMTP server that notification emails go through (one row). The password
-- is sealed like every other secret.
CREATE TABLE smtp_settings (
    id           BIGINT PRIMARY KEY CHECK (id = 1),
    host         TEXT NOT NULL,
    port         BIGINT NOT NULL,
    -- None, StartTls or Tls.
    security     TEXT NOT NULL,
    username     TEXT NOT NULL DEFAULT '',
    password     BYTEA,
    from_address TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- The quarantine reason an email was last sent for, so a reason is announced once.
ALTER TABLE provisioning_jobs ADD COLUMN notified_reason TEXT;
