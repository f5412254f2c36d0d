//! Delete, restore and "Delete permanently", the same for users and groups: the state change,
//! its change-feed entry and its audit entry, inside the caller's transaction.

use crate::db::{Pool, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

use super::feed::{self, ChangeKind, ObjectType};
use crate::{
    Engine, Error, Result,
    audit::{self, Caller, Target},
};

pub(crate) struct Kind {
    pub table: &'static str,
    /// The column the audit log names the object by.
    pub name_column: &'static str,
    pub object: ObjectType,
    /// As in the audit log's activities: "Delete user".
    pub noun: &'static str,
}

pub(crate) const USERS: Kind = Kind {
    table: "users",
    name_column: "user_principal_name",
    object: ObjectType::User,
    noun: "user",
};
pub(crate) const GROUPS: Kind = Kind {
    table: "groups",
    name_column: "display_name",
    object: ObjectType::Group,
    noun: "group",
};

impl Kind {
    fn target<'a>(&self, id: Uuid, name: &'a str) -> Target<'a> {
        let kind = match self.object {
            ObjectType::User => "User",
            ObjectType::Group => "Group",
        };
        Target {
            kind,
            id: Some(id),
            name,
        }
    }
}

/// Optimistic concurrency: `expected`, when given, must be the object's current version.
pub(crate) fn check_version(kind: &Kind, current: i64, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(expected) if expected != current => Err(Error::VersionMismatch {
            kind: kind.noun,
            expected,
            current,
        }),
        _ => Ok(()),
    }
}

impl Engine {
    /// Soft-deletes (`delete`) or restores one object, unless it changed since `expected_version`.
    /// Deleting a deleted object is "not found"; restoring a live one does nothing.
    pub(crate) async fn set_deleted(
        &self,
        caller: &Caller,
        kind: &Kind,
        id: Uuid,
        expected_version: Option<i64>,
        delete: bool,
    ) -> Result<()> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let not_found = || Error::NotFound {
            kind: kind.noun,
            id: id.to_string(),
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        if delete && kind.table == USERS.table {
            crate::accounts::guard_removal(&mut tx, caller, id, "delete").await?;
        }
        let sql = format!(
            "SELECT {}, version, deleted_at IS NOT NULL FROM {} WHERE id = ?",
            kind.name_column, kind.table
        );
        let (name, version, deleted): (String, i64, bool) = crate::db::query_as(&sql)
            .bind(id)
            .fetch_optional(&mut tx)
            .await?
            .ok_or_else(not_found)?;
        check_version(kind, version, expected_version)?;
        if deleted == delete {
            return if delete { Err(not_found()) } else { Ok(()) };
        }
        let now = OffsetDateTime::now_utc();
        let sql = format!(
            "UPDATE {} SET deleted_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
            kind.table
        );
        crate::db::query(&sql)
            .bind(delete.then_some(now))
            .bind(now)
            .bind(id)
            .execute(&mut tx)
            .await?;
        let (change, verb) = if delete {
            (ChangeKind::SoftDeleted, "Delete")
        } else {
            (ChangeKind::Restored, "Restore")
        };
        let sequence = feed::append(&mut tx, kind.object, id, change, None).await?;
        let activity = format!("{verb} {}", kind.noun);
        audit::record(
            &mut tx,
            caller,
            &activity,
            kind.target(id, &name),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(())
    }
}

/// Removes one object and every membership it has, for good, leaving a tombstone in the feed.
/// `before` is what the audit log keeps of it.
pub(crate) async fn purge(
    db: &mut Tx,
    caller: &Caller,
    kind: &Kind,
    id: Uuid,
    name: &str,
    before: serde_json::Value,
) -> Result<i64> {
    crate::db::query("DELETE FROM group_members WHERE member_id = ?")
        .bind(id)
        .execute(&mut *db)
        .await?;
    crate::db::query(format!("DELETE FROM {} WHERE id = ?", kind.table))
        .bind(id)
        .execute(&mut *db)
        .await?;
    let sequence = feed::append(db, kind.object, id, ChangeKind::HardDeleted, None).await?;
    let activity = format!("Delete {} permanently", kind.noun);
    audit::record(
        db,
        caller,
        &activity,
        kind.target(id, name),
        Some(before),
        None,
    )
    .await?;
    Ok(sequence)
}

/// Objects soft-deleted more than `retention` ago: what the daily purge removes.
pub(crate) async fn expired(
    db: &Pool,
    kind: &Kind,
    retention: time::Duration,
) -> Result<Vec<Uuid>> {
    let sql = format!("SELECT id FROM {} WHERE deleted_at < ?", kind.table);
    Ok(crate::db::query_scalar(&sql)
        .bind(OffsetDateTime::now_utc() - retention)
        .fetch_all(db)
        .await?)
}
