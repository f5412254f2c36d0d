//! The REST API under `/api/v1`: JSON for automation, bearer tokens with the `api` scope (the
//! token acts with its user's role and ownerships, docs/roles.md, Tokens), errors as JSON with
//! a stable code. Every route is registered through utoipa's router, so the OpenAPI document at
//! `/api/v1/openapi.json` is generated from the same handlers that serve the requests.

mod applications;
mod directory;
mod jobs;
mod logs;

use axum::{
    Json,
    extract::{FromRequestParts, Request, State},
    http::{StatusCode, request::Parts},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::get,
};
use engine::{
    Engine,
    accounts::{Account, Scope},
    audit::Caller,
};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

/// The caller of an API request: the token's account, and the caller for the audit log.
#[derive(Clone)]
pub struct ApiCaller {
    pub account: Account,
    pub caller: Caller,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// An error as every route answers it: `{"code": "...", "message": "...", "field": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable: unauthenticated, forbidden, not_found, invalid, conflict, version_mismatch,
    /// internal.
    code: &'static str,
    message: String,
    /// The input at fault, for `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Send a token with the api scope as Authorization: Bearer <token>; this one is missing, not valid, revoked, or lacks the scope.",
        )
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }
}

impl From<engine::Error> for ApiError {
    fn from(error: engine::Error) -> ApiError {
        use engine::Error as E;
        match error {
            E::Invalid { field, message } => ApiError::invalid(field, message),
            E::InvalidFields(errors) => ApiError {
                field: errors.first().map(|e| e.field.clone()),
                ..ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            },
            E::Conflict { field, message } => ApiError {
                field: Some(field.to_owned()),
                ..ApiError::new(StatusCode::CONFLICT, "conflict", message)
            },
            E::NotFound { kind, id } => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no {kind} with id {id}"),
            ),
            e @ E::VersionMismatch { .. } => {
                ApiError::new(StatusCode::CONFLICT, "version_mismatch", e.to_string())
            }
            e @ E::TooManyAtOnce { .. } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                e.to_string(),
            ),
            E::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "The token's user does not have a role that allows this.",
            ),
            other => {
                tracing::error!(error = %other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "The request failed on the server; the details are in its log.",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Scimitar REST API",
        description = "Applications, assignments, provisioning configuration, jobs and logs. Authenticate with a token that has the api scope: Authorization: Bearer <token>. The token acts with its user's directory role and application ownerships."
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    components(schemas(ApiError))
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document of every route [`router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(applications::routes())
        .merge(directory::routes())
        .merge(jobs::routes())
        .merge(logs::routes())
}

/// `/api/v1`: the routes behind the token check, and the OpenAPI document (open: it holds no data).
pub fn router(engine: Engine, public_url: Option<String>) -> axum::Router {
    let (api, document) = routes().split_for_parts();
    let api = api.layer(from_fn_with_state(engine.clone(), authenticate));
    axum::Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .merge(api.layer(axum::Extension(app::api::context::PublicUrl(public_url))))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "There is no such API route.",
            )
        })
        .with_state(engine)
}

async fn authenticate(State(engine): State<Engine>, mut request: Request, next: Next) -> Response {
    let Some(token) = crate::bearer::secret(request.headers()) else {
        return ApiError::unauthenticated().into_response();
    };
    match engine.authenticate_token(&token, Scope::Api).await {
        Ok(Some((account, token))) => {
            let caller = crate::bearer::caller(request.extensions(), &account, &token);
            request
                .extensions_mut()
                .insert(ApiCaller { account, caller });
            next.run(request).await
        }
        Ok(None) => ApiError::unauthenticated().into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A time as the API writes it.
fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// An id from the path; a malformed one is a resource that does not exist.
fn id(value: &str, kind: &'static str) -> ApiResult<uuid::Uuid> {
    uuid::Uuid::try_parse(value).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {kind} with id {value}"),
        )
    })
}
