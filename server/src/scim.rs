//! Inbound SCIM 2.0 at `/scim/v2`: axum handlers that authenticate the bearer token, check its
//! owner's role, and hand the request to the engine's SCIM service. Every answer, errors included,
//! is `application/scim+json`.

use std::collections::HashMap;

use axum::{
    Extension, Router,
    body::Bytes,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use engine::{
    Engine,
    accounts::Scope,
    audit::Caller,
    scim::{
        LIST_RESPONSE, ScimError,
        query::{ListQuery, Projection},
        resources::{etag, parse_etag},
        schema,
        service::ResourceKind,
    },
};
use serde_json::{Value, json};

const SCIM_JSON: &str = "application/scim+json";

#[derive(Clone)]
pub struct ScimState {
    pub engine: Engine,
    /// The console's public URL, if configured; otherwise links use the request's Host.
    pub public_url: Option<String>,
}

pub fn router(state: ScimState) -> Router {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema_by_id))
        // `/Users` and `/Groups`; the static routes above take precedence over `{resource}`.
        .route("/{resource}", get(list).post(create))
        .route("/{resource}/.search", post(search))
        .route(
            "/{resource}/{id}",
            get(get_one).put(replace).patch(patch).delete(delete),
        )
        .route("/.search", post(search_all))
        .fallback(|| async { error(ScimError::new(404, None, "no such SCIM endpoint")) })
        .layer(from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

fn scim_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

fn error(e: ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = scim_response(status, e.body());
    if e.status == 401 {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"scimitar\""),
        );
    }
    response
}

/// A resource with its ETag (and Location, when created).
fn resource_response(status: StatusCode, (body, version): (Value, i64)) -> Response {
    let location = body["meta"]["location"].as_str().map(str::to_owned);
    let mut response = scim_response(status, body);
    if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    if status == StatusCode::CREATED
        && let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn authenticate(
    State(state): State<ScimState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = crate::bearer::secret(request.headers()) else {
        return error(ScimError::new(
            401,
            None,
            "send a token with the scim scope as Authorization: Bearer <token>",
        ));
    };
    match state.engine.authenticate_token(&token, Scope::Scim).await {
        Ok(Some((account, token))) => {
            let caller = crate::bearer::caller(request.extensions(), &account, &token);
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => error(ScimError::new(
            401,
            None,
            "the token is not valid, has been revoked, or lacks the scim scope",
        )),
        Err(e) => error(e.into()),
    }
}

fn base_url(state: &ScimState, headers: &HeaderMap) -> String {
    match &state.public_url {
        Some(url) => format!("{}/scim/v2", url.trim_end_matches('/')),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}/scim/v2")
        }
    }
}

/// Query parameters are matched without regard to case (RFC 7644 §3.4.2).
fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, ScimError> {
    ListQuery::from_params(|name| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    })
}

fn projection(params: &HashMap<String, String>) -> Projection {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    Projection::from_params(get("attributes"), get("excludedAttributes"))
}

/// A `.search` body's parameters, arrays of attribute names joined as in a query string.
fn search_query(body: &Value) -> Result<ListQuery, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a SearchRequest object"))?;
    ListQuery::from_params(|name| {
        let (_, value) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        }
    })
}

fn json_body(bytes: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ScimError> {
    match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        None => Ok(None),
        Some("*") => Ok(None),
        Some(tag) => parse_etag(tag).map(Some).ok_or_else(|| {
            ScimError::new(
                412,
                None,
                format!("If-Match {tag:?} is not a version of this resource"),
            )
        }),
    }
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The discovery document whose `id` is `id`, or a SCIM 404.
fn by_id(documents: Vec<Value>, what: &str, id: &str) -> Response {
    match documents.into_iter().find(|d| d["id"] == id) {
        Some(found) => scim_response(StatusCode::OK, found),
        None => error(ScimError::not_found(what, id)),
    }
}

async fn service_provider_config(State(state): State<ScimState>, headers: HeaderMap) -> Response {
    scim_response(
        StatusCode::OK,
        schema::service_provider_config(&base_url(&state, &headers)),
    )
}

async fn resource_types(State(state): State<ScimState>, headers: HeaderMap) -> Response {
    scim_response(
        StatusCode::OK,
        list_of(schema::resource_types(&base_url(&state, &headers))),
    )
}

async fn resource_type(
    State(state): State<ScimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    by_id(
        schema::resource_types(&base_url(&state, &headers)),
        "ResourceType",
        &id,
    )
}

async fn schemas(State(state): State<ScimState>, headers: HeaderMap) -> Response {
    scim_response(
        StatusCode::OK,
        list_of(schema::schemas(&base_url(&state, &headers))),
    )
}

async fn schema_by_id(
    State(state): State<ScimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    by_id(schema::schemas(&base_url(&state, &headers)), "Schema", &id)
}

/// `/Users` or `/Groups`, from the path.
fn resource_kind(resource: &str) -> Result<ResourceKind, ScimError> {
    match resource {
        "Users" => Ok(ResourceKind::User),
        "Groups" => Ok(ResourceKind::Group),
        _ => Err(ScimError::new(404, None, "no such SCIM endpoint")),
    }
}

async fn list(
    State(state): State<ScimState>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let kind = resource_kind(&resource)?;
        state
            .engine
            .scim_list(kind, &list_query(&params)?, &base_url(&state, &headers))
            .await
    };
    result
        .await
        .map_or_else(error, |body| scim_response(StatusCode::OK, body))
}

async fn search(
    State(state): State<ScimState>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let kind = resource_kind(&resource)?;
        let query = search_query(&json_body(&body)?)?;
        state
            .engine
            .scim_list(kind, &query, &base_url(&state, &headers))
            .await
    };
    result
        .await
        .map_or_else(error, |body| scim_response(StatusCode::OK, body))
}

async fn search_all(State(state): State<ScimState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let query = search_query(&json_body(&body)?)?;
        state
            .engine
            .scim_search_all(&query, &base_url(&state, &headers))
            .await
    };
    result
        .await
        .map_or_else(error, |body| scim_response(StatusCode::OK, body))
}

async fn get_one(
    State(state): State<ScimState>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let kind = resource_kind(&resource)?;
        state
            .engine
            .scim_get(kind, &id, &projection(&params), &base_url(&state, &headers))
            .await
    };
    result
        .await
        .map_or_else(error, |r| resource_response(StatusCode::OK, r))
}

async fn create(
    State(state): State<ScimState>,
    Path(resource): Path<String>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let kind = resource_kind(&resource)?;
        let caller = &caller;
        state
            .engine
            .scim_create(
                caller,
                kind,
                &json_body(&body)?,
                &base_url(&state, &headers),
            )
            .await
    };
    result
        .await
        .map_or_else(error, |r| resource_response(StatusCode::CREATED, r))
}

async fn replace(
    State(state): State<ScimState>,
    Path((resource, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    save(state, resource, id, caller, headers, body, false).await
}

async fn patch(
    State(state): State<ScimState>,
    Path((resource, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    save(state, resource, id, caller, headers, body, true).await
}

/// PUT (`patch: false`) or PATCH of one resource.
async fn save(
    state: ScimState,
    resource: String,
    id: String,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
    patch: bool,
) -> Response {
    let result = async {
        let kind = resource_kind(&resource)?;
        let caller = &caller;
        let (body, expected, base) = (
            json_body(&body)?,
            if_match(&headers)?,
            base_url(&state, &headers),
        );
        if patch {
            state
                .engine
                .scim_patch(caller, kind, &id, &body, expected, &base)
                .await
        } else {
            state
                .engine
                .scim_replace(caller, kind, &id, &body, expected, &base)
                .await
        }
    };
    result
        .await
        .map_or_else(error, |r| resource_response(StatusCode::OK, r))
}

async fn delete(
    State(state): State<ScimState>,
    Path((resource, id)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let kind = resource_kind(&resource)?;
        let caller = &caller;
        state
            .engine
            .scim_delete(caller, kind, &id, if_match(&headers)?)
            .await
    };
    match result.await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}
