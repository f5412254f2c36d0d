-- Mirrors sqlite/0013_directory_counts.sql, with statement triggers over transition tables: a
-- bulk insert moves the count once, and an update that changes no deletion takes no lock on it.
CREATE TABLE directory_counts (
    object TEXT PRIMARY KEY NOT NULL,
    active BIGINT NOT NULL
);
INSERT INTO directory_counts (object, active) SELECT 'users', COUNT(*) FROM users WHERE deleted_at IS NULL;
INSERT INTO directory_counts (object, active) SELECT 'groups', COUNT(*) FROM groups WHERE deleted_at IS NULL;

CREATE FUNCTION count_active_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE delta BIGINT;
BEGIN
    SELECT COUNT(*) INTO delta FROM new_rows WHERE deleted_at IS NULL;
    IF delta <> 0 THEN
        UPDATE directory_counts SET active = active + delta WHERE object = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$;
CREATE FUNCTION count_active_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE delta BIGINT;
BEGIN
    SELECT COUNT(*) INTO delta FROM old_rows WHERE deleted_at IS NULL;
    IF delta <> 0 THEN
        UPDATE directory_counts SET active = active - delta WHERE object = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$;
CREATE FUNCTION count_active_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE delta BIGINT;
BEGIN
    SELECT (SELECT COUNT(*) FROM new_rows WHERE deleted_at IS NULL)
         - (SELECT COUNT(*) FROM old_rows WHERE deleted_at IS NULL) INTO delta;
    IF delta <> 0 THEN
        UPDATE directory_counts SET active = active + delta WHERE object = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_count_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_active_inserted();
CREATE TRIGGER users_count_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_active_deleted();
CREATE TRIGGER users_count_update AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_active_updated();
CREATE TRIGGER groups_count_insert AFTER INSERT ON groups REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_active_inserted();
CREATE TRIGGER groups_count_delete AFTER DELETE ON groups REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_active_deleted();
CREATE TRIGGER groups_count_update AFTER UPDATE ON groups REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_active_updated();
