//! Everything Scimitar does, with no HTTP framework inside: the directory, console accounts,
//! persistence. The server and the UI's server functions call into an [`Engine`].

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod csv_cells;
pub mod db;
pub mod directory;
mod error;
pub mod mapping;
mod metrics;
pub mod outbound;
pub mod scim;
pub mod secrets;
pub mod sso;
pub mod sync;
pub mod text;
pub mod timestamp;

use std::{path::Path, sync::Arc};

use crate::db::Pool;

pub use error::{Error, FieldError, Result};

/// The engine's state, shared by every request. Cloning is cheap.
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

pub struct Inner {
    pub db: Pool,
    throttle: accounts::SignInThrottle,
    feed: directory::feed::FeedNotifier,
    imports: directory::import::StagedImports,
    setup: accounts::FirstRunSetup,
    keyring: secrets::Keyring,
    /// Outbound HTTP (SCIM targets, OAuth providers): no redirects followed, bounded timeouts,
    /// public addresses only unless allowed.
    http: reqwest::Client,
    outbound: outbound::Outbound,
    /// Wakes the provisioning scheduler when a job's configuration changes.
    scheduler_wake: tokio::sync::Notify,
    /// Authorizations started through the REST API, waiting for their callback.
    /// One OAuth token refresh at a time per application.
    refresh_locks:
        std::sync::Mutex<std::collections::HashMap<uuid::Uuid, Arc<tokio::sync::Mutex<()>>>>,
    /// What `/metrics` shows.
    metrics: metrics::Metrics,
    /// Provisioning log downloads: their own read-only connections, a few per account.
    downloads: sync::log::Downloads,
    /// Where administrators open the console (`--public-url`), for links in emails.
    public_url: Option<String>,
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
    /// Secrets are sealed with the key file in `data_dir`; requests go to public addresses only.
    pub async fn open(data_dir: &Path) -> Result<Engine> {
        Engine::open_with(data_dir, Options::default()).await
    }

    /// As [`Engine::open`], with the server's configuration.
    pub async fn open_with(data_dir: &Path, options: Options<'_>) -> Result<Engine> {
        let url = options.database_url.as_deref();
        let db = db::open(data_dir, url).await?;
        let downloads = sync::log::Downloads::new(
            db::open_reader(data_dir, url, sync::log::Downloads::CONNECTIONS).await?,
        );
        let keyring = secrets::Keyring::load(data_dir, options.secret_key)?;
        let outbound = options.outbound;
        let http = outbound
            .client()
            .timeout(std::time::Duration::from_secs(30))
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
            downloads,
            outbound,
            public_url: options.public_url,
        })))
    }
}

/// How the server opens the engine.
#[derive(Default)]
pub struct Options<'a> {
    /// The key that seals secrets (`SCIMITAR_SECRET_KEY`); `None`: the data directory's key file.
    pub secret_key: Option<&'a secrecy::SecretString>,
    pub outbound: outbound::Outbound,
    /// `--public-url`: where administrators open the console, for links in emails.
    pub public_url: Option<String>,
    /// `--database-url`: a `postgres://` URL; `None`, the SQLite file in the data directory.
    pub database_url: Option<String>,
}
