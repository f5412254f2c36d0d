//! Reading the provisioning logs: filters on every column, newest first by keyset (a page never
//! counts or skips rows, so the millionth entry is as quick to reach as the first), and the
//! filtered set streamed out row by row for CSV and JSON downloads.

use crate::db::{Pool, QueryBuilder};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Action, Status};
use crate::{
    Engine, Error, Result,
    accounts::{Account, Permission, Role},
};

/// What the Provisioning logs blade (and the API) filter on; every field is optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub application: Option<Uuid>,
    /// A name starting with this (case-insensitive), or exactly a source or target id.
    pub identity: Option<String>,
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub until: Option<OffsetDateTime>,
    pub status: Option<Status>,
    pub action: Option<Action>,
    pub cycle_id: Option<Uuid>,
    pub change_id: Option<Uuid>,
    /// "User" or "Group".
    pub object_type: Option<String>,
}

/// A stored entry with its application's name.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub at: OffsetDateTime,
    pub application_id: Uuid,
    /// Empty when the application has been deleted since.
    pub application: String,
    pub cycle_id: Uuid,
    pub change_id: Uuid,
    pub object_type: String,
    pub source_id: Uuid,
    pub source_name: String,
    pub target_id: Option<String>,
    pub action: Action,
    pub status: Status,
    pub steps: sqlx::types::Json<Vec<String>>,
    /// `[{"attribute", "old", "new"}]`.
    pub modified: sqlx::types::Json<Value>,
    pub error_code: Option<String>,
    pub reason: Option<String>,
    pub duration_ms: i64,
}

impl Row {
    /// The job that made the entry: one job per application, named after it.
    pub fn job_id(&self) -> String {
        job_id(self.application_id)
    }
}

/// A job's identifier as logs show it and filters take it.
pub fn job_id(application: Uuid) -> String {
    format!("scim.{}", application.simple())
}

/// The application a job identifier names (with or without its "scim." prefix).
pub fn parse_job_id(job: &str) -> Option<Uuid> {
    Uuid::try_parse(job.trim().trim_start_matches("scim.")).ok()
}

pub(super) const SELECT: &str = "SELECT l.id, l.at, l.application_id, COALESCE(a.display_name, '') AS application, \
     l.cycle_id, l.change_id, l.object_type, l.source_id, l.source_name, l.target_id, l.action, l.status, \
     l.steps, l.modified, l.error_code, l.reason, l.duration_ms \
     FROM provisioning_logs l LEFT JOIN applications a ON a.id = l.application_id";

/// One page of entries, newest first; `next` is the cursor of the page after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub rows: Vec<Row>,
    pub next: Option<i64>,
}

/// The statement for `filter`, restricted to what `account` may read; with `before`, only
/// entries older than that entry. Callers add the order or further conditions.
fn statement(account: &Account, filter: &Filter, before: Option<i64>) -> QueryBuilder {
    let mut q = QueryBuilder::new(SELECT);
    q.push(" WHERE 1 = 1");
    if account.role == Role::ApplicationOwner {
        q.push(" AND l.application_id IN (SELECT application_id FROM application_owners WHERE user_id = ")
            .push_bind(account.id)
            .push(")");
    }
    if let Some(app) = filter.application {
        q.push(" AND l.application_id = ").push_bind(app);
    }
    if let Some(identity) = filter
        .identity
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let escaped = identity
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q.push(" AND (l.source_name LIKE ")
            .push_bind(format!("{escaped}%"))
            .push(" ESCAPE '\\' OR l.target_id = ")
            .push_bind(identity.to_owned());
        if let Ok(id) = Uuid::try_parse(identity) {
            q.push(" OR l.source_id = ").push_bind(id);
        }
        q.push(")");
    }
    if let Some(from) = filter.from {
        q.push(" AND l.at >= ").push_bind(from);
    }
    if let Some(until) = filter.until {
        q.push(" AND l.at < ").push_bind(until);
    }
    if let Some(status) = filter.status {
        q.push(" AND l.status = ").push_bind(status);
    }
    if let Some(action) = filter.action {
        q.push(" AND l.action = ").push_bind(action);
    }
    if let Some(cycle) = filter.cycle_id {
        q.push(" AND l.cycle_id = ").push_bind(cycle);
    }
    if let Some(change) = filter.change_id {
        q.push(" AND l.change_id = ").push_bind(change);
    }
    if let Some(object_type) = &filter.object_type {
        q.push(" AND l.object_type = ").push_bind(object_type);
    }
    if let Some(before) = before {
        q.push(" AND (l.at, l.id) < (SELECT at, id FROM provisioning_logs WHERE id = ")
            .push_bind(before)
            .push(")");
    }
    q
}

const NEWEST_FIRST: &str = " ORDER BY l.at DESC, l.id DESC";

impl Engine {
    /// A page of at most `limit` entries matching `filter`, older than the entry `before`.
    pub async fn provisioning_logs(
        &self,
        account: &Account,
        filter: &Filter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Page> {
        may_read(account)?;
        let mut q = statement(account, filter, before);
        q.push(NEWEST_FIRST)
            .push(" LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let mut rows: Vec<Row> = q.build_query_as().fetch_all(&self.db).await?;
        let next = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id)
        });
        Ok(Page {
            rows,
            next: next.flatten(),
        })
    }

    /// (id, name) of the applications whose logs `account` may read, by name.
    pub async fn log_applications(&self, account: &Account) -> Result<Vec<(Uuid, String)>> {
        may_read(account)?;
        let mut q = QueryBuilder::new("SELECT id, display_name FROM applications");
        if account.role == Role::ApplicationOwner {
            q.push(" WHERE id IN (SELECT application_id FROM application_owners WHERE user_id = ")
                .push_bind(account.id)
                .push(")");
        }
        q.push(" ORDER BY display_name COLLATE NOCASE");
        Ok(q.build_query_as().fetch_all(&self.db).await?)
    }

    /// One entry, if `account` may read it.
    pub async fn provisioning_log(&self, account: &Account, id: i64) -> Result<Row> {
        may_read(account)?;
        let filter = Filter::default();
        let mut q = statement(account, &filter, None);
        q.push(" AND l.id = ").push_bind(id);
        q.build_query_as()
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound {
                kind: "provisioning log entry",
                id: id.to_string(),
            })
    }

    /// Every entry matching `filter`, newest first, read by a task of its own from the download
    /// pool and handed over as they come: the caller writes each out and never holds the set.
    pub fn stream_provisioning_logs(
        &self,
        account: &Account,
        filter: Filter,
    ) -> Result<mpsc::Receiver<Result<Row>>> {
        may_read(account)?;
        let slot = self.downloads.start(account.id)?;
        let (send, receive) = mpsc::channel(256);
        let (db, account) = (self.downloads.db.clone(), account.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let failed = send.clone();
            if let Err(e) = forward(&db, &account, &filter, send).await {
                let _ = failed.send(Err(e)).await;
            }
        });
        Ok(receive)
    }
}

async fn forward(
    db: &Pool,
    account: &Account,
    filter: &Filter,
    send: mpsc::Sender<Result<Row>>,
) -> Result<()> {
    let mut q = statement(account, filter, None);
    q.push(NEWEST_FIRST);
    // Stops when the client went away.
    q.build_query_as::<Row>()
        .for_each(db, |row| {
            let send = send.clone();
            async move { send.send(Ok(row)).await.is_ok() }
        })
        .await?;
    Ok(())
}

fn may_read(account: &Account) -> Result<()> {
    if account.may(Permission::ReadLogs) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}
