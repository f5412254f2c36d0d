//! The Home blade: applications by provisioning state (quarantined first), with their failures
//! of the last 24 hours and their last cycles.

use leptos::prelude::*;

use super::AppError;
use crate::model::HomeApplication;

/// The applications the caller may see; empty for roles that see none (Home still greets them).
#[server(endpoint = "home")]
pub async fn home_applications() -> Result<Vec<HomeApplication>, AppError> {
    use engine::accounts::Permission;
    let (engine, account, _) = super::context::require(Permission::ReadDirectory).await?;
    if !(account.may(Permission::ConfigureApplications) || account.may(Permission::ReadLogs)) {
        return Ok(Vec::new());
    }
    let yesterday = (time::OffsetDateTime::now_utc() - time::Duration::days(1))
        .date()
        .to_string();
    Ok(engine
        .job_overview(&account)
        .await?
        .into_iter()
        .map(|o| {
            let running = o.job.current_cycle.as_ref().map(|progress| {
                let progress = &progress.0;
                format!(
                    "{:?} cycle: {} of {} objects",
                    progress.kind, progress.counts.processed, progress.counts.total
                )
            });
            HomeApplication {
                id: o.job.application_id.to_string(),
                name: o.application,
                state: super::provisioning::state_text(o.job.state).to_owned(),
                quarantine_reason: o.job.quarantine_reason,
                running,
                failures_24h: o.failures_24h,
                failures_from: yesterday.clone(),
                last: o
                    .job
                    .last_cycle
                    .as_ref()
                    .map(|r| super::provisioning::cycle_summary(&r.0)),
            }
        })
        .collect())
}
