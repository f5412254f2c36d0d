//! The provisioning engine: jobs and their scheduler, cycles that keep each application's
//! accounts in step with the directory, the SCIM client they use, links, and provisioning logs.

mod books;
pub mod client;
pub mod cycle;
mod deletion_threshold;
mod escrow;
mod export;
pub mod jobs;
pub mod links;
pub mod log;
pub mod notify;
pub mod on_demand;
mod planning;
pub mod quarantine;
mod references;
mod scheduler;
mod selection;
mod sending;
