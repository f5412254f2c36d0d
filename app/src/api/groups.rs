//! The Groups blade's server functions: list, read, create and edit, members, delete and restore.

use leptos::prelude::*;

use super::AppError;
use crate::model::{GroupDetails, GroupRow, ListPage, PickerOption};

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id).map_err(|_| AppError::NotFound("There is no such group.".into()))
}

#[server(endpoint = "groups/list")]
pub async fn list_groups(
    search: Option<String>,
    after: Option<String>,
    before: Option<String>,
    deleted: Option<bool>,
) -> Result<ListPage<GroupRow>, AppError> {
    use engine::{
        accounts::Permission,
        directory::{
            groups,
            listing::{self, Cursor, ListQuery},
        },
    };
    let (engine, _, _) = super::context::require(Permission::ReadDirectory).await?;
    let query = ListQuery {
        search,
        descending: false,
        after: after.as_deref().and_then(Cursor::decode),
        before: before.as_deref().and_then(Cursor::decode),
        limit: 50,
        deleted: deleted.unwrap_or(false),
    };
    let page = listing::groups(&engine.db, &query).await?;
    let ids: Vec<uuid::Uuid> = page.items.iter().map(|g| g.id).collect();
    let counts = groups::member_counts(&engine.db, &ids).await?;
    Ok(ListPage {
        rows: page
            .items
            .into_iter()
            .map(|g| GroupRow {
                members: counts.get(&g.id).copied().unwrap_or(0),
                id: g.id.to_string(),
                display_name: g.profile.display_name,
                description: g.profile.description,
            })
            .collect(),
        next: page.next.map(|c| c.encode()),
        previous: page.previous.map(|c| c.encode()),
        total: page.total,
    })
}

#[server(endpoint = "groups/get")]
pub async fn get_group(id: String) -> Result<GroupDetails, AppError> {
    use engine::{accounts::Permission, directory::groups};
    let (engine, _, _) = super::context::require(Permission::ReadDirectory).await?;
    let group = engine.group(parse_id(&id)?).await?;
    let members = groups::members(&engine.db, group.id).await?;
    Ok(GroupDetails {
        id: group.id.to_string(),
        version: group.version,
        display_name: group.profile.display_name,
        description: group.profile.description.unwrap_or_default(),
        mail_nickname: group.profile.mail_nickname.unwrap_or_default(),
        deleted: group.deleted_at.is_some(),
        members: members
            .into_iter()
            .map(|m| crate::model::MemberRow {
                id: m.id.to_string(),
                display_name: m.display_name,
                kind: format!("{:?}", m.member_type),
            })
            .collect(),
    })
}

/// Creates a group (no `id`) or saves an existing one.
#[server(endpoint = "groups/save")]
pub async fn save_group(
    id: Option<String>,
    version: Option<i64>,
    display_name: String,
    description: String,
    mail_nickname: String,
) -> Result<(), AppError> {
    use engine::directory::groups::GroupProfile;
    let (engine, _, caller) = super::context::signed_in().await?;
    let profile = GroupProfile {
        display_name,
        description: Some(description),
        mail_nickname: Some(mail_nickname),
        external_id: None,
    };
    let saved = match id.filter(|i| !i.is_empty()) {
        Some(id) => {
            let group = engine.group(parse_id(&id)?).await?;
            let profile = GroupProfile {
                external_id: group.profile.external_id.clone(),
                ..profile
            };
            engine
                .update_group(
                    &caller,
                    group.id,
                    profile,
                    None,
                    version.or(Some(group.version)),
                )
                .await?
        }
        None => engine.create_group(&caller, profile, &[]).await?,
    };
    leptos_axum::redirect(&format!("/groups/{}", saved.id));
    Ok(())
}

/// Users and groups whose name starts with `search`: the member picker's suggestions.
#[server(endpoint = "groups/candidates")]
pub async fn member_candidates(search: String) -> Result<Vec<PickerOption>, AppError> {
    use engine::{accounts::Permission, directory::groups};
    let (engine, _, _) = super::context::require(Permission::ReadDirectory).await?;
    if search.trim().len() < 2 {
        return Ok(Vec::new());
    }
    Ok(groups::member_candidates(&engine.db, &search, 20)
        .await?
        .into_iter()
        .map(|c| PickerOption {
            label: if c.kind == "User" {
                format!("{} ({})", c.display_name, c.name)
            } else {
                format!("{} (Group)", c.display_name)
            },
            value: c.name,
        })
        .collect())
}

/// Adds the user or group named `add` (a user principal name or a group's name), or removes the
/// member whose id is `remove`.
#[server(endpoint = "groups/members")]
pub async fn change_members(
    id: String,
    add: Option<String>,
    remove: Option<String>,
) -> Result<(), AppError> {
    use engine::directory::groups;
    let (engine, _, caller) = super::context::signed_in().await?;
    let group = parse_id(&id)?;
    let mut added = Vec::new();
    if let Some(name) = add.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        added.push(groups::principal_named(&engine.db, name, "add").await?.0);
    }
    let removed: Vec<uuid::Uuid> = remove
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(parse_id)
        .transpose()?
        .into_iter()
        .collect();
    engine
        .change_group_members(&caller, group, &added, &removed, None)
        .await?;
    Ok(())
}

/// `delete` (soft, restorable for 30 days), `restore`, or `purge` ("Delete permanently").
#[server(endpoint = "groups/lifecycle")]
pub async fn change_group_lifecycle(id: String, action: String) -> Result<(), AppError> {
    let (engine, _, caller) = super::context::signed_in().await?;
    let id = parse_id(&id)?;
    match action.as_str() {
        "delete" => engine.delete_group(&caller, id, None).await?,
        "restore" => engine.restore_group(&caller, id).await?,
        "purge" => engine.purge_group(&caller, id).await?,
        other => return Err(AppError::Request(format!("unknown action {other:?}"))),
    }
    leptos_axum::redirect(if action == "purge" {
        "/groups?deleted=true"
    } else {
        "/groups"
    });
    Ok(())
}
