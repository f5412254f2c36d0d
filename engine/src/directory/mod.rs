//! The directory: the users (and, later, groups) that every provisioning decision starts from.

pub mod users;

pub use users::{User, UserPrincipalName};
