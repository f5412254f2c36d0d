//! What to do with each object of a batch, before the target is asked (docs/engine.md, Scope and
//! Mapping): scoping (deleted, disabled, not assigned, Default Access only, scoping filters),
//! mapping as a create or an update, and references translated to target ids (or deferred).

use std::{collections::HashMap, time::Instant};

use rand::thread_rng;
use uuid::Uuid;

use super::{
    cycle::{Context, Run, Stop},
    export::Export,
    links::{self, Link},
    log::{Entry, ErrorCode},
    references::{self, Deferred},
};
use crate::{
    Result,
    applications::{gallery::Deprovision, provisioning::Scope as SyncScope, roles::DEFAULT_ACCESS},
    directory::{
        feed::ObjectType,
        groups::{self, Group},
        users::{self, User},
    },
    mapping::{
        AppRoleAssignment, CompiledMappings, Environment, GroupSource, MappingError, Operation,
        UserSource, Value as Mapped, attribute_mappings::MappedAttribute, source::Source, target,
    },
};

impl Context<'_> {
    /// Translates the directory references of a batch (a manager) into target ids, then
    /// builds each object's SCIM resource. A reference whose object has no account yet is left
    /// out and returned, for the reference pass (references.rs).
    pub(super) async fn resolve(&self, exports: &mut [Export<'_>]) -> Result<Vec<Deferred>> {
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
                    deferred.push(Deferred {
                        object_type,
                        source_id,
                        source_name: source_name.clone(),
                        path: attribute.rule.target.clone(),
                        referenced: id,
                    });
                    return false;
                };
                attribute.value = references::target_value(&attribute.rule.target, target_id);
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

    /// The target attributes of `source`, as an update when it is linked, else a create.
    pub(super) fn map<'m>(
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
    pub(super) fn user_in_scope(
        &self,
        user: &User,
        roles: &[AppRoleAssignment],
        entry: &mut Entry,
    ) -> bool {
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
    pub(super) fn group_out_of_scope(
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
        self.resolve_and_send(exports).await
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
        self.resolve_and_send(exports).await
    }

    /// A planned batch's references resolved (the others kept for the reference pass), then
    /// the batch sent.
    async fn resolve_and_send(
        &mut self,
        mut exports: Vec<Export<'_>>,
    ) -> Result<std::result::Result<(), Stop>> {
        let deferred = self.ctx.resolve(&mut exports).await?;
        self.books.references.extend(deferred);
        self.books
            .mapped
            .extend(exports.iter().map(|e| e.entry.source_id));
        self.send(exports).await
    }

    /// What to do with one user: recorded here when the target has no part in it (out of
    /// scope, a mapping problem), otherwise returned to be sent.
    pub(super) async fn plan_user<'m>(
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
    pub(super) async fn plan_group<'m>(
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
}
