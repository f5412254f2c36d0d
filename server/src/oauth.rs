//! `GET /oauth/callback`: where an OAuth provider sends the administrator back after
//! "Authorize" (from the Provisioning blade or the REST API). The engine takes the authorization
//! its state names, once, for the signed-in account that started it, exchanges the code and keeps
//! how it went; the administrator returns to the application's Provisioning blade, which shows
//! that outcome (from the engine, not the address, so no link can put words on that page).
use std::net::SocketAddr;

use app::api::{context::base_url_of, provisioning::redirect_uri};
use axum::{
    Extension,
    extract::{ConnectInfo, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use engine::{accounts::Account, applications::oauth::Callback, audit::Caller};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use crate::AppState;

#[derive(Deserialize)]
pub struct Parameters {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    account: Option<Extension<Account>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(sent): Query<Parameters>,
) -> Response {
    let Some(Extension(account)) = account else {
        return Redirect::to("/signin").into_response();
    };
    let caller = Caller::account(&account, Some(peer.ip()));
    let base = base_url_of(state.public_url.as_deref(), &headers);
    let finished = state
        .engine
        .finish_authorization(
            &caller,
            &account,
            sent.state.as_deref().unwrap_or_default(),
            Callback {
                code: sent.code.as_deref(),
                error: sent.error.as_deref(),
                error_description: sent.error_description.as_deref(),
            },
            &redirect_uri(&base),
        )
        .await;
    match finished {
        Ok(Some(application)) => Redirect::to(&format!(
            "/applications/{application}/provisioning?authorization=done"
        ))
        .into_response(),
        Ok(None) => (
            StatusCode::BAD_REQUEST,
            "This authorization is not one this account started, it expired, or it was already used. Select Authorize again.",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "OAuth callback");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The authorization could not be finished; the details are in the server's log.",
            )
                .into_response()
        }
    }
}
