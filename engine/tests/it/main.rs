//! The engine on real SQLite files (and, for applications, real OAuth and SCIM peers started by
//! the server's harness): one test binary, so it compiles once.

mod applications;
mod directory;
mod roles;
