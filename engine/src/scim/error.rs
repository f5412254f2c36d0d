//! SCIM errors (RFC 7644 §3.12): an HTTP status, an optional `scimType`, and a detail for people.

use serde_json::{Value, json};

use super::filter::FilterError;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("invalidValue"), detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("invalidSyntax"), detail)
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        ScimError::new(404, None, format!("{what} {id} not found"))
    }

    pub fn body(&self) -> Value {
        let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        body
    }
}

/// The longest `detail` of a target's error that we repeat.
const DETAIL_CHARS: usize = 300;

/// What a target explains in an error body: its `detail`, when the body is a SCIM error (the
/// error schema, or a `status` beside the `detail`), at most 300 characters, control characters
/// dropped. Any other body is never repeated: Test Connection and the provisioning logs must not
/// become a way to read what an address answers.
pub fn detail_of(body: &Value) -> Option<String> {
    let is_error = body["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s == ERROR_SCHEMA))
        || body.get("status").is_some();
    let detail = body.get("detail")?.as_str().filter(|_| is_error)?;
    Some(
        detail
            .chars()
            .filter(|c| !c.is_control())
            .take(DETAIL_CHARS)
            .collect(),
    )
}

/// A target's body, read up to `limit` bytes; `None` when it is longer (or breaks off), so that
/// no target can make the console hold an answer of any size.
pub async fn read_body(mut response: reqwest::Response, limit: usize) -> Option<String> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return None;
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if bytes.len() + chunk.len() > limit {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl From<FilterError> for ScimError {
    fn from(e: FilterError) -> Self {
        ScimError::new(400, Some("invalidFilter"), e.to_string())
    }
}

impl From<crate::Error> for ScimError {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        match e {
            E::Invalid { field, message } => {
                ScimError::invalid_value(format!("{field}: {message}"))
            }
            E::Conflict { field, message } => {
                ScimError::new(409, Some("uniqueness"), format!("{field}: {message}"))
            }
            E::NotFound { kind, id } => ScimError::not_found(kind, &id),
            // The role table (docs/roles.md): SCIM writes need WriteDirectory.
            E::Forbidden => ScimError::new(
                403,
                None,
                "the token's owner has a role that may not change the directory (Global Administrator only)",
            ),
            E::VersionMismatch {
                kind,
                expected,
                current,
            } => ScimError::new(
                412,
                None,
                format!(
                    "the {kind} is at version W/\"{current}\", not W/\"{expected}\" as If-Match says"
                ),
            ),
            other => {
                tracing::error!(error = %other, "SCIM request failed");
                ScimError::new(
                    500,
                    None,
                    "internal error; the details are in the server's log",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_scim_errors_detail_is_repeated() {
        let scim =
            json!({ "schemas": [ERROR_SCHEMA], "status": "400", "detail": "bad\u{1b}[31m name" });
        assert_eq!(detail_of(&scim).as_deref(), Some("bad[31m name"));
        assert_eq!(
            detail_of(&json!({ "status": 500, "detail": "x".repeat(1000) })).map(|d| d.len()),
            Some(300)
        );
        for other in [
            json!({ "detail": "an internal page's JSON" }),
            json!("<html>secret admin page</html>"),
            json!({ "schemas": [ERROR_SCHEMA], "detail": 42 }),
            Value::Null,
        ] {
            assert_eq!(detail_of(&other), None, "{other}");
        }
    }
}
