//! The SAML doors of each application (docs/sso.md): its metadata, its Login URL for the
//! HTTP-Redirect and HTTP-POST bindings, the IdP-initiated start My Apps opens, and its Logout
//! URL. Who may sign in is the engine's to say; this module reads the request, sends people to
//! sign in first, and writes the two pages a sign-on ends on: a form that posts the response to
//! the application, or the reason it was refused.
//!
//! These routes sit outside the origin check: a service provider posts its AuthnRequest from
//! its own site. A posted request changes nothing; it is turned into a redirect to the same
//! Login URL, which brings the session cookie (SameSite=Lax) along.

use app::api::context::{base_url_of, session_member};
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use engine::sso::{
    access::Refusal,
    saml::{self, IdentityProvider, PostForm, Request, SignOn},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use leptos::nonce::Nonce;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{SsoState, Visit, escape, page, sign_in_first, status, uncached};

pub fn router(state: SsoState) -> Router {
    Router::new()
        .route("/{application}/metadata", get(metadata))
        .route("/{application}/sso", get(sign_on).post(posted))
        .route("/{application}/start", get(start))
        .route("/{application}/logout", get(logout))
        .with_state(state)
}

/// The two bindings' parameters, as SAML names them.
#[derive(Deserialize)]
pub struct Binding {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

fn identity_provider(state: &SsoState, headers: &HeaderMap, application: Uuid) -> IdentityProvider {
    IdentityProvider::new(
        &base_url_of(state.public_url.as_deref(), headers),
        application,
    )
}

async fn metadata(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let idp = identity_provider(&state, &headers, application);
    match state.engine.saml_metadata(&idp).await {
        Ok(Some(xml)) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/samlmetadata+xml"),
            )],
            xml,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "SAML metadata");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The HTTP-POST binding: the same request, redirected to the HTTP-Redirect binding.
async fn posted(Path(application): Path<Uuid>, Form(binding): Form<Binding>) -> Response {
    let Some(request) = binding.saml_request else {
        return page(
            StatusCode::BAD_REQUEST,
            &Refusal::BadRequest("the request has no SAMLRequest".into()),
            None,
        );
    };
    match saml::redirect_encoding(&request) {
        Ok(encoded) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("SAMLRequest", &encoded);
            if let Some(relay_state) = &binding.relay_state {
                query.append_pair("RelayState", relay_state);
            }
            Redirect::to(&format!("/saml/{application}/sso?{}", query.finish())).into_response()
        }
        Err(why) => page(StatusCode::BAD_REQUEST, &Refusal::BadRequest(why), None),
    }
}

/// The Login URL (HTTP-Redirect binding): SP-initiated sign-on.
async fn sign_on(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    Query(binding): Query<Binding>,
    visit: Visit,
) -> Response {
    let Some(saml_request) = binding.saml_request.as_deref() else {
        return page(
            StatusCode::BAD_REQUEST,
            &Refusal::BadRequest(
                "the request has no SAMLRequest; open the application from My Apps".into(),
            ),
            None,
        );
    };
    let request = Request::Redirect {
        saml_request,
        relay_state: binding.relay_state.as_deref(),
    };
    answer(&state, application, &request, visit).await
}

/// IdP-initiated sign-on: My Apps and "Test this application".
async fn start(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    visit: Visit,
) -> Response {
    answer(&state, application, &Request::IdpInitiated, visit).await
}

/// Checks the request, has the person sign in if they have not, and signs them on.
async fn answer(
    state: &SsoState,
    application: Uuid,
    request: &Request<'_>,
    visit: Visit,
) -> Response {
    let engine = &state.engine;
    let idp = identity_provider(state, &visit.headers, application);
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "SAML sign-on");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    };
    match engine.saml_check(&idp, request).await {
        Ok(Ok(_)) => {}
        Ok(Err(refusal)) => return page(status(&refusal), &refusal, None),
        Err(e) => return unavailable(&e),
    }
    let member = match session_member(engine, &visit.session).await {
        Ok(member) => member,
        Err(e) => return unavailable(&e),
    };
    let Some(member) = member else {
        return sign_in_first(&visit);
    };
    match engine
        .saml_sign_on(&idp, member.id, request, Some(visit.peer.0.ip()))
        .await
    {
        Ok(SignOn::Post(form)) => post_page(&form, visit.nonce.map(|n| n.0)),
        Ok(SignOn::Refused {
            refusal,
            correlation,
        }) => page(status(&refusal), &refusal, Some(correlation)),
        Err(e) => unavailable(&e),
    }
}

/// The Logout URL: ends the session here, then goes to the application's Logout URL if it has
/// one.
async fn logout(
    State(state): State<SsoState>,
    Path(application): Path<Uuid>,
    session: Session,
) -> Response {
    let _ = session.flush().await;
    let configured = engine::sso::load(&state.engine.db, application)
        .await
        .ok()
        .map(|c| c.settings.saml.logout_url)
        .filter(|url| !url.is_empty());
    Redirect::to(configured.as_deref().unwrap_or("/signin")).into_response()
}

/// The form that carries the response to the application, posted at once by a script (the
/// page's nonce lets it run) or by the button without scripts.
fn post_page(form: &PostForm, nonce: Option<Nonce>) -> Response {
    let relay_state = form
        .relay_state
        .as_deref()
        .map(|r| {
            format!(
                r#"<input type="hidden" name="RelayState" value="{}">"#,
                escape(r)
            )
        })
        .unwrap_or_default();
    let script = nonce
        .map(|n| format!(r#"<script nonce="{n}">document.forms[0].submit();</script>"#))
        .unwrap_or_default();
    uncached(
        StatusCode::OK,
        format!(
            r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signing in</title></head><body><form method="post" action="{action}"><input type="hidden" name="SAMLResponse" value="{response}">{relay_state}<p>Signing you in…</p><button type="submit">Continue</button></form>{script}</body></html>"#,
            action = escape(&form.acs_url),
            response = escape(&form.saml_response),
        ),
    )
}
