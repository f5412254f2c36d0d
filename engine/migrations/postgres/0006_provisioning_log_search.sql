-- PostgreSQL version of migrations/sqlite/0006_provisioning_log_search.sql (same version number,
-- same change).
--
-- The Provisioning logs blade lists entries newest first by (at, id) and filters on every
-- column: these indexes keep a page a range read whatever the filter.
DROP INDEX provisioning_logs_app_at;
CREATE INDEX provisioning_logs_app_at ON provisioning_logs(application_id, at, id);
CREATE INDEX provisioning_logs_at ON provisioning_logs(at, id);
CREATE INDEX provisioning_logs_status_at ON provisioning_logs(status, at, id);
CREATE INDEX provisioning_logs_name ON provisioning_logs(source_name COLLATE nocase);
CREATE INDEX provisioning_logs_target ON provisioning_logs(target_id);
CREATE INDEX provisioning_logs_change ON provisioning_logs(change_id);
