//! Provisioning jobs: one row per application with its state (NotRun, Active, Paused,
//! Quarantine, Disabled), when it runs next, its lease (owner and expiry: a crashed owner's lease
//! expires and another process takes over from the watermark, docs/engine.md, Leases), its
//! watermark and its cycles' progress. What a cycle's outcome does to the job is quarantine.rs.
use crate::db::{Pool, Sql};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::cycle::{CycleReport, Progress};
use crate::{
    Engine, Result,
    accounts::Account,
    applications::{
        Access,
        provisioning::{Mode, Settings, Status},
    },
    audit::{self, Caller},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT")]
pub enum JobState {
    NotRun,
    Active,
    Paused,
    Quarantine,
    Disabled,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub application_id: Uuid,
    pub state: JobState,
    pub next_run_at: Option<OffsetDateTime>,
    pub watermark: i64,
    pub deletes_allowed: bool,
    pub quarantine_reason: Option<String>,
    pub quarantine_began_at: Option<OffsetDateTime>,
    pub quarantine_series: i64,
    pub current_cycle: Option<sqlx::types::Json<Progress>>,
    pub last_cycle: Option<sqlx::types::Json<CycleReport>>,
    /// The last cycle that could not finish, until a cycle completes.
    pub last_interruption: Option<sqlx::types::Json<Interruption>>,
    /// Cycles in a row that could not reach the target.
    pub unreachable_series: i64,
}

/// A cycle that could not finish: when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Interruption {
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
    pub reason: String,
}

/// How long a lease lasts; the runner renews it every 10 seconds while a cycle runs, so a
/// crashed owner's job is taken over within half a minute.
pub const LEASE: Duration = Duration::seconds(30);

const COLUMNS: &str = "application_id, state, next_run_at, watermark, deletes_allowed, quarantine_reason, \
     quarantine_began_at, quarantine_series, current_cycle, last_cycle, last_interruption, unreachable_series";

/// The job of `application`, made (NotRun) if it has none yet. Reading an existing job writes
/// nothing, so the blades that poll it never wait behind a cycle's writes.
pub async fn load(db: &Pool, application: Uuid) -> Result<Job> {
    let select = format!("SELECT {COLUMNS} FROM provisioning_jobs WHERE application_id = ?");
    if let Some(job) = crate::db::query_as(&select)
        .bind(application)
        .fetch_optional(db)
        .await?
    {
        return Ok(job);
    }
    crate::db::query(
        "INSERT INTO provisioning_jobs (application_id, updated_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(OffsetDateTime::now_utc())
    .execute(db)
    .await?;
    Ok(crate::db::query_as(&select)
        .bind(application)
        .fetch_one(db)
        .await?)
}

/// Takes the lease of the job due soonest whose lease is free, for `owner`, and writes it in the
/// lease history. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several processes claim at once,
/// each passing over the job another is claiming; SQLite has one writer at a time.
pub async fn claim_next(db: &Pool, owner: &str, now: OffsetDateTime) -> Result<Option<Uuid>> {
    let claim = Sql::dialects(
        "UPDATE provisioning_jobs SET lease_owner = ?1, lease_expires_at = ?2 WHERE application_id = (         SELECT application_id FROM provisioning_jobs WHERE state IN ('Active', 'Quarantine') AND next_run_at <= ?3          AND (lease_expires_at IS NULL OR lease_expires_at < ?3) ORDER BY next_run_at LIMIT 1) RETURNING application_id",
        "UPDATE provisioning_jobs SET lease_owner = $1, lease_expires_at = $2 WHERE application_id = (         SELECT application_id FROM provisioning_jobs WHERE state IN ('Active', 'Quarantine') AND next_run_at <= $3          AND (lease_expires_at IS NULL OR lease_expires_at < $3) ORDER BY next_run_at LIMIT 1          FOR UPDATE SKIP LOCKED) RETURNING application_id",
    );
    let mut tx = crate::db::begin_concurrent(db).await?;
    let claimed: Option<Uuid> = crate::db::query_scalar(claim)
        .bind(owner)
        .bind(now + LEASE)
        .bind(now)
        .fetch_optional(&mut tx)
        .await?;
    if let Some(application) = claimed {
        crate::db::query(
            "INSERT INTO provisioning_leases (application_id, owner, taken_at, held_until) VALUES (?, ?, ?, ?)",
        )
        .bind(application)
        .bind(owner)
        .bind(now)
        .bind(now + LEASE)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(claimed)
}

/// The lease history's open entry of `owner` on `application`.
const OPEN_LEASE: &str = "id = (SELECT MAX(id) FROM provisioning_leases WHERE application_id = ? AND owner = ?) \
     AND released_at IS NULL";

/// Extends `owner`'s lease; false when it is no longer theirs (it expired and another process
/// took it).
pub async fn renew(db: &Pool, application: Uuid, owner: &str, now: OffsetDateTime) -> Result<bool> {
    let mut tx = crate::db::begin_concurrent(db).await?;
    let renewed = crate::db::query(
        "UPDATE provisioning_jobs SET lease_expires_at = ? WHERE application_id = ? AND lease_owner = ?",
    )
    .bind(now + LEASE)
    .bind(application)
    .bind(owner)
    .execute(&mut tx)
    .await?
    .rows_affected()
        == 1;
    if renewed {
        crate::db::query(format!(
            "UPDATE provisioning_leases SET held_until = ? WHERE {OPEN_LEASE}"
        ))
        .bind(now + LEASE)
        .bind(application)
        .bind(owner)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(renewed)
}

pub async fn release(db: &Pool, application: Uuid, owner: &str) -> Result<()> {
    let mut tx = crate::db::begin_concurrent(db).await?;
    let released = crate::db::query(
        "UPDATE provisioning_jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE application_id = ? AND lease_owner = ?",
    )
    .bind(application)
    .bind(owner)
    .execute(&mut tx)
    .await?
    .rows_affected()
        == 1;
    if released {
        crate::db::query(format!(
            "UPDATE provisioning_leases SET released_at = ? WHERE {OPEN_LEASE}"
        ))
        .bind(OffsetDateTime::now_utc())
        .bind(application)
        .bind(owner)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Moves the watermark once every object it covers is recorded; an initial cycle is done.
pub(super) async fn complete_cycle(
    db: &Pool,
    application: Uuid,
    head: i64,
    initial: bool,
) -> Result<()> {
    let mut tx = crate::db::begin_write(db).await?;
    crate::db::query(
        "UPDATE provisioning_jobs SET watermark = ?, deletes_allowed = FALSE WHERE application_id = ?",
    )
    .bind(head)
    .bind(application)
    .execute(&mut tx)
    .await?;
    if initial {
        crate::db::query(
            "UPDATE provisioning SET needs_initial_cycle = FALSE WHERE application_id = ?",
        )
        .bind(application)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn record_progress(
    db: &Pool,
    application: Uuid,
    progress: &Progress,
) -> Result<()> {
    crate::db::query(
        "UPDATE provisioning_jobs SET current_cycle = ?, updated_at = ? WHERE application_id = ?",
    )
    .bind(sqlx::types::Json(progress))
    .bind(OffsetDateTime::now_utc())
    .bind(application)
    .execute(db)
    .await?;
    Ok(())
}

pub(super) async fn record_report(
    db: &Pool,
    application: Uuid,
    report: &CycleReport,
) -> Result<()> {
    crate::db::query(
        "UPDATE provisioning_jobs SET current_cycle = NULL, last_cycle = ?, updated_at = ? WHERE application_id = ?",
    )
    .bind(sqlx::types::Json(report))
    .bind(OffsetDateTime::now_utc())
    .bind(application)
    .execute(db)
    .await?;
    Ok(())
}

impl Engine {
    pub async fn job(&self, account: &Account, application: Uuid) -> Result<Job> {
        self.application_for(account, application, Access::Read)
            .await?;
        load(&self.db, application).await
    }

    /// Follows a saved configuration: On with Automatic starts the job (an initial cycle if one is
    /// pending), anything else pauses it. Quarantine and Disabled stay until Restart.
    pub(crate) async fn follow_settings(
        &self,
        application: Uuid,
        settings: &Settings,
    ) -> Result<()> {
        let job = load(&self.db, application).await?;
        let on = settings.mode == Mode::Automatic && settings.status == Status::On;
        let now = OffsetDateTime::now_utc();
        let (state, next) = match (on, job.state) {
            (_, JobState::Quarantine | JobState::Disabled) if on => (job.state, job.next_run_at),
            (true, _) => (JobState::Active, Some(now)),
            (false, JobState::NotRun) => (JobState::NotRun, None),
            (false, _) => (JobState::Paused, None),
        };
        crate::db::query(
            "UPDATE provisioning_jobs SET state = ?, next_run_at = ? WHERE application_id = ?",
        )
        .bind(state)
        .bind(next)
        .bind(application)
        .execute(&self.db)
        .await?;
        self.scheduler_wake.notify_one();
        Ok(())
    }

    /// Restart: the next cycle is an initial one, escrows and quarantine are cleared, and with
    /// `clear_links` the links too (every account is matched again).
    pub async fn restart_job(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        clear_links: bool,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        load(&self.db, application).await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        crate::db::query(
            "UPDATE provisioning_jobs SET watermark = 0, quarantine_reason = NULL, quarantine_began_at = NULL, \
             quarantine_series = 0, unreachable_series = 0, state = CASE WHEN state IN ('Quarantine', 'Disabled') THEN 'Active' ELSE state END, \
             next_run_at = ? WHERE application_id = ?",
        )
        .bind(OffsetDateTime::now_utc())
        .bind(application)
        .execute(&mut tx)
        .await?;
        crate::db::query(
            "UPDATE provisioning SET needs_initial_cycle = TRUE WHERE application_id = ?",
        )
        .bind(application)
        .execute(&mut tx)
        .await?;
        for table in ["provisioning_escrows", "provisioning_pending_references"] {
            crate::db::query(format!("DELETE FROM {table} WHERE application_id = ?"))
                .bind(application)
                .execute(&mut tx)
                .await?;
        }
        if clear_links {
            crate::db::query("DELETE FROM provisioning_links WHERE application_id = ?")
                .bind(application)
                .execute(&mut tx)
                .await?;
        }
        audit::record(
            &mut tx,
            caller,
            "Restart provisioning",
            crate::applications::target(&app),
            None,
            Some(serde_json::json!({ "clearLinks": clear_links })),
        )
        .await?;
        tx.commit().await?;
        self.scheduler_wake.notify_one();
        Ok(())
    }

    /// Allow deletes: the next cycle may disable and delete beyond the threshold, once.
    pub async fn allow_deletes(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        load(&self.db, application).await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        crate::db::query(
            "UPDATE provisioning_jobs SET deletes_allowed = TRUE, state = CASE WHEN state = 'Quarantine' THEN 'Active' ELSE state END, \
             quarantine_reason = NULL, quarantine_began_at = NULL, quarantine_series = 0, next_run_at = ? WHERE application_id = ?",
        )
        .bind(OffsetDateTime::now_utc())
        .bind(application)
        .execute(&mut tx)
        .await?;
        audit::record(
            &mut tx,
            caller,
            "Allow deletes",
            crate::applications::target(&app),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        self.scheduler_wake.notify_one();
        Ok(())
    }
}

impl Engine {
    /// Start (`true`) or Pause: Provisioning Status On or Off, saved like the blade's Save.
    pub async fn set_provisioning_status(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        on: bool,
    ) -> Result<()> {
        let stored = self.provisioning(account, application).await?;
        let mut settings = stored.settings;
        settings.status = if on { Status::On } else { Status::Off };
        self.save_provisioning(
            caller,
            account,
            application,
            stored.version,
            settings,
            Default::default(),
        )
        .await?;
        Ok(())
    }
}

/// An application and its job, as the Home blade lists them.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct JobOverview {
    pub application: String,
    #[sqlx(flatten)]
    pub job: Job,
    /// Failures in the provisioning logs over the last 24 hours.
    pub failures_24h: i64,
}

impl Engine {
    /// The jobs of every application `account` may see: quarantined and disabled ones first,
    /// then running, paused and never run, each by name.
    pub async fn job_overview(&self, account: &Account) -> Result<Vec<JobOverview>> {
        use crate::accounts::{Permission, Role};
        if !(account.may(Permission::ConfigureApplications) || account.may(Permission::ReadLogs)) {
            return Err(crate::Error::Forbidden);
        }
        let since = OffsetDateTime::now_utc() - Duration::hours(24);
        let mut q = crate::db::QueryBuilder::new(
            "SELECT a.display_name AS application, a.id AS application_id, \
             COALESCE(j.state, 'NotRun') AS state, j.next_run_at, COALESCE(j.watermark, 0) AS watermark, \
             COALESCE(j.deletes_allowed, FALSE) AS deletes_allowed, j.quarantine_reason, j.quarantine_began_at, \
             COALESCE(j.quarantine_series, 0) AS quarantine_series, j.current_cycle, j.last_cycle, j.last_interruption, \
             COALESCE(j.unreachable_series, 0) AS unreachable_series, \
             (SELECT COUNT(*) FROM provisioning_logs l WHERE l.status = 'Failure' AND l.at >= ",
        );
        q.push_bind(since).push(
            " AND l.application_id = a.id) AS failures_24h \
             FROM applications a LEFT JOIN provisioning_jobs j ON j.application_id = a.id",
        );
        if account.role == Role::ApplicationOwner {
            q.push(
                " WHERE a.id IN (SELECT application_id FROM application_owners WHERE user_id = ",
            )
            .push_bind(account.id)
            .push(")");
        }
        q.push(
            " ORDER BY CASE COALESCE(j.state, 'NotRun') WHEN 'Quarantine' THEN 0 WHEN 'Disabled' THEN 1 \
             WHEN 'Active' THEN 2 WHEN 'Paused' THEN 3 ELSE 4 END, a.display_name COLLATE NOCASE",
        );
        Ok(q.build_query_as().fetch_all(&self.db).await?)
    }
}
