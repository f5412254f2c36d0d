//! `/metrics` for Prometheus: the engine's metrics as OpenMetrics text, for a bearer token of
//! any role (either scope), as docs/roles.md says.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use engine::{Engine, accounts::Scope};

pub async fn metrics(State(engine): State<Engine>, headers: HeaderMap) -> Response {
    let token = crate::bearer::secret(&headers).unwrap_or_default();
    let mut known = false;
    for scope in [Scope::Api, Scope::Scim] {
        match engine.authenticate_token(&token, scope).await {
            Ok(Some(_)) => known = true,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "metrics: token check failed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
        if known {
            break;
        }
    }
    if !known {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "Send a Scimitar token as Authorization: Bearer <token>.",
        )
            .into_response();
    }
    match engine.metrics_text().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
