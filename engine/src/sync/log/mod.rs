//! Provisioning logs: one entry per object decision in a cycle (identity, action, status, the
//! steps taken, modified properties old -> new, error code and reason, duration). Entries are
//! buffered and written in batches, each batch in one transaction; `search` reads them back.

use crate::db::Pool;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Result;

mod code;
mod download;
pub mod generator;
mod search;

pub use code::{ErrorCode, advice};
pub use download::{Downloads, Format, encode, json};
use search::SELECT;
pub use search::{Filter, Page, Row, job_id, parse_job_id};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT")]
pub enum Action {
    Create,
    Update,
    Disable,
    Delete,
    StagedDelete,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT")]
pub enum Status {
    Success,
    Failure,
    Skipped,
    Warning,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Create,
        Action::Update,
        Action::Disable,
        Action::Delete,
        Action::StagedDelete,
        Action::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "Create",
            Action::Update => "Update",
            Action::Disable => "Disable",
            Action::Delete => "Delete",
            Action::StagedDelete => "StagedDelete",
            Action::Other => "Other",
        }
    }

    /// The action named `name` (as `as_str` writes it, any case).
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Success,
        Status::Failure,
        Status::Skipped,
        Status::Warning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "Success",
            Status::Failure => "Failure",
            Status::Skipped => "Skipped",
            Status::Warning => "Warning",
        }
    }

    /// The status named `name` (as `as_str` writes it, any case).
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub object_type: &'static str,
    pub source_id: Uuid,
    pub source_name: String,
    pub target_id: Option<String>,
    pub action: Action,
    pub status: Status,
    pub steps: Vec<String>,
    /// (target attribute, old, new).
    pub modified: Vec<(String, Value, Value)>,
    pub error_code: Option<ErrorCode>,
    pub reason: Option<String>,
    pub duration_ms: i64,
}

impl Entry {
    pub fn new(object_type: &'static str, source_id: Uuid, source_name: &str) -> Entry {
        Entry {
            object_type,
            source_id,
            source_name: source_name.to_owned(),
            target_id: None,
            action: Action::Other,
            status: Status::Success,
            steps: Vec::new(),
            modified: Vec::new(),
            error_code: None,
            reason: None,
            duration_ms: 0,
        }
    }
}

/// Entries waiting to be written.
pub struct LogWriter {
    application: Uuid,
    cycle_id: Uuid,
    pending: Vec<(OffsetDateTime, Entry)>,
}

const BATCH: usize = 200;

impl LogWriter {
    pub fn new(application: Uuid, cycle_id: Uuid) -> LogWriter {
        LogWriter {
            application,
            cycle_id,
            pending: Vec::new(),
        }
    }

    pub fn push(&mut self, entry: Entry) {
        self.pending.push((OffsetDateTime::now_utc(), entry));
    }

    pub fn is_full(&self) -> bool {
        self.pending.len() >= BATCH
    }

    /// The entries waiting, to be written together.
    pub fn take(&mut self) -> LogBatch {
        LogBatch {
            application: self.application,
            cycle_id: self.cycle_id,
            entries: std::mem::take(&mut self.pending),
        }
    }
}

/// Entries taken from a [`LogWriter`], written in the caller's transaction.
pub struct LogBatch {
    application: Uuid,
    cycle_id: Uuid,
    entries: Vec<(OffsetDateTime, Entry)>,
}

impl LogBatch {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub async fn write(self, db: &mut crate::db::Tx) -> Result<()> {
        for (at, entry) in self.entries {
            let modified: Vec<Value> = entry
                .modified
                .iter()
                .map(|(path, old, new)| json!({ "attribute": path, "old": old, "new": new }))
                .collect();
            crate::db::query(
                "INSERT INTO provisioning_logs (application_id, at, cycle_id, change_id, object_type, source_id, \
                 source_name, target_id, action, status, steps, modified, error_code, reason, duration_ms) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(self.application)
            .bind(at)
            .bind(self.cycle_id)
            .bind(Uuid::new_v4())
            .bind(entry.object_type)
            .bind(entry.source_id)
            .bind(&entry.source_name)
            .bind(&entry.target_id)
            .bind(entry.action)
            .bind(entry.status)
            .bind(sqlx::types::Json(&entry.steps))
            .bind(sqlx::types::Json(&modified))
            .bind(entry.error_code.map(ErrorCode::as_str))
            .bind(&entry.reason)
            .bind(entry.duration_ms)
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }
}

/// The newest `limit` entries of an application, newest first.
pub async fn latest(db: &Pool, application: Uuid, limit: u32) -> Result<Vec<Row>> {
    Ok(crate::db::query_as(format!(
        "{SELECT} WHERE l.application_id = ? ORDER BY l.at DESC, l.id DESC LIMIT ?"
    ))
    .bind(application)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

impl crate::Engine {
    /// The daily retention purge: entries older than `retention` go.
    pub async fn purge_provisioning_logs(&self, retention: time::Duration) -> Result<u64> {
        let cutoff = OffsetDateTime::now_utc() - retention;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let purged = crate::db::query("DELETE FROM provisioning_logs WHERE at < ?")
            .bind(cutoff)
            .execute(&mut tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(purged)
    }
}
