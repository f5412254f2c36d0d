//! What a cycle writes while it runs: links and log entries (in batches, in the background),
//! counts and progress, and the disables and deletes it decided, for the end of the cycle.

use std::{
    collections::{BTreeSet, HashSet},
    time::Instant,
};

use crate::db::Pool;
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    cycle::{Counts, Stop},
    export::{Decision, Deprovisioning, LinkChange},
    links::{self, Link},
    log::{Action, Entry, ErrorCode, LogWriter, Status},
    references::Deferred,
};
use crate::{Result, mapping::MappingError};

/// What a cycle writes: links, escrows, log entries, progress.
pub(super) struct Books {
    pub(super) db: Pool,
    pub(super) application: Uuid,
    pub(super) now: OffsetDateTime,
    pub(super) log: LogWriter,
    pub(super) metrics: crate::metrics::Metrics,
    pub(super) counts: Counts,
    pub(super) deprovision: Vec<Deprovisioning>,
    pub(super) touched_groups: BTreeSet<Uuid>,
    /// The counts as of their last change, and when that was, for the progress writer.
    pub(super) published: watch::Sender<(Counts, OffsetDateTime)>,
    pub(super) unavailable_in_a_row: u32,
    /// Objects escrowed in this cycle (data problems such as a missing required attribute are
    /// not, and do not count).
    pub(super) escrowed: u64,
    /// Objects with an escrow row: only these need clearing when they succeed.
    pub(super) escrows: HashSet<Uuid>,
    /// Objects that failed in this cycle.
    pub(super) failed_objects: HashSet<Uuid>,
    /// References left out of their object's request, for the reference pass.
    pub(super) references: Vec<Deferred>,
    /// Objects mapped in this cycle: their references are as this cycle found them, and what
    /// earlier cycles left pending for them no longer counts.
    pub(super) mapped: HashSet<Uuid>,
    /// Links decided and not yet written. Links and log entries go together, 200 at a time
    /// and at the end of each batch, in one transaction in the background, so that recording
    /// answers never holds up the requests in flight. A crash in between is healed by matching.
    pub(super) pending_links: Vec<(Uuid, &'static str, LinkChange)>,
    /// The write in flight.
    pub(super) writing: Option<tokio::task::JoinHandle<Result<()>>>,
    /// The last decision recorded (what provision on demand reports).
    pub(super) last_entry: Option<Entry>,
}

impl Books {
    /// Hands the counts to the progress writer if they changed.
    pub(super) fn publish(&self) {
        self.published.send_if_modified(|(counts, at)| {
            if *counts == self.counts {
                return false;
            }
            *counts = self.counts.clone();
            *at = OffsetDateTime::now_utc();
            true
        });
    }

    /// Counts one processed object; progress is written at least every half second.
    pub(super) async fn tick(&mut self) -> Result<()> {
        self.counts.processed += 1;
        self.keep_up().await
    }

    /// Starts writing what piled up, and writes the progress, when it is time.
    pub(super) async fn keep_up(&mut self) -> Result<()> {
        if self.log.is_full() || self.pending_links.len() >= 200 {
            self.persist().await?;
        }
        self.publish();
        Ok(())
    }

    pub(super) fn record(&mut self, entry: Entry) {
        self.metrics.object(
            self.application,
            entry.action.as_str(),
            entry.status.as_str(),
        );
        if entry.status != Status::Failure {
            self.unavailable_in_a_row = 0;
        }
        if entry.status == Status::Failure {
            self.failed_objects.insert(entry.source_id);
        }
        match (entry.status, entry.action) {
            (Status::Failure, _) => self.counts.failed += 1,
            (Status::Skipped, _) => self.counts.skipped += 1,
            (_, Action::Create) => self.counts.created += 1,
            (_, Action::Update) => self.counts.updated += 1,
            (_, Action::Disable) => self.counts.disabled += 1,
            (_, Action::Delete) => self.counts.deleted += 1,
            _ => {}
        }
        self.last_entry = Some(entry.clone());
        self.log.push(entry);
    }

    /// Records an object the target answered for, and counts it.
    pub(super) async fn settle(
        &mut self,
        decision: Decision,
    ) -> Result<std::result::Result<(), Stop>> {
        let outcome = self.apply(decision).await?;
        self.tick().await?;
        Ok(outcome)
    }

    /// Records a decision: its link, then its entry (and escrow when it failed).
    pub(super) async fn apply(
        &mut self,
        decision: Decision,
    ) -> Result<std::result::Result<(), Stop>> {
        let Decision { entry, link, error } = decision;
        let source = entry.source_id;
        if !matches!(link, LinkChange::Keep) {
            self.pending_links.push((source, entry.object_type, link));
        }
        let outcome = match error {
            None => {
                self.clear_escrow(source).await?;
                self.record(entry);
                Ok(())
            }
            Some(error) => self.failed(entry, error).await?,
        };
        Ok(outcome)
    }

    /// Starts writing the pending links and log entries in the background, once the previous
    /// write is done.
    pub(super) async fn persist(&mut self) -> Result<()> {
        self.persisted().await?;
        let links = std::mem::take(&mut self.pending_links);
        let entries = self.log.take();
        if links.is_empty() && entries.is_empty() {
            return Ok(());
        }
        let (db, application) = (self.db.clone(), self.application);
        self.writing = Some(tokio::spawn(async move {
            let mut tx = crate::db::begin_write(&db).await?;
            for (source, object_type, change) in links {
                match change {
                    LinkChange::Keep => {}
                    LinkChange::Put(link) => {
                        links::put(&mut tx, application, source, object_type, &link).await?
                    }
                    LinkChange::Remove => links::remove(&mut tx, application, source).await?,
                }
            }
            entries.write(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        }));
        Ok(())
    }

    /// Waits for the write in flight.
    pub(super) async fn persisted(&mut self) -> Result<()> {
        match self.writing.take() {
            Some(writing) => writing
                .await
                .expect("writing links and log entries does not panic"),
            None => Ok(()),
        }
    }

    /// Writes everything pending and waits until it is written.
    pub(super) async fn write_all(&mut self) -> Result<()> {
        self.persist().await?;
        self.persisted().await
    }

    /// A mapping that cannot give the target what it needs: a data problem, retried when the
    /// object changes rather than by escrow.
    pub(super) async fn mapping_failed(
        &mut self,
        mut entry: Entry,
        linked: bool,
        error: &MappingError,
        started: Instant,
    ) -> Result<()> {
        entry.action = if linked {
            Action::Update
        } else {
            Action::Create
        };
        entry.status = Status::Failure;
        entry.error_code = Some(match error {
            MappingError::MissingRequired(_) => ErrorCode::MissingRequiredAttribute,
            _ => ErrorCode::MappingError,
        });
        entry.reason = Some(error.to_string());
        entry.duration_ms = started.elapsed().as_millis() as i64;
        let source = entry.source_id;
        self.record(entry);
        self.clear_escrow(source).await?;
        self.tick().await
    }

    /// An object out of scope: its account (if enabled) is disabled or deleted at the end of
    /// the cycle; without one, it is Skipped with the entry's reason.
    pub(super) fn out_of_scope(
        &mut self,
        mut entry: Entry,
        link: Option<Link>,
        started: Instant,
        delete: impl FnOnce() -> bool,
    ) {
        match link {
            Some(link) if !link.disabled || entry.object_type == "Group" => {
                self.deprovision.push(Deprovisioning {
                    object_type: entry.object_type,
                    source_id: entry.source_id,
                    source_name: entry.source_name,
                    delete: delete(),
                    link,
                    reason: entry.reason.unwrap_or_default(),
                })
            }
            Some(_) => {}
            None => {
                entry.action = Action::Other;
                entry.status = Status::Skipped;
                entry.duration_ms = started.elapsed().as_millis() as i64;
                self.record(entry);
            }
        }
    }

    /// An object deleted permanently from the directory: its account is deleted at the end of
    /// the cycle, if it has one.
    pub(super) fn deleted_from_directory(
        &mut self,
        object_type: &'static str,
        id: Uuid,
        name: String,
        link: Option<Link>,
    ) {
        if let Some(link) = link {
            self.deprovision.push(Deprovisioning {
                object_type,
                source_id: id,
                source_name: name,
                link,
                delete: true,
                reason: format!(
                    "The {} was deleted permanently from the directory.",
                    object_type.to_lowercase()
                ),
            });
        }
    }
}
