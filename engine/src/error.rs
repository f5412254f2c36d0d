//! The engine's one error type. Variants speak the domain's language; callers at the edges map
//! them to HTTP statuses or form messages. Database details stay inside `Database` and go to logs.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value the caller supplied is not acceptable; `field` names the input at fault.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },

    /// The value is well formed but collides with an existing object.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },

    #[error("no {kind} with id {id}")]
    NotFound { kind: &'static str, id: String },

    /// Optimistic concurrency: the object changed since the caller read `expected`.
    #[error(
        "the {kind} was changed by someone else (now at version {current}, expected {expected})"
    )]
    VersionMismatch {
        kind: &'static str,
        expected: i64,
        current: i64,
    },

    /// The caller's role (or ownership) does not allow this.
    #[error("not allowed")]
    Forbidden,

    #[error("the user name or password is incorrect")]
    InvalidCredentials,

    /// Too many failed sign-ins for this account or from this client address.
    #[error("too many failed sign-in attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    SignInThrottled { retry_after: Duration },

    /// The caller already runs as many of these (log downloads) as one account may at once.
    #[error("at most {limit} {what} at once for one account; wait for one to finish")]
    TooManyAtOnce { what: &'static str, limit: usize },

    /// The first-run setup token is wrong, or setup has already been completed.
    #[error("the setup token is not valid")]
    InvalidSetupToken,

    #[error("a Global Administrator already exists; first-run setup is closed")]
    SetupAlreadyCompleted,

    /// Several fields of one form are wrong (mappings, scoping filters, provisioning settings).
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<FieldError>),

    /// A stored secret does not open with the current key (the key changed, or the value was
    /// tampered with).
    #[error("the stored secret {context} cannot be decrypted with the current key")]
    SecretUnreadable { context: String },

    #[error("database: {0}")]
    Database(#[from] sqlx::Error),

    #[error("file: {0}")]
    Io(#[from] std::io::Error),

    #[error("password hashing: {0}")]
    PasswordHash(String),
}

/// A problem with one field of a form: `field` is its path, such as `mappings[2].source` or
/// `filters[0].clauses[1].value`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Database(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
