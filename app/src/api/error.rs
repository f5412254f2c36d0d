//! The error every server function returns. It carries only what the administrator should read;
//! internal details are logged on the server and replaced by a generic message.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field is wrong; `field` is the input's name, so the form shows it beside that input.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Several fields are wrong: (field path, message) pairs, shown beside each field; the
    /// banner names each field as the page labels it.
    #[error("Some fields need attention: {}", .0.iter().map(|(f, m)| format!("{}: {m}", field_label(f))).collect::<Vec<_>>().join(" "))]
    InvalidFields(Vec<(String, String)>),
    #[error("Your session has ended. Sign in again.")]
    Unauthenticated,
    /// Wrong user name or password (which of the two is not said).
    #[error("{0}")]
    SignInRefused(String),
    #[error("{0}")]
    Throttled(String),
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the state does not allow it (setup already completed).
    #[error("{0}")]
    Conflict(String),
    #[error("Something went wrong on the server. The details are in the server's log.")]
    Internal,
    /// Transport or protocol problems (network down, undecodable request or answer).
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// The message for `field`, if this error is about that field.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid { field, message } if field == name => Some(message.clone()),
            AppError::InvalidFields(errors) => errors
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, message)| message.clone()),
            _ => None,
        }
    }

    /// The message for the form's banner: everything that is not about one field.
    pub fn banner(&self) -> Option<String> {
        match self {
            AppError::Invalid { .. } => None,
            AppError::InvalidFields(_) => Some(self.to_string()),
            other => Some(other.to_string()),
        }
    }

    /// The HTTP status a server function answers with when it fails this way.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::InvalidFields(_) => 422,
            AppError::Unauthenticated | AppError::SignInRefused(_) => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Throttled(_) => 429,
            AppError::Request(_) => 400,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }

    /// Serialising the error is the last step of every failed server function on the server, so
    /// this is where the response gets its status (instead of a blanket 500).
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            let status = http::StatusCode::from_u16(self.status());
            response.set_status(status.unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
        }
        <JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(self).unwrap_or_default()
    }
}

#[cfg(feature = "ssr")]
impl From<engine::Error> for AppError {
    fn from(error: engine::Error) -> Self {
        use engine::Error as E;
        match error {
            E::Invalid { field, message } | E::Conflict { field, message } => AppError::Invalid {
                field: snake_case(field),
                message: sentence(message),
            },
            E::NotFound { kind, .. } => {
                AppError::NotFound(format!("This {kind} no longer exists."))
            }
            E::VersionMismatch { kind, .. } => AppError::Conflict(format!(
                "This {kind} was changed by someone else while you were editing. Reload to see the changes."
            )),
            E::Forbidden => AppError::Forbidden,
            E::InvalidCredentials => {
                AppError::SignInRefused("The user name or password is incorrect.".into())
            }
            E::SignInThrottled { retry_after } => AppError::Throttled(format!(
                "Too many failed sign-in attempts. Your account is temporarily locked; try again in {}.",
                human_duration(retry_after)
            )),
            e @ E::TooManyAtOnce { .. } => AppError::Throttled(sentence(e.to_string())),
            E::InvalidSetupToken => AppError::Invalid {
                field: "setup_token".into(),
                message: "This is not the setup token. Copy it from the server's log.".into(),
            },
            E::SetupAlreadyCompleted => AppError::Conflict(
                "Setup is already complete. Sign in with an administrator account.".into(),
            ),
            E::InvalidFields(errors) => AppError::InvalidFields(
                errors
                    .into_iter()
                    .map(|e| (e.field, sentence(e.message)))
                    .collect(),
            ),
            internal @ (E::Database(_)
            | E::PasswordHash(_)
            | E::Io(_)
            | E::SecretUnreadable { .. }) => {
                tracing::error!(error = %internal, "server function failed");
                AppError::Internal
            }
        }
    }
}

/// The engine's messages are clauses ("enter a name"); the console shows sentences.
#[cfg(feature = "ssr")]
fn sentence(message: String) -> String {
    let mut message = engine::text::sentence(&message);
    if !message.ends_with(['.', '?', '!']) {
        message.push('.');
    }
    message
}

/// Engine field names are the directory's (`userPrincipalName`); form inputs are the server
/// functions' argument names (`user_principal_name`).
#[cfg(feature = "ssr")]
fn snake_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(feature = "ssr")]
fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs().max(1);
    match secs {
        1 => "1 second".into(),
        s if s < 90 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// A field path as the page labels the field: "scoping.filters[0].clauses[1].attribute" is
/// "Scoping filter 1, clause 2, Source attribute"; "mappings[2].target" is "Mapping 3, Target
/// attribute".
pub fn field_label(path: &str) -> String {
    let parts: Vec<String> = path
        .split('.')
        .filter(|part| *part != "scoping")
        .map(|part| {
            let (name, index) = match part.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            let label = match name {
                "filters" => "Scoping filter",
                "clauses" if index.is_some() => "clause",
                "clauses" => "clauses",
                "mappings" => "Mapping",
                "attribute" | "source" => "Source attribute",
                "target" => "Target attribute",
                "operator" => "Operator",
                "value" => "Value",
                "default" | "defaultValue" => "Default value if null",
                "matchingPrecedence" => "Matching precedence",
                "apply" => "Apply this mapping",
                other => return other.replace('_', " "),
            };
            match index {
                Some(i) => format!("{label} {}", i + 1),
                None => label.to_owned(),
            }
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::field_label;

    #[test]
    fn field_paths_read_as_the_page_labels_them() {
        assert_eq!(
            field_label("scoping.filters[0].clauses[1].attribute"),
            "Scoping filter 1, clause 2, Source attribute"
        );
        assert_eq!(
            field_label("scoping.filters[2].clauses"),
            "Scoping filter 3, clauses"
        );
        assert_eq!(
            field_label("mappings[2].target"),
            "Mapping 3, Target attribute"
        );
        assert_eq!(
            field_label("mappings[0].matchingPrecedence"),
            "Mapping 1, Matching precedence"
        );
        assert_eq!(field_label("scim_base_url"), "scim base url");
    }
}
