//! References (docs/engine.md, References): an attribute that names another directory object,
//! such as a user's manager, is sent as that object's id in the target, so it can only go once
//! the object has an account there. A reference whose object has no account yet is deferred, and
//! the reference pass at the end of the cycle sends it once the object exists (created
//! earlier in the same cycle, often in a later batch). A reference whose object failed (escrowed
//! or failed in this cycle) stays pending across cycles, and a cycle with pending references is
//! not in steady state, until its object is mapped again (its references are then as that cycle
//! finds them). A reference to an object the application does not provision is dropped, as Entra
//! does.

use std::collections::{HashMap, HashSet};

use crate::db::Pool;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    cycle::{Run, Stop},
    export::{self, Decision, LinkChange},
    links::{self, Link},
    log::{Action, Entry},
};
use crate::{
    Result,
    mapping::{
        Value as Mapped,
        target::{self, TargetPath},
    },
};

/// A reference that could not be sent with its object: the referenced object had no account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Deferred {
    pub(super) object_type: &'static str,
    pub(super) source_id: Uuid,
    pub(super) source_name: String,
    /// The target attribute (`manager`, or an extension's `urn:...:User:manager`).
    pub(super) path: TargetPath,
    pub(super) referenced: Uuid,
}

/// What a reference at `path` sends once its object's account is `target_id`: a manager as
/// `{"value": id}`, any other reference as the id itself.
pub(super) fn target_value(path: &TargetPath, target_id: String) -> Mapped {
    if path.attribute.eq_ignore_ascii_case("manager") {
        Mapped::Object(vec![("value", Mapped::Text(target_id))])
    } else {
        Mapped::Text(target_id)
    }
}

/// References left pending by earlier cycles.
async fn load(db: &Pool, application: Uuid) -> Result<Vec<Deferred>> {
    let rows: Vec<(Uuid, String, String, String, Uuid)> = crate::db::query_as(
        "SELECT source_id, object_type, source_name, path, referenced_id \
         FROM provisioning_pending_references WHERE application_id = ?",
    )
    .bind(application)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(source_id, object_type, source_name, path, referenced)| {
            Some(Deferred {
                object_type: if object_type == "Group" {
                    "Group"
                } else {
                    "User"
                },
                source_id,
                source_name,
                path: TargetPath::parse(&path).ok()?,
                referenced,
            })
        })
        .collect())
}

/// Replaces the application's pending references with `pending`.
async fn store(db: &Pool, application: Uuid, pending: &[Deferred]) -> Result<()> {
    let mut tx = crate::db::begin_write(db).await?;
    crate::db::query("DELETE FROM provisioning_pending_references WHERE application_id = ?")
        .bind(application)
        .execute(&mut tx)
        .await?;
    for reference in pending {
        crate::db::query(
            "INSERT INTO provisioning_pending_references \
             (application_id, source_id, object_type, source_name, path, referenced_id, since) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (application_id, source_id, path) DO UPDATE SET \
             object_type = excluded.object_type, source_name = excluded.source_name, \
             referenced_id = excluded.referenced_id, since = excluded.since",
        )
        .bind(application)
        .bind(reference.source_id)
        .bind(reference.object_type)
        .bind(&reference.source_name)
        .bind(reference.path.to_string())
        .bind(reference.referenced)
        .bind(OffsetDateTime::now_utc())
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

impl Run<'_> {
    /// The reference pass: sends the references deferred in this cycle and those pending from
    /// earlier ones whose object now has an account, and keeps pending those whose object
    /// failed. Returns how many stay pending.
    pub(super) async fn send_references(&mut self) -> Result<(u64, std::result::Result<(), Stop>)> {
        let db = self.ctx.engine.db.clone();
        let application = self.ctx.application;
        let mut deferred = std::mem::take(&mut self.books.references);
        let earlier = load(&db, application).await?;
        let had_pending = !earlier.is_empty();
        deferred.extend(
            earlier
                .into_iter()
                .filter(|d| !self.books.mapped.contains(&d.source_id)),
        );
        let mut seen = HashSet::new();
        deferred.retain(|d| seen.insert((d.source_id, d.path.to_string().to_lowercase())));
        if deferred.is_empty() {
            if had_pending {
                store(&db, application, &[]).await?;
            }
            return Ok((0, Ok(())));
        }
        let ids: Vec<Uuid> = deferred
            .iter()
            .flat_map(|d| [d.source_id, d.referenced])
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut links: HashMap<Uuid, Link> = HashMap::new();
        for chunk in ids.chunks(500) {
            links.extend(links::get_many(&db, application, chunk).await?);
        }
        let mut pending = Vec::new();
        let mut stopped = Ok(());
        for reference in deferred {
            let referenced = links
                .get(&reference.referenced)
                .map(|l| l.target_id.clone());
            let (Some(source), Some(referenced)) =
                (links.get_mut(&reference.source_id), referenced)
            else {
                // The object itself has no account: its next attempt defers the reference
                // again. The referenced object has none: pending while it failed, else it is
                // not provisioned, and the reference is not sent.
                let failed = self.books.failed_objects.contains(&reference.referenced)
                    || self.books.escrows.contains(&reference.referenced);
                if links.contains_key(&reference.source_id) && failed {
                    pending.push(reference);
                }
                continue;
            };
            if stopped.is_err() {
                pending.push(reference);
                continue;
            }
            let value = target_value(&reference.path, referenced);
            let decision = self.ctx.send_reference(&reference, source, value).await;
            if decision.error.is_some() {
                pending.push(reference.clone());
            }
            if let LinkChange::Put(link) = &decision.link {
                *source = link.clone();
            }
            stopped = self.books.apply(decision).await?;
            self.books.keep_up().await?;
        }
        store(&db, application, &pending).await?;
        Ok((pending.len() as u64, stopped))
    }
}

impl super::cycle::Context<'_> {
    /// One PATCH that sets a deferred reference on its object's account.
    async fn send_reference(&self, reference: &Deferred, link: &Link, value: Mapped) -> Decision {
        let started = std::time::Instant::now();
        let mut entry = Entry::new(
            reference.object_type,
            reference.source_id,
            &reference.source_name,
        );
        entry.target_id = Some(link.target_id.clone());
        entry.action = Action::Update;
        entry.steps.push("Reference".into());
        let path = reference.path.to_string();
        let old = target::value_at(&link.exported, &reference.path)
            .cloned()
            .unwrap_or(Value::Null);
        entry.modified = vec![(path.clone(), old, value.to_json())];
        entry.reason = Some(
            "The referenced object has its account now: the reference deferred when this object was sent goes now.".into(),
        );
        let operation = json!({ "op": "replace", "path": path, "value": value.to_json() });
        let sent = self
            .client
            .patch(
                export::resource_type(reference.object_type),
                &link.target_id,
                vec![operation],
            )
            .await;
        entry.duration_ms = started.elapsed().as_millis() as i64;
        match sent {
            Ok(()) => {
                // What was sent joins what the link says the account holds.
                let sent = target::resource(crate::scim::USER, [(&reference.path, &value)]);
                let link = Link {
                    exported: export::merge(link.exported.clone(), sent),
                    ..link.clone()
                };
                Decision {
                    entry,
                    link: LinkChange::Put(link),
                    error: None,
                }
            }
            Err(error) => Decision {
                entry,
                link: LinkChange::Keep,
                error: Some(error),
            },
        }
    }
}
