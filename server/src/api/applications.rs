//! Applications (list, create from a gallery template, get, update, delete), their assignments,
//! and their provisioning configuration (secrets write-only: answers say only whether one is set).

use app::api::{
    context::{PublicUrl, base_url_of},
    provisioning::redirect_uri,
};
use axum::{
    Extension, Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
};
use engine::{
    Engine,
    applications::{
        Access, Application, Properties,
        provisioning::{Configuration, SecretChanges, Settings},
        roles::PrincipalType,
        target_schema::TargetSchema,
    },
    directory::listing::ListQuery,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiCaller, ApiError, ApiResult, id, rfc3339};

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(assignments, assign))
        .routes(routes!(unassign))
        .routes(routes!(get_provisioning, put_provisioning))
        .routes(routes!(app_roles))
        .routes(routes!(target_schema))
        .routes(routes!(authorize))
}

/// An application as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationOut {
    id: String,
    template: String,
    display_name: String,
    logo_monogram: String,
    logo_color: String,
    notes: String,
    /// Send it back with an update: a stale version is refused (version_mismatch).
    version: i64,
    created_at: String,
    updated_at: String,
}

impl From<Application> for ApplicationOut {
    fn from(a: Application) -> ApplicationOut {
        ApplicationOut {
            id: a.id.to_string(),
            template: a.template,
            display_name: a.display_name,
            logo_monogram: a.logo_monogram,
            logo_color: a.logo_color,
            notes: a.notes,
            version: a.version,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// Applications whose name starts with this.
    search: Option<String>,
}

/// The applications the token's user may configure (an Application Owner: the ones they own),
/// by name, at most 500.
#[utoipa::path(get, path = "/applications", tag = "Applications", params(ListParams),
    responses((status = 200, body = Vec<ApplicationOut>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list(
    State(engine): State<Engine>,
    who: ApiCaller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<Vec<ApplicationOut>>> {
    let query = ListQuery {
        search: params.search,
        limit: 500,
        ..Default::default()
    };
    let page = engine.list_applications(&who.account, &query).await?;
    Ok(Json(page.items.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewApplication {
    /// A gallery template id, such as "vonage" or "custom-scim".
    template: String,
    display_name: String,
}

/// Adds an application from the gallery; the token's user becomes its first owner.
#[utoipa::path(post, path = "/applications", tag = "Applications", request_body = NewApplication,
    responses((status = 201, body = ApplicationOut), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn create(
    State(engine): State<Engine>,
    who: ApiCaller,
    Json(new): Json<NewApplication>,
) -> ApiResult<(StatusCode, Json<ApplicationOut>)> {
    let app = engine
        .create_application(&who.caller, &who.account, &new.template, &new.display_name)
        .await?;
    Ok((StatusCode::CREATED, Json(app.into())))
}

#[utoipa::path(get, path = "/applications/{id}", tag = "Applications", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn get_one(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<ApplicationOut>> {
    let app = engine
        .application_for(&who.account, id(&app, "application")?, Access::Read)
        .await?;
    Ok(Json(app.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationUpdate {
    /// The version this change is based on.
    version: i64,
    display_name: Option<String>,
    logo_monogram: Option<String>,
    logo_color: Option<String>,
    notes: Option<String>,
}

/// Changes an application's properties; what is left out stays as it is.
#[utoipa::path(patch, path = "/applications/{id}", tag = "Applications", params(("id" = String, Path)), request_body = ApplicationUpdate,
    responses((status = 200, body = ApplicationOut), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn update(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
    Json(change): Json<ApplicationUpdate>,
) -> ApiResult<Json<ApplicationOut>> {
    let id = id(&app, "application")?;
    let current = engine
        .application_for(&who.account, id, Access::Configure)
        .await?;
    let properties = Properties {
        display_name: change.display_name.unwrap_or(current.display_name),
        logo_monogram: change.logo_monogram.unwrap_or(current.logo_monogram),
        logo_color: change.logo_color.unwrap_or(current.logo_color),
        notes: change.notes.unwrap_or(current.notes),
    };
    let app = engine
        .update_application(&who.caller, &who.account, id, properties, change.version)
        .await?;
    Ok(Json(app.into()))
}

/// Deletes an application with its assignments, provisioning configuration and job.
#[utoipa::path(delete, path = "/applications/{id}", tag = "Applications", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn delete(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<StatusCode> {
    engine
        .delete_application(&who.caller, &who.account, id(&app, "application")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentOut {
    id: String,
    role_id: String,
    role_name: String,
    /// "User" or "Group".
    principal_type: String,
    principal_id: String,
    principal_name: String,
    created_at: String,
}

#[utoipa::path(get, path = "/applications/{id}/assignments", tag = "Assignments", params(("id" = String, Path)),
    responses((status = 200, body = Vec<AssignmentOut>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn assignments(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<Vec<AssignmentOut>>> {
    let assignments = engine
        .app_assignments(&who.account, id(&app, "application")?)
        .await?;
    Ok(Json(
        assignments
            .into_iter()
            .map(|a| AssignmentOut {
                id: a.id.to_string(),
                role_id: a.role_id.to_string(),
                role_name: a.role_name,
                principal_type: a.principal_type,
                principal_id: a.principal_id.to_string(),
                principal_name: a.principal_name,
                created_at: rfc3339(a.created_at),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewAssignment {
    /// "User" or "Group".
    principal_type: String,
    principal_id: String,
    /// One of the application's app roles (Default Access included).
    role_id: String,
}

/// Assigns a user or a group to the application with an app role.
#[utoipa::path(post, path = "/applications/{id}/assignments", tag = "Assignments", params(("id" = String, Path)), request_body = NewAssignment,
    responses((status = 204), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn assign(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
    Json(new): Json<NewAssignment>,
) -> ApiResult<StatusCode> {
    let principal_type = match new.principal_type.as_str() {
        "User" => PrincipalType::User,
        "Group" => PrincipalType::Group,
        other => {
            return Err(ApiError::invalid(
                "principalType",
                format!("{other:?} is not User or Group"),
            ));
        }
    };
    let uuid = |value: &str, field: &str| {
        uuid::Uuid::try_parse(value)
            .map_err(|_| ApiError::invalid(field, format!("{value:?} is not an id (a GUID)")))
    };
    engine
        .assign(
            &who.caller,
            &who.account,
            id(&app, "application")?,
            principal_type,
            uuid(&new.principal_id, "principalId")?,
            uuid(&new.role_id, "roleId")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/applications/{id}/assignments/{assignment}", tag = "Assignments",
    params(("id" = String, Path), ("assignment" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn unassign(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path((app, assignment)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    engine
        .remove_assignment(
            &who.caller,
            &who.account,
            id(&app, "application")?,
            id(&assignment, "assignment")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The provisioning configuration: settings (mode, Tenant URL, mappings, scoping filters,
/// status...) and which secrets are set. Secrets themselves are never returned.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningOut {
    /// As PUT takes it back.
    settings: Settings,
    has_secret_token: bool,
    has_client_secret: bool,
    authorized_by: Option<String>,
    version: i64,
}

impl From<Configuration> for ProvisioningOut {
    fn from(c: Configuration) -> ProvisioningOut {
        ProvisioningOut {
            settings: c.settings,
            has_secret_token: c.has_secret_token,
            has_client_secret: c.has_client_secret,
            authorized_by: c.authorized_by,
            version: c.version,
        }
    }
}

#[utoipa::path(get, path = "/applications/{id}/provisioning", tag = "Provisioning", params(("id" = String, Path)),
    responses((status = 200, body = ProvisioningOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn get_provisioning(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<ProvisioningOut>> {
    let configuration = engine
        .provisioning(&who.account, id(&app, "application")?)
        .await?;
    Ok(Json(configuration.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningIn {
    /// The version this change is based on.
    version: i64,
    /// The settings as GET gives them, changed. Read as JSON first, so that a wrong field is
    /// named in the answer.
    #[schema(value_type = Settings)]
    settings: Value,
    /// Write-only: a new Secret Token (left out: the stored one stays).
    secret_token: Option<String>,
    /// Write-only: a new OAuth client secret (left out: the stored one stays).
    client_secret: Option<String>,
}

/// Saves the provisioning configuration, as the Provisioning blade's Save does: Provisioning
/// Status On starts the job, Off pauses it.
#[utoipa::path(put, path = "/applications/{id}/provisioning", tag = "Provisioning", params(("id" = String, Path)), request_body = ProvisioningIn,
    responses((status = 200, body = ProvisioningOut), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
async fn put_provisioning(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
    Json(change): Json<ProvisioningIn>,
) -> ApiResult<Json<ProvisioningOut>> {
    let settings: Settings = serde_json::from_value(change.settings)
        .map_err(|e| ApiError::invalid("settings", e.to_string()))?;
    let secrets = SecretChanges {
        secret_token: change.secret_token.map(Into::into),
        client_secret: change.client_secret.map(Into::into),
    };
    let configuration = engine
        .save_provisioning(
            &who.caller,
            &who.account,
            id(&app, "application")?,
            change.version,
            settings,
            secrets,
        )
        .await?;
    Ok(Json(configuration.into()))
}

/// An app role, as assignments name it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleOut {
    id: String,
    display_name: String,
    /// What the role sends to the application (`appRoleAssignments`); none for Default Access.
    value: Option<String>,
    description: String,
    enabled: bool,
    is_default: bool,
}

/// The application's app roles: what an assignment gives.
#[utoipa::path(get, path = "/applications/{id}/roles", tag = "Assignments", params(("id" = String, Path)),
    responses((status = 200, body = Vec<AppRoleOut>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn app_roles(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<Vec<AppRoleOut>>> {
    let roles = engine
        .app_roles(&who.account, id(&app, "application")?)
        .await?;
    Ok(Json(
        roles
            .into_iter()
            .map(|r| AppRoleOut {
                id: r.id.to_string(),
                display_name: r.display_name,
                value: r.value,
                description: r.description,
                enabled: r.enabled,
                is_default: r.is_default,
            })
            .collect(),
    ))
}

/// The target's schema, read now from its `/Schemas` with the saved Tenant URL and
/// credentials: which attributes mappings may send, and what the application requires.
#[utoipa::path(get, path = "/applications/{id}/provisioning/target-schema", tag = "Provisioning", params(("id" = String, Path)),
    responses((status = 200, body = TargetSchema), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn target_schema(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<TargetSchema>> {
    Ok(Json(
        engine
            .target_schema(&who.account, id(&app, "application")?)
            .await?,
    ))
}

/// Where to send the administrator for "Authorize".
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeOut {
    /// Open it in a browser signed in to the console as the token's owner, within ten minutes:
    /// the provider asks for consent, then returns to the console, which stores the tokens.
    url: String,
}

/// Starts "Authorize" (OAuth 2.0 authorization code) with the saved client registration.
#[utoipa::path(post, path = "/applications/{id}/provisioning/authorize", tag = "Provisioning", params(("id" = String, Path)),
    responses((status = 200, body = AuthorizeOut), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn authorize(
    State(engine): State<Engine>,
    who: ApiCaller,
    Extension(public_url): Extension<PublicUrl>,
    headers: HeaderMap,
    Path(app): Path<String>,
) -> ApiResult<Json<AuthorizeOut>> {
    let app = id(&app, "application")?;
    let base = base_url_of(public_url.0.as_deref(), &headers);
    let url = engine
        .authorize(&who.account, app, &redirect_uri(&base))
        .await?;
    Ok(Json(AuthorizeOut { url }))
}
