//! One provisioning cycle of one application (docs/engine.md, Cycles): the report types, what a
//! cycle reads (Context) and writes (books.rs), and the order of its steps. Each rule has its
//! file: which objects a cycle visits (selection.rs), scoping, mapping and references to resolve
//! (planning.rs), the send loop (sending.rs) and each object's exchange with the target
//! (export.rs), escrow (escrow.rs), the reference pass (references.rs), the accidental-deletion
//! threshold (deletion_threshold.rs), and what the outcome does to the job (quarantine.rs).
//! Users come first, then groups (whose members are linked users), in batches; disables and
//! deletes wait for the end of the cycle. The watermark moves only once every object it covers
//! is recorded.
use std::{
    collections::{BTreeSet, HashSet},
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use crate::db::Pool;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use super::{
    books::Books,
    client::{Capabilities, Limits, ScimClient, ScimError},
    export::{self, TargetIndex},
    jobs, links,
    log::{ErrorCode, LogWriter},
};
use crate::{
    Engine, Error, Result,
    applications::{
        self,
        gallery::{AuthenticationMethod, Template},
        provisioning::{self, Settings},
    },
    directory::feed::{self},
    mapping::{
        CompiledMappings, Scope,
        source::{GROUP_ATTRIBUTES, USER_ATTRIBUTES},
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CycleKind {
    Initial,
    Incremental,
}

/// Progress, counted in objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub total: u64,
    pub processed: u64,
    pub created: u64,
    pub updated: u64,
    pub disabled: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// A running cycle's progress, written at most twice a second (docs/engine.md, Progress).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub kind: CycleKind,
    #[serde(with = "crate::timestamp")]
    pub started_at: OffsetDateTime,
    pub counts: Counts,
    /// When the counts last changed.
    #[serde(with = "crate::timestamp")]
    pub changed_at: OffsetDateTime,
}

/// How a cycle ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Completed,
    /// More disables and deletes than the threshold: none was sent.
    DeletesStaged {
        planned: u64,
        threshold: u32,
    },
    /// The target refused the credentials or is not SCIM: the cycle stopped.
    Stopped {
        code: ErrorCode,
        reason: String,
    },
    /// The target stopped answering (several objects in a row): the rest waits for the next
    /// cycle, soon, from the same watermark.
    Interrupted {
        reason: String,
    },
    /// More than 40% of the objects tried (at least 50) failed at the target and were escrowed;
    /// the cycle's work is recorded, and the job goes to quarantine.
    TooManyFailures {
        escrowed: u64,
        tried: u64,
    },
}

impl Outcome {
    /// A cycle the target stopped: for now (unavailable, unreachable), or until the
    /// configuration is fixed (credentials, not a SCIM endpoint).
    pub(super) fn ended_by(error: ScimError) -> Outcome {
        match error {
            ScimError::Unavailable(_) | ScimError::Unreachable(_) => Outcome::Interrupted {
                reason: error.to_string(),
            },
            _ => Outcome::Stopped {
                code: error.code(),
                reason: error.to_string(),
            },
        }
    }

    /// What the administrator does about a job this outcome put in quarantine (the blade's
    /// banner, the notification email), in the words of the application's credentials.
    pub fn what_to_do(&self, credentials: AuthenticationMethod) -> &'static str {
        match self {
            Outcome::Completed => "",
            Outcome::Stopped { code, .. } => code.advice_for(credentials).1,
            Outcome::Interrupted { .. } => ErrorCode::TargetUnreachable.advice().1,
            Outcome::DeletesStaged { .. } => ErrorCode::AccidentalDeletionThreshold.advice().1,
            Outcome::TooManyFailures { .. } => {
                "See the failures in the provisioning logs (each with its own recommendation), fix their cause, then Restart provisioning."
            }
        }
    }

    /// The outcome's name, as metrics label it.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Completed => "Completed",
            Outcome::DeletesStaged { .. } => "DeletesStaged",
            Outcome::Stopped { .. } => "Stopped",
            Outcome::Interrupted { .. } => "Interrupted",
            Outcome::TooManyFailures { .. } => "TooManyFailures",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CycleReport {
    pub cycle_id: Uuid,
    pub kind: CycleKind,
    #[serde(with = "crate::timestamp")]
    pub started_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub finished_at: OffsetDateTime,
    pub counts: Counts,
    pub outcome: Outcome,
    /// References waiting for an object that failed (docs/engine.md, References).
    #[serde(default)]
    pub pending_references: u64,
    /// Nothing was left to do: no create, update, disable, delete or failure, and nothing
    /// waiting (a pending reference, an object in escrow).
    pub steady_state: bool,
}

/// Objects scoped and mapped before a batch goes to the target.
pub(super) const BATCH: usize = 500;

/// Why processing an object ended the whole cycle.
pub(super) struct Stop(pub(super) ScimError);

/// A cycle: what it reads, shared by the requests in flight, and what it writes.
pub(super) struct Run<'e> {
    pub(super) ctx: Context<'e>,
    pub(super) books: Books,
}

/// What a cycle reads: configuration, compiled mappings and scope, the target.
pub(super) struct Context<'e> {
    pub(super) engine: &'e Engine,
    pub(super) application: Uuid,
    pub(super) template: &'static Template,
    pub(super) settings: Settings,
    pub(super) users: Option<Arc<CompiledMappings>>,
    pub(super) groups: Option<Arc<CompiledMappings>>,
    pub(super) user_scope: Scope,
    pub(super) group_scope: Scope,
    pub(super) client: ScimClient,
    /// What the target advertises (nothing when the settings say not to use it).
    pub(super) capabilities: Capabilities,
    /// A `/Bulk` request failed: the rest of the cycle creates one by one.
    pub(super) bulk_failed: AtomicBool,
    /// The target's accounts of the objects being visited, listed once for matching (initial
    /// cycles with many to match).
    pub(super) index: Option<TargetIndex>,
    pub(super) now: OffsetDateTime,
}

/// Writes a cycle's progress while it runs, whatever the cycle is waiting for: within half a
/// second of a change and at most twice a second, with the time of the change, until `stop` is
/// sent or dropped (a cycle that fails drops it).
async fn write_progress(
    db: Pool,
    application: Uuid,
    kind: CycleKind,
    started: OffsetDateTime,
    mut counts: watch::Receiver<(Counts, OffsetDateTime)>,
    mut stop: oneshot::Receiver<()>,
) -> Result<()> {
    loop {
        let (counts_now, changed_at) = counts.borrow_and_update().clone();
        let progress = Progress {
            kind,
            started_at: started,
            counts: counts_now,
            changed_at,
        };
        jobs::record_progress(&db, application, &progress).await?;
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        tokio::select! {
            _ = &mut stop => return Ok(()),
            changed = counts.changed() => if changed.is_err() { return Ok(()) },
        }
    }
}

impl Engine {
    /// Everything a cycle (or a provision on demand) needs for `application`, loaded once.
    pub(super) async fn prepare(
        &self,
        application: Uuid,
        now: OffsetDateTime,
        cycle_id: Uuid,
    ) -> Result<Run<'_>> {
        let configuration = provisioning::load(&self.db, application).await?;
        let app = applications::get(&self.db, application)
            .await?
            .ok_or(Error::NotFound {
                kind: "application",
                id: application.to_string(),
            })?;
        let template = app.template();
        let settings = configuration.settings.clone();
        // As stored: an expression saved before the size check fails the objects it cannot
        // map (MappingError) rather than every cycle.
        let compile = |object: &provisioning::ObjectSettings, known, required: &[String]| {
            let required: Vec<&str> = required.iter().map(String::as_str).collect();
            object
                .mappings
                .compile_stored(known, &required)
                .map(Arc::new)
                .map_err(Error::InvalidFields)
        };
        let users = settings
            .users
            .enabled
            .then(|| compile(&settings.users, USER_ATTRIBUTES, &template.users.required))
            .transpose()?;
        let groups = (settings.groups.enabled && template.provisioning.groups_supported)
            .then(|| {
                compile(
                    &settings.groups,
                    GROUP_ATTRIBUTES,
                    &template.groups.required,
                )
            })
            .transpose()?;
        let user_scope = settings
            .users
            .scoping
            .compile(USER_ATTRIBUTES)
            .map_err(Error::InvalidFields)?;
        let group_scope = settings
            .groups
            .scoping
            .compile(GROUP_ATTRIBUTES)
            .map_err(Error::InvalidFields)?;
        let client = self.target_client(application, &settings, now).await?;
        let escrows = crate::db::query_scalar(
            "SELECT source_id FROM provisioning_escrows WHERE application_id = ?",
        )
        .bind(application)
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .collect();
        Ok(Run {
            ctx: Context {
                engine: self,
                application,
                template,
                settings,
                users,
                groups,
                user_scope,
                group_scope,
                client,
                capabilities: Capabilities::default(),
                bulk_failed: AtomicBool::new(false),
                index: None,
                now,
            },
            books: Books {
                db: self.db.clone(),
                application,
                now,
                log: LogWriter::new(application, cycle_id),
                metrics: self.metrics.clone(),
                counts: Counts::default(),
                deprovision: Vec::new(),
                touched_groups: BTreeSet::new(),
                published: watch::Sender::new((Counts::default(), now)),
                unavailable_in_a_row: 0,
                escrowed: 0,
                escrows,
                failed_objects: HashSet::new(),
                references: Vec::new(),
                mapped: HashSet::new(),
                pending_links: Vec::new(),
                writing: None,
                last_entry: None,
            },
        })
    }

    /// The SCIM client of `application`'s target, with its credentials and limits.
    pub(crate) async fn target_client(
        &self,
        application: Uuid,
        settings: &Settings,
        now: OffsetDateTime,
    ) -> Result<ScimClient> {
        let token = match settings.authentication {
            AuthenticationMethod::BearerToken => self
                .provisioning_secret(application, "secret_token")
                .await?
                .unwrap_or_else(|| SecretString::from(String::new())),
            _ => self.access_token(application, now).await?,
        };
        let limits = Limits {
            concurrency: settings.target.concurrency.max(1) as usize,
            rate: settings.target.requests_per_second,
            ..Limits::default()
        };
        Ok(
            ScimClient::new(&self.outbound, &settings.scim_base_url, token, limits)
                .counted(self.metrics.clone(), application),
        )
    }

    /// Runs one cycle of `application` now. The caller holds the job's lease.
    pub async fn run_cycle(&self, application: Uuid, now: OffsetDateTime) -> Result<CycleReport> {
        let started = now;
        let cycle_id = Uuid::new_v4();
        let configuration = provisioning::load(&self.db, application).await?;
        let kind = if configuration.needs_initial_cycle {
            CycleKind::Initial
        } else {
            CycleKind::Incremental
        };
        let job = jobs::load(&self.db, application).await?;
        // Everything up to here is covered once the cycle completes.
        let head = feed::latest(&self.db).await?;
        let mut run = self.prepare(application, now, cycle_id).await?;
        let (user_ids, group_ids) = match kind {
            CycleKind::Initial => run.ctx.everything().await?,
            CycleKind::Incremental => run.ctx.changed_since(job.watermark, head).await?,
        };
        run.books.counts.total = (user_ids.len() + group_ids.len()) as u64;
        run.books.publish();
        let (stop_progress, stopped_progress) = oneshot::channel();
        let progress = tokio::spawn(write_progress(
            self.db.clone(),
            application,
            kind,
            started,
            run.books.published.subscribe(),
            stopped_progress,
        ));
        if !(user_ids.is_empty() && group_ids.is_empty()) {
            run.ctx.discover().await;
        }

        let mut stopped = None;
        if let Some(mappings) = run.ctx.users.clone() {
            run.ctx.index = run.ctx.listing(kind, "User", &user_ids).await?;
            for batch in run.ctx.managers_first(&user_ids).await? {
                if let Err(Stop(e)) = run.users(&mappings, &batch).await? {
                    stopped = Some(e);
                    break;
                }
            }
        }
        if let (None, Some(mappings)) = (&stopped, run.ctx.groups.clone()) {
            let mut all_groups: BTreeSet<Uuid> = group_ids.iter().copied().collect();
            all_groups.extend(run.books.touched_groups.iter().copied());
            run.books.counts.total += (all_groups.len() - group_ids.len()) as u64;
            let all_groups: Vec<Uuid> = all_groups.into_iter().collect();
            run.ctx.index = run.ctx.listing(kind, "Group", &all_groups).await?;
            for batch in all_groups.chunks(BATCH) {
                if let Err(Stop(e)) = run.groups(&mappings, batch).await? {
                    stopped = Some(e);
                    break;
                }
            }
        }
        // The reference pass, once every object of the cycle had its chance (references.rs).
        let mut pending_references = 0;
        if stopped.is_none() {
            let (pending, sent) = run.send_references().await?;
            pending_references = pending;
            if let Err(Stop(e)) = sent {
                stopped = Some(e);
            }
        }
        let outcome = match stopped {
            Some(e) => Outcome::ended_by(e),
            None => run.finish_deprovisioning(job.deletes_allowed).await?,
        };
        let outcome = match outcome {
            Outcome::Completed => run.books.too_many_escrowed().unwrap_or(outcome),
            other => other,
        };
        run.books.write_all().await?;
        // The last progress write lands before the report replaces it.
        let _ = stop_progress.send(());
        if let Ok(written) = progress.await {
            written?;
        }
        let counts = run.books.counts.clone();
        if matches!(
            outcome,
            Outcome::Completed | Outcome::TooManyFailures { .. }
        ) {
            jobs::complete_cycle(&self.db, application, head, kind == CycleKind::Initial).await?;
        }
        // Nothing left to do: no change, no failure, nothing waiting (a reference, or an object
        // in escrow, such as a group's member whose account failed).
        let steady_state = outcome == Outcome::Completed
            && pending_references == 0
            && run.books.escrows.is_empty()
            && counts.created + counts.updated + counts.disabled + counts.deleted + counts.failed
                == 0;
        let report = CycleReport {
            cycle_id,
            kind,
            started_at: started,
            finished_at: OffsetDateTime::now_utc(),
            counts,
            outcome,
            pending_references,
            steady_state,
        };
        jobs::record_report(&self.db, application, &report).await?;
        self.metrics.cycle(
            application,
            &format!("{:?}", report.kind),
            report.outcome.name(),
        );
        Ok(report)
    }
}

impl Context<'_> {
    /// Reads what the target advertises. Whether it can filter is always honoured (matching
    /// depends on it); the rest only speeds cycles up, and only when the settings allow.
    pub(super) async fn discover(&mut self) {
        let advertised = self.client.capabilities().await;
        self.capabilities = if self.settings.target.use_capabilities {
            advertised
        } else {
            Capabilities {
                filter_unsupported: advertised.filter_unsupported,
                ..Capabilities::default()
            }
        };
    }

    /// The target's accounts of `object_type` listed once for matching (docs/engine.md,
    /// Matching): always when the target cannot filter and some of `ids` have no link yet; on
    /// an initial cycle, when that takes fewer requests than one filter query per object
    /// without a link.
    pub(super) async fn listing(
        &self,
        kind: CycleKind,
        object_type: &'static str,
        ids: &[Uuid],
    ) -> Result<Option<TargetIndex>> {
        let mappings = match object_type {
            "User" => self.users.as_ref(),
            _ => self.groups.as_ref(),
        };
        let must = self.capabilities.filter_unsupported;
        let Some(mappings) = mappings.filter(|_| {
            must || (kind == CycleKind::Initial && self.settings.target.use_capabilities)
        }) else {
            return Ok(None);
        };
        let db = &self.engine.db;
        let unlinked = match kind {
            // Every linked object is among an initial cycle's.
            CycleKind::Initial => ids
                .len()
                .saturating_sub(links::count(db, self.application, object_type).await?),
            CycleKind::Incremental => {
                ids.len() - links::count_among(db, self.application, ids).await?
            }
        };
        let page_size = self.capabilities.max_results.unwrap_or(100).min(1000);
        let paths: Vec<_> = mappings
            .rules()
            .iter()
            .filter(|r| r.matching_precedence.is_some())
            .map(|r| r.target.clone())
            .collect();
        if unlinked == 0 || paths.is_empty() {
            return Ok(None);
        }
        let resource_type = export::resource_type(object_type);
        if !must {
            let Ok((total, _)) = self.client.page(resource_type, 1, 0, false).await else {
                return Ok(None);
            };
            if total.div_ceil(page_size) >= unlinked {
                return Ok(None);
            }
        }
        let index = TargetIndex::list(
            &self.client,
            object_type,
            &paths,
            page_size,
            self.capabilities.sort,
        )
        .await;
        if let Some(index) = &index {
            tracing::debug!(
                accounts = index.len(),
                object_type,
                "listed the target for matching"
            );
        }
        Ok(index)
    }
}
