//! Users as files: the CSV upload that stages an import (a plain multipart form, so it works
//! before the WASM loads) and the CSV export of the filtered list.

use axum::{
    extract::{Multipart, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use engine::{
    Engine,
    accounts::{Account, Permission},
};
use tower_sessions::Session;

/// The largest file accepted, in bytes.
pub(crate) const MAX_UPLOAD: usize = 50 * 1024 * 1024;

pub(crate) async fn signed_in(
    engine: &Engine,
    session: &Session,
    permission: Permission,
) -> Result<Account, Response> {
    match app::api::context::session_account(engine, session).await {
        Ok(Some(account)) if account.may(permission) => Ok(account),
        Ok(Some(_)) => Err((
            StatusCode::FORBIDDEN,
            "You do not have permission to do this.",
        )
            .into_response()),
        Ok(None) => Err(Redirect::to("/signin").into_response()),
        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
    }
}

fn back_with(error: &str) -> Response {
    let encoded: String = error
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Redirect::to(&format!("/users/import?error={encoded}")).into_response()
}

/// `POST /users/import`: checks the uploaded file and shows its preview.
pub async fn upload(
    State(engine): State<Engine>,
    session: Session,
    mut form: Multipart,
) -> Response {
    let account = match signed_in(&engine, &session, Permission::WriteDirectory).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let field = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => break field,
            Ok(Some(_)) => continue,
            Ok(None) => return back_with("Choose a CSV file to upload."),
            Err(e) => return back_with(&format!("The upload failed: {e}")),
        }
    };
    let file_name = field.file_name().unwrap_or("users.csv").to_owned();
    let bytes = match field.bytes().await {
        Ok(bytes) if bytes.len() > MAX_UPLOAD => {
            return back_with("The file is larger than 50 MB.");
        }
        Ok(bytes) if bytes.is_empty() => return back_with("The file is empty."),
        Ok(bytes) => bytes,
        Err(e) => return back_with(&format!("The upload failed: {e}")),
    };
    let Ok(content) = String::from_utf8(bytes.to_vec()) else {
        return back_with("The file is not UTF-8 text. Save it as CSV UTF-8 and upload it again.");
    };
    match engine.stage_import(account.id, &file_name, content).await {
        Ok((id, _)) => Redirect::to(&format!("/users/import/{id}")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "staging an import failed");
            back_with("The file could not be checked; the details are in the server's log.")
        }
    }
}

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    q: Option<String>,
}

/// `GET /users/export.csv?q=...`: the users of the list (with its search), as CSV.
pub async fn export(
    State(engine): State<Engine>,
    session: Session,
    Query(query): Query<ExportQuery>,
) -> Response {
    if let Err(response) = signed_in(&engine, &session, Permission::ReadDirectory).await {
        return response;
    }
    match engine
        .export_users(query.q.filter(|q| !q.trim().is_empty()))
        .await
    {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"users.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "export failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
