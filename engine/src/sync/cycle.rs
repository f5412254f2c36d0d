//! One provisioning cycle of one application, as docs/engine.md, Cycles, says.
//! Initial cycles visit every object in scope and every linked object; incremental cycles visit
//! the objects the change feed names since the watermark, and escrowed objects that are due.
//! Users come first, then groups (whose members are linked users), in batches: each object of a
//! batch is scoped and mapped here, then the batch goes to the target many requests at once
//! (export.rs), and each decision is recorded (link, escrow, one log entry) as it comes back.
//! Disables and deletes wait for the end of the cycle: more than the accidental-deletion
//! threshold and none is sent (StagedDelete). The watermark moves only once every object it
//! covers is recorded.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::{Arc, atomic::AtomicBool},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use rand::thread_rng;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use time::OffsetDateTime;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use super::{
    client::{Capabilities, Limits, ScimClient, ScimError},
    export::{
        self, Created, Decision, Deprovisioning, Export, LinkChange, Located, Synced, TargetIndex,
    },
    jobs,
    links::{self, Link},
    log::{Action, Entry, ErrorCode, LogWriter, Status},
    references::{self, Deferred},
};
use crate::{
    Engine, Error, Result,
    applications::{
        self,
        gallery::{AuthenticationMethod, Deprovision, Template},
        provisioning::{self, Scope as SyncScope, Settings},
        roles::DEFAULT_ACCESS,
    },
    directory::{
        feed::{self, ChangeKind, ObjectType},
        groups::{self, Group},
        users::{self, User},
    },
    mapping::{
        AppRoleAssignment, CompiledMappings, Environment, GroupSource, MappingError, Operation,
        Scope, UserSource, Value as Mapped,
        attribute_mappings::MappedAttribute,
        source::{GROUP_ATTRIBUTES, Source, USER_ATTRIBUTES},
        target,
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
    fn ended_by(error: ScimError) -> Outcome {
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
    /// banner, the notification email).
    pub fn what_to_do(&self) -> &'static str {
        match self {
            Outcome::Completed => "",
            Outcome::Stopped { code, .. } => code.advice().1,
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

/// The escrow proportion that quarantines a job, once this many objects were tried.
const ESCROW_SHARE: f64 = 0.4;
const ESCROW_MINIMUM_TRIED: u64 = 50;

/// Objects in a row that find the target unavailable before the cycle gives up for now.
const UNAVAILABLE_IN_A_ROW: u32 = 3;

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
    /// Nothing was left to do: no create, update, disable, delete, failure or pending
    /// reference.
    pub steady_state: bool,
}

/// Objects scoped and mapped before a batch goes to the target.
const BATCH: usize = 500;

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
    user_scope: Scope,
    group_scope: Scope,
    pub(super) client: ScimClient,
    /// What the target advertises (nothing when the settings say not to use it).
    pub(super) capabilities: Capabilities,
    /// A `/Bulk` request failed: the rest of the cycle creates one by one.
    pub(super) bulk_failed: AtomicBool,
    /// The target's accounts of the objects being visited, listed once for matching (initial
    /// cycles with many to match).
    pub(super) index: Option<TargetIndex>,
    now: OffsetDateTime,
}

/// Writes a cycle's progress while it runs, whatever the cycle is waiting for: within half a
/// second of a change and at most twice a second, with the time of the change, until `stop` is
/// sent or dropped (a cycle that fails drops it).
async fn write_progress(
    db: SqlitePool,
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

/// What a cycle writes: links, escrows, log entries, progress.
pub(super) struct Books {
    db: SqlitePool,
    application: Uuid,
    now: OffsetDateTime,
    pub(super) log: LogWriter,
    metrics: crate::metrics::Metrics,
    counts: Counts,
    deprovision: Vec<Deprovisioning>,
    touched_groups: BTreeSet<Uuid>,
    /// The counts as of their last change, and when that was, for the progress writer.
    published: watch::Sender<(Counts, OffsetDateTime)>,
    unavailable_in_a_row: u32,
    /// Objects escrowed in this cycle (data problems such as a missing required attribute are
    /// not, and do not count).
    escrowed: u64,
    /// Objects with an escrow row: only these need clearing when they succeed.
    pub(super) escrows: HashSet<Uuid>,
    /// Objects that failed in this cycle.
    pub(super) failed_objects: HashSet<Uuid>,
    /// References left out of their object's request, for the reference pass.
    pub(super) references: Vec<Deferred>,
    /// Links decided and not yet written. Links and log entries go together, 200 at a time
    /// and at the end of each batch, in one transaction in the background, so that recording
    /// answers never holds up the requests in flight. A crash in between is healed by matching.
    pending_links: Vec<(Uuid, &'static str, LinkChange)>,
    /// The write in flight.
    writing: Option<tokio::task::JoinHandle<Result<()>>>,
    /// The last decision recorded (what provision on demand reports).
    pub(super) last_entry: Option<Entry>,
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
        let escrows = sqlx::query_scalar(
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
            for batch in user_ids.chunks(BATCH) {
                if let Err(Stop(e)) = run.users(&mappings, batch).await? {
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
        let tried = run.books.counts.processed;
        let outcome = match outcome {
            Outcome::Completed
                if tried >= ESCROW_MINIMUM_TRIED
                    && run.books.escrowed as f64 > ESCROW_SHARE * tried as f64 =>
            {
                Outcome::TooManyFailures {
                    escrowed: run.books.escrowed,
                    tried,
                }
            }
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
        let steady_state = outcome == Outcome::Completed
            && pending_references == 0
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
    /// An initial cycle's objects: everyone in scope, and everyone linked (to disable those
    /// who left).
    async fn everything(&self) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
        let db = &self.engine.db;
        let mut users: BTreeSet<Uuid> = match self.settings.scope {
            // Assigned directly, or a direct member of an assigned group.
            SyncScope::AssignedOnly => sqlx::query_scalar(
                "SELECT principal_id FROM app_role_assignments WHERE application_id = ? AND principal_type = 'User' \
                 UNION SELECT m.member_id FROM app_role_assignments a JOIN group_members m ON m.group_id = a.principal_id \
                 WHERE a.application_id = ? AND a.principal_type = 'Group' AND m.member_type = 'User'",
            )
            .bind(self.application)
            .bind(self.application)
            .fetch_all(db)
            .await?
            .into_iter()
            .collect(),
            SyncScope::All => sqlx::query_scalar("SELECT id FROM users WHERE deleted_at IS NULL")
                .fetch_all(db)
                .await?
                .into_iter()
                .collect(),
        };
        users.extend(links::linked(db, self.application, "User").await?);
        let mut groups: BTreeSet<Uuid> = match self.settings.scope {
            SyncScope::AssignedOnly => sqlx::query_scalar(
                "SELECT principal_id FROM app_role_assignments WHERE application_id = ? AND principal_type = 'Group'",
            )
            .bind(self.application)
            .fetch_all(db)
            .await?
            .into_iter()
            .collect(),
            SyncScope::All => sqlx::query_scalar("SELECT id FROM groups WHERE deleted_at IS NULL")
                .fetch_all(db)
                .await?
                .into_iter()
                .collect(),
        };
        groups.extend(links::linked(db, self.application, "Group").await?);
        // Groups are never users: drop group principals from the user set.
        users.retain(|id| !groups.contains(id));
        Ok((users.into_iter().collect(), groups.into_iter().collect()))
    }

    /// An incremental cycle's objects: those the feed names after `watermark` (up to `head`),
    /// and the escrowed ones that are due.
    async fn changed_since(&self, watermark: i64, head: i64) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
        let db = &self.engine.db;
        let (mut users, mut groups) = (BTreeSet::new(), BTreeSet::new());
        let mut from = watermark;
        while from < head {
            let page = feed::since(db, from, 1000).await?;
            let Some(last) = page.last() else { break };
            from = last.sequence;
            for change in page.iter().filter(|c| c.sequence <= head) {
                let assignment =
                    matches!(change.change, ChangeKind::Assigned | ChangeKind::Unassigned);
                if assignment && change.related_id != Some(self.application) {
                    continue;
                }
                match change.object_type {
                    ObjectType::User => {
                        users.insert(change.object_id);
                    }
                    ObjectType::Group => {
                        groups.insert(change.object_id);
                        // Members of an assigned group enter or leave scope with it.
                        if let Some(member) = change.related_id.filter(|_| !assignment) {
                            users.insert(member);
                        }
                        if assignment {
                            for member in groups::members(db, change.object_id).await? {
                                if member.member_type == ObjectType::User {
                                    users.insert(member.id);
                                }
                            }
                        }
                    }
                }
            }
        }
        let due: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT source_id, object_type FROM provisioning_escrows WHERE application_id = ? AND next_attempt_at <= ?",
        )
        .bind(self.application)
        .bind(self.now)
        .fetch_all(db)
        .await?;
        for (id, kind) in due {
            if kind == "Group" {
                groups.insert(id);
            } else {
                users.insert(id);
            }
        }
        users.retain(|id| !groups.contains(id));
        Ok((users.into_iter().collect(), groups.into_iter().collect()))
    }

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
                let mut unlinked = 0;
                for chunk in ids.chunks(BATCH) {
                    unlinked +=
                        chunk.len() - links::get_many(db, self.application, chunk).await?.len();
                }
                unlinked
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

    /// The roles of `principals` for this application: their own assignments and, for users,
    /// those of the assigned groups they are direct members of (as in Entra).
    async fn roles_of(&self, principals: &[Uuid]) -> Result<HashMap<Uuid, Vec<AppRoleAssignment>>> {
        let mut roles: HashMap<Uuid, Vec<AppRoleAssignment>> = HashMap::new();
        if principals.is_empty() {
            return Ok(roles);
        }
        let list = crate::db::placeholders(principals.len());
        let sql = format!(
            "SELECT a.principal_id, r.id, r.display_name, r.value FROM app_role_assignments a \
             JOIN app_roles r ON r.id = a.role_id WHERE a.application_id = ? AND a.principal_id IN ({list}) \
             UNION ALL SELECT m.member_id, r.id, r.display_name, r.value FROM group_members m \
             JOIN app_role_assignments a ON a.principal_id = m.group_id AND a.principal_type = 'Group' \
             JOIN app_roles r ON r.id = a.role_id \
             WHERE a.application_id = ? AND m.member_type = 'User' AND m.member_id IN ({list})"
        );
        let mut query = sqlx::query_as(&sql).bind(self.application);
        for id in principals {
            query = query.bind(id);
        }
        query = query.bind(self.application);
        for id in principals {
            query = query.bind(id);
        }
        let rows: Vec<(Uuid, Uuid, String, Option<String>)> =
            query.fetch_all(&self.engine.db).await?;
        for (principal, role_id, display_name, value) in rows {
            roles.entry(principal).or_default().push(AppRoleAssignment {
                role_id,
                display_name,
                value,
            });
        }
        for list in roles.values_mut() {
            list.sort_by(|a, b| a.display_name.cmp(&b.display_name));
            list.dedup_by_key(|r| r.role_id);
        }
        Ok(roles)
    }

    /// Translates the directory references of a batch (a manager) into target ids, then
    /// builds each object's SCIM resource. A reference whose object has no account yet is left
    /// out and returned, for the reference pass (references.rs).
    async fn resolve(&self, exports: &mut [Export<'_>]) -> Result<Vec<Deferred>> {
        let references: Vec<Uuid> = exports
            .iter()
            .flat_map(|e| &e.attributes)
            .filter_map(|a| match a.value {
                Mapped::Reference(id) => Some(id),
                _ => None,
            })
            .collect();
        let targets: HashMap<Uuid, String> =
            links::target_ids(&self.engine.db, self.application, &references)
                .await?
                .into_iter()
                .collect();
        let mut deferred = Vec::new();
        for export in exports {
            let (object_type, source_id) = (export.object_type, export.entry.source_id);
            let source_name = &export.entry.source_name;
            export.attributes.retain_mut(|attribute| {
                let Mapped::Reference(id) = attribute.value else {
                    return true;
                };
                // The referenced object has no account (yet): sent by the reference pass.
                let Some(target_id) = targets.get(&id).cloned() else {
                    deferred.push(references::defer(
                        object_type,
                        source_id,
                        source_name,
                        &attribute.rule.target,
                        id,
                    ));
                    return false;
                };
                let manager = attribute
                    .rule
                    .target
                    .attribute
                    .eq_ignore_ascii_case("manager");
                attribute.value = if manager {
                    Mapped::Object(vec![("value", Mapped::Text(target_id))])
                } else {
                    Mapped::Text(target_id)
                };
                true
            });
            let schema = if export.object_type == "Group" {
                crate::scim::GROUP
            } else {
                crate::scim::USER
            };
            export.resource = target::resource(
                schema,
                export
                    .attributes
                    .iter()
                    .filter(|a| !a.choose_unique)
                    .map(|a| (&a.rule.target, &a.value)),
            );
        }
        Ok(deferred)
    }

    /// The groups (not deleted) that any of `users` is a direct member of.
    async fn groups_of(&self, users: &[Uuid]) -> Result<Vec<Uuid>> {
        let sql = format!(
            "SELECT DISTINCT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE g.deleted_at IS NULL AND m.member_id IN ({})",
            crate::db::placeholders(users.len())
        );
        let mut query = sqlx::query_scalar(&sql);
        for id in users {
            query = query.bind(id);
        }
        Ok(query.fetch_all(&self.engine.db).await?)
    }

    /// The target attributes of `source`, as an update when it is linked, else a create.
    fn map<'m>(
        &self,
        mappings: &'m CompiledMappings,
        source: &dyn Source,
        linked: bool,
    ) -> std::result::Result<Vec<MappedAttribute<'m>>, MappingError> {
        let operation = if linked {
            Operation::Update
        } else {
            Operation::Create
        };
        let mut random = thread_rng();
        let mut environment = Environment {
            now: self.now,
            random: &mut random,
        };
        mappings
            .evaluate(source, &mut environment, operation)
            .map(|mapped| mapped.attributes)
    }

    /// Scope rules for users; the entry gets the reason when out of scope.
    fn user_in_scope(&self, user: &User, roles: &[AppRoleAssignment], entry: &mut Entry) -> bool {
        entry.steps.push("Scope".into());
        let reason = if user.deleted_at.is_some() {
            Some("The user is deleted in the directory.")
        } else if !user.profile.is_enabled() {
            Some("The user is disabled in the directory.")
        } else if self.settings.scope == SyncScope::AssignedOnly && roles.is_empty() {
            Some("The user is not assigned to the application.")
        } else if self.template.provisioning.exclude_default_access
            && !roles.is_empty()
            && roles.iter().all(|r| r.display_name == DEFAULT_ACCESS)
        {
            Some(
                "Not effectively entitled: the user's only role is Default Access, which this application does not provision.",
            )
        } else if !self.user_scope.admits(&UserSource {
            user,
            in_scope: true,
            app_roles: roles,
        }) {
            Some("The user does not pass the application's scoping filters.")
        } else {
            None
        };
        entry.reason = reason.map(str::to_owned);
        entry.error_code = reason.map(|_| ErrorCode::NotInScope);
        reason.is_none()
    }

    /// Scope rules for groups: the reason when out of scope.
    fn group_out_of_scope(
        &self,
        group: &Group,
        members: &[Uuid],
        roles: &[AppRoleAssignment],
    ) -> Option<&'static str> {
        if group.deleted_at.is_some() {
            Some("The group is deleted in the directory.")
        } else if self.settings.scope == SyncScope::AssignedOnly && roles.is_empty() {
            Some("The group is not assigned to the application.")
        } else if !self.group_scope.admits(&GroupSource {
            group,
            members,
            in_scope: true,
            app_roles: roles,
        }) {
            Some("The group does not pass the application's scoping filters.")
        } else {
            None
        }
    }
}

impl Run<'_> {
    /// Scopes and maps a batch of users, then sends the batch.
    pub(super) async fn users(
        &mut self,
        mappings: &CompiledMappings,
        ids: &[Uuid],
    ) -> Result<std::result::Result<(), Stop>> {
        let db = &self.ctx.engine.db;
        let roles = self.ctx.roles_of(ids).await?;
        let mut users: HashMap<Uuid, User> = users::get_many(db, ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut links = links::get_many(db, self.ctx.application, ids).await?;
        if self.ctx.groups.is_some() {
            // Their groups carry them as members: they are visited after the users.
            let touched = self.ctx.groups_of(ids).await?;
            self.books.touched_groups.extend(touched);
        }
        let mut exports = Vec::new();
        for &id in ids {
            let roles = roles.get(&id).map(Vec::as_slice).unwrap_or_default();
            let (user, link) = (users.remove(&id), links.remove(&id));
            if let Some(export) = self.plan_user(mappings, id, user, link, roles).await? {
                exports.push(export);
            }
        }
        let deferred = self.ctx.resolve(&mut exports).await?;
        self.books.references.extend(deferred);
        self.send(exports).await
    }

    /// Scopes and maps a batch of groups, then sends the batch.
    pub(super) async fn groups(
        &mut self,
        mappings: &CompiledMappings,
        ids: &[Uuid],
    ) -> Result<std::result::Result<(), Stop>> {
        let roles = self.ctx.roles_of(ids).await?;
        let mut exports = Vec::new();
        for &id in ids {
            let roles = roles.get(&id).map(Vec::as_slice).unwrap_or_default();
            if let Some(export) = self.plan_group(mappings, id, roles).await? {
                exports.push(export);
            }
        }
        let deferred = self.ctx.resolve(&mut exports).await?;
        self.books.references.extend(deferred);
        self.send(exports).await
    }

    /// What to do with one user: recorded here when the target has no part in it (out of
    /// scope, a mapping problem), otherwise returned to be sent.
    async fn plan_user<'m>(
        &mut self,
        mappings: &'m CompiledMappings,
        id: Uuid,
        user: Option<User>,
        link: Option<Link>,
        roles: &[AppRoleAssignment],
    ) -> Result<Option<Export<'m>>> {
        let started = Instant::now();
        let name = user
            .as_ref()
            .map(|u| u.profile.user_principal_name.clone())
            .unwrap_or_else(|| id.to_string());
        let mut entry = Entry::new("User", id, &name);
        let Some(user) = user else {
            self.books.deleted_from_directory("User", id, name, link);
            self.books.tick().await?;
            return Ok(None);
        };
        let in_scope = self.ctx.user_in_scope(&user, roles, &mut entry);
        if !in_scope {
            self.books.out_of_scope(entry, link, started, || {
                self.ctx.template.provisioning.deprovision == Deprovision::Delete
            });
            self.books.tick().await?;
            return Ok(None);
        }
        let source = UserSource {
            user: &user,
            in_scope: true,
            app_roles: roles,
        };
        let attributes = match self.ctx.map(mappings, &source, link.is_some()) {
            Ok(attributes) => attributes,
            Err(error) => {
                entry.steps.push("Mapping".into());
                self.books
                    .mapping_failed(entry, link.is_some(), &error, started)
                    .await?;
                return Ok(None);
            }
        };
        Ok(Some(Export {
            object_type: "User",
            link,
            attributes,
            resource: serde_json::Value::Null,
            entry,
            started,
            members: None,
        }))
    }

    /// What to do with one group, as [`Run::plan_user`] for users. Members go by PATCH in
    /// batches once the group exists: they stay out of the resource.
    async fn plan_group<'m>(
        &mut self,
        mappings: &'m CompiledMappings,
        id: Uuid,
        roles: &[AppRoleAssignment],
    ) -> Result<Option<Export<'m>>> {
        let started = Instant::now();
        let db = &self.ctx.engine.db;
        let group: Option<Group> = groups::get(db, id).await?;
        let link = links::get(db, self.ctx.application, id).await?;
        let name = group
            .as_ref()
            .map(|g| g.profile.display_name.clone())
            .unwrap_or_else(|| id.to_string());
        let mut entry = Entry::new("Group", id, &name);
        let Some(group) = group else {
            self.books.deleted_from_directory("Group", id, name, link);
            self.books.tick().await?;
            return Ok(None);
        };
        let members: Vec<Uuid> = groups::members(db, id)
            .await?
            .into_iter()
            .filter(|m| m.member_type == ObjectType::User)
            .map(|m| m.id)
            .collect();
        entry.steps.push("Scope".into());
        if let Some(reason) = self.ctx.group_out_of_scope(&group, &members, roles) {
            entry.reason = Some(reason.into());
            entry.error_code = Some(ErrorCode::NotInScope);
            self.books.out_of_scope(entry, link, started, || true);
            self.books.tick().await?;
            return Ok(None);
        }
        let source = GroupSource {
            group: &group,
            members: &members,
            in_scope: true,
            app_roles: roles,
        };
        let attributes = match self.ctx.map(mappings, &source, link.is_some()) {
            Ok(attributes) => attributes,
            Err(error) => {
                self.books
                    .mapping_failed(entry, link.is_some(), &error, started)
                    .await?;
                return Ok(None);
            }
        };
        let (member_rules, attributes): (Vec<_>, Vec<_>) = attributes
            .into_iter()
            .partition(|a| a.rule.target.attribute.eq_ignore_ascii_case("members"));
        Ok(Some(Export {
            object_type: "Group",
            link,
            attributes,
            resource: serde_json::Value::Null,
            entry,
            started,
            members: (!member_rules.is_empty()).then_some(members),
        }))
    }

    /// Sends a batch to the target, many requests at once, in waves: a wave's accounts are
    /// looked for, then updated or created. A target answers a run of like requests faster
    /// than the two mixed, and a wave is about a second of requests, so that decisions (and
    /// the progress bar) keep coming. With `/Bulk`, the missing accounts are created together
    /// at the end. Each decision is recorded as it comes back; the batch's links are written
    /// before it ends.
    async fn send(&mut self, exports: Vec<Export<'_>>) -> Result<std::result::Result<(), Stop>> {
        let outcome = self.exchange(exports).await;
        self.books.write_all().await?;
        outcome
    }

    async fn exchange(
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

    /// Sends the disables and deletes decided in this cycle, unless they are more than the
    /// accidental-deletion threshold allows.
    pub(super) async fn finish_deprovisioning(&mut self, allowed: bool) -> Result<Outcome> {
        let outcome = self.deprovision(allowed).await;
        self.books.write_all().await?;
        outcome
    }

    async fn deprovision(&mut self, allowed: bool) -> Result<Outcome> {
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

impl Books {
    /// Hands the counts to the progress writer if they changed.
    fn publish(&self) {
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
    async fn tick(&mut self) -> Result<()> {
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

    fn record(&mut self, entry: Entry) {
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
    async fn settle(&mut self, decision: Decision) -> Result<std::result::Result<(), Stop>> {
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
    async fn persist(&mut self) -> Result<()> {
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
                        links::put(&mut *tx, application, source, object_type, &link).await?
                    }
                    LinkChange::Remove => links::remove(&mut *tx, application, source).await?,
                }
            }
            entries.write(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        }));
        Ok(())
    }

    /// Waits for the write in flight.
    async fn persisted(&mut self) -> Result<()> {
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

    async fn escrow(&mut self, source: Uuid, object_type: &str, error: &str) -> Result<()> {
        self.escrowed += 1;
        self.escrows.insert(source);
        let attempts: i64 = sqlx::query_scalar(
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
        sqlx::query(
            "INSERT INTO provisioning_escrows (application_id, source_id, object_type, attempts, next_attempt_at, last_error) \
             VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (application_id, source_id) DO UPDATE SET \
             attempts = attempts + 1, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error",
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

    async fn clear_escrow(&mut self, source: Uuid) -> Result<()> {
        if !self.escrows.remove(&source) {
            return Ok(());
        }
        sqlx::query("DELETE FROM provisioning_escrows WHERE application_id = ? AND source_id = ?")
            .bind(self.application)
            .bind(source)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// A failed request: credentials and endpoint problems stop the cycle; others are logged
    /// and escrowed (retried in later cycles with growing delay).
    async fn failed(
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

    /// A mapping that cannot give the target what it needs: a data problem, retried when the
    /// object changes rather than by escrow.
    async fn mapping_failed(
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
    fn out_of_scope(
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
    fn deleted_from_directory(
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
