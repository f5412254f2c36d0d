//! The directory: the users (and, later, groups) that every provisioning decision starts from.

pub mod feed;
pub mod generator;
pub mod groups;
pub mod import;
mod lifecycle;
pub mod listing;
pub mod users;

pub use users::{User, UserPrincipalName, UserProfile};
