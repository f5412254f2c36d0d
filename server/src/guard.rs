//! Which page a browser may load: while no Global Administrator exists every page leads to
//! first-run setup; otherwise pages need a signed-in session, and the sign-in page sends a
//! signed-in user home. People without a console role have My Apps only. Roles are checked by
//! the pages themselves (403) and by every server function; this guard only decides between
//! setup, sign-in, My Apps and the portal.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use engine::Engine;
use http::{Method, StatusCode};
use tower_sessions::Session;

/// The one page of people without a console role.
const MY_APPS: &str = "/myapps";

pub async fn pages(
    State(engine): State<Engine>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let path = path.as_str();
    let page_load = matches!(*request.method(), Method::GET | Method::HEAD);
    if !page_load || path.starts_with("/api/") {
        return next.run(request).await;
    }
    let setup_required = match engine.setup_required().await {
        Ok(required) => required,
        Err(e) => {
            tracing::error!(error = %e, "cannot tell whether setup is required");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let redirect = if setup_required {
        if let Err(e) = engine.ensure_setup_token().await {
            tracing::error!(error = %e, "cannot prepare first-run setup");
        }
        (path != "/setup").then(|| "/setup".to_owned())
    } else if path == "/setup" {
        Some("/signin".to_owned())
    } else {
        let member = match app::api::context::session_member(&engine, &session).await {
            Ok(member) => member,
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        };
        let account = member.as_ref().and_then(|m| m.account());
        let home = if account.is_some() { "/" } else { MY_APPS };
        // The page's server functions read them from here instead of loading them again.
        if let Some(account) = account.clone() {
            request.extensions_mut().insert(account);
        }
        let signed_in = member.is_some();
        if let Some(member) = member {
            request.extensions_mut().insert(member);
        }
        match (path, signed_in) {
            ("/signin", true) => Some(home.to_owned()),
            ("/signin", false) => None,
            (_, false) => Some(sign_in_then(path)),
            (MY_APPS, true) => None,
            (_, true) if account.is_none() => Some(MY_APPS.to_owned()),
            (_, true) => None,
        }
    };
    match redirect {
        Some(to) => Redirect::to(&to).into_response(),
        None => next.run(request).await,
    }
}

/// The sign-in page, returning to `path` afterwards when it is a plain portal path.
fn sign_in_then(path: &str) -> String {
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-_".contains(c));
    if path == "/" || !plain {
        "/signin".to_owned()
    } else {
        format!("/signin?next={path}")
    }
}
