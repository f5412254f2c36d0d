//! The provisioning engine: jobs and their scheduler, cycles that keep each application's
//! accounts in step with the directory, the SCIM client they use, links, and provisioning logs.

pub mod client;
pub mod cycle;
mod export;
pub mod jobs;
pub mod links;
pub mod log;
pub mod notify;
pub mod on_demand;
mod references;
mod scheduler;
