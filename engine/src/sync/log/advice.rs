//! Troubleshooting & Recommendations: for each error code a log entry can carry, what it means
//! in plain words and what the administrator can do about it.

/// (cause, what to do) for an error code; a generic pair for a code this build does not know.
pub fn advice(code: &str) -> (&'static str, &'static str) {
    match code {
        "InvalidCredentials" => (
            "The application refused Scimitar's credentials (HTTP 401 or 403): the secret token is wrong, expired or revoked, or the OAuth grant no longer holds.",
            "On the Provisioning blade, enter a valid Secret Token (or select Authorize again), select Test Connection, then Restart provisioning.",
        ),
        "NotScimEndpoint" => (
            "The Tenant URL does not answer like a SCIM 2.0 endpoint (HTTP 404 on /Users).",
            "Check the Tenant URL against the application's documentation (it usually ends in /scim/v2), select Test Connection, then Restart provisioning.",
        ),
        "EntryConflict" => (
            "The application already holds an account with the same unique value (HTTP 409) and Scimitar could not match it by the matching attributes.",
            "Compare the account in the application with the matching attributes on the Mappings blade: make a matching attribute identify the account, or remove the duplicate in the application.",
        ),
        "DuplicateTargetEntries" => (
            "More than one account in the application matched this object, so Scimitar cannot tell which one is its own.",
            "Remove or rename the extra accounts in the application so that the matching attribute is unique; the next cycle tries again.",
        ),
        "TargetRefused" => (
            "The application rejected the request (an HTTP 4xx other than 401, 403, 404 or 409); its message is in the reason.",
            "Read the application's message: usually a value the application does not accept. Fix the source value or the mapping's expression; the object is retried in later cycles.",
        ),
        "TargetUnavailable" => (
            "The application did not answer in time, answered with a server error (HTTP 5xx), or kept asking to slow down, through every retry.",
            "Nothing to change in Scimitar: the object is held in escrow and retried with a growing delay. If it lasts, check the application's status page or its rate limits.",
        ),
        "MissingRequiredAttribute" => (
            "The user or group lacks a value the application requires, so it was not sent.",
            "Fill in the attribute named in the reason in the directory (or give its mapping a default value); the object is sent as soon as it changes.",
        ),
        "MappingError" => (
            "An attribute mapping's expression could not be evaluated for this object.",
            "Open the Mappings blade, test the expression named in the reason with this object, and correct it; a mapping change starts a new initial cycle.",
        ),
        "NotInScope" => (
            "The object is not in the provisioning scope: not assigned to the application, assigned only with Default Access, disabled, or excluded by a scoping filter.",
            "If it should be provisioned, assign it with a role other than Default Access, or adjust the scoping filters on the Mappings blade.",
        ),
        "AccidentalDeletionThreshold" => (
            "This cycle would disable or delete more accounts than the deletion threshold allows, so it stopped before doing any.",
            "Check the staged entries. If they are intended, select Allow deletes on the Provisioning blade; otherwise fix the assignments or scoping that removed them.",
        ),
        _ => (
            "Scimitar could not complete this step; the reason gives the details.",
            "Read the reason and the steps. Provision on demand shows each step for one object as it happens.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::advice;

    #[test]
    fn every_code_the_engine_writes_has_its_own_advice() {
        let unknown = advice("SomethingNew");
        for code in [
            "InvalidCredentials",
            "NotScimEndpoint",
            "EntryConflict",
            "DuplicateTargetEntries",
            "TargetRefused",
            "TargetUnavailable",
            "MissingRequiredAttribute",
            "MappingError",
            "NotInScope",
            "AccidentalDeletionThreshold",
        ] {
            assert_ne!(advice(code), unknown, "{code}");
        }
    }
}
