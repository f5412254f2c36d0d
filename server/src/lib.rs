//! The scimitar server: builds the HTTP application around an [`Engine`] (Leptos pages and server
//! functions, health probes, static files, sessions, security layers) and serves it until told to
//! stop. `main.rs` only parses the command line; tests call [`build`] and [`serve`] the same way.

pub mod admin;
pub mod api;
mod bearer;
mod body_limit;
pub mod config;
mod csp;
mod guard;
mod health;
mod log_files;
mod metrics;
mod oauth;
mod origin;
mod scim;
mod sessions;
mod sso;
pub mod telemetry;
mod user_files;

use std::{future::Future, path::Path};

use app::{App, shell};
use axum::{
    Router,
    extract::DefaultBodyLimit,
    extract::FromRef,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
};
use engine::Engine;
use http::{HeaderValue, StatusCode, header};
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tokio::net::TcpListener;
use tower_http::{
    compression::{
        CompressionLayer, CompressionLevel,
        predicate::{DefaultPredicate, NotForContentType, Predicate},
    },
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::{
    config::{ServeConfig, Storage},
    origin::OriginPolicy,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Engine(#[from] engine::Error),
    #[error("session store: {0}")]
    Sessions(#[from] sqlx::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
}

#[derive(Clone, FromRef)]
struct AppState {
    leptos_options: LeptosOptions,
    engine: Engine,
    /// `--public-url`, for addresses given to others (the OAuth callback).
    public_url: Option<String>,
}

/// Builds the whole HTTP application over the data in `data_dir`.
pub async fn build(
    storage: &Storage,
    config: &ServeConfig,
) -> Result<(Router, Engine), StartError> {
    let options = engine::Options {
        secret_key: config.secret_key.as_ref(),
        outbound: engine::outbound::Outbound {
            allow_private_targets: config.allow_private_targets,
        },
        public_url: config.public_url.clone(),
        database_url: None,
    };
    let engine = storage.open(options).await?;
    engine.ensure_setup_token().await?;

    let session_store = sessions::Store::new(&engine.db).map_err(StartError::Config)?;
    tokio::spawn(delete_expired_sessions(session_store.clone()));
    tokio::spawn(purge_deleted_objects(engine.clone()));
    engine.spawn_scheduler();
    let idle = time::Duration::try_from(config.session_idle())
        .map_err(|e| StartError::Config(e.to_string()))?;
    let session_layer = SessionManagerLayer::new(sessions::HashedIds(session_store))
        .with_name("scimitar_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        // Saving on every request is what makes the expiry slide with activity (idle timeout).
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(idle));

    let origin_policy =
        OriginPolicy::new(config.public_url.as_deref()).map_err(StartError::Config)?;
    let leptos_options = leptos_options(config);
    let hashed_assets = leptos_options.hash_files;
    let pkg_dir = Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir);
    let state = AppState {
        leptos_options,
        engine: engine.clone(),
        public_url: config.public_url.clone(),
    };
    let context = {
        let engine = engine.clone();
        let public_url = app::api::context::PublicUrl(config.public_url.clone());
        move || {
            provide_context(engine.clone());
            provide_context(public_url.clone());
            // The nonce the response's Content-Security-Policy names (csp.rs), for the page's
            // scripts; it replaces the one leptos_axum made up, which no header names.
            if let Some(nonce) = leptos::prelude::use_context::<http::request::Parts>()
                .as_ref()
                .and_then(csp::page_nonce)
            {
                provide_context(nonce);
            }
        }
    };

    let pages = Router::new()
        .route("/users/import", axum::routing::post(user_files::upload))
        .route("/users/export.csv", get(user_files::export))
        .route("/provisioning-logs/download.csv", get(log_files::csv))
        .route("/provisioning-logs/download.json", get(log_files::json))
        .route("/sign-in-logs/download.csv", get(log_files::sign_ins))
        .route("/oauth/callback", get(oauth::callback))
        .leptos_routes_with_context(&state, generate_route_list(App), context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(from_fn_with_state(engine.clone(), guard::pages))
        // Multipart's own cap; body_limit::limit is what bounds every route.
        .layer(DefaultBodyLimit::max(body_limit::CSV_UPLOAD))
        // Sessions only where they are used: static files and probes never touch the store.
        .layer(session_layer.clone());

    // Hashed file names change with their content, so browsers may keep them for a year.
    let pkg_cache = if hashed_assets {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let pkg = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(pkg_cache),
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );

    let scim = scim::router(scim::ScimState {
        engine: engine.clone(),
        public_url: config.public_url.clone(),
    });
    let sso = sso::router(sso::SsoState {
        engine: engine.clone(),
        public_url: config.public_url.clone(),
    })
    .layer(session_layer);
    let console = Router::new()
        .merge(pages)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .nest_service("/pkg", pkg)
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state)
        // Cookie-authenticated requests only; /scim/v2 takes bearer tokens and no cookies.
        .layer(from_fn_with_state(origin_policy, origin::check));
    let router = Router::new()
        .nest("/scim/v2", scim)
        // Applications reach single sign-on from their own sites (sso/mod.rs).
        .merge(sso)
        // Bearer tokens only, no cookies: exempt from the origin check (docs/architecture.md,
        // Layers of the router).
        .nest(
            "/api/v1",
            api::router(engine.clone(), config.public_url.clone()),
        )
        .merge(console)
        .layer(from_fn(body_limit::limit))
        .layer(from_fn(csp::policy))
        .layer(from_fn(security_headers))
        // Streamed server function answers (provision on demand's steps, sent as
        // application/octet-stream) must reach the browser as they are written; a compressor
        // would hold them back until its buffer fills. The fastest level: what is compressed on
        // the fly is pages and JSON of a few kilobytes (release assets are precompressed), and
        // an unprecompressed debug bundle would otherwise cost a second of CPU per page load.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("application/octet-stream")),
                ),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(TraceLayer::new_for_http());
    Ok((router, engine))
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// `scimitar serve`: build, listen, log the address, serve until SIGINT or SIGTERM.
pub async fn run(storage: &Storage, config: ServeConfig) -> Result<(), StartError> {
    let (router, _engine) = build(storage, &config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Listen {
        address: config.listen,
        source,
    })?;
    // Never the URL itself: it may hold the database's password.
    let database = match storage.database_url {
        Some(_) => "PostgreSQL",
        None => "SQLite",
    };
    tracing::info!(data_dir = %storage.data_dir.display(), database, "listening on http://{address}");
    serve(listener, router, shutdown_signal())
        .await
        .map_err(|source| StartError::Listen { address, source })?;
    tracing::info!("stopped");
    Ok(())
}

fn leptos_options(config: &ServeConfig) -> LeptosOptions {
    // cargo-leptos writes hash.txt beside the server binary when it hashes asset names; Leptos
    // reads it from there to name the hashed files in each page.
    let hash_files = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("hash.txt").is_file()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name("scimitar")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .env(
            config
                .leptos_env
                .parse::<leptos::config::Env>()
                .unwrap_or(leptos::config::Env::PROD),
        )
        .reload_port(config.reload_port)
        .hash_files(hash_files)
        .build()
}

async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Soft-deleted users and groups can be restored for 30 days; then, once a day, they go for good
/// (a hard delete that provisioning turns into a SCIM DELETE).
async fn purge_deleted_objects(engine: Engine) {
    const RETENTION: time::Duration = time::Duration::days(30);
    let mut daily = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
    loop {
        daily.tick().await;
        match (
            engine.purge_deleted_users(RETENTION).await,
            engine.purge_deleted_groups(RETENTION).await,
        ) {
            (Ok(users), Ok(groups)) if users + groups > 0 => {
                tracing::info!(
                    users,
                    groups,
                    "purged objects deleted more than 30 days ago"
                );
            }
            (Ok(_), Ok(_)) => {}
            (users, groups) => tracing::error!(?users, ?groups, "the daily purge failed"),
        }
        match engine.purge_sign_in_logs(RETENTION).await {
            Ok(0) => {}
            Ok(entries) => tracing::info!(entries, "purged sign-in log entries older than 30 days"),
            Err(e) => tracing::error!(error = %e, "the daily sign-in log purge failed"),
        }
        match engine.purge_oidc_tokens().await {
            Ok(0) => {}
            Ok(tokens) => tracing::info!(tokens, "purged expired OpenID Connect codes and tokens"),
            Err(e) => tracing::error!(error = %e, "the daily OpenID Connect token purge failed"),
        }
        match engine.purge_provisioning_logs(RETENTION).await {
            Ok(0) => {}
            Ok(entries) => tracing::info!(
                entries,
                "purged provisioning log entries older than 30 days"
            ),
            Err(e) => tracing::error!(error = %e, "the daily provisioning log purge failed"),
        }
    }
}

async fn delete_expired_sessions(store: sessions::Store) {
    use tower_sessions::ExpiredDeletion;
    if let Err(e) = store
        .continuously_delete_expired(tokio::time::Duration::from_secs(3600))
        .await
    {
        tracing::error!(error = %e, "deleting expired sessions stopped");
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
