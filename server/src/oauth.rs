//! `GET /oauth/callback`: where an OAuth provider sends the administrator back after
//! "Authorize". The state must be the one this session started with; the code is exchanged
//! (with the PKCE verifier kept in the session) and the administrator returns to the
//! application's Provisioning blade, which says how it went.

use std::net::SocketAddr;

use app::api::{
    context::base_url_of,
    provisioning::{PENDING_AUTHORIZATION, PendingAuthorization, redirect_uri},
};
use axum::{
    Extension,
    extract::{ConnectInfo, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use engine::{
    accounts::Account,
    audit::{Actor, Caller},
};
use http::{HeaderMap, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    account: Option<Extension<Account>>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(Extension(account)) = account else {
        return Redirect::to("/signin").into_response();
    };
    let pending: Option<PendingAuthorization> =
        session.remove(PENDING_AUTHORIZATION).await.ok().flatten();
    let Some(pending) = pending.filter(|p| Some(&p.state) == callback.state.as_ref()) else {
        return (
            StatusCode::BAD_REQUEST,
            "This authorization is not the one this session started, or it was already used. Select Authorize again.",
        )
            .into_response();
    };
    let back = |outcome: &str, message: Option<&str>| {
        let mut url = format!(
            "/applications/{}/provisioning?authorization={outcome}",
            pending.application
        );
        if let Some(message) = message {
            url.push_str("&message=");
            url.extend(url::form_urlencoded::byte_serialize(message.as_bytes()));
        }
        Redirect::to(&url).into_response()
    };
    if let Some(error) = &callback.error {
        let message = callback.error_description.as_deref().unwrap_or(error);
        return back("failed", Some(&format!("The provider refused: {message}")));
    }
    let Some(code) = callback.code else {
        return back("failed", Some("The provider sent no authorization code."));
    };
    let caller = Caller {
        actor: Actor::Account {
            id: account.id,
            name: account.user_principal_name.clone(),
        },
        client: Some(peer.ip()),
    };
    let base = base_url_of(state.public_url.as_deref(), &headers);
    match state
        .engine
        .complete_authorization(
            &caller,
            &account,
            pending.application,
            &code,
            &SecretString::from(pending.pkce_verifier.clone()),
            &redirect_uri(&base),
        )
        .await
    {
        Ok(()) => back("succeeded", None),
        Err(e) => {
            tracing::warn!(error = %e, application = %pending.application, "OAuth authorization failed");
            back("failed", Some(&e.to_string().replace("oauth: ", "")))
        }
    }
}
