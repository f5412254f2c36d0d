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
