//! The error codes a provisioning log entry (or a stopped cycle) can carry, and for each its
//! Troubleshooting & Recommendations: what it means in plain words and what the administrator
//! can do about it. The one list: the logs, the cycle report, the quarantine notice and the
//! notification email all read it.

use serde::{Deserialize, Serialize};

use crate::applications::gallery::AuthenticationMethod;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    InvalidCredentials,
    NotScimEndpoint,
    EntryConflict,
    DuplicateTargetEntries,
    /// The target answered a filter query with an account that does not match it.
    TargetIgnoresFilter,
    /// The target cannot filter and its accounts could not be listed to match this object.
    TargetCannotMatch,
    TargetRefused,
    TargetUnavailable,
    TargetUnreachable,
    MissingRequiredAttribute,
    MappingError,
    NotInScope,
    AccidentalDeletionThreshold,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::InvalidCredentials,
        ErrorCode::NotScimEndpoint,
        ErrorCode::EntryConflict,
        ErrorCode::DuplicateTargetEntries,
        ErrorCode::TargetIgnoresFilter,
        ErrorCode::TargetCannotMatch,
        ErrorCode::TargetRefused,
        ErrorCode::TargetUnavailable,
        ErrorCode::TargetUnreachable,
        ErrorCode::MissingRequiredAttribute,
        ErrorCode::MappingError,
        ErrorCode::NotInScope,
        ErrorCode::AccidentalDeletionThreshold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidCredentials => "InvalidCredentials",
            ErrorCode::NotScimEndpoint => "NotScimEndpoint",
            ErrorCode::EntryConflict => "EntryConflict",
            ErrorCode::DuplicateTargetEntries => "DuplicateTargetEntries",
            ErrorCode::TargetIgnoresFilter => "TargetIgnoresFilter",
            ErrorCode::TargetCannotMatch => "TargetCannotMatch",
            ErrorCode::TargetRefused => "TargetRefused",
            ErrorCode::TargetUnavailable => "TargetUnavailable",
            ErrorCode::TargetUnreachable => "TargetUnreachable",
            ErrorCode::MissingRequiredAttribute => "MissingRequiredAttribute",
            ErrorCode::MappingError => "MappingError",
            ErrorCode::NotInScope => "NotInScope",
            ErrorCode::AccidentalDeletionThreshold => "AccidentalDeletionThreshold",
        }
    }

    /// The code named `name`, as `as_str` writes it.
    pub fn parse(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// (cause, what to do) for an application whose credentials are of kind `credentials`:
    /// refused credentials are fixed where that kind is entered.
    pub fn advice_for(self, credentials: AuthenticationMethod) -> (&'static str, &'static str) {
        let (cause, fix) = self.advice();
        let fix = match (self, credentials) {
            (ErrorCode::InvalidCredentials, AuthenticationMethod::BearerToken) => {
                "On the Provisioning blade, enter a valid Secret Token, select Test Connection, then Restart provisioning."
            }
            (ErrorCode::InvalidCredentials, AuthenticationMethod::Oauth2AuthorizationCode) => {
                "On the Provisioning blade, select Authorize and sign in at the application again as an administrator, select Test Connection, then Restart provisioning."
            }
            (ErrorCode::InvalidCredentials, AuthenticationMethod::Oauth2ClientCredentials) => {
                "On the Provisioning blade, under Advanced, check the Client id and enter the Client secret again, select Test Connection, then Restart provisioning."
            }
            _ => fix,
        };
        (cause, fix)
    }

    /// (cause, what to do), whatever the application's credentials.
    pub fn advice(self) -> (&'static str, &'static str) {
        match self {
            ErrorCode::InvalidCredentials => (
                "The application refused Scimitar's credentials (HTTP 401 or 403): the secret token is wrong, expired or revoked, or the OAuth grant no longer holds.",
                "On the Provisioning blade, enter a valid Secret Token (or select Authorize again), select Test Connection, then Restart provisioning.",
            ),
            ErrorCode::NotScimEndpoint => (
                "The Tenant URL does not answer like a SCIM 2.0 endpoint (HTTP 404 on /Users).",
                "Check the Tenant URL against the application's documentation (it usually ends in /scim/v2), select Test Connection, then Restart provisioning.",
            ),
            ErrorCode::EntryConflict => (
                "The application already holds an account with the same unique value (HTTP 409) and Scimitar could not match it by the matching attributes.",
                "Compare the account in the application with the matching attributes on the Mappings blade: make a matching attribute identify the account, or remove the duplicate in the application.",
            ),
            ErrorCode::DuplicateTargetEntries => (
                "More than one account in the application matched this object, so Scimitar cannot tell which one is its own.",
                "Remove or rename the extra accounts in the application so that the matching attribute is unique; the next cycle tries again.",
            ),
            ErrorCode::TargetIgnoresFilter => (
                "The application answered the matching query with an account whose matching attribute holds another value: it does not filter as SCIM requires, so Scimitar wrote nothing rather than take another person's account.",
                "Ask the application's vendor to support SCIM filters on the matching attribute, or have it advertise filter.supported = false in /ServiceProviderConfig so that Scimitar matches by listing accounts; then Restart provisioning.",
            ),
            ErrorCode::TargetCannotMatch => (
                "The application does not support SCIM filters (filter.supported is false), and listing its accounts to match this object failed.",
                "Check that the application lists its accounts (GET on /Users or /Groups with startIndex and count); the object is retried in later cycles.",
            ),
            ErrorCode::TargetRefused => (
                "The application rejected the request (an HTTP 4xx other than 401, 403, 404 or 409); its message is in the reason.",
                "Read the application's message: usually a value the application does not accept. Fix the source value or the mapping's expression; the object is retried in later cycles.",
            ),
            ErrorCode::TargetUnavailable => (
                "The application answered with a server error (HTTP 5xx), or kept asking to slow down, through every retry; its own explanation, when it gave one, is in the reason.",
                "Nothing to change in Scimitar: the object is held in escrow and retried with a growing delay. If it lasts, check the application's status page or its rate limits.",
            ),
            ErrorCode::TargetUnreachable => (
                "Scimitar could not reach the application at all through every retry (connection refused or reset, no answer in time, a host name that does not resolve, or an address outbound requests may not use), so the cycle stopped.",
                "Check that the application is up and reachable from this server at the Tenant URL. Cycles retry after 15 seconds, 1 minute and 5 minutes; a target unreachable for 4 cycles in a row puts the job in quarantine, and Restart provisioning tries again at once.",
            ),
            ErrorCode::MissingRequiredAttribute => (
                "The user or group lacks a value the application requires, so it was not sent.",
                "Fill in the attribute named in the reason in the directory (or give its mapping a default value); the object is sent as soon as it changes.",
            ),
            ErrorCode::MappingError => (
                "An attribute mapping's expression could not be evaluated for this object.",
                "Open the Mappings blade, test the expression named in the reason with this object, and correct it; a mapping change starts a new initial cycle.",
            ),
            ErrorCode::NotInScope => (
                "The object is not in the provisioning scope: not assigned to the application, assigned only with Default Access, disabled, or excluded by a scoping filter.",
                "If it should be provisioned, assign it with a role other than Default Access, or adjust the scoping filters on the Mappings blade.",
            ),
            ErrorCode::AccidentalDeletionThreshold => (
                "This cycle would disable or delete more accounts than the deletion threshold allows, so it stopped before doing any.",
                "Check the staged entries. If they are intended, select Allow deletes on the Provisioning blade; otherwise fix the assignments or scoping that removed them.",
            ),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// (cause, what to do) for a code as stored; a generic pair for one this build does not know.
pub fn advice(code: &str) -> (&'static str, &'static str) {
    match ErrorCode::parse(code) {
        Some(code) => code.advice(),
        None => (
            "Scimitar could not complete this step; the reason gives the details.",
            "Read the reason and the steps. Provision on demand shows each step for one object as it happens.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorCode, advice};

    #[test]
    fn every_code_has_its_own_advice_and_reads_back() {
        let unknown = advice("SomethingNew");
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert_ne!(advice(code.as_str()), unknown, "{code}");
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                code.as_str(),
                "stored reports name the code as the logs do"
            );
        }
    }
}
