-- How many users and groups are not deleted, kept by triggers: the Users and Groups pages show
-- the total without counting a million rows on every load (engine/src/directory/listing.rs).
CREATE TABLE directory_counts (
    object TEXT PRIMARY KEY NOT NULL,
    active INTEGER NOT NULL
);
INSERT INTO directory_counts (object, active) SELECT 'users', COUNT(*) FROM users WHERE deleted_at IS NULL;
INSERT INTO directory_counts (object, active) SELECT 'groups', COUNT(*) FROM groups WHERE deleted_at IS NULL;

CREATE TRIGGER users_count_insert AFTER INSERT ON users WHEN new.deleted_at IS NULL BEGIN
    UPDATE directory_counts SET active = active + 1 WHERE object = 'users';
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users WHEN old.deleted_at IS NULL BEGIN
    UPDATE directory_counts SET active = active - 1 WHERE object = 'users';
END;
CREATE TRIGGER users_count_update AFTER UPDATE OF deleted_at ON users
    WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL) BEGIN
    UPDATE directory_counts SET active = active + (CASE WHEN new.deleted_at IS NULL THEN 1 ELSE -1 END)
    WHERE object = 'users';
END;

CREATE TRIGGER groups_count_insert AFTER INSERT ON groups WHEN new.deleted_at IS NULL BEGIN
    UPDATE directory_counts SET active = active + 1 WHERE object = 'groups';
END;
CREATE TRIGGER groups_count_delete AFTER DELETE ON groups WHEN old.deleted_at IS NULL BEGIN
    UPDATE directory_counts SET active = active - 1 WHERE object = 'groups';
END;
CREATE TRIGGER groups_count_update AFTER UPDATE OF deleted_at ON groups
    WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL) BEGIN
    UPDATE directory_counts SET active = active + (CASE WHEN new.deleted_at IS NULL THEN 1 ELSE -1 END)
    WHERE object = 'groups';
END;
