//! The one place that reads configuration: command-line flags, each with an environment variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
use engine::accounts::{Role, Scope};

#[derive(Parser, Debug)]
#[command(
    name = "scimitar",
    version,
    about = "Self-hosted identity provisioning console"
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: Storage,

    /// Log lines as human-readable text or as JSON objects.
    #[arg(long, env = "SCIMITAR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub serve: ServeConfig,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the console keeps its state; every command reads it.
#[derive(Args, Clone, Debug)]
pub struct Storage {
    /// Directory holding the SQLite database and other state.
    #[arg(long, env = "SCIMITAR_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// A PostgreSQL database to use instead of the SQLite file in the data directory
    /// (`postgres://user:password@host/database`). Several consoles may share one; they must
    /// then share the secret key too (SCIMITAR_SECRET_KEY).
    #[arg(
        long,
        env = "SCIMITAR_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl Storage {
    /// Opens the engine on this storage, with the server's other options.
    pub async fn open(&self, options: engine::Options<'_>) -> engine::Result<engine::Engine> {
        let options = engine::Options {
            database_url: self.database_url.clone(),
            ..options
        };
        engine::Engine::open_with(&self.data_dir, options).await
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the console (the default when no command is given).
    Serve,
    /// Manage console administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage machine tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work on the directory in bulk.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Work on the provisioning logs in bulk.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Copy the SQLite database to a file while the console runs (on PostgreSQL, use pg_dump).
    Backup {
        /// The new file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum LogsCommand {
    /// Write realistic provisioning log entries for the existing applications (load tests, demos).
    Generate {
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// The entries are spread over this many days before now.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The same seed gives the same entries.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum DirectoryCommand {
    /// Fill the directory with realistic fake users and groups (load tests, demos).
    Generate {
        #[arg(long, default_value_t = 1000)]
        users: u32,
        #[arg(long, default_value_t = 20)]
        groups: u32,
        /// The same seed gives the same directory.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of users without a surname, and (independently) without a mail, 0.0 to 1.0.
        #[arg(long, default_value_t = 0.05)]
        missing: f64,
        /// Domain of the generated user principal names.
        #[arg(long, default_value = "contoso.com")]
        domain: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for a console account and print it once on standard output.
    Create {
        /// The user principal name of the token's owner; the token acts with their role.
        #[arg(long)]
        upn: String,
        /// What the token may call: scim (inbound SCIM), api (REST API). Repeat for both.
        #[arg(long = "scope", required = true)]
        scopes: Vec<Scope>,
        /// A name to recognise the token by in Settings.
        #[arg(long, default_value = "created on the command line")]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a console account non-interactively; the password is read from standard input.
    Create {
        /// User principal name to sign in with, e.g. admin@contoso.com.
        #[arg(long)]
        upn: String,
        /// Directory role: "Global Administrator", "Application Administrator",
        /// "Cloud Application Administrator", "Application Owner" or "Reports Reader".
        #[arg(long)]
        role: Role,
        /// Name shown in the console (defaults to the part of the UPN before @).
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// How the console is served.
#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "SCIMITAR_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Directory of the built site (WASM, JS, CSS, assets) that cargo-leptos produces.
    #[arg(long, env = "SCIMITAR_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// The address administrators use, e.g. https://scimitar.contoso.com. State-changing
    /// requests must come from this origin; without it, from the origin the request was sent to.
    #[arg(long, env = "SCIMITAR_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Mark the session cookie Secure (HTTPS only). Default: on when the public URL is https.
    #[arg(long, env = "SCIMITAR_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,

    /// Sign administrators out after this many minutes without a request.
    #[arg(long, env = "SCIMITAR_SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: u32,

    /// Abort requests that take longer than this many seconds.
    #[arg(long, env = "SCIMITAR_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Send provisioning and OAuth requests to private, loopback and link-local addresses too
    /// (a SCIM server on this machine or its network). Off by default: a Tenant URL could
    /// otherwise reach services that only trust their own network.
    #[arg(long, env = "SCIMITAR_ALLOW_PRIVATE_TARGETS")]
    pub allow_private_targets: bool,

    /// The key that encrypts stored secrets (32 bytes in base64). Without it, the key in
    /// `secret.key` in the data directory is used, created on first start with mode 0600.
    /// Give it in the environment, so it never shows in a process list.
    #[arg(long, env = "SCIMITAR_SECRET_KEY", hide = true, hide_env_values = true, value_parser = secret)]
    pub secret_key: Option<secrecy::SecretString>,

    /// Set by `cargo leptos watch` to turn on live reload.
    #[arg(long, env = "LEPTOS_ENV", default_value = "PROD", hide = true)]
    pub leptos_env: String,

    /// Set by `cargo leptos watch`: the live-reload websocket's port.
    #[arg(long, env = "LEPTOS_RELOAD_PORT", default_value_t = 3001, hide = true)]
    pub reload_port: u32,
}

fn secret(value: &str) -> Result<secrecy::SecretString, String> {
    Ok(secrecy::SecretString::from(value.to_owned()))
}

impl ServeConfig {
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        })
    }

    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_idle_minutes) * 60)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}
