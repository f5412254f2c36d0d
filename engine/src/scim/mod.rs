//! The SCIM 2.0 protocol (RFC 7643, RFC 7644), once, for both directions: filters and PATCH,
//! errors, resource representations, discovery documents, and the inbound service over the
//! directory. HTTP handlers live in the server; they only translate requests to calls here.

pub mod error;
pub mod filter;
#[cfg(test)]
mod hostile_tests;
pub mod patch;
pub mod query;
pub mod resources;
pub mod schema;
pub mod service;

pub use error::ScimError;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Directory attributes no standard schema has: mailNickname and extensionAttribute1..15.
pub const SCIMITAR_USER: &str = "urn:ietf:params:scim:schemas:extension:scimitar:2.0:User";
/// The User extensions, each an object of its own in a resource.
pub const USER_EXTENSIONS: [&str; 2] = [ENTERPRISE_USER, SCIMITAR_USER];
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The most resources one list response returns.
pub const MAX_PAGE: u32 = 1000;

/// `value` quoted for an error's detail, cut short: a detail names what was wrong, it does not
/// send a megabyte of hostile input back.
pub(crate) fn shown(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}
