//! Liveness and readiness probes, open to anyone: they reveal nothing but "up" and "ready".

use axum::{extract::State, http::StatusCode};
use engine::Engine;

/// The process is up and serving requests.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The console can do its work: the database answers.
pub async fn readyz(State(engine): State<Engine>) -> (StatusCode, &'static str) {
    if engine::db::is_reachable(&engine.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
