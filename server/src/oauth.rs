//! `GET /oauth/callback`: where an OAuth provider sends the administrator back after
//! "Authorize". The state must be the one this session started with, or one the REST API started
//! for the signed-in account; the code is exchanged (with the PKCE verifier kept in the session,
//! or by the engine) and the administrator returns to the application's Provisioning blade, which
//! says how it went (from the session, not the address, so no link can put words on that page).
use std::net::SocketAddr;

use app::api::{
    context::base_url_of,
    provisioning::{
        AUTHORIZATION_OUTCOME, AuthorizationOutcome, PENDING_AUTHORIZATION, PendingAuthorization,
        redirect_uri,
    },
};
use axum::{
    Extension,
    extract::{ConnectInfo, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use engine::{accounts::Account, audit::Caller};
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
    let in_session: Option<PendingAuthorization> =
        session.get(PENDING_AUTHORIZATION).await.ok().flatten();
    let state_sent = callback.state.as_deref().unwrap_or_default();
    // Only the callback of the authorization this session started consumes it; or one the REST
    // API started for this very account.
    let pending = match in_session.filter(|p| p.state == state_sent && p.is_fresh()) {
        Some(pending) => {
            let _ = session
                .remove::<PendingAuthorization>(PENDING_AUTHORIZATION)
                .await;
            Some((
                pending.application,
                SecretString::from(pending.pkce_verifier),
                pending.nonce.map(SecretString::from),
            ))
        }
        None => state
            .engine
            .take_authorization(state_sent, &account)
            .map(|held| (held.application, held.pkce_verifier, held.nonce)),
    };
    let Some((application, pkce_verifier, nonce)) = pending else {
        return (
            StatusCode::BAD_REQUEST,
            "This authorization is not the one this session started, it expired, or it was already used. Select Authorize again.",
        )
            .into_response();
    };
    let outcome = |succeeded: bool, message: String| AuthorizationOutcome {
        application,
        succeeded,
        message,
    };
    let result = if let Some(error) = &callback.error {
        let description = callback.error_description.as_deref().unwrap_or(error);
        outcome(false, format!("The provider refused: {description}"))
    } else if let Some(code) = callback.code {
        let caller = Caller::account(&account, Some(peer.ip()));
        let base = base_url_of(state.public_url.as_deref(), &headers);
        match state
            .engine
            .complete_authorization(
                &caller,
                &account,
                application,
                &code,
                &pkce_verifier,
                nonce.as_ref(),
                &redirect_uri(&base),
            )
            .await
        {
            Ok(()) => outcome(true, "Authorized. Test the connection, then Save.".into()),
            Err(engine::Error::Invalid { message, .. }) => outcome(false, message),
            Err(e) => {
                tracing::error!(error = %e, %application, "OAuth authorization could not be stored");
                outcome(
                    false,
                    "The authorization could not be stored; the details are in the server's log."
                        .into(),
                )
            }
        }
    } else {
        outcome(false, "The provider sent no authorization code.".into())
    };
    if let Err(e) = session.insert(AUTHORIZATION_OUTCOME, result).await {
        tracing::error!(error = %e, "session store");
    }
    Redirect::to(&format!(
        "/applications/{application}/provisioning?authorization=done"
    ))
    .into_response()
}
