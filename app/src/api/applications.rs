//! Enterprise applications' server functions: All applications, the gallery, an application's
//! Overview, Properties and Owners, its App roles, and its Users and groups. Who may see or
//! change an application (owners only see theirs) is the engine's `application_for`.

use leptos::prelude::*;

use super::AppError;
use crate::model::{
    AppRoleRow, ApplicationDetails, ApplicationRow, AssignmentsView, GalleryEntry, ListPage,
};
#[cfg(feature = "ssr")]
use crate::model::{AssignmentRow, OwnerRow};

#[cfg(feature = "ssr")]
pub(crate) fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id)
        .map_err(|_| AppError::NotFound("There is no such application.".into()))
}

#[cfg(feature = "ssr")]
pub(crate) use engine::timestamp::minutes_utc as utc;

/// "Manual", "Automatic, Off" or "Automatic, On".
#[cfg(feature = "ssr")]
fn provisioning_summary(settings: &engine::applications::provisioning::Settings) -> String {
    use engine::applications::provisioning::{Mode, Status};
    match (settings.mode, settings.status) {
        (Mode::Manual, _) => "Manual".into(),
        (Mode::Automatic, Status::Off) => "Automatic, Off".into(),
        (Mode::Automatic, Status::On) => "Automatic, On".into(),
    }
}

#[server(endpoint = "applications/list")]
pub async fn list_applications(
    search: Option<String>,
    after: Option<String>,
    before: Option<String>,
) -> Result<ListPage<ApplicationRow>, AppError> {
    use engine::{
        accounts::Permission,
        applications::provisioning,
        directory::listing::{Cursor, ListQuery},
    };
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let query = ListQuery {
        search,
        after: after.as_deref().and_then(Cursor::decode),
        before: before.as_deref().and_then(Cursor::decode),
        limit: 50,
        ..ListQuery::default()
    };
    let page = engine.list_applications(&account, &query).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for app in page.items {
        let settings = provisioning::load(&engine.db, app.id).await?.settings;
        rows.push(ApplicationRow {
            template: app.template().name.clone(),
            provisioning: provisioning_summary(&settings),
            id: app.id.to_string(),
            display_name: app.display_name,
            logo_monogram: app.logo_monogram,
            logo_color: app.logo_color,
        });
    }
    Ok(ListPage {
        rows,
        next: page.next.map(|c| c.encode()),
        previous: page.previous.map(|c| c.encode()),
        total: page.total,
    })
}

/// The gallery, filtered by the start of any word of the name or publisher, and by category.
#[server(endpoint = "applications/gallery")]
pub async fn gallery(search: String, category: String) -> Result<Vec<GalleryEntry>, AppError> {
    use engine::{
        accounts::Permission,
        applications::gallery::{self, AuthenticationMethod},
    };
    super::context::require(Permission::CreateApplications).await?;
    let search = search.trim().to_lowercase();
    Ok(gallery::templates()
        .iter()
        .filter(|t| category.is_empty() || t.category.name() == category)
        .filter(|t| {
            search.is_empty()
                || format!("{} {}", t.name, t.publisher)
                    .to_lowercase()
                    .split_whitespace()
                    .any(|word| word.starts_with(&search))
        })
        .map(|t| GalleryEntry {
            id: t.id.clone(),
            name: t.name.clone(),
            publisher: t.publisher.clone(),
            category: t.category.name().to_owned(),
            description: t.description.clone(),
            logo_monogram: t.logo.monogram.clone(),
            logo_color: t.logo.color.clone(),
            authentication: match t.provisioning.authentication {
                AuthenticationMethod::BearerToken => "Tenant URL and Secret Token",
                AuthenticationMethod::Oauth2AuthorizationCode => "OAuth 2.0 authorization",
                AuthenticationMethod::Oauth2ClientCredentials => "OAuth 2.0 client credentials",
            }
            .to_owned(),
            groups_supported: t.provisioning.groups_supported,
        })
        .collect())
}

#[server(endpoint = "applications/create")]
pub async fn create_application(template: String, display_name: String) -> Result<(), AppError> {
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = engine
        .create_application(&caller, &account, &template, &display_name)
        .await?;
    leptos_axum::redirect(&format!("/applications/{}", app.id));
    Ok(())
}

#[server(endpoint = "applications/get")]
pub async fn get_application(id: String) -> Result<ApplicationDetails, AppError> {
    use engine::{
        accounts::Permission,
        applications::{self, Access, provisioning},
    };
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let template = app.template();
    let owners = applications::owners(&engine.db, app.id).await?;
    let assignments = applications::roles::assignment_count(&engine.db, app.id).await?;
    let settings = provisioning::load(&engine.db, app.id).await?.settings;
    Ok(ApplicationDetails {
        id: app.id.to_string(),
        version: app.version,
        provisioning: provisioning_summary(&settings),
        assignments: assignments as u32,
        owners: owners
            .into_iter()
            .map(|(id, display_name, user_principal_name)| OwnerRow {
                id: id.to_string(),
                display_name,
                user_principal_name,
            })
            .collect(),
        created: utc(app.created_at),
        template_name: template.name.clone(),
        publisher: template.publisher.clone(),
        description: template.description.clone(),
        documentation: template.documentation.clone(),
        excludes_default_access: template.provisioning.exclude_default_access,
        display_name: app.display_name,
        logo_monogram: app.logo_monogram,
        logo_color: app.logo_color,
        notes: app.notes,
    })
}

#[server(endpoint = "applications/properties")]
pub async fn save_application_properties(
    id: String,
    version: i64,
    display_name: String,
    logo_monogram: String,
    logo_color: String,
    notes: String,
) -> Result<(), AppError> {
    use engine::applications::Properties;
    let (engine, account, caller) = super::context::signed_in().await?;
    let properties = Properties {
        display_name,
        logo_monogram,
        logo_color,
        notes,
    };
    engine
        .update_application(&caller, &account, parse_id(&id)?, properties, version)
        .await?;
    Ok(())
}

/// Deletes the application once the administrator has typed its name.
#[server(endpoint = "applications/delete")]
pub async fn delete_application(id: String, confirm: String) -> Result<(), AppError> {
    use engine::applications::Access;
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Configure)
        .await?;
    if confirm.trim() != app.display_name {
        return Err(AppError::Invalid {
            field: "confirm".into(),
            message: format!("Type {} to confirm.", app.display_name),
        });
    }
    engine.delete_application(&caller, &account, app.id).await?;
    leptos_axum::redirect("/applications");
    Ok(())
}

/// Adds the user `add` (a user principal name) as an owner, or removes the owner `remove` (id).
#[server(endpoint = "applications/owners")]
pub async fn change_owner(
    id: String,
    add: Option<String>,
    remove: Option<String>,
) -> Result<(), AppError> {
    use engine::directory::users;
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = parse_id(&id)?;
    if let Some(upn) = add.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        let user = users::find_by_upn(&engine.db, upn)
            .await?
            .ok_or_else(|| AppError::Invalid {
                field: "add".into(),
                message: format!("There is no user {upn}."),
            })?;
        engine
            .change_owner(&caller, &account, app, user.id, true)
            .await?;
    }
    if let Some(owner) = remove.as_deref().filter(|r| !r.is_empty()) {
        let owner = uuid::Uuid::parse_str(owner)
            .map_err(|_| AppError::NotFound("There is no such owner.".into()))?;
        engine
            .change_owner(&caller, &account, app, owner, false)
            .await?;
    }
    Ok(())
}

#[server(endpoint = "applications/roles")]
pub async fn app_roles(id: String) -> Result<Vec<AppRoleRow>, AppError> {
    use engine::accounts::Permission;
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    Ok(engine
        .app_roles(&account, parse_id(&id)?)
        .await?
        .into_iter()
        .map(role_row)
        .collect())
}

#[cfg(feature = "ssr")]
fn role_row(r: engine::applications::roles::AppRole) -> AppRoleRow {
    AppRoleRow {
        id: r.id.to_string(),
        display_name: r.display_name,
        value: r.value.unwrap_or_default(),
        description: r.description,
        enabled: r.enabled,
        is_default: r.is_default,
    }
}

/// Adds a role (no `role`) or saves one: name, value, description, enabled.
#[server(endpoint = "applications/roles/save")]
pub async fn save_app_role(
    id: String,
    role: Option<String>,
    display_name: String,
    value: String,
    description: String,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use engine::applications::roles::RoleChange;
    let (engine, account, caller) = super::context::signed_in().await?;
    let role = role
        .filter(|r| !r.is_empty())
        .map(|r| {
            uuid::Uuid::parse_str(&r)
                .map_err(|_| AppError::NotFound("There is no such role.".into()))
        })
        .transpose()?;
    engine
        .save_app_role(
            &caller,
            &account,
            parse_id(&id)?,
            RoleChange {
                id: role,
                display_name,
                value,
                description,
                enabled: enabled.is_some(),
            },
        )
        .await?;
    Ok(())
}

#[server(endpoint = "applications/assignments")]
pub async fn assignments(id: String) -> Result<AssignmentsView, AppError> {
    use engine::{accounts::Permission, applications::Access};
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let roles = engine.app_roles(&account, app.id).await?;
    let assignments = engine.app_assignments(&account, app.id).await?;
    Ok(AssignmentsView {
        application: app.display_name.clone(),
        excludes_default_access: app.template().provisioning.exclude_default_access,
        roles: roles.into_iter().map(role_row).collect(),
        assignments: assignments
            .into_iter()
            .map(|a| AssignmentRow {
                id: a.id.to_string(),
                principal_id: a.principal_id.to_string(),
                principal_type: a.principal_type,
                principal_name: a.principal_name,
                role: a.role_name,
                assigned: utc(a.created_at),
            })
            .collect(),
    })
}

/// Assigns the user or group named `principal` with `role`, or removes the assignment `remove`.
#[server(endpoint = "applications/assign")]
pub async fn change_assignment(
    id: String,
    principal: Option<String>,
    role: Option<String>,
    remove: Option<String>,
) -> Result<(), AppError> {
    use engine::{applications::roles::PrincipalType, directory::groups};
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = parse_id(&id)?;
    if let Some(assignment) = remove.filter(|r| !r.is_empty()) {
        let assignment = uuid::Uuid::parse_str(&assignment)
            .map_err(|_| AppError::NotFound("There is no such assignment.".into()))?;
        engine
            .remove_assignment(&caller, &account, app, assignment)
            .await?;
        return Ok(());
    }
    let (principal, kind) = groups::principal_named(
        &engine.db,
        principal.as_deref().unwrap_or_default(),
        "principal",
    )
    .await?;
    let role = uuid::Uuid::parse_str(role.as_deref().unwrap_or_default()).map_err(|_| {
        AppError::Invalid {
            field: "role".into(),
            message: "Select a role.".into(),
        }
    })?;
    let kind = if kind == "Group" {
        PrincipalType::Group
    } else {
        PrincipalType::User
    };
    engine
        .assign(&caller, &account, app, kind, principal, role)
        .await?;
    Ok(())
}
