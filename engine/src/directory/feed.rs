//! The change feed: every change to a directory object gets the next sequence number. Readers
//! keep a watermark (the last sequence they processed) and read what came after it, in pages,
//! from the primary key. After each commit the engine publishes the newest sequence, which wakes
//! whoever waits for changes (the provisioning jobs).
//!
//! A reader must never see sequence 8 committed before 7, or it would move its watermark past
//! 7 for good. Writers take turns ([`crate::db::begin_write`]), so sequences are given in commit
//! order on both databases; on PostgreSQL the next one is `MAX + 1` under that turn (an identity
//! column would leave gaps where a transaction rolled back), and the commit notifies
//! [`CHANNEL`], which wakes every other process sharing the database at once.

use crate::db::{Pool, Sql, Tx};
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
    Ok(crate::db::query_scalar(Sql::dialects(
        "INSERT INTO change_feed (object_type, object_id, change, related_id, changed_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING sequence",
        format!(
            "WITH appended AS (INSERT INTO change_feed (sequence, object_type, object_id, change, related_id, changed_at) \
             SELECT COALESCE(MAX(sequence), 0) + 1, $1, $2, $3, $4, $5 FROM change_feed RETURNING sequence) \
             SELECT sequence, pg_notify('{CHANNEL}', '') FROM appended"
        ),
    ))
    .bind(object_type)
    .bind(object_id)
    .bind(change)
    .bind(related_id)
    .bind(OffsetDateTime::now_utc())
    .fetch_one(db)
    .await?)
}

/// The PostgreSQL channel every directory commit notifies.
pub const CHANNEL: &str = "scimitar_directory_changes";

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

impl crate::Engine {
    /// On PostgreSQL, publishes other processes' directory commits as they happen (LISTEN on
    /// [`CHANNEL`]), so their changes reach this process's jobs in about a second, as its own
    /// do. Reconnects when the connection drops; the scheduler's look at the feed every second
    /// covers the gap.
    pub(crate) async fn listen_for_changes(self, pool: sqlx::PgPool) {
        loop {
            match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => loop {
                        if let Err(e) = listener.recv().await {
                            tracing::warn!(error = %e, "directory change notifications stopped");
                            break;
                        }
                        match latest(&self.db).await {
                            Ok(sequence) => self.feed.published(sequence),
                            Err(e) => tracing::warn!(error = %e, "cannot read the change feed"),
                        }
                    },
                    Err(e) => tracing::warn!(error = %e, "cannot listen for directory changes"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot listen for directory changes"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
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
