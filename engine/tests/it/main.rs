//! The engine on real SQLite files (and, for applications, real OAuth and SCIM peers started by
//! the server's harness): one test binary, so it compiles once.

mod applications;
mod directory;
mod oidc;
#[path = "../support/postgres.rs"]
mod postgres;
mod roles;
mod sso;

/// An engine on `data_dir` and the database this run tests (see [`postgres::selected`]).
async fn open(data_dir: &std::path::Path, options: engine::Options<'_>) -> engine::Engine {
    let options = engine::Options {
        database_url: postgres::selected(),
        ..options
    };
    engine::Engine::open_with(data_dir, options).await.unwrap()
}
