//! The send loop: a batch goes to the target many requests at once, in waves (look for the
//! accounts, then update or create them; `/Bulk` creates at the end), and each decision is
//! recorded as it comes back (docs/engine.md, Creates and updates, Bulk).

use futures::{StreamExt, stream};

use super::{
    cycle::{BATCH, Run, Stop},
    export::{self, Created, Export, Located, Synced},
};
use crate::Result;

impl Run<'_> {
    /// Sends a batch to the target, many requests at once, in waves: a wave's accounts are
    /// looked for, then updated or created. A target answers a run of like requests faster
    /// than the two mixed, and a wave is about a second of requests, so that decisions (and
    /// the progress bar) keep coming. With `/Bulk`, the missing accounts are created together
    /// at the end. Each decision is recorded as it comes back; the batch's links are written
    /// before it ends.
    pub(super) async fn send(
        &mut self,
        exports: Vec<Export<'_>>,
    ) -> Result<std::result::Result<(), Stop>> {
        let outcome = self.exchange(exports).await;
        self.books.write_all().await?;
        outcome
    }

    pub(super) async fn exchange(
        &mut self,
        exports: Vec<Export<'_>>,
    ) -> Result<std::result::Result<(), Stop>> {
        let Run { ctx, books } = self;
        let ctx = &*ctx;
        let concurrency = ctx.client.concurrency();
        let bulk = ctx.capabilities.bulk.filter(|_| {
            exports.len() > 1 && !ctx.bulk_failed.load(std::sync::atomic::Ordering::Relaxed)
        });
        let mut missing = Vec::new();
        let mut exports = exports.into_iter();
        loop {
            let wave: Vec<_> = exports
                .by_ref()
                .take(ctx.client.per_second().clamp(concurrency, BATCH))
                .map(|e| ctx.locate(e))
                .collect();
            if wave.is_empty() {
                break;
            }
            let mut found = Vec::new();
            let mut looking = stream::iter(wave).buffer_unordered(concurrency);
            while let Some(located) = looking.next().await {
                match located {
                    Located::Found(export, account) => found.push((export, account)),
                    Located::Failed(decision) => {
                        if let Err(stop) = books.settle(decision).await? {
                            return Ok(Err(stop));
                        }
                    }
                }
            }
            drop(looking);
            let mut written = stream::iter(
                found
                    .into_iter()
                    .map(|(export, account)| ctx.write(export, account, bulk.is_some()))
                    .collect::<Vec<_>>(),
            )
            .buffer_unordered(concurrency);
            while let Some(written) = written.next().await {
                match written? {
                    Synced::Done(decision) => {
                        if let Err(stop) = books.settle(decision).await? {
                            return Ok(Err(stop));
                        }
                    }
                    Synced::ToCreate(export) => missing.push(export),
                }
            }
        }
        let Some(limits) = bulk else {
            return Ok(Ok(()));
        };
        // Bulk requests go one at a time: each carries many objects already, and a target
        // works through several large requests at once more slowly, not faster.
        let mut conflicts = Vec::new();
        for chunk in export::bulk_chunks(missing, limits) {
            for created in ctx.bulk_create(chunk).await? {
                match created {
                    Created::Done(decision) => {
                        if let Err(stop) = books.settle(decision).await? {
                            return Ok(Err(stop));
                        }
                    }
                    Created::Conflict(export) => conflicts.push(export),
                }
            }
        }
        let mut rematched = stream::iter(
            conflicts
                .into_iter()
                .map(|e| ctx.after_conflict(e))
                .collect::<Vec<_>>(),
        )
        .buffer_unordered(concurrency);
        while let Some(decision) = rematched.next().await {
            if let Err(stop) = books.settle(decision?).await? {
                return Ok(Err(stop));
            }
        }
        Ok(Ok(()))
    }
}
