//! Who may sign in to an application (docs/sso.md, Access): single sign-on is set up for it, and
//! the user is enabled, not deleted, and assigned to it, directly or through a group they are a
//! direct member of (any role, Default Access included, as in Entra). Every door (SAML, OpenID
//! Connect, My Apps) asks here, and nowhere else.

use std::fmt;

use uuid::Uuid;

use super::{Method, Settings};
use crate::{
    Engine, Result,
    applications::{self, Application, roles},
    directory::users::User,
    mapping::AppRoleAssignment,
};

/// Why a sign-in is refused, in the words the refusal page and the sign-in log use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such application, or single sign-on is Disabled (or another method) for it.
    NotSetUp,
    /// The `AADSTS50105` situation.
    NotAssigned {
        application: String,
    },
    Disabled,
    Deleted,
    /// The request does not fit the application's settings (an unknown issuer, a reply URL
    /// not on the list, a request that does not parse), or the user's claims cannot be made.
    BadRequest(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotSetUp => f.write_str("Single sign-on is not set up for this application."),
            Refusal::NotAssigned { application } => write!(
                f,
                "You are not assigned to this application. Ask your administrator to assign you to {application}."
            ),
            Refusal::Disabled => f.write_str("Your account is disabled."),
            Refusal::Deleted => f.write_str("Your account has been deleted."),
            Refusal::BadRequest(why) => write!(f, "{}.", crate::text::sentence(why)),
        }
    }
}

/// The application, if it exists and signs in with `method`.
pub(super) async fn set_up(
    engine: &Engine,
    application: Uuid,
    method: Method,
) -> Result<std::result::Result<(Application, Settings), Refusal>> {
    let Some(app) = applications::get(&engine.db, application).await? else {
        return Ok(Err(Refusal::NotSetUp));
    };
    let settings = super::load(&engine.db, application).await?.settings;
    Ok(if settings.method == method && method != Method::Disabled {
        Ok((app, settings))
    } else {
        Err(Refusal::NotSetUp)
    })
}

/// Whether `user` may sign in to `application` (set up, as [`set_up`] found it): their app
/// roles in it when they may (assigned, so never empty).
pub(super) async fn admit(
    engine: &Engine,
    user: &User,
    application: &Application,
) -> Result<std::result::Result<Vec<AppRoleAssignment>, Refusal>> {
    if user.deleted_at.is_some() {
        return Ok(Err(Refusal::Deleted));
    }
    if !user.profile.is_enabled() {
        return Ok(Err(Refusal::Disabled));
    }
    let app_roles = roles::roles_of(&engine.db, application.id, &[user.id])
        .await?
        .remove(&user.id)
        .unwrap_or_default();
    if app_roles.is_empty() {
        return Ok(Err(Refusal::NotAssigned {
            application: application.display_name.clone(),
        }));
    }
    Ok(Ok(app_roles))
}
