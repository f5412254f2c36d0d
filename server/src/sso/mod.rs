//! The single sign-on doors (docs/sso.md): SAML under `/saml/<application>` ([`saml`]) and
//! OpenID Connect under `/oidc/<application>` ([`oidc`]), with what both need: who asks and
//! from where, sending people to sign in first, and the page a refused sign-on ends on.
//!
//! These routes sit outside the origin check (applications reach them from their own sites) and
//! have the console's sessions: sign-in at an identity provider is the console's own.

mod oidc;
mod saml;

use std::net::SocketAddr;

use axum::{
    Extension, Router,
    response::{Html, IntoResponse, Redirect, Response},
};
use engine::{Engine, sso::access::Refusal};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use leptos::nonce::Nonce;
use tower_sessions::Session;
use uuid::Uuid;

#[derive(Clone)]
pub struct SsoState {
    pub engine: Engine,
    pub public_url: Option<String>,
}

/// Both protocols' routes.
pub fn router(state: SsoState) -> Router {
    Router::new()
        .nest("/saml", saml::router(state.clone()))
        .nest("/oidc", oidc::router(state))
}

/// Who asks, from where: what a sign-on reads of the request besides its protocol's parameters.
#[derive(axum::extract::FromRequestParts)]
pub struct Visit {
    session: Session,
    nonce: Option<Extension<Nonce>>,
    peer: axum::extract::ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    /// The whole path: inside a nested router, `Uri` has lost its prefix.
    uri: axum::extract::OriginalUri,
}

/// To the console's sign-in, which comes back to this very request after the password.
fn sign_in_first(visit: &Visit) -> Response {
    let here = visit.uri.0.path_and_query().map_or("/", |p| p.as_str());
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/signin?next={next}")).into_response()
}

fn status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::NotSetUp => StatusCode::NOT_FOUND,
        Refusal::NotAssigned { .. } | Refusal::Disabled | Refusal::Deleted => StatusCode::FORBIDDEN,
        Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
    }
}

fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// Never kept by a browser or a proxy: these pages carry a sign-in.
fn uncached(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(body),
    )
        .into_response()
}

/// Why a sign-on did not happen, with the sign-in log's correlation id.
fn page(status: StatusCode, refusal: &Refusal, correlation: Option<Uuid>) -> Response {
    let title = match refusal {
        Refusal::NotAssigned { .. } => "You are not assigned to this application",
        Refusal::NotSetUp => "Single sign-on is not set up",
        Refusal::Disabled | Refusal::Deleted => "Your account cannot sign in",
        Refusal::BadRequest(_) => "The application's sign-in request was refused",
    };
    let correlation = correlation
        .map(|c| format!("<p>Correlation ID: <code>{c}</code> (your administrator finds it in the Sign-in logs)</p>"))
        .unwrap_or_default();
    uncached(
        status,
        format!(
            r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body><main><h1>{title}</h1><p role="alert">{reason}</p>{correlation}<p><a href="/myapps">Go to My Apps</a></p></main></body></html>"#,
            reason = escape(&refusal.to_string()),
        ),
    )
}
