//! Server functions, by area. Each is thin: who is asking and may they, one engine call, a DTO.

pub mod applications;
pub mod audit;
mod error;
pub mod groups;
pub mod home;
pub mod my_apps;
pub mod provisioning;
pub mod provisioning_logs;
pub mod session;
pub mod settings;
pub mod single_sign_on;
pub mod tokens;
pub mod users;

pub use error::AppError;

/// Server-side plumbing shared by every server function (and the server's page guard).
#[cfg(feature = "ssr")]
pub mod context {
    use engine::{
        Engine,
        accounts::{Account, Member, Permission},
        audit::Caller,
    };
    use leptos::prelude::*;
    use tower_sessions::Session;
    use uuid::Uuid;

    use super::AppError;

    /// The session key holding the signed-in account's id.
    const ACCOUNT_ID: &str = "account_id";
    /// The session key holding the account's session stamp when the session began.
    const SESSION_STAMP: &str = "session_stamp";
    /// The session key holding when the password was given (Unix seconds): OpenID Connect's
    /// `auth_time`.
    const SIGNED_IN_AT: &str = "signed_in_at";

    pub fn engine() -> Result<Engine, AppError> {
        use_context::<Engine>().ok_or_else(|| {
            tracing::error!("the engine was not provided to the server function context");
            AppError::Internal
        })
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| {
            tracing::error!(error = %e, "no session layer");
            AppError::Internal
        })
    }

    /// The member a session belongs to, if they may still sign in and their password and role
    /// are those the session began with; a session that is no longer valid is ended.
    pub async fn session_member(
        engine: &Engine,
        session: &Session,
    ) -> Result<Option<Member>, AppError> {
        let store_error = |e: tower_sessions::session::Error| {
            tracing::error!(error = %e, "session store");
            AppError::Internal
        };
        let Some(id) = session.get::<Uuid>(ACCOUNT_ID).await.map_err(store_error)? else {
            return Ok(None);
        };
        let stamp = session
            .get::<String>(SESSION_STAMP)
            .await
            .map_err(store_error)?;
        match engine.member(id).await? {
            Some(member) if stamp.as_deref() == Some(member.session_stamp.as_str()) => {
                Ok(Some(member))
            }
            _ => {
                session.flush().await.map_err(store_error)?;
                Ok(None)
            }
        }
    }

    /// The console account a session belongs to: [`session_member`], if they hold a role.
    pub async fn session_account(
        engine: &Engine,
        session: &Session,
    ) -> Result<Option<Account>, AppError> {
        Ok(session_member(engine, session)
            .await?
            .and_then(|member| member.account()))
    }

    /// The configured public URL (`--public-url`), which the server provides to every request.
    #[derive(Clone, Debug)]
    pub struct PublicUrl(pub Option<String>);

    /// `scheme://host[:port]` administrators reach the console at: the configured public URL,
    /// else the request's own Host (over http; set the public URL behind a TLS proxy).
    pub fn base_url_of(public: Option<&str>, headers: &http::HeaderMap) -> String {
        match public {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!(
                "http://{}",
                headers
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost")
            ),
        }
    }

    pub async fn base_url() -> String {
        let public = use_context::<PublicUrl>().and_then(|p| p.0);
        let headers = use_context::<http::request::Parts>()
            .map(|parts| parts.headers)
            .unwrap_or_default();
        base_url_of(public.as_deref(), &headers)
    }

    /// The address the request came from (the peer of the TCP connection).
    pub async fn client_address() -> Option<std::net::IpAddr> {
        use axum::extract::ConnectInfo;
        leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
            .await
            .ok()
            .map(|c| c.0.ip())
    }

    /// Binds the session to the user `id`, whose session stamp is `stamp`, under a new session
    /// id (no fixation).
    pub async fn start_session(session: &Session, id: Uuid, stamp: &str) -> Result<(), AppError> {
        session.cycle_id().await.map_err(|_| AppError::Internal)?;
        session
            .insert(ACCOUNT_ID, id)
            .await
            .map_err(|_| AppError::Internal)?;
        session
            .insert(
                SIGNED_IN_AT,
                time::OffsetDateTime::now_utc().unix_timestamp(),
            )
            .await
            .map_err(|_| AppError::Internal)?;
        keep_session(session, stamp).await
    }

    /// When this session's password was given, if it says.
    pub async fn session_signed_in_at(session: &Session) -> Option<time::OffsetDateTime> {
        let at: i64 = session.get(SIGNED_IN_AT).await.ok().flatten()?;
        time::OffsetDateTime::from_unix_timestamp(at).ok()
    }

    /// Keeps this session valid after its own user's password or role changed (`stamp`: the
    /// new session stamp).
    pub async fn keep_session(session: &Session, stamp: &str) -> Result<(), AppError> {
        session
            .insert(SESSION_STAMP, stamp)
            .await
            .map_err(|_| AppError::Internal)
    }

    /// The signed-in account if its role allows `permission`: `Unauthenticated` or `Forbidden`
    /// otherwise. Every server function that reads or changes data starts here.
    /// The signed-in account of this request. While a page renders, the server's page guard has
    /// already loaded it into the request; server functions called from the browser load it here.
    pub async fn current_account(engine: &Engine) -> Result<Option<Account>, AppError> {
        let loaded = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Account>().cloned());
        match loaded {
            Some(account) => Ok(Some(account)),
            None => session_account(engine, &session().await?).await,
        }
    }

    /// Whoever is signed in, console role or not (My Apps).
    pub async fn current_member(engine: &Engine) -> Result<Option<Member>, AppError> {
        let loaded = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Member>().cloned());
        match loaded {
            Some(member) => Ok(Some(member)),
            None => session_member(engine, &session().await?).await,
        }
    }

    /// The engine, the signed-in account and the caller it acts as: how a server function
    /// that writes starts. Whether the account may is the engine's to say (docs/roles.md).
    pub async fn signed_in() -> Result<(Engine, Account, Caller), AppError> {
        let engine = engine()?;
        let account = current_account(&engine)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let caller = Caller::account(&account, client_address().await);
        Ok((engine, account, caller))
    }

    /// [`signed_in`], for a page or read that needs `permission`.
    pub async fn require(permission: Permission) -> Result<(Engine, Account, Caller), AppError> {
        let (engine, account, caller) = signed_in().await?;
        if !account.may(permission) {
            return Err(AppError::Forbidden);
        }
        Ok((engine, account, caller))
    }
}
