//! Disables and deletes, sent at the end of a cycle unless they are more than the
//! accidental-deletion threshold allows: then none is sent, each is logged StagedDelete, and the
//! job waits for Allow deletes (docs/engine.md, Accidental-deletion threshold).

use futures::{StreamExt, stream};

use super::{
    cycle::{Outcome, Run, Stop},
    log::{Action, Entry, ErrorCode, Status},
};
use crate::Result;

impl Run<'_> {
    /// Sends the disables and deletes decided in this cycle, unless they are more than the
    /// accidental-deletion threshold allows.
    pub(super) async fn finish_deprovisioning(&mut self, allowed: bool) -> Result<Outcome> {
        let outcome = self.deprovision(allowed).await;
        self.books.write_all().await?;
        outcome
    }

    pub(super) async fn deprovision(&mut self, allowed: bool) -> Result<Outcome> {
        let Run { ctx, books } = self;
        let ctx = &*ctx;
        let planned = std::mem::take(&mut books.deprovision);
        let threshold = ctx.settings.deletion_threshold;
        let limited = ctx.settings.prevent_accidental_deletion && !allowed;
        if limited && planned.len() as u64 > u64::from(threshold) {
            for item in &planned {
                let mut entry = Entry::new(item.object_type, item.source_id, &item.source_name);
                entry.target_id = Some(item.link.target_id.clone());
                entry.action = Action::StagedDelete;
                entry.status = Status::Skipped;
                entry.error_code = Some(ErrorCode::AccidentalDeletionThreshold);
                entry.reason = Some(format!(
                    "{} disables and deletes are planned, more than the threshold of {threshold}; nothing was sent. Allow deletes to go ahead. ({})",
                    planned.len(),
                    item.reason
                ));
                books.record(entry);
            }
            return Ok(Outcome::DeletesStaged {
                planned: planned.len() as u64,
                threshold,
            });
        }
        let mut sent = stream::iter(
            planned
                .into_iter()
                .map(|item| ctx.deprovision(item))
                .collect::<Vec<_>>(),
        )
        .buffer_unordered(ctx.client.concurrency());
        while let Some(decision) = sent.next().await {
            // Disables and deletes were counted when they were decided.
            let outcome = books.apply(decision).await?;
            books.keep_up().await?;
            if let Err(Stop(e)) = outcome {
                return Ok(Outcome::ended_by(e));
            }
        }
        Ok(Outcome::Completed)
    }
}
