//! Everything Scimitar does, with no HTTP framework inside: the directory, console accounts,
//! persistence. The server and the UI's server functions call into an [`Engine`].

pub mod accounts;
pub mod audit;
pub mod db;
pub mod directory;
mod error;
pub mod mapping;
pub mod scim;

use std::{path::Path, sync::Arc};

use sqlx::SqlitePool;

pub use error::{Error, Result};

/// The engine's state, shared by every request. Cloning is cheap.
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

pub struct Inner {
    pub db: SqlitePool,
    throttle: accounts::SignInThrottle,
    feed: directory::feed::FeedNotifier,
    imports: directory::import::StagedImports,
    setup: accounts::FirstRunSetup,
}

impl std::ops::Deref for Engine {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Engine {
    /// Wakes on every committed directory change with the newest sequence number.
    pub fn directory_changes(&self) -> tokio::sync::watch::Receiver<i64> {
        self.feed.subscribe()
    }

    /// Opens the database in `data_dir` (migrating it) and prepares first-run setup if needed.
    pub async fn open(data_dir: &Path) -> Result<Engine> {
        let db = db::open(data_dir).await?;
        let latest = directory::feed::latest(&db).await?;
        Ok(Engine(Arc::new(Inner {
            db,
            feed: directory::feed::FeedNotifier::new(latest),
            imports: Default::default(),
            throttle: accounts::SignInThrottle::default(),
            setup: accounts::FirstRunSetup::default(),
        })))
    }
}
