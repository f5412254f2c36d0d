//! App roles and the assignments of users and groups to them. Every application has Default
//! Access (no value: the application does not know it); templates add others (Vonage's "User"),
//! and the App roles editor adds, renames and disables roles, which is what Entra calls editing
//! the application manifest. A role still assigned cannot be disabled. Assignment changes enter
//! the directory's change feed (the provisioning jobs' incremental cycles read them) and the
//! audit log, in the same transaction.

use std::collections::HashMap;

use crate::db::{Pool, Tx};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Access, Application, gallery::Template, target};
use crate::{
    Engine, Error, Result,
    accounts::Account,
    audit::{self, Caller},
    directory::feed::{self, ChangeKind, ObjectType},
    mapping::AppRoleAssignment,
};

/// The role every application has, which Entra gives users assigned without a specific role.
pub const DEFAULT_ACCESS: &str = "Default Access";

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AppRole {
    pub id: Uuid,
    pub application_id: Uuid,
    pub display_name: String,
    pub value: Option<String>,
    pub description: String,
    pub enabled: bool,
    pub is_default: bool,
}

/// One assignment as the Users and groups blade lists it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Assignment {
    pub id: Uuid,
    pub role_id: Uuid,
    pub role_name: String,
    pub principal_type: String,
    pub principal_id: Uuid,
    pub principal_name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalType {
    User,
    Group,
}

impl PrincipalType {
    fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::Group => "Group",
        }
    }
}

pub(super) async fn insert_template_roles(
    db: &mut Tx,
    application: Uuid,
    template: &Template,
) -> Result<()> {
    let roles = std::iter::once((DEFAULT_ACCESS, None, "Access without a specific role", true))
        .chain(template.app_roles.iter().map(|r| {
            (
                r.display_name.as_str(),
                Some(r.value.as_str()),
                r.description.as_str(),
                false,
            )
        }));
    for (name, value, description, is_default) in roles {
        crate::db::query(
            "INSERT INTO app_roles (id, application_id, display_name, value, description, enabled, is_default) \
             VALUES (?, ?, ?, ?, ?, TRUE, ?)",
        )
        .bind(Uuid::new_v4())
        .bind(application)
        .bind(name)
        .bind(value)
        .bind(description)
        .bind(is_default)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Records in the change feed that `principal`'s assignments to `application` changed.
pub(super) async fn feed_assignment_change(
    db: &mut Tx,
    principal_type: &str,
    principal: Uuid,
    application: Uuid,
    still_assigned: bool,
) -> Result<i64> {
    let object_type = if principal_type == "Group" {
        ObjectType::Group
    } else {
        ObjectType::User
    };
    let kind = if still_assigned {
        ChangeKind::Assigned
    } else {
        ChangeKind::Unassigned
    };
    feed::append(db, object_type, principal, kind, Some(application)).await
}

pub async fn roles(db: &Pool, application: Uuid) -> Result<Vec<AppRole>> {
    Ok(crate::db::query_as(
        "SELECT id, application_id, display_name, value, description, enabled, is_default FROM app_roles \
         WHERE application_id = ? ORDER BY is_default DESC, display_name COLLATE NOCASE",
    )
    .bind(application)
    .fetch_all(db)
    .await?)
}

pub async fn assignments(db: &Pool, application: Uuid) -> Result<Vec<Assignment>> {
    Ok(crate::db::query_as(
        "SELECT a.id, a.role_id, r.display_name AS role_name, a.principal_type, a.principal_id, \
         COALESCE(u.display_name, g.display_name, '(deleted)') AS principal_name, a.created_at \
         FROM app_role_assignments a JOIN app_roles r ON r.id = a.role_id \
         LEFT JOIN users u ON a.principal_type = 'User' AND u.id = a.principal_id \
         LEFT JOIN groups g ON a.principal_type = 'Group' AND g.id = a.principal_id \
         WHERE a.application_id = ? ORDER BY COALESCE(u.display_name, g.display_name, '(deleted)') COLLATE NOCASE, role_name",
    )
    .bind(application)
    .fetch_all(db)
    .await?)
}

/// How many assignments `application` has (the Overview's figure, without loading them).
pub async fn assignment_count(db: &Pool, application: Uuid) -> Result<i64> {
    Ok(crate::db::query_scalar(
        "SELECT COUNT(*) FROM app_role_assignments WHERE application_id = ?",
    )
    .bind(application)
    .fetch_one(db)
    .await?)
}

/// The roles of `principals` in `application`, as the mapping language's `[appRoleAssignments]`
/// reads them: their own assignments and, for users, those of the assigned groups (not deleted)
/// they are direct members of, as in Entra. A principal without any is not assigned.
pub async fn roles_of(
    db: impl Into<crate::db::Exec<'_>>,
    application: Uuid,
    principals: &[Uuid],
) -> Result<HashMap<Uuid, Vec<AppRoleAssignment>>> {
    let mut roles: HashMap<Uuid, Vec<AppRoleAssignment>> = HashMap::new();
    if principals.is_empty() {
        return Ok(roles);
    }
    let list = crate::db::placeholders(principals.len());
    let sql = format!(
        "SELECT a.principal_id, r.id, r.display_name, r.value FROM app_role_assignments a \
         JOIN app_roles r ON r.id = a.role_id WHERE a.application_id = ? AND a.principal_id IN ({list}) \
         UNION ALL SELECT m.member_id, r.id, r.display_name, r.value FROM group_members m \
         JOIN groups g ON g.id = m.group_id AND g.deleted_at IS NULL \
         JOIN app_role_assignments a ON a.principal_id = m.group_id AND a.principal_type = 'Group' \
         JOIN app_roles r ON r.id = a.role_id \
         WHERE a.application_id = ? AND m.member_type = 'User' AND m.member_id IN ({list})"
    );
    let mut query = crate::db::query_as(&sql).bind(application);
    for id in principals {
        query = query.bind(id);
    }
    query = query.bind(application);
    for id in principals {
        query = query.bind(id);
    }
    let rows: Vec<(Uuid, Uuid, String, Option<String>)> = query.fetch_all(db).await?;
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

/// A role as the App roles editor submits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChange {
    /// `None` adds a role.
    pub id: Option<Uuid>,
    pub display_name: String,
    pub value: String,
    pub description: String,
    pub enabled: bool,
}

impl Engine {
    pub async fn app_roles(&self, account: &Account, application: Uuid) -> Result<Vec<AppRole>> {
        self.application_for(account, application, Access::Read)
            .await?;
        roles(&self.db, application).await
    }

    /// Adds, renames or enables/disables a role. Default Access keeps its name and stays enabled;
    /// a role with assignments cannot be disabled.
    pub async fn save_app_role(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        change: RoleChange,
    ) -> Result<AppRole> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let name = change.display_name.trim().to_owned();
        let value = change.value.trim().to_owned();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(Error::invalid(
                "displayName",
                "enter a name of at most 120 characters",
            ));
        }
        if value.is_empty() || value.chars().count() > 120 || value.contains(char::is_whitespace) {
            return Err(Error::invalid(
                "value",
                "enter the value the application knows the role by (no spaces, at most 120 characters)",
            ));
        }
        let existing = roles(&self.db, application).await?;
        if existing
            .iter()
            .any(|r| Some(r.id) != change.id && r.display_name.eq_ignore_ascii_case(&name))
        {
            return Err(Error::invalid(
                "displayName",
                format!("a role named {name:?} already exists"),
            ));
        }
        let mut tx = crate::db::begin_write(&self.db).await?;
        let saved = match change.id {
            None => {
                let role = AppRole {
                    id: Uuid::new_v4(),
                    application_id: application,
                    display_name: name,
                    value: Some(value),
                    description: change.description.trim().to_owned(),
                    enabled: change.enabled,
                    is_default: false,
                };
                crate::db::query(
                    "INSERT INTO app_roles (id, application_id, display_name, value, description, enabled, is_default) \
                     VALUES (?, ?, ?, ?, ?, ?, FALSE)",
                )
                .bind(role.id)
                .bind(application)
                .bind(&role.display_name)
                .bind(&role.value)
                .bind(&role.description)
                .bind(role.enabled)
                .execute(&mut tx)
                .await?;
                audit::record(
                    &mut tx,
                    caller,
                    "Add app role",
                    target(&app),
                    None,
                    Some(json!({ "role": role.display_name, "value": role.value })),
                )
                .await?;
                role
            }
            Some(id) => {
                let before = existing
                    .iter()
                    .find(|r| r.id == id)
                    .ok_or(Error::NotFound {
                        kind: "app role",
                        id: id.to_string(),
                    })?;
                if before.is_default {
                    return Err(Error::invalid(
                        "displayName",
                        "Default Access cannot be changed",
                    ));
                }
                if before.enabled && !change.enabled {
                    let assigned: i64 = crate::db::query_scalar(
                        "SELECT COUNT(*) FROM app_role_assignments WHERE role_id = ?",
                    )
                    .bind(id)
                    .fetch_one(&mut tx)
                    .await?;
                    if assigned > 0 {
                        return Err(Error::invalid(
                            "enabled",
                            format!(
                                "{} is assigned to {assigned} user(s) or group(s); remove those assignments before disabling it",
                                before.display_name
                            ),
                        ));
                    }
                }
                let role = AppRole {
                    display_name: name,
                    value: Some(value),
                    description: change.description.trim().to_owned(),
                    enabled: change.enabled,
                    ..before.clone()
                };
                if before.display_name != role.display_name || before.value != role.value {
                    // What AppRoleAssignmentsComplex sends changed for everyone holding the role.
                    crate::db::query(
                        "UPDATE provisioning SET needs_initial_cycle = TRUE WHERE application_id = ?",
                    )
                    .bind(application)
                    .execute(&mut tx)
                    .await?;
                }
                crate::db::query("UPDATE app_roles SET display_name = ?, value = ?, description = ?, enabled = ? WHERE id = ?")
                    .bind(&role.display_name)
                    .bind(&role.value)
                    .bind(&role.description)
                    .bind(role.enabled)
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
                audit::record(
                    &mut tx,
                    caller,
                    "Update app role",
                    target(&app),
                    Some(json!({ "role": before.display_name, "value": before.value, "enabled": before.enabled })),
                    Some(json!({ "role": role.display_name, "value": role.value, "enabled": role.enabled })),
                )
                .await?;
                role
            }
        };
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn app_assignments(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<Vec<Assignment>> {
        self.application_for(account, application, Access::Read)
            .await?;
        assignments(&self.db, application).await
    }

    /// Assigns a user or a group with a role (an enabled role of this application).
    pub async fn assign(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        principal_type: PrincipalType,
        principal: Uuid,
        role: Uuid,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let name = match principal_type {
            PrincipalType::User => {
                let user = self.user(principal).await?;
                if user.deleted_at.is_some() {
                    return Err(Error::invalid("principal", "this user is deleted"));
                }
                user.profile.user_principal_name
            }
            PrincipalType::Group => {
                let group = self.group(principal).await?;
                if group.deleted_at.is_some() {
                    return Err(Error::invalid("principal", "this group is deleted"));
                }
                group.profile.display_name
            }
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        // Read under the write lock: the role cannot be disabled between this check and the insert.
        let role: AppRole = crate::db::query_as(
            "SELECT id, application_id, display_name, value, description, enabled, is_default FROM app_roles \
             WHERE id = ? AND application_id = ? AND enabled = TRUE",
        )
        .bind(role)
        .bind(application)
        .fetch_optional(&mut tx)
        .await?
        .ok_or_else(|| Error::invalid("role", "choose an enabled role of this application"))?;
        let inserted = crate::db::query(
            "INSERT INTO app_role_assignments (id, application_id, role_id, principal_type, principal_id, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(application)
        .bind(role.id)
        .bind(principal_type.as_str())
        .bind(principal)
        .bind(OffsetDateTime::now_utc())
        .execute(&mut tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(Error::Conflict {
                field: "principal",
                message: format!("{name} is already assigned with {}", role.display_name),
            });
        }
        let sequence = feed_assignment_change(
            &mut tx,
            principal_type.as_str(),
            principal,
            application,
            true,
        )
        .await?;
        audit::record(
            &mut tx,
            caller,
            "Add app role assignment",
            target(&app),
            None,
            Some(json!({ principal_type.as_str(): name, "role": role.display_name })),
        )
        .await?;
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(())
    }

    pub async fn remove_assignment(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        assignment: Uuid,
    ) -> Result<()> {
        let app: Application = self
            .application_for(account, application, Access::Configure)
            .await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let found: Assignment = crate::db::query_as(
            "SELECT a.id, a.role_id, r.display_name AS role_name, a.principal_type, a.principal_id, \
             COALESCE(u.display_name, g.display_name, '(deleted)') AS principal_name, a.created_at \
             FROM app_role_assignments a JOIN app_roles r ON r.id = a.role_id \
             LEFT JOIN users u ON a.principal_type = 'User' AND u.id = a.principal_id \
             LEFT JOIN groups g ON a.principal_type = 'Group' AND g.id = a.principal_id \
             WHERE a.id = ? AND a.application_id = ?",
        )
        .bind(assignment)
        .bind(application)
        .fetch_optional(&mut tx)
        .await?
        .ok_or(Error::NotFound {
            kind: "assignment",
            id: assignment.to_string(),
        })?;
        crate::db::query("DELETE FROM app_role_assignments WHERE id = ?")
            .bind(assignment)
            .execute(&mut tx)
            .await?;
        let remaining: i64 = crate::db::query_scalar(
            "SELECT COUNT(*) FROM app_role_assignments WHERE application_id = ? AND principal_id = ?",
        )
        .bind(application)
        .bind(found.principal_id)
        .fetch_one(&mut tx)
        .await?;
        let sequence = feed_assignment_change(
            &mut tx,
            &found.principal_type,
            found.principal_id,
            application,
            remaining > 0,
        )
        .await?;
        audit::record(
            &mut tx,
            caller,
            "Remove app role assignment",
            target(&app),
            Some(json!({ found.principal_type.as_str(): found.principal_name, "role": found.role_name })),
            None,
        )
        .await?;
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(())
    }
}
