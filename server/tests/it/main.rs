//! One integration-test binary for the server (it compiles once): the real binary, real SQLite
//! files, real peers.

mod api;
mod applications;
mod automation;
mod console;
mod harness;
mod hostile;
mod leases;
mod logs;
mod options;
mod peers;
#[path = "../../../engine/tests/support/postgres.rs"]
mod postgres;
mod references;
mod replicas;
mod scim;
mod sso;
mod sync;
mod targets;
