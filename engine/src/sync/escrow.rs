//! Escrow (docs/engine.md, Escrow and Failures): an object the target refused or could not take
//! is retried in later cycles, the next at once, then after 1, 2, 4, ... 1,024 minutes, then
//! daily; failures that concern the whole target (credentials, not SCIM, unreachable) stop the
//! cycle instead. Too large an escrowed share of a cycle quarantines the job.

use uuid::Uuid;

use super::{
    books::Books,
    client::ScimError,
    cycle::{Outcome, Stop},
    log::{Entry, Status},
};
use crate::Result;

/// The escrow proportion that quarantines a job, once this many objects were tried.
const ESCROW_SHARE: f64 = 0.4;
const ESCROW_MINIMUM_TRIED: u64 = 50;

/// Objects in a row that find the target unavailable before the cycle gives up for now.
const UNAVAILABLE_IN_A_ROW: u32 = 3;

impl Books {
    /// A completed cycle that escrowed more than 40% of the objects it tried (at least 50):
    /// its work is recorded, and the job goes to quarantine (docs/engine.md, Quarantine).
    pub(super) fn too_many_escrowed(&self) -> Option<Outcome> {
        let tried = self.counts.processed;
        (tried >= ESCROW_MINIMUM_TRIED && self.escrowed as f64 > ESCROW_SHARE * tried as f64)
            .then_some(Outcome::TooManyFailures {
                escrowed: self.escrowed,
                tried,
            })
    }

    pub(super) async fn escrow(
        &mut self,
        source: Uuid,
        object_type: &str,
        error: &str,
    ) -> Result<()> {
        self.escrowed += 1;
        self.escrows.insert(source);
        let attempts: i64 = crate::db::query_scalar(
            "SELECT attempts FROM provisioning_escrows WHERE application_id = ? AND source_id = ?",
        )
        .bind(self.application)
        .bind(source)
        .fetch_optional(&self.db)
        .await?
        .unwrap_or(0);
        // The next cycle first, then 1, 2, 4, ... 1,024 minutes, then a day.
        let delay = if attempts == 0 {
            time::Duration::ZERO
        } else {
            time::Duration::minutes(1i64 << (attempts - 1).min(11)).min(time::Duration::days(1))
        };
        crate::db::query(
            "INSERT INTO provisioning_escrows (application_id, source_id, object_type, attempts, next_attempt_at, last_error) \
             VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (application_id, source_id) DO UPDATE SET \
             attempts = provisioning_escrows.attempts + 1, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error",
        )
        .bind(self.application)
        .bind(source)
        .bind(object_type)
        .bind(self.now + delay)
        .bind(error)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    pub(super) async fn clear_escrow(&mut self, source: Uuid) -> Result<()> {
        if !self.escrows.remove(&source) {
            return Ok(());
        }
        crate::db::query(
            "DELETE FROM provisioning_escrows WHERE application_id = ? AND source_id = ?",
        )
        .bind(self.application)
        .bind(source)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// A failed request: credentials and endpoint problems stop the cycle; others are logged
    /// and escrowed (retried in later cycles with growing delay).
    pub(super) async fn failed(
        &mut self,
        mut entry: Entry,
        error: ScimError,
    ) -> Result<std::result::Result<(), Stop>> {
        entry.status = Status::Failure;
        entry.error_code.get_or_insert_with(|| error.code());
        entry.reason = Some(error.to_string());
        let (source, object_type) = (entry.source_id, entry.object_type);
        self.record(entry);
        // The target as a whole refuses or cannot be reached: the cycle stops, and the object
        // is not escrowed (nothing is wrong with it).
        if matches!(
            error,
            ScimError::Unauthorized { .. } | ScimError::NoEndpoint(_) | ScimError::Unreachable(_)
        ) {
            return Ok(Err(Stop(error)));
        }
        self.escrow(source, object_type, &error.to_string()).await?;
        if matches!(error, ScimError::Unavailable(_)) {
            self.unavailable_in_a_row += 1;
            if self.unavailable_in_a_row >= UNAVAILABLE_IN_A_ROW {
                return Ok(Err(Stop(error)));
            }
        }
        Ok(Ok(()))
    }
}
