//! Signing in and out, first-run setup, and who is signed in.

use leptos::prelude::*;

use super::AppError;
use crate::model::Me;

/// The signed-in administrator, or `None` when the session has none.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    let engine = super::context::engine()?;
    let account = super::context::current_account(&engine).await?;
    Ok(account.map(|account| me(&account)))
}

/// The server's single sign-on routes (server/src/sso/): not pages of the router.
#[cfg(feature = "ssr")]
const SIGN_ON_ROUTES: [&str; 2] = ["/saml/", "/oidc/"];

/// Signs in and goes to `next` (or home). Answers the address the page must load itself when
/// `next` is not one of the console's pages but a server route (a single sign-on that waits for
/// this sign-in): the router would look for it among its own pages.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    user_principal_name: String,
    password: String,
    next: Option<String>,
) -> Result<Option<String>, AppError> {
    use super::context::{client_address, engine, session, start_session};

    if user_principal_name.trim().is_empty() {
        return Err(AppError::Invalid {
            field: "user_principal_name".into(),
            message: "Enter your user name, such as ada@contoso.com.".into(),
        });
    }
    if password.is_empty() {
        return Err(AppError::Invalid {
            field: "password".into(),
            message: "Enter your password.".into(),
        });
    }
    let client = client_address().await;
    let engine = engine()?;
    let member = engine
        .sign_in(&user_principal_name, password.into(), client)
        .await?;
    start_session(&session().await?, member.id, &member.session_stamp).await?;
    // People without a console role go to My Apps, unless they came from somewhere.
    let next = match (next.as_deref().filter(|n| !n.is_empty()), member.role) {
        (None | Some("/"), None) => "/myapps",
        (next, _) => local_path(next),
    };
    let form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if SIGN_ON_ROUTES.iter().any(|r| next.starts_with(r)) && !form_post {
        return Ok(Some(next.to_owned()));
    }
    leptos_axum::redirect(next);
    Ok(None)
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let session = super::context::session().await?;
    session.flush().await.map_err(|_| AppError::Internal)?;
    leptos_axum::redirect("/signin");
    Ok(())
}

#[server(endpoint = "setup")]
pub async fn complete_setup(
    setup_token: String,
    user_principal_name: String,
    display_name: String,
    password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use super::context::{client_address, engine, session, start_session};
    use engine::accounts::{NewAccount, Role};

    if setup_token.trim().is_empty() {
        return Err(AppError::Invalid {
            field: "setup_token".into(),
            message: "Enter the setup token printed in the server's log.".into(),
        });
    }
    if password != confirm_password {
        return Err(AppError::Invalid {
            field: "confirm_password".into(),
            message: "The two passwords are not the same.".into(),
        });
    }
    let new = NewAccount {
        user_principal_name,
        display_name,
        role: Role::GlobalAdministrator,
        password: password.into(),
    };
    let engine = engine()?;
    let account = engine
        .complete_setup(&setup_token, new, client_address().await)
        .await?;
    start_session(&session().await?, account.id, &account.session_stamp).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
fn me(account: &engine::accounts::Account) -> Me {
    use crate::model::Blade;
    use engine::accounts::Permission;

    let permission = |blade: Blade| match blade {
        Blade::Home => None,
        Blade::Users | Blade::Groups => Some(Permission::ReadDirectory),
        Blade::EnterpriseApplications => Some(Permission::ConfigureApplications),
        Blade::ProvisioningLogs | Blade::SignInLogs | Blade::AuditLogs => {
            Some(Permission::ReadLogs)
        }
        Blade::Settings => Some(Permission::ManageSettings),
        Blade::MyTokens => Some(Permission::ManageOwnTokens),
    };
    Me {
        display_name: account.display_name.clone(),
        user_principal_name: account.user_principal_name.clone(),
        role: account.role.display_name().to_owned(),
        writes_directory: account.may(Permission::WriteDirectory),
        creates_applications: account.may(Permission::CreateApplications),
        blades: Blade::ALL
            .into_iter()
            .filter(|&b| permission(b).is_none_or(|p| account.may(p)))
            .collect(),
    }
}

/// Only same-origin absolute paths are followed after sign-in, never another site (no open
/// redirect): one `/`, then printable ASCII without `\`. Browsers drop tabs and newlines from
/// URLs and read `\` as `/`, so `/<tab>/evil.example` and `/\evil.example` would leave the site.
#[cfg(feature = "ssr")]
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path
        }
        _ => "/",
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::local_path;

    #[test]
    fn only_same_origin_paths_are_followed_after_sign_in() {
        for good in ["/", "/users", "/applications/1/provisioning?tab=logs&x=%20"] {
            assert_eq!(local_path(Some(good)), good);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/\r\n/x",
            "/ /evil.example",
            "https://evil.example",
            "evil.example",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
