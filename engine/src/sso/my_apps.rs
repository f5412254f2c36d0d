//! My Apps: the applications a signed-in person may open, those with single sign-on set up that
//! they are assigned to (directly or through a group, as [`super::access`] decides).

use uuid::Uuid;

use super::{Method, Settings};
use crate::{Engine, Result, applications::roles};

/// A tile on My Apps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MyApp {
    pub id: Uuid,
    pub display_name: String,
    pub logo_monogram: String,
    pub logo_color: String,
    /// Where the tile leads: for SAML, the application's Sign on URL when it starts sign-ins
    /// itself (SP-initiated), else Scimitar's IdP-initiated start (a path of the console); for
    /// OpenID Connect, the application's home page (it starts the sign-in).
    pub launch_url: String,
}

impl Engine {
    /// The applications `user` may open, by name: single sign-on set up, and assigned as
    /// [`super::access`] counts it (the same `roles_of`).
    pub async fn my_apps(&self, user: Uuid) -> Result<Vec<MyApp>> {
        let rows: Vec<(Uuid, String, String, String, sqlx::types::Json<Settings>)> =
            crate::db::query_as(
                "SELECT a.id, a.display_name, a.logo_monogram, a.logo_color, s.settings \
                 FROM applications a JOIN single_sign_on s ON s.application_id = a.id \
                 ORDER BY a.display_name",
            )
            .fetch_all(&self.db)
            .await?;
        let mut apps = Vec::new();
        for (id, display_name, logo_monogram, logo_color, settings) in rows {
            let launch_url = match settings.0.method {
                Method::Disabled => None,
                Method::Saml => Some(match settings.0.saml.sign_on_url.as_str() {
                    "" => format!("/saml/{id}/start"),
                    url => url.to_owned(),
                }),
                Method::OpenIdConnect => settings.0.oidc.launch_url(),
            };
            let Some(launch_url) = launch_url else {
                continue;
            };
            if roles::roles_of(&self.db, id, &[user]).await?.is_empty() {
                continue;
            }
            apps.push(MyApp {
                launch_url,
                id,
                display_name,
                logo_monogram,
                logo_color,
            });
        }
        Ok(apps)
    }
}
