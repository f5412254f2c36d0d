//! The scheduler: runs due jobs, several at once under a global cap, each under its lease
//! (renewed while the cycle runs). It wakes every second, when a configuration is saved, and
//! shortly after directory changes (debounced by a second), which makes the active jobs due, so a
//! change reaches the targets in seconds rather than at the next interval. Changes made by
//! another process on the same database (the command line, a second server) are seen by the
//! change feed's sequence moving, checked every second.

use std::{sync::Arc, time::Duration};

use time::OffsetDateTime;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::jobs;
use crate::{Engine, applications::provisioning};

/// Cycles running at once across all applications.
const PARALLEL_JOBS: usize = 4;
/// How often a running cycle renews its lease (a third of [`jobs::LEASE`]).
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// Directory changes closer together than this wake the jobs once.
const DEBOUNCE: Duration = Duration::from_secs(1);

impl Engine {
    /// Runs the scheduler until the process ends. `owner` names this process in leases.
    pub fn spawn_scheduler(&self) -> tokio::task::JoinHandle<()> {
        if let crate::db::Pool::Postgres(pool) = &self.db {
            tokio::spawn(self.clone().listen_for_changes(pool.clone()));
        }
        let engine = self.clone();
        tokio::spawn(async move { engine.schedule().await })
    }

    async fn schedule(self) {
        // The process id tells an operator (and the tests) which process holds a lease.
        let owner = format!(
            "scimitar-{}-{}",
            std::process::id(),
            Uuid::new_v4().simple()
        );
        let slots = Arc::new(Semaphore::new(PARALLEL_JOBS));
        let mut changes = self.directory_changes();
        let mut seen = crate::directory::feed::latest(&self.db).await.unwrap_or(0);
        loop {
            // Another process's changes: the feed moved without a notification here.
            if let Ok(latest) = crate::directory::feed::latest(&self.db).await
                && latest > seen
            {
                seen = latest;
                tokio::time::sleep(DEBOUNCE).await;
                self.wake_active_jobs().await;
            }
            // Due jobs, one claim at a time, while a slot is free.
            while let Ok(slot) = slots.clone().try_acquire_owned() {
                match jobs::claim_next(&self.db, &owner, OffsetDateTime::now_utc()).await {
                    Ok(Some(application)) => {
                        let engine = self.clone();
                        let owner = owner.clone();
                        tokio::spawn(async move {
                            engine.run_job(application, &owner).await;
                            drop(slot);
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot claim a provisioning job");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = self.scheduler_wake.notified() => {}
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    tokio::time::sleep(DEBOUNCE).await;
                    seen = seen.max(*changes.borrow_and_update());
                    self.wake_active_jobs().await;
                }
            }
        }
    }

    /// Makes every active job due now.
    async fn wake_active_jobs(&self) {
        let now = OffsetDateTime::now_utc();
        if let Err(e) = crate::db::query(
            "UPDATE provisioning_jobs SET next_run_at = ? WHERE state = 'Active' AND next_run_at > ?",
        )
        .bind(now)
        .bind(now)
        .execute(&self.db)
        .await
        {
            tracing::error!(error = %e, "cannot wake the provisioning jobs");
        }
    }

    /// One cycle under the lease (docs/engine.md, Leases); then the job's next state. A cycle
    /// whose lease is lost stops where it is: the new owner goes on from the watermark.
    async fn run_job(&self, application: Uuid, owner: &str) {
        let mut lease = Lease::hold(self, application, owner);
        let now = OffsetDateTime::now_utc();
        tracing::info!(%application, owner, "provisioning cycle started");
        let result = tokio::select! {
            result = self.run_cycle(application, now) => result,
            () = lease.lost() => {
                tracing::warn!(%application, "the provisioning job's lease was lost: its cycle stopped");
                return;
            }
        };
        match result {
            Ok(report) => {
                tracing::info!(
                    %application, owner, kind = ?report.kind, processed = report.counts.processed,
                    created = report.counts.created, updated = report.counts.updated,
                    failed = report.counts.failed, outcome = ?report.outcome, "provisioning cycle finished"
                );
                let settings = match provisioning::load(&self.db, application).await {
                    Ok(c) => c.settings,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the provisioning configuration");
                        return;
                    }
                };
                if let Err(e) = super::quarantine::after_cycle(
                    &self.db,
                    application,
                    &settings,
                    &report,
                    OffsetDateTime::now_utc(),
                )
                .await
                {
                    tracing::error!(error = %e, "cannot record the cycle's outcome");
                }
                if let Err(e) = self.announce_quarantine(application).await {
                    tracing::warn!(%application, error = %e, "cannot send the quarantine notification");
                }
            }
            Err(e) => {
                tracing::error!(%application, error = %e, "provisioning cycle failed");
                let retry = OffsetDateTime::now_utc() + time::Duration::minutes(1);
                // The cycle is over: its progress no longer describes anything running.
                let _ = crate::db::query(
                    "UPDATE provisioning_jobs SET next_run_at = ?, current_cycle = NULL WHERE application_id = ?",
                )
                .bind(retry)
                .bind(application)
                .execute(&self.db)
                .await;
            }
        }
        lease.release().await;
    }
}

/// A job's lease while this process runs its cycle: renewed every 10 seconds, reported lost
/// when another process holds it, released when dropped, even by a cycle that panicked.
struct Lease {
    engine: Engine,
    application: Uuid,
    owner: String,
    renewing: tokio::task::JoinHandle<()>,
    lost: tokio::sync::oneshot::Receiver<()>,
    released: bool,
}

impl Lease {
    fn hold(engine: &Engine, application: Uuid, owner: &str) -> Lease {
        let (lose, lost) = tokio::sync::oneshot::channel();
        let renewing = {
            let (engine, owner) = (engine.clone(), owner.to_owned());
            tokio::spawn(async move {
                let mut renewed = OffsetDateTime::now_utc();
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    let now = OffsetDateTime::now_utc();
                    match jobs::renew(&engine.db, application, &owner, now).await {
                        Ok(true) => renewed = now,
                        Ok(false) => break,
                        // The database is away: the lease holds until it expires.
                        Err(e) if now - renewed < jobs::LEASE => {
                            tracing::warn!(%application, error = %e, "cannot renew a provisioning job's lease");
                        }
                        Err(_) => break,
                    }
                }
                let _ = lose.send(());
            })
        };
        Lease {
            engine: engine.clone(),
            application,
            owner: owner.to_owned(),
            renewing,
            lost,
            released: false,
        }
    }

    /// Resolves when another process holds the lease.
    async fn lost(&mut self) {
        if (&mut self.lost).await.is_err() {
            // The renewing task ended without a word: only when it is aborted, on release.
            std::future::pending().await
        }
    }

    async fn release(mut self) {
        self.renewing.abort();
        self.released = true;
        if let Err(e) = jobs::release(&self.engine.db, self.application, &self.owner).await {
            tracing::error!(error = %e, "cannot release a provisioning job's lease");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewing.abort();
        // Outside a runtime (the process ending) the lease simply expires.
        if let (false, Ok(runtime)) = (self.released, tokio::runtime::Handle::try_current()) {
            let (db, application, owner) =
                (self.engine.db.clone(), self.application, self.owner.clone());
            runtime.spawn(async move { jobs::release(&db, application, &owner).await });
        }
    }
}
