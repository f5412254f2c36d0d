//! Everything Scimitar does, with no HTTP framework inside: the directory, console accounts,
//! persistence. The server and the UI's server functions call into an [`Engine`].

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod db;
pub mod directory;
mod error;
pub mod mapping;
mod metrics;
pub mod scim;
pub mod secrets;
pub mod sync;

use std::{path::Path, sync::Arc};

use sqlx::SqlitePool;

pub use error::{Error, FieldError, Result};

/// The engine's state, shared by every request. Cloning is cheap.
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

pub struct Inner {
    pub db: SqlitePool,
    throttle: accounts::SignInThrottle,
    feed: directory::feed::FeedNotifier,
    imports: directory::import::StagedImports,
    setup: accounts::FirstRunSetup,
    keyring: secrets::Keyring,
    /// Outbound HTTP (SCIM targets, OAuth providers): no redirects followed, bounded timeouts.
    http: reqwest::Client,
    /// Wakes the provisioning scheduler when a job's configuration changes.
    scheduler_wake: tokio::sync::Notify,
    /// One OAuth token refresh at a time per application.
    refresh_locks:
        std::sync::Mutex<std::collections::HashMap<uuid::Uuid, Arc<tokio::sync::Mutex<()>>>>,
    /// What `/metrics` shows.
    metrics: metrics::Metrics,
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
    /// Secrets are sealed with the key file in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Engine> {
        Engine::open_with_key(data_dir, None).await
    }

    /// As [`Engine::open`], with the secrets key given by configuration (`SCIMITAR_SECRET_KEY`).
    pub async fn open_with_key(
        data_dir: &Path,
        secret_key: Option<&secrecy::SecretString>,
    ) -> Result<Engine> {
        let db = db::open(data_dir).await?;
        let keyring = secrets::Keyring::load(data_dir, secret_key)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("Scimitar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let latest = directory::feed::latest(&db).await?;
        Ok(Engine(Arc::new(Inner {
            db,
            feed: directory::feed::FeedNotifier::new(latest),
            imports: Default::default(),
            throttle: accounts::SignInThrottle::default(),
            setup: accounts::FirstRunSetup::default(),
            keyring,
            http,
            scheduler_wake: tokio::sync::Notify::new(),
            refresh_locks: Default::default(),
            metrics: Default::default(),
        })))
    }
}
