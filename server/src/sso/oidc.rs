//! The OpenID Connect doors of each application (docs/sso.md, OpenID Connect): discovery, keys,
//! the authorization endpoint (which has people sign in first), the token and UserInfo endpoints
//! the application's server calls, and RP-initiated logout. What is allowed is the engine's to
//! say; this module reads the requests and writes the answers.
//!
//! These routes sit outside the origin check: the token endpoint is called by the application's
//! server, and the others are reached by redirects from the application's site. None of them
//! changes anything for a cookie alone: the authorization endpoint issues a code only to a
//! registered redirect URI, and logout only ends the session.

use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Json, Redirect, Response},
    routing::get,
};
use base64::Engine as _;
use engine::sso::oidc::{Authorization, AuthorizationRequest, Issuer, TokenError, TokenRequest};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use tower_sessions::Session;
use uuid::Uuid;

use super::{SsoState, Visit, page, sign_in_first, status, uncached};
use app::api::context::{base_url_of, session_member, session_signed_in_at};

pub fn router(state: SsoState) -> Router {
    Router::new()
        .route(
            "/{application}/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/{application}/jwks", get(jwks))
        .route("/{application}/authorize", get(authorize))
        .route("/{application}/token", axum::routing::post(token))
        .route("/{application}/userinfo", get(userinfo).post(userinfo))
        .route("/{application}/logout", get(logout))
        .with_state(state)
}

fn issuer(state: &SsoState, headers: &HeaderMap, application: Uuid) -> Issuer {
    Issuer::new(
        &base_url_of(state.public_url.as_deref(), headers),
        application,
    )
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "OpenID Connect");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// Public documents a browser application may read from anywhere.
fn public_json(found: engine::Result<Option<Value>>) -> Response {
    match found {
        Ok(Some(body)) => (
            [(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            )],
            Json(body),
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => unavailable(&e),
    }
}

async fn discovery(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let issuer = issuer(&state, &headers, application);
    public_json(state.engine.oidc_discovery(&issuer).await)
}

async fn jwks(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let issuer = issuer(&state, &headers, application);
    public_json(state.engine.oidc_jwks(&issuer).await)
}

fn ended(authorization: Authorization) -> Response {
    match authorization {
        Authorization::Redirect(url) => Redirect::to(&url).into_response(),
        Authorization::Refused {
            refusal,
            correlation,
        } => page(status(&refusal), &refusal, correlation),
    }
}

/// The authorization endpoint: checks the request, has the person sign in if they have not,
/// and sends the code (or the reason why not) back to the application.
async fn authorize(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    Query(request): Query<AuthorizationRequest>,
    visit: Visit,
) -> Response {
    let engine = &state.engine;
    let issuer = issuer(&state, &visit.headers, application);
    let member = match session_member(engine, &visit.session).await {
        Ok(member) => member,
        Err(e) => return unavailable(&e),
    };
    match engine.oidc_check(&issuer, &request, member.is_some()).await {
        Ok(Ok(())) => {}
        Ok(Err(ended_early)) => return ended(ended_early),
        Err(e) => return unavailable(&e),
    }
    let Some(member) = member else {
        return sign_in_first(&visit);
    };
    let signed_in_at = session_signed_in_at(&visit.session).await;
    match engine
        .oidc_authorize(
            &issuer,
            member.id,
            signed_in_at,
            &request,
            Some(visit.peer.0.ip()),
        )
        .await
    {
        Ok(authorization) => ended(authorization),
        Err(e) => unavailable(&e),
    }
}

/// Token answers are never kept (RFC 6749, 5.1).
fn no_store(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(body),
    )
        .into_response()
}

fn token_error(error: &TokenError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store(status, error.body());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Scimitar\""),
        );
    }
    response
}

/// `client_secret_basic` (RFC 6749, 2.3.1): the id and secret, each form-urlencoded.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decode = || {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ())?;
        let text = String::from_utf8(bytes).map_err(|_| ())?;
        let (id, secret) = text.split_once(':').ok_or(())?;
        let unescape = |s: &str| -> String {
            url::form_urlencoded::parse(format!("v={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Ok((unescape(id), unescape(secret)))
    };
    Some(decode())
}

async fn token(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let invalid = |why: &str| {
        token_error(&TokenError {
            error: "invalid_request",
            description: why.to_owned(),
        })
    };
    let Ok(Form(mut request)) = form else {
        return invalid("send the parameters as application/x-www-form-urlencoded");
    };
    match basic_credentials(&headers) {
        None => {}
        Some(Err(())) => {
            return token_error(&TokenError {
                error: "invalid_client",
                description: "the Authorization header is not HTTP Basic credentials".into(),
            });
        }
        Some(Ok(_)) if request.client_secret.is_some() => {
            return invalid("send the client's credentials once: in the header or in the form");
        }
        Some(Ok((id, secret))) => {
            if request.client_id.as_ref().is_some_and(|given| *given != id) {
                return invalid("the client_id of the form is not the one of the header");
            }
            request.client_id = Some(id);
            request.client_secret = Some(secret);
        }
    }
    let issuer = issuer(&state, &headers, application);
    match state.engine.oidc_token(&issuer, &request).await {
        Ok(Ok(body)) => no_store(StatusCode::OK, body),
        Ok(Err(error)) => token_error(&error),
        Err(e) => unavailable(&e),
    }
}

/// UserInfo (OpenID Connect Core 1.0, 5.3), with the access token as a bearer token.
async fn userinfo(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let refused = |error: &str, description: &str| {
        let mut response = no_store(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": error, "error_description": description }),
        );
        let challenge = format!("Bearer error=\"{error}\"");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    };
    let Some(token) = token else {
        return refused("invalid_request", "send the access token as a Bearer token");
    };
    let issuer = issuer(&state, &headers, application);
    match state.engine.oidc_userinfo(&issuer, token).await {
        Ok(Ok(claims)) => no_store(StatusCode::OK, claims),
        Ok(Err(error)) => refused(error.error, &error.description),
        Err(e) => unavailable(&e),
    }
}

/// RP-initiated logout's parameters.
#[derive(Deserialize)]
pub struct Logout {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

/// Ends the Scimitar session, then goes back to the application if it asked and may.
async fn logout(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    headers: HeaderMap,
    session: Session,
    Query(logout): Query<Logout>,
) -> Response {
    let _ = session.flush().await;
    let issuer = issuer(&state, &headers, application);
    match state
        .engine
        .oidc_logout(
            &issuer,
            logout.id_token_hint.as_deref(),
            logout.post_logout_redirect_uri.as_deref(),
            logout.state.as_deref(),
        )
        .await
    {
        Ok(Some(url)) => Redirect::to(&url).into_response(),
        Ok(None) => uncached(
            StatusCode::OK,
            r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><main><h1>You have signed out</h1><p>You can close this window, or <a href="/signin">sign in again</a>.</p></main></body></html>"#.into(),
        ),
        Err(e) => unavailable(&e),
    }
}
