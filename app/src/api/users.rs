//! The Users blade's server functions: list, read, create and edit, delete and restore.

// `save_user` takes one argument per form field (ActionForm posts the fields by these names), and
// the `#[server]` macro generates a browser-side twin an item-level `allow` does not reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::AppError;
use crate::model::{ListPage, UserDetails, UserRow};

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id).map_err(|_| AppError::NotFound("There is no such user.".into()))
}

#[server(endpoint = "users/list")]
pub async fn list_users(
    search: Option<String>,
    sort: Option<String>,
    descending: Option<bool>,
    after: Option<String>,
    before: Option<String>,
    deleted: Option<bool>,
) -> Result<ListPage<UserRow>, AppError> {
    use engine::{
        accounts::Permission,
        directory::listing::{self, Cursor, ListQuery, UserSort},
    };
    let (engine, _, _) = super::context::require(Permission::ReadDirectory).await?;
    let sort = match sort.as_deref() {
        Some("upn") => UserSort::UserPrincipalName,
        Some("mail") => UserSort::Mail,
        Some("department") => UserSort::Department,
        _ => UserSort::DisplayName,
    };
    let query = ListQuery {
        search,
        descending: descending.unwrap_or(false),
        after: after.as_deref().and_then(Cursor::decode),
        before: before.as_deref().and_then(Cursor::decode),
        limit: 50,
        deleted: deleted.unwrap_or(false),
    };
    let page = listing::users(&engine.db, &query, sort).await?;
    Ok(ListPage {
        rows: page
            .items
            .into_iter()
            .map(|u| UserRow {
                id: u.id.to_string(),
                enabled: u.profile.is_enabled(),
                display_name: u.profile.display_name,
                user_principal_name: u.profile.user_principal_name,
                mail: u.profile.mail,
                department: u.profile.department,
                role: u.directory_role.0.map(|r| r.display_name().to_owned()),
            })
            .collect(),
        next: page.next.map(|c| c.encode()),
        previous: page.previous.map(|c| c.encode()),
        total: page.total,
    })
}

#[server(endpoint = "users/get")]
pub async fn get_user(id: String) -> Result<UserDetails, AppError> {
    use engine::{accounts::Permission, directory::groups};
    let (engine, _, _) = super::context::require(Permission::ReadDirectory).await?;
    let user = engine.user(parse_id(&id)?).await?;
    let manager = match user.profile.manager_id {
        Some(manager) => engine
            .user(manager)
            .await
            .map(|m| m.profile.user_principal_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let p = user.profile;
    let text = |v: Option<String>| v.unwrap_or_default();
    Ok(UserDetails {
        id: user.id.to_string(),
        version: user.version,
        enabled: p.is_enabled(),
        user_principal_name: p.user_principal_name,
        display_name: p.display_name,
        given_name: text(p.given_name),
        surname: text(p.surname),
        mail: text(p.mail),
        mail_nickname: text(p.mail_nickname),
        department: text(p.department),
        job_title: text(p.job_title),
        employee_id: text(p.employee_id),
        manager,
        preferred_language: text(p.preferred_language),
        telephone_number: text(p.telephone_number),
        mobile: text(p.mobile),
        deleted: user.deleted_at.is_some(),
        role: user
            .directory_role
            .0
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        groups: groups::memberships(&engine.db, user.id)
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
    })
}

/// Creates a user (no `id`) or saves an existing one (`id` and the `version` the form showed).
#[server(endpoint = "users/save")]
pub async fn save_user(
    id: Option<String>,
    version: Option<i64>,
    user_principal_name: String,
    display_name: String,
    given_name: String,
    surname: String,
    mail: String,
    mail_nickname: Option<String>,
    department: String,
    job_title: String,
    employee_id: String,
    manager: String,
    preferred_language: String,
    telephone_number: String,
    mobile: String,
    account_enabled: Option<String>,
) -> Result<(), AppError> {
    use engine::directory::{UserPrincipalName, UserProfile, users};
    let (engine, _, caller) = super::context::signed_in().await?;
    // People type user principal names; the form insists on the name@domain form.
    UserPrincipalName::parse(&user_principal_name, "userPrincipalName")?;
    if display_name.trim().is_empty() {
        return Err(AppError::Invalid {
            field: "display_name".into(),
            message: "Enter a display name.".into(),
        });
    }
    let manager_id = match manager.trim() {
        "" => None,
        upn => Some(
            users::find_by_upn(&engine.db, upn)
                .await?
                .filter(|m| m.deleted_at.is_none())
                .ok_or_else(|| AppError::Invalid {
                    field: "manager".into(),
                    message: format!("There is no user named {upn}."),
                })?
                .id,
        ),
    };
    let some = |v: String| Some(v);
    let id = id
        .filter(|i| !i.is_empty())
        .map(|i| parse_id(&i))
        .transpose()?;
    let existing = match id {
        Some(id) => Some(engine.user(id).await?),
        None => None,
    };
    let profile = UserProfile {
        user_principal_name,
        display_name,
        given_name: some(given_name),
        surname: some(surname),
        mail: some(mail),
        mail_nickname: mail_nickname.or_else(|| {
            existing
                .as_ref()
                .and_then(|u| u.profile.mail_nickname.clone())
        }),
        account_enabled: Some(account_enabled.is_some()),
        department: some(department),
        job_title: some(job_title),
        employee_id: some(employee_id),
        manager_id,
        preferred_language: some(preferred_language),
        telephone_number: some(telephone_number),
        mobile: some(mobile),
        // Not on the form: kept as they are.
        external_id: existing
            .as_ref()
            .and_then(|u| u.profile.external_id.clone()),
        extension_attributes: existing
            .as_ref()
            .map(|u| u.profile.extension_attributes.clone())
            .unwrap_or_default(),
    };
    let saved = match existing {
        Some(user) => {
            engine
                .update_user(&caller, user.id, profile, version.or(Some(user.version)))
                .await?
        }
        None => engine.create_user(&caller, profile).await?,
    };
    leptos_axum::redirect(&format!("/users/{}", saved.id));
    Ok(())
}

/// Grants, changes or removes console access; a non-empty `password` sets a new one.
#[server(endpoint = "users/access")]
pub async fn set_console_access(
    id: String,
    directory_role: String,
    password: String,
) -> Result<(), AppError> {
    use engine::accounts::Role;
    let (engine, account, caller) = super::context::signed_in().await?;
    let role = match directory_role.trim() {
        "" => None,
        name => Some(name.parse::<Role>().map_err(|message| AppError::Invalid {
            field: "directory_role".into(),
            message,
        })?),
    };
    let password = (!password.is_empty()).then(|| password.into());
    let user_id = parse_id(&id)?;
    engine
        .set_console_access(&caller, user_id, role, password)
        .await?;
    // The account's other sessions end (its session stamp changed); this one goes on.
    if user_id == account.id
        && let Some(changed) = engine.member(user_id).await?
    {
        super::context::keep_session(&super::context::session().await?, &changed.session_stamp)
            .await?;
    }
    leptos_axum::redirect(&format!("/users/{id}"));
    Ok(())
}

/// `delete` (soft, restorable for 30 days), `restore`, or `purge` ("Delete permanently").
#[server(endpoint = "users/lifecycle")]
pub async fn change_user_lifecycle(id: String, action: String) -> Result<(), AppError> {
    let (engine, _account, caller) = super::context::signed_in().await?;
    let id = parse_id(&id)?;
    match action.as_str() {
        "delete" => engine.delete_user(&caller, id, None).await?,
        "restore" => engine.restore_user(&caller, id).await?,
        "purge" => engine.purge_user(&caller, id).await?,
        other => return Err(AppError::Request(format!("unknown action {other:?}"))),
    }
    leptos_axum::redirect(if action == "purge" {
        "/users?deleted=true"
    } else {
        "/users"
    });
    Ok(())
}

#[cfg(feature = "ssr")]
fn import_view(
    id: uuid::Uuid,
    staged: &engine::directory::import::StagedImport,
) -> crate::model::ImportView {
    use crate::model::{ImportRowError, ImportView};
    let preview = &staged.preview;
    let report = staged
        .report
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    ImportView {
        id: id.to_string(),
        file_name: staged.file_name.clone(),
        rows: preview.rows,
        create: preview.create,
        update: preview.update,
        unchanged: preview.unchanged,
        errors: preview
            .errors
            .iter()
            .map(|e| ImportRowError {
                line: e.line,
                column: e.column.clone(),
                message: e.message.clone(),
            })
            .collect(),
        done: report.map(|r| (r.created, r.updated, r.unchanged)),
    }
}

#[server(endpoint = "users/import/get")]
pub async fn get_import(id: String) -> Result<crate::model::ImportView, AppError> {
    use engine::accounts::Permission;
    let (engine, account, _) = super::context::require(Permission::WriteDirectory).await?;
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::NotFound("There is no such upload.".into()))?;
    let staged = engine.staged_import(id, account.id).ok_or_else(|| {
        AppError::NotFound("This upload has expired or is not yours. Upload the file again.".into())
    })?;
    Ok(import_view(id, &staged))
}

/// Imports the valid rows of an uploaded file.
#[server(endpoint = "users/import/run")]
pub async fn run_import(id: String) -> Result<(), AppError> {
    let (engine, account, caller) = super::context::signed_in().await?;
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::NotFound("There is no such upload.".into()))?;
    engine.run_staged_import(&caller, uuid, account.id).await?;
    Ok(())
}

/// Rows written so far and rows in all, while an import runs (for the progress bar).
#[server(endpoint = "users/import/progress")]
pub async fn import_progress(id: String) -> Result<(u64, u64), AppError> {
    use engine::accounts::Permission;
    let (engine, account, _) = super::context::require(Permission::WriteDirectory).await?;
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::NotFound("There is no such upload.".into()))?;
    Ok(engine
        .staged_import(uuid, account.id)
        .map(|s| s.progress())
        .unwrap_or((0, 0)))
}
