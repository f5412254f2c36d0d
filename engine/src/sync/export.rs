//! The target side of a cycle: finding an object's account (its link, the target's listing, or a
//! filter query), creating it (one by one or with `/Bulk`), updating only what differs, syncing a
//! group's members, disabling and deleting. These run many at once (the job's concurrency) and
//! touch the database only to read links; each returns a [`Decision`] that the cycle records.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::atomic::Ordering,
    time::Instant,
};

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    client::{BulkLimits, ScimClient, ScimError},
    cycle::Context,
    links::{self, Link},
    log::{Action, Entry, ErrorCode, Status},
};
use crate::{
    Result,
    mapping::{
        attribute_mappings::MappedAttribute,
        target::{self, TargetPath},
    },
};

/// An object on its way to the target: mapped, waiting for its account to be found, created or
/// updated.
pub(super) struct Export<'m> {
    pub(super) object_type: &'static str,
    pub(super) link: Option<Link>,
    pub(super) attributes: Vec<MappedAttribute<'m>>,
    /// The SCIM resource the attributes make (what a create sends).
    pub(super) resource: Value,
    pub(super) entry: Entry,
    pub(super) started: Instant,
    /// Groups whose mappings send members: the directory's user members.
    pub(super) members: Option<Vec<Uuid>>,
}

/// What a link becomes once the target answered.
pub(super) enum LinkChange {
    Keep,
    Put(Link),
    Remove,
}

/// What became of one object: its log entry, its link, and the target's refusal if it failed.
pub(super) struct Decision {
    pub(super) entry: Entry,
    pub(super) link: LinkChange,
    pub(super) error: Option<ScimError>,
}

/// An object whose account was looked for.
pub(super) enum Located<'m> {
    /// The account's id and current state, or `None` when the target has no account.
    Found(Export<'m>, Option<(String, Value)>),
    Failed(Decision),
}

/// An object after its exchange with the target.
pub(super) enum Synced<'m> {
    Done(Decision),
    /// Missing from the target: to be created with others in one `/Bulk` request.
    ToCreate(Export<'m>),
}

/// An object after a create.
pub(super) enum Created<'m> {
    Done(Decision),
    /// The target has it already (409): match again and update.
    Conflict(Export<'m>),
}

impl Export<'_> {
    pub(super) fn resource_type(&self) -> &'static str {
        resource_type(self.object_type)
    }

    fn decided(mut self, link: LinkChange, error: Option<ScimError>) -> Decision {
        self.entry.duration_ms = self.started.elapsed().as_millis() as i64;
        Decision {
            entry: self.entry,
            link,
            error,
        }
    }

    fn failed(self, error: ScimError) -> Decision {
        self.decided(LinkChange::Keep, Some(error))
    }

    /// Not sent because the application's target object actions leave `action` out.
    fn not_allowed(mut self, action: &str, link: LinkChange) -> Decision {
        self.entry.status = Status::Skipped;
        self.entry.reason = Some(format!(
            "{action} is not among this application's target object actions."
        ));
        self.decided(link, None)
    }
}

/// Takes the members a create would have sent back out of the resource.
fn forget_members(export: &mut Export<'_>) {
    if let Some(resource) = export.resource.as_object_mut() {
        resource.remove("members");
    }
}

pub(super) fn resource_type(object_type: &str) -> &'static str {
    if object_type == "Group" {
        "Groups"
    } else {
        "Users"
    }
}

/// A SCIM resource's id.
pub(super) fn id_of(resource: &Value) -> Option<String> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl Context<'_> {
    /// Takes a located object on to the target: its `account` (id and current state) updated,
    /// or created when there is none (a 409 means it exists after all: matched again and
    /// updated). With `bulk`, a missing account the application may create is handed back, to
    /// be created with others.
    pub(super) async fn write<'m>(
        &self,
        export: Export<'m>,
        account: Option<(String, Value)>,
        bulk: bool,
    ) -> Result<Synced<'m>> {
        match account {
            Some((id, current)) => self.update(export, id, current).await.map(Synced::Done),
            None if bulk && self.allowed(export.object_type).create => Ok(Synced::ToCreate(export)),
            None => match self.create(export).await? {
                Created::Done(decision) => Ok(Synced::Done(decision)),
                Created::Conflict(export) => self.after_conflict(export).await.map(Synced::Done),
            },
        }
    }

    /// Finds the account of an object: its link, else each matching attribute in precedence
    /// order (in the target's listing when the cycle has one, else by filter).
    pub(super) async fn locate<'m>(&self, mut export: Export<'m>) -> Located<'m> {
        if let Some(link) = export.link.take() {
            return Located::Found(export, Some((link.target_id, link.exported)));
        }
        export.entry.steps.push("Match".into());
        let index = self
            .index
            .as_ref()
            .filter(|i| i.object_type == export.object_type);
        match self.matched(&export, index).await {
            Ok(found) => Located::Found(export, found),
            Err((code, error)) => {
                export.entry.error_code = Some(code);
                Located::Failed(export.failed(error))
            }
        }
    }

    /// After a 409: the account exists after all; find it by filter (the listing is older,
    /// but it is the only way into a target that cannot filter) and update it.
    pub(super) async fn after_conflict(&self, mut export: Export<'_>) -> Result<Decision> {
        export.entry.steps.push("Match after conflict".into());
        let index = self.index.as_ref().filter(|i| {
            self.capabilities.filter_unsupported && i.object_type == export.object_type
        });
        match self.matched(&export, index).await {
            Ok(Some((id, current))) => self.update(export, id, current).await,
            Ok(None) => {
                export.entry.error_code = Some(ErrorCode::EntryConflict);
                Ok(export.failed(ScimError::Refused {
                    status: 409,
                    detail: "the target reports a conflict but no account matches".into(),
                }))
            }
            Err((code, error)) => {
                export.entry.error_code = Some(code);
                Ok(export.failed(error))
            }
        }
    }

    /// The account whose matching attributes equal the object's, in precedence order
    /// (docs/engine.md, Matching). `Ok(None)`: no account; more than one: a failure. What a
    /// filter query returns is checked, never trusted: an account whose attribute holds another
    /// value means the target ignored the filter, and nothing is written.
    async fn matched(
        &self,
        export: &Export<'_>,
        index: Option<&TargetIndex>,
    ) -> std::result::Result<Option<(String, Value)>, (ErrorCode, ScimError)> {
        let mut matching: Vec<&MappedAttribute> = export
            .attributes
            .iter()
            .filter(|a| a.rule.matching_precedence.is_some())
            .collect();
        matching.sort_by_key(|a| a.rule.matching_precedence);
        for attribute in matching {
            let Some(value) = attribute.value.as_text() else {
                continue;
            };
            let path = &attribute.rule.target;
            let found = match index {
                Some(index) => index.find(path, &value),
                None if self.capabilities.filter_unsupported => {
                    return Err((
                        ErrorCode::TargetCannotMatch,
                        ScimError::Unavailable(
                            "the target does not support filters (filter.supported is false) and listing its accounts failed".into(),
                        ),
                    ));
                }
                None => {
                    let found = self
                        .client
                        .find(export.resource_type(), &path.to_string(), &value)
                        .await
                        .map_err(|e| (e.code(), e))?;
                    if let Some(other) = found.iter().find(|a| !holds(a, path, &value)) {
                        let id = id_of(other).unwrap_or_default();
                        return Err((
                            ErrorCode::TargetIgnoresFilter,
                            ScimError::Refused {
                                status: 200,
                                detail: format!(
                                    "asked for {path} eq \"{value}\", the target answered with {} account(s), among them {} whose {path} is another value",
                                    found.len(),
                                    id.chars().take(64).collect::<String>()
                                ),
                            },
                        ));
                    }
                    found
                }
            };
            match found.len() {
                0 => continue,
                1 => {
                    let account = found.into_iter().next().expect("one account");
                    return Ok(id_of(&account).map(|id| (id, account)));
                }
                n => {
                    return Err((
                        ErrorCode::DuplicateTargetEntries,
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

    fn allowed(&self, object_type: &str) -> &crate::applications::provisioning::ObjectSettings {
        if object_type == "Group" {
            &self.settings.groups
        } else {
            &self.settings.users
        }
    }

    /// Creates the object's account (POST).
    pub(super) async fn create<'m>(&self, mut export: Export<'m>) -> Result<Created<'m>> {
        if !self.allowed(export.object_type).create {
            export.entry.action = Action::Create;
            return Ok(Created::Done(
                export.not_allowed("Create", LinkChange::Keep),
            ));
        }
        export.entry.steps.push("Create".into());
        export.entry.action = Action::Create;
        self.with_first_members(&mut export).await?;
        let answer = self
            .client
            .create(export.resource_type(), &export.resource)
            .await;
        self.after_create(export, answer).await
    }

    /// A group is created with its first batch of members in the body (one request rather
    /// than a POST and a PATCH); the rest follow by PATCH.
    async fn with_first_members(&self, export: &mut Export<'_>) -> Result<()> {
        let Some(members) = &export.members else {
            return Ok(());
        };
        let batch = (self.template.provisioning.max_members_per_patch.max(1)) as usize;
        let linked = links::target_ids(&self.engine.db, self.application, members).await?;
        let first: Vec<Value> = linked
            .into_iter()
            .take(batch)
            .map(|(_, id)| json!({ "value": id }))
            .collect();
        if !first.is_empty() {
            export.resource["members"] = Value::Array(first);
        }
        Ok(())
    }

    /// Creates the accounts of `exports` (all of one type, creates the application allows)
    /// with one `/Bulk` request. Once the target has refused Bulk itself, the rest of the cycle
    /// creates them one by one, many at once.
    pub(super) async fn bulk_create<'m>(
        &self,
        mut exports: Vec<Export<'m>>,
    ) -> Result<Vec<Created<'m>>> {
        if exports.len() == 1 || self.bulk_failed.load(Ordering::Relaxed) {
            return self.create_each(exports).await;
        }
        for export in &mut exports {
            self.with_first_members(export).await?;
        }
        let resource_type = exports.first().map_or("Users", Export::resource_type);
        let bodies: Vec<&Value> = exports.iter().map(|e| &e.resource).collect();
        let answers = match self.client.bulk_create(resource_type, &bodies).await {
            Ok(answers) => answers,
            Err(error @ ScimError::Unauthorized { .. }) => {
                return Ok(exports
                    .into_iter()
                    .map(|e| Created::Done(e.failed(error.clone())))
                    .collect());
            }
            Err(error) => {
                tracing::warn!(%error, "the target's /Bulk failed: creating one by one");
                self.bulk_failed.store(true, Ordering::Relaxed);
                for export in &mut exports {
                    forget_members(export);
                }
                return self.create_each(exports).await;
            }
        };
        let mut created = Vec::with_capacity(exports.len());
        for (mut export, answer) in exports.into_iter().zip(answers) {
            export.entry.steps.push("Create (Bulk)".into());
            export.entry.action = Action::Create;
            created.push(self.after_create(export, answer).await?);
        }
        Ok(created)
    }

    /// Creates each of `exports` with its own POST, many at once.
    async fn create_each<'m>(&self, exports: Vec<Export<'m>>) -> Result<Vec<Created<'m>>> {
        // Futures made before streaming them: a lazy map here trips the compiler's Send check.
        let creates: Vec<_> = exports.into_iter().map(|e| self.create(e)).collect();
        stream::iter(creates)
            .buffered(self.client.concurrency())
            .try_collect()
            .await
    }

    async fn after_create<'m>(
        &self,
        mut export: Export<'m>,
        answer: std::result::Result<Value, ScimError>,
    ) -> Result<Created<'m>> {
        let created = match answer {
            Ok(created) => created,
            Err(ScimError::Conflict(_)) => {
                // Updated instead: its members go by PATCH against what the target holds.
                forget_members(&mut export);
                return Ok(Created::Conflict(export));
            }
            Err(error) => {
                // What was attempted shows on the failure too.
                export.entry.modified = modified_from_null(&export.attributes);
                return Ok(Created::Done(export.failed(error)));
            }
        };
        let target_id = id_of(&created).unwrap_or_default();
        export.entry.target_id = Some(target_id.clone());
        export.entry.modified = modified_from_null(&export.attributes);
        let link = Link {
            target_id,
            exported: std::mem::take(&mut export.resource),
            disabled: false,
        };
        self.with_members(export, link).await.map(Created::Done)
    }

    /// Brings an existing account to what the attributes say: one PATCH with only what
    /// differs, nothing when nothing does.
    pub(super) async fn update(
        &self,
        mut export: Export<'_>,
        target_id: String,
        current: Value,
    ) -> Result<Decision> {
        export.entry.target_id = Some(target_id.clone());
        export.entry.action = Action::Update;
        let (operations, modified) = changes(&current, &export.attributes);
        let resource = std::mem::take(&mut export.resource);
        if operations.is_empty() {
            export.entry.steps.push("No change".into());
            export.entry.status = Status::Skipped;
            export.entry.reason =
                Some("The account in the target already has these values.".into());
        } else if !self.allowed(export.object_type).update {
            let link = Link {
                target_id,
                exported: current,
                disabled: false,
            };
            return Ok(export.not_allowed("Update", LinkChange::Put(link)));
        } else {
            export.entry.steps.push("Update".into());
            // What was attempted shows on a failure too.
            export.entry.modified = modified;
            if let Err(error) = self
                .client
                .patch(export.resource_type(), &target_id, operations)
                .await
            {
                return Ok(export.failed(error));
            }
        }
        let link = Link {
            target_id,
            exported: merge(current, resource),
            disabled: false,
        };
        self.with_members(export, link).await
    }

    /// A group's account exists: brings its members to the linked users among the directory's
    /// members, adding in batches of the template's limit and removing by value path
    /// (`members[value eq "id"]`).
    async fn with_members(&self, mut export: Export<'_>, mut link: Link) -> Result<Decision> {
        let Some(members) = export.members.take() else {
            return Ok(export.decided(LinkChange::Put(link), None));
        };
        let previous = exported_members(&link.exported);
        let wanted: BTreeSet<String> =
            links::target_ids(&self.engine.db, self.application, &members)
                .await?
                .into_iter()
                .map(|(_, target)| target)
                .collect();
        let added: Vec<&String> = wanted.difference(&previous).collect();
        let removed: Vec<&String> = previous.difference(&wanted).collect();
        let batch = (self.template.provisioning.max_members_per_patch.max(1)) as usize;
        let mut patches = Vec::new();
        for chunk in added.chunks(batch) {
            let value: Vec<Value> = chunk.iter().map(|id| json!({ "value": id })).collect();
            patches.push(vec![
                json!({ "op": "add", "path": "members", "value": value }),
            ]);
        }
        for chunk in removed.chunks(batch) {
            patches.push(
                chunk
                    .iter()
                    .map(|id| json!({ "op": "remove", "path": format!("members[value eq \"{id}\"]") }))
                    .collect(),
            );
        }
        if !added.is_empty() || !removed.is_empty() {
            // Attempted, so shown on a failure too.
            export.entry.modified.push((
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
        for operations in patches {
            if let Err(error) = self
                .client
                .patch("Groups", &link.target_id, operations)
                .await
            {
                // The group exists: keep its link, retry the members later.
                return Ok(export.decided(LinkChange::Put(link), Some(error)));
            }
        }
        if !added.is_empty() || !removed.is_empty() {
            export.entry.steps.push("Members".into());
            if export.entry.status == Status::Skipped {
                export.entry.status = Status::Success;
                export.entry.reason = None;
            }
        }
        link.exported["members"] =
            Value::Array(wanted.iter().map(|id| json!({ "value": id })).collect());
        Ok(export.decided(LinkChange::Put(link), None))
    }

    /// Sends one disable (PATCH active=false) or delete decided during the cycle.
    pub(super) async fn deprovision(&self, item: Deprovisioning) -> Decision {
        let started = Instant::now();
        let mut entry = Entry::new(item.object_type, item.source_id, &item.source_name);
        entry.target_id = Some(item.link.target_id.clone());
        entry.reason = Some(item.reason.clone());
        entry.action = if item.delete {
            Action::Delete
        } else {
            Action::Disable
        };
        let decided = |entry: Entry, link, error| Decision {
            entry: Entry {
                duration_ms: started.elapsed().as_millis() as i64,
                ..entry
            },
            link,
            error,
        };
        let skip = if !self.allowed(item.object_type).delete {
            Some("Delete is not among this application's target object actions.")
        } else if self.settings.skip_out_of_scope_deletions && !item.delete {
            Some("Skip out of scope deletions is on.")
        } else {
            None
        };
        if let Some(why) = skip {
            entry.action = Action::Other;
            entry.status = Status::Skipped;
            entry.reason = Some(format!("{} {why}", item.reason));
            return decided(entry, LinkChange::Keep, None);
        }
        let resource_type = resource_type(item.object_type);
        let target_id = &item.link.target_id;
        if !item.delete {
            // Attempted, so shown on a failure too.
            entry.modified = vec![("active".into(), json!(true), json!(false))];
        }
        let result = if item.delete {
            self.client.delete(resource_type, target_id).await
        } else {
            let operation = json!({ "op": "replace", "path": "active", "value": false });
            self.client
                .patch(resource_type, target_id, vec![operation])
                .await
        };
        match result {
            Err(error) => decided(entry, LinkChange::Keep, Some(error)),
            Ok(()) if item.delete => decided(entry, LinkChange::Remove, None),
            Ok(()) => {
                let mut link = item.link;
                link.exported["active"] = json!(false);
                link.disabled = true;
                decided(entry, LinkChange::Put(link), None)
            }
        }
    }
}

/// A disable or delete decided during the cycle, sent (or staged) at its end.
pub(super) struct Deprovisioning {
    pub(super) object_type: &'static str,
    pub(super) source_id: Uuid,
    pub(super) source_name: String,
    pub(super) link: Link,
    /// DELETE (hard-deleted source, or the template deletes) rather than PATCH active=false.
    pub(super) delete: bool,
    pub(super) reason: String,
}

/// Splits creates into `/Bulk` requests within the target's limits (operations, payload).
pub(super) fn bulk_chunks<'m>(
    exports: Vec<Export<'m>>,
    limits: BulkLimits,
) -> Vec<Vec<Export<'m>>> {
    // Room for the request's envelope and each operation's method, path and bulkId.
    const ENVELOPE: usize = 200;
    const PER_OPERATION: usize = 100;
    let most = limits.max_operations.max(1);
    let mut chunks: Vec<Vec<Export>> = Vec::new();
    let mut size = ENVELOPE;
    for export in exports {
        let bytes = export.resource.to_string().len() + PER_OPERATION;
        let full = chunks
            .last()
            .is_none_or(|chunk| chunk.len() >= most || size + bytes > limits.max_payload_size);
        if full {
            chunks.push(Vec::new());
            size = ENVELOPE;
        }
        size += bytes;
        chunks.last_mut().expect("a chunk").push(export);
    }
    chunks
}

/// The target's accounts, listed once (an initial cycle with many objects to match), so that
/// matching is a lookup rather than one filter query per object.
pub(super) struct TargetIndex {
    object_type: &'static str,
    /// (matching path, value as the target compares it) → positions in `accounts`.
    keys: HashMap<(String, String), Vec<u32>>,
    /// Each account as compact JSON text: a parsed tree takes several times the memory.
    accounts: Vec<Box<str>>,
}

impl TargetIndex {
    /// Lists `resource_type` in pages and indexes it by `paths`. `None` when a page fails or
    /// the pages do not add up to the total (a target without sorting may overlap them).
    pub(super) async fn list(
        client: &ScimClient,
        object_type: &'static str,
        paths: &[TargetPath],
        page_size: usize,
        sort: bool,
    ) -> Option<TargetIndex> {
        let resource_type = resource_type(object_type);
        let mut index = TargetIndex {
            object_type,
            keys: HashMap::new(),
            accounts: Vec::new(),
        };
        let mut ids = HashSet::new();
        let mut start = 1;
        loop {
            let (total, page) = match client.page(resource_type, start, page_size, sort).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "listing the target failed: matching by filter");
                    return None;
                }
            };
            let count = page.len();
            for account in page {
                let Some(id) = id_of(&account) else { continue };
                if !ids.insert(id) {
                    continue;
                }
                let position = index.accounts.len() as u32;
                for path in paths {
                    if let Some(value) = target::value_at(&account, path).and_then(Value::as_str) {
                        index
                            .keys
                            .entry(key(path, value))
                            .or_default()
                            .push(position);
                    }
                }
                index.accounts.push(account.to_string().into_boxed_str());
            }
            start += count;
            if count == 0 || start > total {
                return (ids.len() == total).then_some(index);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.accounts.len()
    }

    fn find(&self, path: &TargetPath, value: &str) -> Vec<Value> {
        self.keys
            .get(&key(path, value))
            .into_iter()
            .flatten()
            .filter_map(|&i| serde_json::from_str(&self.accounts[i as usize]).ok())
            .collect()
    }
}

/// Whether `account`'s attribute at `path` holds `value`, compared as a SCIM filter would.
fn holds(account: &Value, path: &TargetPath, value: &str) -> bool {
    match target::value_at(account, path) {
        Some(Value::String(held)) => key(path, held) == key(path, value),
        Some(held @ (Value::Number(_) | Value::Bool(_))) => {
            serde_json::from_str::<Value>(value).is_ok_and(|v| &v == held)
        }
        _ => false,
    }
}

/// How a SCIM filter compares a value: case-insensitively, except for the attributes RFC 7643
/// makes case-exact (`id`, `externalId`).
fn key(path: &TargetPath, value: &str) -> (String, String) {
    let exact = path.schema.is_none()
        && path.filter.is_none()
        && ["id", "externalId"]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&path.attribute));
    let value = if exact {
        value.to_owned()
    } else {
        value.to_lowercase()
    };
    (path.to_string().to_lowercase(), value)
}

/// The PATCH operations that bring `current` to what `attributes` say, with the properties
/// they modify (path, old, new). Attributes equal in both are not sent.
pub(super) fn changes(
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
                operations.push(json!({ "op": "add", "path": attribute_path, "value": [entry] }));
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

/// What was last sent: the target's view updated with what this cycle sent, object members
/// merged at every level (an extension's other attributes stay), lists replaced.
pub(super) fn merge(mut current: Value, sent: Value) -> Value {
    fn into(current: &mut Value, sent: Value) {
        match (current, sent) {
            (Value::Object(current), Value::Object(sent)) => {
                for (key, value) in sent {
                    match current.get_mut(&key) {
                        Some(old) if old.is_object() && value.is_object() => into(old, value),
                        _ => {
                            current.insert(key, value);
                        }
                    }
                }
            }
            (current, sent) => *current = sent,
        }
    }
    if current.is_object() && sent.is_object() {
        into(&mut current, sent);
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

    use super::changes;
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
        let (operations, modified) = changes(&current, &mapped.attributes);
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
