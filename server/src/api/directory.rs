//! Finding directory objects for automation: a user by user principal name, groups by name, as
//! the seed's steps name them. Any role may read the directory (docs/roles.md).

use axum::{
    Json,
    extract::{Query, State},
};
use engine::{
    Engine,
    directory::{groups, users},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiCaller, ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(find_users))
        .routes(routes!(find_groups))
}

/// A user as the API lists it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserOut {
    id: String,
    user_principal_name: String,
    display_name: String,
    account_enabled: bool,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct UserParams {
    /// The user principal name, in any case.
    user_principal_name: String,
}

/// The user (not deleted) with this user principal name: a list of one, or empty.
#[utoipa::path(get, path = "/users", tag = "Directory", params(UserParams),
    responses((status = 200, body = Vec<UserOut>), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
async fn find_users(
    State(engine): State<Engine>,
    _who: ApiCaller,
    Query(params): Query<UserParams>,
) -> ApiResult<Json<Vec<UserOut>>> {
    let found = users::find_by_upn(&engine.db, &params.user_principal_name).await?;
    Ok(Json(
        found
            .filter(|u| u.deleted_at.is_none())
            .map(|u| UserOut {
                id: u.id.to_string(),
                account_enabled: u.profile.is_enabled(),
                user_principal_name: u.profile.user_principal_name,
                display_name: u.profile.display_name,
            })
            .into_iter()
            .collect(),
    ))
}

/// A group as the API lists it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupOut {
    id: String,
    display_name: String,
    description: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct GroupParams {
    /// The group's name, in any case.
    display_name: String,
}

/// The groups (not deleted) with this name, oldest first: names need not be unique.
#[utoipa::path(get, path = "/groups", tag = "Directory", params(GroupParams),
    responses((status = 200, body = Vec<GroupOut>), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
async fn find_groups(
    State(engine): State<Engine>,
    _who: ApiCaller,
    Query(params): Query<GroupParams>,
) -> ApiResult<Json<Vec<GroupOut>>> {
    let found = groups::find_by_name(&engine.db, &params.display_name).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|g| GroupOut {
                id: g.id.to_string(),
                display_name: g.profile.display_name,
                description: g.profile.description,
            })
            .collect(),
    ))
}
