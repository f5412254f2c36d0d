//! How many bytes a request body may hold, by route, enforced before the body is read: a declared
//! `Content-Length` over the limit is answered 413 at once, and a body without one is cut off at
//! the limit while it streams in. Server functions read their whole body before they know who is
//! asking, so an anonymous sign-in post must not be able to make the process hold megabytes.

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{StatusCode, header};

/// Sign-in, sign-out and first-run setup: a user name, a password, a token.
pub const SIGN_IN: usize = 8 * 1024;
/// `POST /users/import`: the CSV file (README: 50 MB) and its multipart envelope.
pub const CSV_UPLOAD: usize = crate::user_files::MAX_UPLOAD + 64 * 1024;
/// Everything else: forms, server functions, SCIM resources, REST API documents.
pub const DEFAULT: usize = 1024 * 1024;

/// The limit for a request to `path`.
pub fn for_path(path: &str) -> usize {
    match path {
        "/api/sign_in" | "/api/sign_out" | "/api/setup" => SIGN_IN,
        "/users/import" => CSV_UPLOAD,
        _ => DEFAULT,
    }
}

pub async fn limit(request: Request, next: Next) -> Response {
    let limit = for_path(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit);
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

fn too_large(limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The request body is larger than this route accepts ({limit} bytes)."),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_is_small_and_the_csv_upload_large() {
        assert_eq!(for_path("/api/sign_in"), SIGN_IN);
        assert_eq!(for_path("/api/setup"), SIGN_IN);
        assert!(for_path("/users/import") > 50 * 1024 * 1024);
        assert_eq!(for_path("/scim/v2/Users"), DEFAULT);
        assert_eq!(for_path("/api/v1/applications"), DEFAULT);
    }
}
