//! A reproducible volume of provisioning logs for measurements: N entries spread over the last
//! days, in cycles of a few hundred decisions each, spread over the existing applications, with
//! the mix a real deployment shows (mostly updates and creates, some skips, a few failures with
//! their error codes, disables and deletes). The same seed gives the same entries.

use std::time::Instant;

use crate::db::QueryBuilder;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Action, Status};
use crate::{
    Engine, Error, Result,
    directory::generator::{FAMILY, GIVEN, TITLES, ascii},
};

#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub entries: u64,
    /// The entries are spread evenly over this many days before now.
    pub days: u32,
    pub seed: u64,
}

/// Identities the entries are about: few enough that each appears in many cycles.
const IDENTITIES: usize = 20_000;
/// Entries per generated cycle.
const CYCLE: u64 = 400;
/// Rows per INSERT statement (17 parameters each, far under SQLite's limit).
const ROWS: usize = 500;

impl Engine {
    /// Writes `spec.entries` entries; answers how long it took in seconds.
    pub async fn generate_provisioning_logs(&self, spec: Spec) -> Result<f64> {
        let started = Instant::now();
        let applications: Vec<Uuid> =
            crate::db::query_scalar("SELECT id FROM applications ORDER BY id")
                .fetch_all(&self.db)
                .await?;
        if applications.is_empty() {
            return Err(Error::invalid(
                "applications",
                "there is no application to write logs for: add one first",
            ));
        }
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let identities: Vec<(Uuid, String)> = (0..IDENTITIES)
            .map(|n| {
                let given = GIVEN.choose(&mut rng).copied().unwrap_or("Ada");
                let family = FAMILY.choose(&mut rng).copied().unwrap_or("Lovelace");
                let upn = format!(
                    "{}.{}{n}@contoso.com",
                    ascii(given).to_lowercase(),
                    ascii(family).to_lowercase()
                );
                (Uuid::from_u128(rng.r#gen()), upn)
            })
            .collect();
        let end = OffsetDateTime::now_utc();
        let span = Duration::days(i64::from(spec.days.max(1)));
        let step = span / (spec.entries.max(1) as f64);
        let mut written = 0u64;
        let mut cycle = (Uuid::nil(), Uuid::nil());
        while written < spec.entries {
            let mut tx = crate::db::begin_write(&self.db).await?;
            for _ in 0..100 {
                let count = (spec.entries - written).min(ROWS as u64);
                if count == 0 {
                    break;
                }
                let mut rows = Vec::with_capacity(count as usize);
                for n in written..written + count {
                    if n % CYCLE == 0 {
                        cycle = (
                            Uuid::from_u128(rng.r#gen()),
                            *applications.choose(&mut rng).unwrap_or(&applications[0]),
                        );
                    }
                    let at = end - span + step * (n as f64);
                    let (id, name) = identities.choose(&mut rng).cloned().unwrap_or_default();
                    rows.push((at, cycle, id, name, decision(&mut rng)));
                }
                let mut insert = QueryBuilder::new(
                    "INSERT INTO provisioning_logs (application_id, at, cycle_id, change_id, object_type, source_id, \
                     source_name, target_id, action, status, steps, modified, error_code, reason, duration_ms) ",
                );
                insert.push_values(rows, |mut b, (at, (cycle_id, app), id, name, d)| {
                    b.push_bind(app)
                        .push_bind(at)
                        .push_bind(cycle_id)
                        .push_bind(Uuid::from_u128(
                            id.as_u128() ^ at.unix_timestamp_nanos() as u128,
                        ))
                        .push_bind("User")
                        .push_bind(id)
                        .push_bind(name)
                        .push_bind(
                            (d.action != Action::Create || d.status == Status::Success)
                                .then(|| id.simple().to_string()),
                        )
                        .push_bind(d.action)
                        .push_bind(d.status)
                        .push_bind(sqlx::types::Json(d.steps))
                        .push_bind(sqlx::types::Json(d.modified))
                        .push_bind(d.error_code)
                        .push_bind(d.reason)
                        .push_bind(d.duration_ms);
                });
                insert.build().execute(&mut tx).await?;
                written += count;
            }
            tx.commit().await?;
        }
        Ok(started.elapsed().as_secs_f64())
    }
}

struct Decision {
    action: Action,
    status: Status,
    steps: Vec<&'static str>,
    modified: serde_json::Value,
    error_code: Option<&'static str>,
    reason: Option<String>,
    duration_ms: i64,
}

/// One decision with a deployment's usual odds.
fn decision(rng: &mut StdRng) -> Decision {
    let roll: f64 = rng.r#gen();
    let duration_ms = rng.gen_range(3..400);
    let title = |rng: &mut StdRng| TITLES.choose(rng).copied().unwrap_or("Engineer");
    let mut d = Decision {
        action: Action::Update,
        status: Status::Success,
        steps: vec!["Scope", "Mapping", "Match", "Update"],
        modified: json!([{ "attribute": "title", "old": title(rng), "new": title(rng) }]),
        error_code: None,
        reason: None,
        duration_ms,
    };
    if roll < 0.30 {
        d.action = Action::Create;
        d.steps = vec!["Scope", "Mapping", "Match", "Create"];
        d.modified = json!([{ "attribute": "userName", "old": null, "new": "created" }]);
    } else if roll < 0.38 {
        d.action = Action::Disable;
        d.steps = vec!["Scope", "Match", "Disable"];
        d.modified = json!([{ "attribute": "active", "old": true, "new": false }]);
    } else if roll < 0.40 {
        d.action = Action::Delete;
        d.steps = vec!["Scope", "Match", "Delete"];
        d.modified = json!([]);
    } else if roll < 0.50 {
        d.action = Action::Other;
        d.status = Status::Skipped;
        d.steps = vec!["Scope"];
        d.modified = json!([]);
        d.error_code = Some("NotInScope");
        d.reason = Some("assigned only with Default Access: not effectively entitled".into());
    } else if roll < 0.55 {
        d.status = Status::Failure;
        d.modified = json!([]);
        let (code, reason) = *[
            (
                "TargetUnavailable",
                "the target answered HTTP 503 through every retry",
            ),
            (
                "MissingRequiredAttribute",
                "the required attribute name.familyName has no value",
            ),
            (
                "TargetRefused",
                "the target refused the request (HTTP 400): invalid value for title",
            ),
            (
                "DuplicateTargetEntries",
                "2 accounts in the target match userName",
            ),
        ]
        .choose(rng)
        .unwrap_or(&("TargetUnavailable", "timeout"));
        d.error_code = Some(code);
        d.reason = Some(reason.to_owned());
    } else if roll < 0.56 {
        d.status = Status::Warning;
        d.reason = Some("the target ignored the attribute preferredLanguage".into());
    }
    d
}
