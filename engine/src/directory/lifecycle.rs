//! Delete, restore and "Delete permanently", the same for users and groups: the state change,
//! its change-feed entry and its audit entry, inside the caller's transaction.

use sqlx::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::feed::{self, ChangeKind, ObjectType};
use crate::{
    Result,
    audit::{self, Caller, Target},
};

pub(crate) struct Kind {
    pub table: &'static str,
    pub object: ObjectType,
    /// As in the audit log's activities: "Delete user".
    pub noun: &'static str,
}

pub(crate) const USERS: Kind = Kind {
    table: "users",
    object: ObjectType::User,
    noun: "user",
};
pub(crate) const GROUPS: Kind = Kind {
    table: "groups",
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

/// Soft-deletes (`delete`) or restores one object; returns its feed sequence.
pub(crate) async fn set_deleted(
    db: &mut SqliteConnection,
    caller: &Caller,
    kind: &Kind,
    id: Uuid,
    name: &str,
    delete: bool,
) -> Result<i64> {
    let now = OffsetDateTime::now_utc();
    let sql = format!(
        "UPDATE {} SET deleted_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
        kind.table
    );
    sqlx::query(&sql)
        .bind(delete.then_some(now))
        .bind(now)
        .bind(id)
        .execute(&mut *db)
        .await?;
    let (change, verb) = if delete {
        (ChangeKind::SoftDeleted, "Delete")
    } else {
        (ChangeKind::Restored, "Restore")
    };
    let sequence = feed::append(db, kind.object, id, change, None).await?;
    let activity = format!("{verb} {}", kind.noun);
    audit::record(db, caller, &activity, kind.target(id, name), None, None).await?;
    Ok(sequence)
}

/// Removes one object and every membership it has, for good, leaving a tombstone in the feed.
/// `before` is what the audit log keeps of it.
pub(crate) async fn purge(
    db: &mut SqliteConnection,
    caller: &Caller,
    kind: &Kind,
    id: Uuid,
    name: &str,
    before: serde_json::Value,
) -> Result<i64> {
    sqlx::query("DELETE FROM group_members WHERE member_id = ?")
        .bind(id)
        .execute(&mut *db)
        .await?;
    sqlx::query(&format!("DELETE FROM {} WHERE id = ?", kind.table))
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
    db: &SqlitePool,
    kind: &Kind,
    retention: time::Duration,
) -> Result<Vec<Uuid>> {
    let sql = format!("SELECT id FROM {} WHERE deleted_at < ?", kind.table);
    Ok(sqlx::query_scalar(&sql)
        .bind(OffsetDateTime::now_utc() - retention)
        .fetch_all(db)
        .await?)
}
