//! What a cycle's outcome does to its job (docs/engine.md, Quarantine): a completed cycle keeps
//! it Active and schedules the next; a cycle that could not reach the target retries soon, and
//! the fourth in a row quarantines the job; refused credentials, a Tenant URL that is not SCIM,
//! too many escrowed objects and staged deletes quarantine it at once. A quarantined job retries
//! after 6 h, 12 h, then daily, and is disabled after 28 days.

use crate::db::Pool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    cycle::{CycleReport, Outcome},
    jobs::{Interruption, JobState, load},
};
use crate::{Result, applications::provisioning::Settings};

/// When a cycle the target interrupted runs again: 15 s, 1 min, then 5 min after each of the
/// first interruptions in a row.
pub fn interrupted_retry(series: i64) -> Duration {
    match series {
        ..=1 => Duration::seconds(15),
        2 => Duration::minutes(1),
        _ => Duration::minutes(5),
    }
}
/// Cycles in a row that cannot reach the target before the job goes to quarantine (Entra's
/// rule: a target unreachable across cycles is quarantined).
pub const UNREACHABLE_CYCLES: i64 = 4;
/// Quarantined jobs give up after this long.
const QUARANTINE_LIMIT: Duration = Duration::days(28);

/// When a quarantined job runs again: 6 h, 12 h, 24 h after it began, then daily.
pub fn quarantine_retry(series: i64) -> Duration {
    match series {
        0 | 1 => Duration::hours(6),
        2 => Duration::hours(12),
        _ => Duration::hours(24),
    }
}

/// Decides the job's next state and run time after a cycle ended at `now` (injected, so tests
/// can move time through a quarantine).
pub async fn after_cycle(
    db: &Pool,
    application: Uuid,
    settings: &Settings,
    report: &CycleReport,
    now: OffsetDateTime,
) -> Result<()> {
    let job = load(db, application).await?;
    let interruption = match &report.outcome {
        Outcome::Interrupted { reason } | Outcome::Stopped { reason, .. } => Some(Interruption {
            at: report.finished_at,
            reason: reason.clone(),
        }),
        _ => None,
    };
    if let Some(interruption) = &interruption {
        // Kept until a cycle completes (docs/engine.md, Quarantine).
        crate::db::query(
            "UPDATE provisioning_jobs SET last_interruption = ? WHERE application_id = ?",
        )
        .bind(sqlx::types::Json(interruption))
        .bind(application)
        .execute(db)
        .await?;
    }
    let mut quarantine = match &report.outcome {
        Outcome::Completed | Outcome::Interrupted { .. } => None,
        Outcome::Stopped { reason, .. } => Some(reason.clone()),
        Outcome::TooManyFailures { escrowed, tried } => Some(format!(
            "{escrowed} of the {tried} objects tried failed at the target (more than 40%): see the provisioning logs"
        )),
        Outcome::DeletesStaged { planned, threshold } => Some(format!(
            "{planned} disables and deletes were planned, more than the accidental-deletion threshold of {threshold}: review them, then Allow deletes"
        )),
    };
    let series = match &report.outcome {
        Outcome::Interrupted { .. } => job.unreachable_series + 1,
        _ => 0,
    };
    if let Outcome::Interrupted { reason } = &report.outcome {
        if series < UNREACHABLE_CYCLES && job.state != JobState::Quarantine {
            // The target is away: try again soon, from the same watermark.
            crate::db::query(
                "UPDATE provisioning_jobs SET unreachable_series = ?, next_run_at = ? WHERE application_id = ?",
            )
            .bind(series)
            .bind(now + interrupted_retry(series))
            .bind(application)
            .execute(db)
            .await?;
            return Ok(());
        }
        quarantine = Some(format!(
            "the target could not be reached in {series} cycles in a row: {reason}"
        ));
    }
    match quarantine {
        None => {
            // Changes that arrived while the cycle ran are for the next one, now.
            let behind = crate::directory::feed::latest(db).await? > job.watermark;
            let next = if behind {
                now
            } else {
                now + Duration::minutes(i64::from(settings.cycle_interval_minutes.max(1)))
            };
            crate::db::query(
                "UPDATE provisioning_jobs SET state = 'Active', next_run_at = ?, quarantine_reason = NULL, \
                 quarantine_began_at = NULL, quarantine_series = 0, notified_reason = NULL, \
                 last_interruption = NULL, unreachable_series = 0 \
                 WHERE application_id = ? AND state IN ('Active', 'Quarantine', 'NotRun')",
            )
            .bind(next)
            .bind(application)
            .execute(db)
            .await?;
        }
        Some(reason) => {
            let began = job.quarantine_began_at.unwrap_or(now);
            let quarantine_series = job.quarantine_series + 1;
            let state = if now - began >= QUARANTINE_LIMIT {
                JobState::Disabled
            } else {
                JobState::Quarantine
            };
            crate::db::query(
                "UPDATE provisioning_jobs SET state = ?, next_run_at = ?, quarantine_reason = ?, quarantine_began_at = ?, \
                 quarantine_series = ?, unreachable_series = ? WHERE application_id = ?",
            )
            .bind(state)
            .bind(now + quarantine_retry(quarantine_series))
            .bind(&reason)
            .bind(began)
            .bind(quarantine_series)
            .bind(series)
            .bind(application)
            .execute(db)
            .await?;
        }
    }
    Ok(())
}
