//! The default attribute mappings DESIGN.md gives: Vonage's (the seed tutorial's table with
//! Entra's sources) and Entra's generic SCIM defaults for "Create your own application".

use super::attribute_mappings::{AttributeMapping, AttributeMappings};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Keeps `active` in step with the directory: soft-deleted, disabled or out of scope is false.
pub const ACTIVE: &str = r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#;

/// The target attributes Vonage requires.
pub const VONAGE_REQUIRED: &[&str] = &[
    "name.givenName",
    "name.familyName",
    "emails[type eq \"work\"].value",
];

pub fn vonage_users() -> AttributeMappings {
    AttributeMappings(vec![
        AttributeMapping::direct("userPrincipalName", "userName").matching(1),
        AttributeMapping::expression(ACTIVE, "active"),
        AttributeMapping::direct("mail", "emails[type eq \"work\"].value"),
        AttributeMapping::direct("givenName", "name.givenName"),
        AttributeMapping::direct("surname", "name.familyName"),
    ])
}

pub fn generic_users() -> AttributeMappings {
    AttributeMappings(vec![
        AttributeMapping::direct("userPrincipalName", "userName").matching(1),
        AttributeMapping::expression(ACTIVE, "active"),
        AttributeMapping::direct("displayName", "displayName"),
        AttributeMapping::direct("jobTitle", "title"),
        AttributeMapping::direct("mail", "emails[type eq \"work\"].value"),
        AttributeMapping::direct("preferredLanguage", "preferredLanguage"),
        AttributeMapping::direct("givenName", "name.givenName"),
        AttributeMapping::direct("surname", "name.familyName"),
        AttributeMapping::expression(r#"Join(" ", [givenName], [surname])"#, "name.formatted"),
        AttributeMapping::direct("telephoneNumber", "phoneNumbers[type eq \"work\"].value"),
        AttributeMapping::direct("mobile", "phoneNumbers[type eq \"mobile\"].value"),
        AttributeMapping::direct("mailNickname", "externalId"),
        AttributeMapping::direct("employeeId", &format!("{ENTERPRISE}:employeeNumber")),
        AttributeMapping::direct("department", &format!("{ENTERPRISE}:department")),
        AttributeMapping::direct("manager", &format!("{ENTERPRISE}:manager")),
    ])
}

pub fn generic_groups() -> AttributeMappings {
    AttributeMappings(vec![
        AttributeMapping::direct("displayName", "displayName").matching(1),
        AttributeMapping::direct("objectId", "externalId"),
        AttributeMapping::direct("members", "members"),
    ])
}
