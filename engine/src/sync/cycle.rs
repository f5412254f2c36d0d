//! One provisioning cycle of one application, as DESIGN.md's "The provisioning engine" says.
//! Initial cycles visit every object in scope and every linked object; incremental cycles visit
//! the objects the change feed names since the watermark, and escrowed objects that are due.
//! Users come first, then groups (whose members are linked users). Each object is scoped,
//! mapped, matched (link, else filter on the matching attributes, else create; a 409 on create
//! matches again), and gets one decision with one log entry. Disables and deletes wait for the
//! end of the cycle: more than the accidental-deletion threshold and none is sent (StagedDelete).
//! The watermark moves only once every object it covers is recorded.

use std::{
    collections::{BTreeSet, HashMap},
    time::Instant,
};

use rand::thread_rng;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    client::{Limits, ScimClient, ScimError},
    jobs,
    links::{self, Link},
    log::{Action, Entry, LogWriter, Status},
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
        source::{GROUP_ATTRIBUTES, USER_ATTRIBUTES},
        target::{self, TargetPath},
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CycleKind {
    Initial,
    Incremental,
}

/// Progress, counted in objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// How a cycle ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Completed,
    /// More disables and deletes than the threshold: none was sent.
    DeletesStaged {
        planned: u64,
        threshold: u32,
    },
    /// The target refused the credentials or is not SCIM: the cycle stopped.
    Stopped {
        code: String,
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

/// The escrow proportion that quarantines a job, once this many objects were tried.
const ESCROW_SHARE: f64 = 0.4;
const ESCROW_MINIMUM_TRIED: u64 = 50;

/// Objects in a row that find the target unavailable before the cycle gives up for now.
const UNAVAILABLE_IN_A_ROW: u32 = 3;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleReport {
    pub cycle_id: Uuid,
    pub kind: CycleKind,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub counts: Counts,
    pub outcome: Outcome,
    /// Nothing was left to do: no create, update, disable, delete or failure.
    pub steady_state: bool,
}

/// A disable or delete decided during the cycle, sent (or staged) at its end.
struct Deprovisioning {
    object_type: &'static str,
    source_id: Uuid,
    source_name: String,
    link: Link,
    /// DELETE (hard-deleted source, or the template deletes) rather than PATCH active=false.
    delete: bool,
    reason: String,
}

/// Why processing an object ended the whole cycle.
pub(super) struct Stop(pub(super) ScimError);

/// Everything a cycle needs, loaded once.
pub(super) struct Run<'e> {
    engine: &'e Engine,
    application: Uuid,
    template: &'static Template,
    settings: Settings,
    pub(super) users: Option<CompiledMappings>,
    groups: Option<CompiledMappings>,
    user_scope: Scope,
    group_scope: Scope,
    /// Roles of each user (directly or through an assigned group) and of each assigned group.
    roles: HashMap<Uuid, Vec<AppRoleAssignment>>,
    client: ScimClient,
    now: OffsetDateTime,
    pub(super) log: LogWriter,
    counts: Counts,
    deprovision: Vec<Deprovisioning>,
    touched_groups: BTreeSet<Uuid>,
    last_progress: Instant,
    unavailable_in_a_row: u32,
    /// Objects escrowed in this cycle (data problems such as a missing required attribute are
    /// not, and do not count).
    escrowed: u64,
    /// The last decision recorded (what provision on demand reports).
    pub(super) last_entry: Option<Entry>,
}

fn compile_error(errors: Vec<crate::FieldError>) -> Error {
    Error::InvalidFields(errors)
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
        let compile = |object: &provisioning::ObjectSettings, known, required: &[String]| {
            let required: Vec<&str> = required.iter().map(String::as_str).collect();
            object
                .mappings
                .compile(known, &required)
                .map_err(compile_error)
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
            .map_err(compile_error)?;
        let group_scope = settings
            .groups
            .scoping
            .compile(GROUP_ATTRIBUTES)
            .map_err(compile_error)?;
        let token = match settings.authentication {
            AuthenticationMethod::BearerToken => self
                .provisioning_secret(application, "secret_token")
                .await?
                .unwrap_or_else(|| SecretString::from(String::new())),
            _ => self.access_token(application, now).await?,
        };
        let client = ScimClient::new(&settings.scim_base_url, token, Limits::default());
        Ok(Run {
            engine: self,
            application,
            template,
            roles: assigned_roles(&self.db, application).await?,
            settings,
            users,
            groups,
            user_scope,
            group_scope,
            client,
            now,
            log: LogWriter::new(application, cycle_id),
            counts: Counts::default(),
            deprovision: Vec::new(),
            touched_groups: BTreeSet::new(),
            last_progress: Instant::now(),
            unavailable_in_a_row: 0,
            escrowed: 0,
            last_entry: None,
        })
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
            CycleKind::Initial => run.everything().await?,
            CycleKind::Incremental => run.changed_since(job.watermark, head).await?,
        };
        run.counts.total = (user_ids.len() + group_ids.len()) as u64;
        run.progress(kind, started).await?;

        let mut stopped = None;
        if run.users.is_some() {
            for id in &user_ids {
                if let Err(Stop(e)) = run.user(*id).await? {
                    stopped = Some(e);
                    break;
                }
                run.tick(kind, started).await?;
            }
        }
        if stopped.is_none() && run.groups.is_some() {
            let mut all_groups: BTreeSet<Uuid> = group_ids.iter().copied().collect();
            all_groups.extend(run.touched_groups.iter().copied());
            run.counts.total += (all_groups.len() - group_ids.len()) as u64;
            for id in all_groups {
                if let Err(Stop(e)) = run.group(id).await? {
                    stopped = Some(e);
                    break;
                }
                run.tick(kind, started).await?;
            }
        }
        let outcome = match stopped {
            Some(e @ ScimError::Unavailable(_)) => Outcome::Interrupted {
                reason: e.to_string(),
            },
            Some(e) => Outcome::Stopped {
                code: e.code().into(),
                reason: e.to_string(),
            },
            None => run.finish_deprovisioning(job.deletes_allowed).await?,
        };
        let tried = run.counts.processed;
        let outcome = match outcome {
            Outcome::Completed
                if tried >= ESCROW_MINIMUM_TRIED
                    && run.escrowed as f64 > ESCROW_SHARE * tried as f64 =>
            {
                Outcome::TooManyFailures {
                    escrowed: run.escrowed,
                    tried,
                }
            }
            other => other,
        };
        run.log.flush(&self.db).await?;
        let counts = run.counts.clone();
        if matches!(
            outcome,
            Outcome::Completed | Outcome::TooManyFailures { .. }
        ) {
            jobs::complete_cycle(&self.db, application, head, kind == CycleKind::Initial).await?;
        }
        let steady_state = outcome == Outcome::Completed
            && counts.created + counts.updated + counts.disabled + counts.deleted + counts.failed
                == 0;
        let report = CycleReport {
            cycle_id,
            kind,
            started_at: started,
            finished_at: OffsetDateTime::now_utc(),
            counts,
            outcome,
            steady_state,
        };
        jobs::record_report(&self.db, application, &report).await?;
        Ok(report)
    }
}

/// The roles of every principal assigned to `application`; users in an assigned group get the
/// group's roles too (direct members only, as in Entra).
async fn assigned_roles(
    db: &sqlx::SqlitePool,
    application: Uuid,
) -> Result<HashMap<Uuid, Vec<AppRoleAssignment>>> {
    let rows: Vec<(Uuid, String, Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT a.principal_id, a.principal_type, r.id, r.display_name, r.value FROM app_role_assignments a \
         JOIN app_roles r ON r.id = a.role_id WHERE a.application_id = ?",
    )
    .bind(application)
    .fetch_all(db)
    .await?;
    let mut roles: HashMap<Uuid, Vec<AppRoleAssignment>> = HashMap::new();
    for (principal, kind, role_id, display_name, value) in rows {
        let role = AppRoleAssignment {
            role_id,
            display_name,
            value,
        };
        if kind == "Group" {
            for member in groups::members(db, principal).await? {
                if member.member_type == ObjectType::User {
                    roles.entry(member.id).or_default().push(role.clone());
                }
            }
        }
        roles.entry(principal).or_default().push(role);
    }
    for list in roles.values_mut() {
        list.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        list.dedup_by_key(|r| r.role_id);
    }
    Ok(roles)
}

/// A SCIM resource's id.
fn id_of(resource: &Value) -> Option<String> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl Run<'_> {
    /// An initial cycle's objects: everyone in scope, and everyone linked (to disable those
    /// who left).
    async fn everything(&self) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
        let db = &self.engine.db;
        let mut users: BTreeSet<Uuid> = match self.settings.scope {
            SyncScope::AssignedOnly => self.roles.keys().copied().collect(),
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

    async fn progress(&mut self, kind: CycleKind, started: OffsetDateTime) -> Result<()> {
        self.last_progress = Instant::now();
        jobs::record_progress(
            &self.engine.db,
            self.application,
            &json!({
                "kind": kind, "startedAt": started, "counts": self.counts,
            }),
        )
        .await
    }

    /// Counts one processed object; progress is written at least every second.
    async fn tick(&mut self, kind: CycleKind, started: OffsetDateTime) -> Result<()> {
        self.counts.processed += 1;
        self.log.flush_if_full(&self.engine.db).await?;
        if self.last_progress.elapsed().as_millis() >= 500 {
            self.progress(kind, started).await?;
        }
        Ok(())
    }

    fn record(&mut self, entry: Entry) {
        if entry.status != Status::Failure {
            self.unavailable_in_a_row = 0;
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

    async fn escrow(&mut self, source: Uuid, object_type: &str, error: &str) -> Result<()> {
        self.escrowed += 1;
        let attempts: i64 = sqlx::query_scalar(
            "SELECT attempts FROM provisioning_escrows WHERE application_id = ? AND source_id = ?",
        )
        .bind(self.application)
        .bind(source)
        .fetch_optional(&self.engine.db)
        .await?
        .unwrap_or(0);
        // The next cycle first, then 1, 2, 4, ... minutes, at most a day.
        let delay = if attempts == 0 {
            time::Duration::ZERO
        } else {
            time::Duration::minutes(1i64 << (attempts - 1).min(10)).min(time::Duration::days(1))
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
        .execute(&self.engine.db)
        .await?;
        Ok(())
    }

    async fn clear_escrow(&self, source: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM provisioning_escrows WHERE application_id = ? AND source_id = ?")
            .bind(self.application)
            .bind(source)
            .execute(&self.engine.db)
            .await?;
        Ok(())
    }

    /// A failed request: credentials and endpoint problems stop the cycle; others are logged
    /// and escrowed (retried in later cycles with growing delay).
    async fn failed(
        &mut self,
        mut entry: Entry,
        object_type: &str,
        error: ScimError,
    ) -> Result<std::result::Result<(), Stop>> {
        entry.status = Status::Failure;
        entry.error_code = Some(error.code().into());
        entry.reason = Some(error.to_string());
        self.record(entry.clone());
        if matches!(
            error,
            ScimError::Unauthorized { .. } | ScimError::NoEndpoint(_)
        ) {
            return Ok(Err(Stop(error)));
        }
        self.escrow(entry.source_id, object_type, &error.to_string())
            .await?;
        if matches!(error, ScimError::Unavailable(_)) {
            self.unavailable_in_a_row += 1;
            if self.unavailable_in_a_row >= UNAVAILABLE_IN_A_ROW {
                return Ok(Err(Stop(error)));
            }
        }
        Ok(Ok(()))
    }

    /// Translates directory references (a manager, group members) into target ids.
    async fn resolve(&self, attributes: &mut Vec<MappedAttribute<'_>>) -> Result<()> {
        let mut resolved = Vec::with_capacity(attributes.len());
        for mut attribute in attributes.drain(..) {
            if let Mapped::Reference(id) = attribute.value {
                match links::get(&self.engine.db, self.application, id).await? {
                    Some(link)
                        if attribute
                            .rule
                            .target
                            .attribute
                            .eq_ignore_ascii_case("manager") =>
                    {
                        attribute.value =
                            Mapped::Object(vec![("value", Mapped::Text(link.target_id))]);
                    }
                    Some(link) => attribute.value = Mapped::Text(link.target_id),
                    // The referenced object is not in the target (yet): nothing to send.
                    None => continue,
                }
            }
            resolved.push(attribute);
        }
        *attributes = resolved;
        Ok(())
    }

    /// Finds the target's account for an object without a link: each matching attribute in
    /// precedence order, by filter. `Ok(None)`: no account; more than one: a failure.
    async fn matched(
        &self,
        resource_type: &str,
        attributes: &[MappedAttribute<'_>],
    ) -> std::result::Result<Option<Value>, (String, ScimError)> {
        let mut matching: Vec<&MappedAttribute> = attributes
            .iter()
            .filter(|a| a.rule.matching_precedence.is_some())
            .collect();
        matching.sort_by_key(|a| a.rule.matching_precedence);
        for attribute in matching {
            let Some(value) = attribute.value.as_text() else {
                continue;
            };
            let path = attribute.rule.target.to_string();
            let found = self
                .client
                .find(resource_type, &path, &value)
                .await
                .map_err(|e| ("TargetUnavailable".to_owned(), e))?;
            match found.len() {
                0 => continue,
                1 => return Ok(found.into_iter().next()),
                n => {
                    return Err((
                        "DuplicateTargetEntries".to_owned(),
                        ScimError::Refused {
                            status: 200,
                            detail: format!("{n} accounts in the target have {path} = {value}"),
                        },
                    ));
                }
            }
        }
        Ok(None)
    }

    /// The PATCH operations that bring `current` to what `attributes` say, with the properties
    /// they modify (path, old, new). Attributes equal in both are not sent.
    fn changes(
        current: &Value,
        attributes: &[MappedAttribute<'_>],
    ) -> (Vec<Value>, Vec<(String, Value, Value)>) {
        let mut operations = Vec::new();
        let mut modified = Vec::new();
        for attribute in attributes.iter().filter(|a| !a.choose_unique) {
            let new = attribute.value.to_json();
            let old = target::value_at(current, &attribute.rule.target)
                .cloned()
                .unwrap_or(Value::Null);
            if same(&old, &new) {
                continue;
            }
            let path = attribute.rule.target.to_string();
            let target = &attribute.rule.target;
            match (&target.filter, old.is_null()) {
                // No entry of that type yet: a filter would match nothing (RFC 7644 noTarget),
                // so the entry is added to the multi-valued attribute.
                (Some(filter), true) => {
                    let mut entry = serde_json::Map::new();
                    entry.insert(filter.attribute.clone(), json!(filter.value));
                    entry.insert(
                        target
                            .sub_attribute
                            .clone()
                            .unwrap_or_else(|| "value".into()),
                        new.clone(),
                    );
                    let attribute_path = match &target.schema {
                        Some(schema) => format!("{schema}:{}", target.attribute),
                        None => target.attribute.clone(),
                    };
                    operations
                        .push(json!({ "op": "add", "path": attribute_path, "value": [entry] }));
                }
                _ => operations.push(json!({ "op": "replace", "path": path, "value": new })),
            }
            if attribute.rule.redacted {
                // Redact(...): the value flows, the provisioning logs do not show it.
                modified.push((path, json!("[Redact]"), json!("[Redact]")));
            } else {
                modified.push((path, old, new));
            }
        }
        (operations, modified)
    }

    pub(super) async fn user(&mut self, id: Uuid) -> Result<std::result::Result<(), Stop>> {
        let started = Instant::now();
        let user = users::get(&self.engine.db, id).await?;
        let link = links::get(&self.engine.db, self.application, id).await?;
        let name = user
            .as_ref()
            .map(|u| u.profile.user_principal_name.clone())
            .unwrap_or_else(|| id.to_string());
        let mut entry = Entry::new("User", id, &name);
        let Some(user) = user else {
            self.deleted_from_directory("User", id, name, link);
            return Ok(Ok(()));
        };
        let roles = self.roles.get(&id).cloned().unwrap_or_default();
        let in_scope = self.user_in_scope(&user, &roles, &mut entry);
        // The user's groups carry them as a member: they are visited after the users.
        if self.groups.is_some() {
            let memberships = groups::memberships(&self.engine.db, id).await?;
            self.touched_groups
                .extend(memberships.into_iter().map(|(g, _)| g));
        }
        if !in_scope {
            match link {
                Some(link) if !link.disabled => self.deprovision.push(Deprovisioning {
                    object_type: "User",
                    source_id: id,
                    source_name: name,
                    delete: self.template.provisioning.deprovision == Deprovision::Delete,
                    link,
                    reason: entry.reason.clone().unwrap_or_default(),
                }),
                Some(_) => {}
                None => {
                    entry.action = Action::Other;
                    entry.status = Status::Skipped;
                    entry.duration_ms = started.elapsed().as_millis() as i64;
                    self.record(entry);
                }
            }
            return Ok(Ok(()));
        }
        let source = UserSource {
            user: &user,
            in_scope: true,
            app_roles: &roles,
        };
        let operation = if link.is_some() {
            Operation::Update
        } else {
            Operation::Create
        };
        let result = {
            let mut random = thread_rng();
            let mut environment = Environment {
                now: self.now,
                random: &mut random,
            };
            let mappings = self
                .users
                .as_ref()
                .expect("users are enabled in this cycle");
            mappings
                .evaluate(&source, &mut environment, operation)
                .map(|mapped| mapped.attributes)
        };
        let mut attributes = match result {
            Ok(attributes) => attributes,
            Err(error) => {
                entry.steps.push("Mapping".into());
                entry.action = if link.is_some() {
                    Action::Update
                } else {
                    Action::Create
                };
                entry.status = Status::Failure;
                entry.error_code = Some(
                    match &error {
                        MappingError::MissingRequired(_) => "MissingRequiredAttribute",
                        _ => "MappingError",
                    }
                    .into(),
                );
                entry.reason = Some(error.to_string());
                entry.duration_ms = started.elapsed().as_millis() as i64;
                self.record(entry);
                // A data problem: retried when the user changes, not by escrow.
                self.clear_escrow(id).await?;
                return Ok(Ok(()));
            }
        };
        self.resolve(&mut attributes).await?;
        let resource = target::resource(
            crate::scim::USER,
            attributes
                .iter()
                .filter(|a| !a.choose_unique)
                .map(|a| (&a.rule.target, &a.value)),
        );
        let outcome = self
            .export("Users", "User", id, link, &attributes, resource, &mut entry)
            .await?;
        entry.duration_ms = started.elapsed().as_millis() as i64;
        match outcome {
            Ok(()) => {
                self.clear_escrow(id).await?;
                self.record(entry);
                Ok(Ok(()))
            }
            Err(error) => self.failed(entry, "User", error).await,
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
        entry.error_code = reason.map(|_| "NotInScope".to_owned());
        reason.is_none()
    }

    /// Creates or updates one object in the target and records its link.
    #[allow(clippy::too_many_arguments)]
    async fn export(
        &self,
        resource_type: &str,
        object_type: &str,
        source: Uuid,
        link: Option<Link>,
        attributes: &[MappedAttribute<'_>],
        resource: Value,
        entry: &mut Entry,
    ) -> Result<std::result::Result<(), ScimError>> {
        let db = &self.engine.db;
        let current = match link {
            Some(link) => Some((link.target_id, link.exported)),
            None => {
                entry.steps.push("Match".into());
                match self.matched(resource_type, attributes).await {
                    Ok(found) => found.and_then(|r| id_of(&r).map(|id| (id, r))),
                    Err((code, error)) => {
                        entry.error_code = Some(code);
                        return Ok(Err(error));
                    }
                }
            }
        };
        let (target_id, current) = match current {
            Some(found) => found,
            None => {
                entry.steps.push("Create".into());
                entry.action = Action::Create;
                match self.client.create(resource_type, &resource).await {
                    Ok(created) => {
                        let target_id = id_of(&created).unwrap_or_default();
                        entry.target_id = Some(target_id.clone());
                        entry.modified = modified_from_null(attributes);
                        let link = Link {
                            target_id,
                            exported: resource,
                            disabled: false,
                        };
                        links::put(db, self.application, source, object_type, &link).await?;
                        return Ok(Ok(()));
                    }
                    Err(ScimError::Conflict(_)) => {
                        // It exists after all: match again and update it.
                        entry.steps.push("Match after conflict".into());
                        match self.matched(resource_type, attributes).await {
                            Ok(Some(found)) => match id_of(&found) {
                                Some(id) => (id, found),
                                None => {
                                    return Ok(Err(ScimError::Refused {
                                        status: 409,
                                        detail: "the conflicting account has no id".into(),
                                    }));
                                }
                            },
                            Ok(None) => {
                                return Ok(Err(ScimError::Refused {
                                    status: 409,
                                    detail: "the target reports a conflict but no account matches"
                                        .into(),
                                }));
                            }
                            Err((code, error)) => {
                                entry.error_code = Some(code);
                                return Ok(Err(error));
                            }
                        }
                    }
                    Err(error) => return Ok(Err(error)),
                }
            }
        };
        entry.target_id = Some(target_id.clone());
        let (operations, modified) = Self::changes(&current, attributes);
        entry.action = Action::Update;
        if operations.is_empty() {
            entry.steps.push("No change".into());
            entry.status = Status::Skipped;
            entry.reason = Some("The account in the target already has these values.".into());
        } else {
            entry.steps.push("Update".into());
            if let Err(error) = self
                .client
                .patch(resource_type, &target_id, operations)
                .await
            {
                return Ok(Err(error));
            }
            entry.modified = modified;
        }
        let link = Link {
            target_id,
            exported: merge(current, resource),
            disabled: false,
        };
        links::put(db, self.application, source, object_type, &link).await?;
        Ok(Ok(()))
    }

    async fn group(&mut self, id: Uuid) -> Result<std::result::Result<(), Stop>> {
        let started = Instant::now();
        let db = &self.engine.db;
        let group: Option<Group> = groups::get(db, id).await?;
        let link = links::get(db, self.application, id).await?;
        let name = group
            .as_ref()
            .map(|g| g.profile.display_name.clone())
            .unwrap_or_else(|| id.to_string());
        let mut entry = Entry::new("Group", id, &name);
        let Some(group) = group else {
            self.deleted_from_directory("Group", id, name, link);
            return Ok(Ok(()));
        };
        let roles = self.roles.get(&id).cloned().unwrap_or_default();
        let members: Vec<Uuid> = groups::members(db, id)
            .await?
            .into_iter()
            .filter(|m| m.member_type == ObjectType::User)
            .map(|m| m.id)
            .collect();
        entry.steps.push("Scope".into());
        let out_of_scope = if group.deleted_at.is_some() {
            Some("The group is deleted in the directory.")
        } else if self.settings.scope == SyncScope::AssignedOnly && roles.is_empty() {
            Some("The group is not assigned to the application.")
        } else if !self.group_scope.admits(&GroupSource {
            group: &group,
            members: &members,
            in_scope: true,
            app_roles: &roles,
        }) {
            Some("The group does not pass the application's scoping filters.")
        } else {
            None
        };
        if let Some(reason) = out_of_scope {
            match link {
                Some(link) => self.deprovision.push(Deprovisioning {
                    object_type: "Group",
                    source_id: id,
                    source_name: name,
                    link,
                    delete: true,
                    reason: reason.into(),
                }),
                None => {
                    entry.status = Status::Skipped;
                    entry.action = Action::Other;
                    entry.reason = Some(reason.into());
                    entry.error_code = Some("NotInScope".into());
                    self.record(entry);
                }
            }
            return Ok(Ok(()));
        }
        let source = GroupSource {
            group: &group,
            members: &members,
            in_scope: true,
            app_roles: &roles,
        };
        let operation = if link.is_some() {
            Operation::Update
        } else {
            Operation::Create
        };
        let result = {
            let mut random = thread_rng();
            let mut environment = Environment {
                now: self.now,
                random: &mut random,
            };
            self.groups
                .as_ref()
                .expect("groups are enabled in this cycle")
                .evaluate(&source, &mut environment, operation)
                .map(|m| m.attributes)
        };
        let attributes = match result {
            Ok(attributes) => attributes,
            Err(error) => {
                entry.status = Status::Failure;
                entry.action = if link.is_some() {
                    Action::Update
                } else {
                    Action::Create
                };
                entry.error_code = Some("MissingRequiredAttribute".into());
                entry.reason = Some(error.to_string());
                self.record(entry);
                return Ok(Ok(()));
            }
        };
        // Members go by PATCH in batches, after the group exists: keep them out of the body.
        let (member_rules, mut attributes): (Vec<_>, Vec<_>) = attributes
            .into_iter()
            .partition(|a| a.rule.target.attribute.eq_ignore_ascii_case("members"));
        self.resolve(&mut attributes).await?;
        let resource = target::resource(
            crate::scim::GROUP,
            attributes.iter().map(|a| (&a.rule.target, &a.value)),
        );
        let previous_members = link
            .as_ref()
            .map(|l| exported_members(&l.exported))
            .unwrap_or_default();
        if let Err(error) = self
            .export(
                "Groups",
                "Group",
                id,
                link,
                &attributes,
                resource,
                &mut entry,
            )
            .await?
        {
            entry.duration_ms = started.elapsed().as_millis() as i64;
            return self.failed(entry, "Group", error).await;
        }
        if !member_rules.is_empty() {
            let outcome = self
                .members(id, &members, previous_members, &mut entry)
                .await?;
            if let Err(error) = outcome {
                entry.duration_ms = started.elapsed().as_millis() as i64;
                return self.failed(entry, "Group", error).await;
            }
        }
        entry.duration_ms = started.elapsed().as_millis() as i64;
        self.clear_escrow(id).await?;
        self.record(entry);
        Ok(Ok(()))
    }

    /// Brings the group's members in the target to the linked users among `members`: adds in
    /// batches of the template's limit, removes by value path (`members[value eq "id"]`).
    async fn members(
        &self,
        group: Uuid,
        members: &[Uuid],
        previous: BTreeSet<String>,
        entry: &mut Entry,
    ) -> Result<std::result::Result<(), ScimError>> {
        let db = &self.engine.db;
        let Some(mut link) = links::get(db, self.application, group).await? else {
            return Ok(Ok(()));
        };
        let wanted: BTreeSet<String> = links::target_ids(db, self.application, members)
            .await?
            .into_iter()
            .map(|(_, target)| target)
            .collect();
        let added: Vec<&String> = wanted.difference(&previous).collect();
        let removed: Vec<&String> = previous.difference(&wanted).collect();
        let batch = (self.template.provisioning.max_members_per_patch.max(1)) as usize;
        for chunk in added.chunks(batch) {
            let value: Vec<Value> = chunk.iter().map(|id| json!({ "value": id })).collect();
            let operation = json!({ "op": "add", "path": "members", "value": value });
            if let Err(e) = self
                .client
                .patch("Groups", &link.target_id, vec![operation])
                .await
            {
                return Ok(Err(e));
            }
        }
        for chunk in removed.chunks(batch) {
            let operations: Vec<Value> = chunk
                .iter()
                .map(|id| json!({ "op": "remove", "path": format!("members[value eq \"{id}\"]") }))
                .collect();
            if let Err(e) = self
                .client
                .patch("Groups", &link.target_id, operations)
                .await
            {
                return Ok(Err(e));
            }
        }
        if !added.is_empty() || !removed.is_empty() {
            entry.steps.push("Members".into());
            if entry.status == Status::Skipped {
                entry.status = Status::Success;
                entry.reason = None;
            }
            entry.modified.push((
                "members".into(),
                json!(previous.len()),
                json!(format!(
                    "{} (+{} -{})",
                    wanted.len(),
                    added.len(),
                    removed.len()
                )),
            ));
        }
        link.exported["members"] =
            Value::Array(wanted.iter().map(|id| json!({ "value": id })).collect());
        links::put(db, self.application, group, "Group", &link).await?;
        Ok(Ok(()))
    }

    /// Sends the disables and deletes decided in this cycle, unless they are more than the
    /// accidental-deletion threshold allows.
    pub(super) async fn finish_deprovisioning(&mut self, allowed: bool) -> Result<Outcome> {
        let planned = std::mem::take(&mut self.deprovision);
        let threshold = self.settings.deletion_threshold;
        let limited = self.settings.prevent_accidental_deletion && !allowed;
        if limited && planned.len() as u64 > u64::from(threshold) {
            for item in &planned {
                let mut entry = Entry::new(item.object_type, item.source_id, &item.source_name);
                entry.target_id = Some(item.link.target_id.clone());
                entry.action = Action::StagedDelete;
                entry.status = Status::Skipped;
                entry.error_code = Some("AccidentalDeletionThreshold".into());
                entry.reason = Some(format!(
                    "{} disables and deletes are planned, more than the threshold of {threshold}; nothing was sent. Allow deletes to go ahead. ({})",
                    planned.len(),
                    item.reason
                ));
                self.record(entry);
            }
            return Ok(Outcome::DeletesStaged {
                planned: planned.len() as u64,
                threshold,
            });
        }
        for item in planned {
            let started = Instant::now();
            let mut entry = Entry::new(item.object_type, item.source_id, &item.source_name);
            entry.target_id = Some(item.link.target_id.clone());
            entry.reason = Some(item.reason.clone());
            let resource_type = if item.object_type == "Group" {
                "Groups"
            } else {
                "Users"
            };
            let skip = self.settings.skip_out_of_scope_deletions && !item.delete;
            let result = if skip {
                entry.action = Action::Other;
                entry.status = Status::Skipped;
                entry.reason = Some(format!(
                    "{} Skip out of scope deletions is on.",
                    item.reason
                ));
                Ok(())
            } else if item.delete {
                entry.action = Action::Delete;
                self.client
                    .delete(resource_type, &item.link.target_id)
                    .await
            } else {
                entry.action = Action::Disable;
                let operation = json!({ "op": "replace", "path": "active", "value": false });
                self.client
                    .patch(resource_type, &item.link.target_id, vec![operation])
                    .await
            };
            entry.duration_ms = started.elapsed().as_millis() as i64;
            match result {
                Ok(()) if skip => self.record(entry),
                Ok(()) => {
                    if item.delete {
                        links::remove(&self.engine.db, self.application, item.source_id).await?;
                    } else {
                        let mut link = item.link;
                        entry.modified = vec![("active".into(), json!(true), json!(false))];
                        link.exported["active"] = json!(false);
                        link.disabled = true;
                        links::put(
                            &self.engine.db,
                            self.application,
                            item.source_id,
                            item.object_type,
                            &link,
                        )
                        .await?;
                    }
                    self.clear_escrow(item.source_id).await?;
                    self.record(entry);
                }
                Err(error) => {
                    let object_type = item.object_type;
                    if let Err(Stop(e)) = self.failed(entry, object_type, error).await? {
                        return Ok(match e {
                            ScimError::Unavailable(_) => Outcome::Interrupted {
                                reason: e.to_string(),
                            },
                            _ => Outcome::Stopped {
                                code: e.code().into(),
                                reason: e.to_string(),
                            },
                        });
                    }
                }
            }
        }
        Ok(Outcome::Completed)
    }
}

/// Two JSON values equal for provisioning: strings compare exactly, booleans also as text.
fn same(old: &Value, new: &Value) -> bool {
    old == new
        || match (old, new) {
            (Value::String(a), Value::Bool(b)) | (Value::Bool(b), Value::String(a)) => {
                a.eq_ignore_ascii_case(&b.to_string())
            }
            (Value::Object(a), Value::Object(b)) => a.get("value") == b.get("value"),
            _ => false,
        }
}

/// What was last sent: the target's view updated with what this cycle sent.
fn merge(mut current: Value, sent: Value) -> Value {
    if let (Some(current), Value::Object(sent)) = (current.as_object_mut(), sent) {
        for (key, value) in sent {
            current.insert(key, value);
        }
    }
    current
}

fn exported_members(exported: &Value) -> BTreeSet<String> {
    exported["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|m| m["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A created object's properties: every attribute sent, from nothing.
fn modified_from_null(attributes: &[MappedAttribute<'_>]) -> Vec<(String, Value, Value)> {
    attributes
        .iter()
        .filter(|a| !a.choose_unique)
        .map(|a| {
            let path: &TargetPath = &a.rule.target;
            let value = if a.rule.redacted {
                json!("[Redact]")
            } else {
                a.value.to_json()
            };
            (path.to_string(), Value::Null, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};
    use serde_json::json;

    use super::Run;
    use crate::mapping::{
        AttributeMapping, AttributeMappings, Environment, Operation, Value, source::USER_ATTRIBUTES,
    };

    #[test]
    fn updates_patch_only_what_changed_and_redacted_values_stay_out_of_the_log() {
        let mappings = AttributeMappings(vec![
            AttributeMapping::direct("userPrincipalName", "userName").matching(1),
            AttributeMapping::direct("jobTitle", "title"),
            AttributeMapping::expression("Redact([employeeId])", "externalId"),
            AttributeMapping::direct("mail", "emails[type eq \"work\"].value"),
        ])
        .compile(USER_ATTRIBUTES, &[])
        .unwrap();
        let source = vec![
            ("userPrincipalName", Value::text("ada@contoso.com")),
            ("jobTitle", Value::text("Analyst")),
            ("employeeId", Value::text("E42")),
            ("mail", Value::text("ada@contoso.com")),
        ];
        let mut random = StdRng::seed_from_u64(1);
        let mut environment = Environment {
            now: time::OffsetDateTime::UNIX_EPOCH,
            random: &mut random,
        };
        let mapped = mappings
            .evaluate(&source, &mut environment, Operation::Update)
            .unwrap();
        let current =
            json!({ "userName": "ada@contoso.com", "title": "Intern", "externalId": "E41" });
        let (operations, modified) = Run::changes(&current, &mapped.attributes);
        assert_eq!(
            operations,
            [
                json!({ "op": "replace", "path": "title", "value": "Analyst" }),
                json!({ "op": "replace", "path": "externalId", "value": "E42" }),
                json!({ "op": "add", "path": "emails", "value": [{ "type": "work", "value": "ada@contoso.com" }] }),
            ]
        );
        let logged: Vec<(&str, &serde_json::Value)> = modified
            .iter()
            .map(|(p, _, new)| (p.as_str(), new))
            .collect();
        assert_eq!(logged[1], ("externalId", &json!("[Redact]")));
        assert!(
            !format!("{modified:?}").contains("E42"),
            "the redacted value is not logged"
        );
    }
}
