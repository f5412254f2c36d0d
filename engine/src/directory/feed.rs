//! The change feed: every change to a directory object gets the next sequence number. Readers
//! keep a watermark (the last sequence they processed) and read what came after it, in pages,
//! from the primary key. After each commit the engine publishes the newest sequence, which wakes
//! whoever waits for changes (the provisioning jobs).

use crate::db::{Pool, Tx};
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use crate::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "TEXT")]
pub enum ObjectType {
    User,
    Group,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "TEXT")]
pub enum ChangeKind {
    Created,
    Updated,
    SoftDeleted,
    Restored,
    /// A tombstone: the object is gone for good.
    HardDeleted,
    MemberAdded,
    MemberRemoved,
    /// The user or group was assigned to an application (`related_id`) or changed role there.
    Assigned,
    /// The user or group lost its last role in an application (`related_id`).
    Unassigned,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Change {
    pub sequence: i64,
    pub object_type: ObjectType,
    pub object_id: Uuid,
    pub change: ChangeKind,
    /// For membership changes, the member added or removed; for assignments, the application.
    pub related_id: Option<Uuid>,
    pub changed_at: OffsetDateTime,
}

/// Appends one change inside the caller's transaction and returns its sequence.
pub async fn append(
    db: &mut Tx,
    object_type: ObjectType,
    object_id: Uuid,
    change: ChangeKind,
    related_id: Option<Uuid>,
) -> Result<i64> {
    Ok(crate::db::query_scalar(
        "INSERT INTO change_feed (object_type, object_id, change, related_id, changed_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING sequence",
    )
    .bind(object_type)
    .bind(object_id)
    .bind(change)
    .bind(related_id)
    .bind(OffsetDateTime::now_utc())
    .fetch_one(db)
    .await?)
}

/// Up to `limit` changes after `watermark`, oldest first.
pub async fn since(db: &Pool, watermark: i64, limit: u32) -> Result<Vec<Change>> {
    Ok(crate::db::query_as(
        "SELECT sequence, object_type, object_id, change, related_id, changed_at FROM change_feed \
         WHERE sequence > ? ORDER BY sequence LIMIT ?",
    )
    .bind(watermark)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn latest(db: &Pool) -> Result<i64> {
    Ok(
        crate::db::query_scalar("SELECT COALESCE(MAX(sequence), 0) FROM change_feed")
            .fetch_one(db)
            .await?,
    )
}

/// Publishes the newest committed sequence to everyone who subscribed.
pub struct FeedNotifier(watch::Sender<i64>);

impl FeedNotifier {
    pub fn new(latest: i64) -> Self {
        FeedNotifier(watch::Sender::new(latest))
    }

    pub fn published(&self, sequence: i64) {
        self.0.send_if_modified(|current| {
            let newer = sequence > *current;
            if newer {
                *current = sequence;
            }
            newer
        });
    }

    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.0.subscribe()
    }
}
