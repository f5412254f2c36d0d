//! Logs as files. Provisioning logs: the filtered entries as CSV or JSON, streamed while they
//! are read, so a download of a million entries holds no more memory than one of ten. Sign-in
//! logs: the filtered entries as CSV.

use axum::{
    body::Body,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use engine::{Engine, accounts::Permission, sync::log};
use futures::TryStreamExt;
use tower_sessions::Session;

use crate::user_files::signed_in;

/// `GET /provisioning-logs/download.csv?<filters>`.
pub async fn csv(
    State(engine): State<Engine>,
    session: Session,
    Query(query): Query<app::model::LogQuery>,
) -> Response {
    download(engine, session, query, log::Format::Csv).await
}

/// `GET /provisioning-logs/download.json?<filters>`.
pub async fn json(
    State(engine): State<Engine>,
    session: Session,
    Query(query): Query<app::model::LogQuery>,
) -> Response {
    download(engine, session, query, log::Format::Json).await
}

async fn download(
    engine: Engine,
    session: Session,
    query: app::model::LogQuery,
    format: log::Format,
) -> Response {
    let account = match signed_in(&engine, &session, Permission::ReadLogs).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let filter = match app::api::provisioning_logs::filter(&query) {
        Ok(filter) => filter,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let rows = match engine.stream_provisioning_logs(&account, filter) {
        Ok(rows) => rows,
        Err(e @ engine::Error::TooManyAtOnce { .. }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many downloads: {e}."),
            )
                .into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "provisioning logs download");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let body = log::encode(format, rows).inspect_err(|e| {
        tracing::error!(error = %e, "provisioning logs download broke off");
    });
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"provisioning-logs.{}\"",
                    format.extension()
                ),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// `GET /sign-in-logs/download.csv?<filters>`: the Sign-in logs blade's entries, as filtered.
pub async fn sign_ins(
    State(engine): State<Engine>,
    session: Session,
    Query(filters): Query<app::model::SignInFilters>,
) -> Response {
    let account = match signed_in(&engine, &session, Permission::ReadLogs).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let query = match app::api::single_sign_on::sign_in_query(&filters, 500) {
        Ok(query) => query,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match engine.sign_in_logs_csv(&account, &query).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"sign-in-logs.csv\"".to_owned(),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "sign-in logs download");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
