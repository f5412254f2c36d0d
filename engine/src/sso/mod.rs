//! Single sign-on to assigned applications (docs/sso.md): Scimitar as the SAML 2.0 identity
//! provider ([`saml`]) or the OpenID Connect provider ([`oidc`]) of an application. Each
//! application has its method, the settings its Single sign-on blade edits ([`Settings`]), its
//! signing keys ([`keys`]) and the claims it sends ([`claims`]). Who may sign in is decided here,
//! once, for every door ([`access`]), and every sign-in is recorded ([`sign_in_log`]).

pub mod access;
pub mod claims;
pub mod keys;
pub mod my_apps;
pub mod oidc;
pub mod saml;
pub mod sign_in_log;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Engine, Error, FieldError, Result,
    accounts::Account,
    applications::{Access, provisioning::check_url, target},
    audit::{self, Caller},
};

pub use claims::{Claim, NameId, NameIdFormat};

/// How people sign in to the application through Scimitar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Method {
    #[default]
    Disabled,
    Saml,
    OpenIdConnect,
}

/// What Scimitar signs in a SAML response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SigningOption {
    /// Entra's default: the assertion carries the signature.
    #[default]
    SignAssertion,
    SignResponse,
    SignResponseAndAssertion,
}

impl SigningOption {
    pub fn signs_assertion(self) -> bool {
        self != SigningOption::SignResponse
    }

    pub fn signs_response(self) -> bool {
        self != SigningOption::SignAssertion
    }
}

/// The blade's "Basic SAML Configuration", "Attributes & Claims" and signing option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct SamlSettings {
    /// Identifier (Entity ID): the service provider's entity ids; an AuthnRequest's Issuer must
    /// be one of them, and the first is the Audience of IdP-initiated sign-on.
    pub identifiers: Vec<String>,
    /// Reply URL (Assertion Consumer Service URL): where responses may go; the first is the
    /// default.
    pub reply_urls: Vec<String>,
    /// Sign on URL: where My Apps sends people when the application starts the sign-in itself
    /// (SP-initiated); empty, My Apps signs in IdP-initiated.
    pub sign_on_url: String,
    /// Relay State sent with IdP-initiated responses (the page the application opens).
    pub relay_state: String,
    /// Logout URL: where the application ends its session when the user signs out here.
    pub logout_url: String,
    pub signing: SigningOption,
    /// Unique User Identifier (Name ID).
    pub name_id: NameId,
    /// Additional claims, as SAML attributes.
    pub claims: Vec<Claim>,
}

impl Default for SamlSettings {
    fn default() -> SamlSettings {
        SamlSettings {
            identifiers: Vec::new(),
            reply_urls: Vec::new(),
            sign_on_url: String::new(),
            relay_state: String::new(),
            logout_url: String::new(),
            signing: SigningOption::default(),
            name_id: NameId::default(),
            claims: Claim::defaults(),
        }
    }
}

/// How an OpenID Connect client proves itself at the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClientType {
    /// A server-side application: it sends a client secret.
    #[default]
    Confidential,
    /// A browser or native application: no secret; PKCE is required.
    Public,
}

/// The OpenID Connect client registration and claims (docs/sso.md, OpenID Connect).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct OidcSettings {
    pub client: ClientType,
    /// Where codes may go: a request's `redirect_uri` must be one of them, exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return.
    pub post_logout_redirect_uris: Vec<String>,
    /// Home page URL: what My Apps opens (the application starts the sign-in); empty, the
    /// origin of the first redirect URI.
    pub home_page_url: String,
    /// The ID token's claims besides those the provider sets.
    pub claims: Vec<Claim>,
}

impl Default for OidcSettings {
    fn default() -> OidcSettings {
        OidcSettings {
            client: ClientType::default(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            home_page_url: String::new(),
            claims: oidc::default_claims(),
        }
    }
}

impl OidcSettings {
    /// Every problem, each with its field. `required`: the method is OpenID Connect.
    fn problems(&self, required: bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if required && self.redirect_uris.is_empty() {
            errors.push(FieldError::new("oidc.redirectUris", "enter a Redirect URI"));
        }
        for (name, list) in [
            ("oidc.redirectUris", &self.redirect_uris),
            (
                "oidc.postLogoutRedirectUris",
                &self.post_logout_redirect_uris,
            ),
        ] {
            if list.len() > MAX_URLS {
                errors.push(FieldError::new(name, format!("at most {MAX_URLS}")));
            }
            for (i, uri) in list.iter().enumerate() {
                let field = format!("{name}[{i}]");
                if let Err(message) = check_settings_url(uri) {
                    errors.push(FieldError::new(field, message));
                } else if uri.contains('#') {
                    errors.push(FieldError::new(
                        field,
                        "a redirect URI has no fragment (#...)",
                    ));
                } else if list[..i].contains(uri) {
                    errors.push(FieldError::new(field, "this URI is already in the list"));
                }
            }
        }
        if !self.home_page_url.is_empty()
            && let Err(message) = check_settings_url(&self.home_page_url)
        {
            errors.push(FieldError::new("oidc.homePageUrl", message));
        }
        errors.extend(claims::claim_problems("oidc.claims", &self.claims, false));
        for (i, claim) in self.claims.iter().enumerate() {
            if oidc::RESERVED_CLAIMS.contains(&claim.name.trim()) {
                errors.push(FieldError::new(
                    format!("oidc.claims[{i}].name"),
                    format!("{} is set by Scimitar itself", claim.name.trim()),
                ));
            }
        }
        errors
    }

    /// The settings without blank list entries and surrounding spaces.
    fn trimmed(mut self) -> OidcSettings {
        for list in [&mut self.redirect_uris, &mut self.post_logout_redirect_uris] {
            *list = list
                .iter()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
        }
        self.home_page_url = self.home_page_url.trim().to_owned();
        for claim in &mut self.claims {
            claim.name = claim.name.trim().to_owned();
            claim.namespace = claim.namespace.trim().to_owned();
        }
        self
    }

    /// Where My Apps sends people: the Home page URL, else the first redirect URI's origin.
    pub fn launch_url(&self) -> Option<String> {
        if !self.home_page_url.is_empty() {
            return Some(self.home_page_url.clone());
        }
        let first = url::Url::parse(self.redirect_uris.first()?).ok()?;
        Some(first.origin().ascii_serialization() + "/")
    }
}

/// An application's single sign-on, as its blade saves it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub method: Method,
    pub saml: SamlSettings,
    pub oidc: OidcSettings,
}

/// The settings with their version (0: never saved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    pub application_id: Uuid,
    pub settings: Settings,
    pub version: i64,
    pub updated_at: Option<OffsetDateTime>,
}

/// The longest URL or identifier a setting holds.
const MAX_URL: usize = 2048;
/// How many identifiers or reply URLs an application may have.
const MAX_URLS: usize = 20;
/// SAML's own bound on RelayState (SAML 2.0 Bindings, 3.4.3): 80 bytes.
const MAX_RELAY_STATE: usize = 80;

impl SamlSettings {
    /// Every problem, each with its field. `required`: the method is SAML, so the settings must
    /// be enough to sign in.
    fn problems(&self, required: bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (field, list, what) in [
            (
                "saml.identifiers",
                &self.identifiers,
                "an Identifier (Entity ID)",
            ),
            ("saml.replyUrls", &self.reply_urls, "a Reply URL"),
        ] {
            if required && list.iter().all(|v| v.trim().is_empty()) {
                errors.push(FieldError::new(field, format!("enter {what}")));
            }
            if list.len() > MAX_URLS {
                errors.push(FieldError::new(field, format!("at most {MAX_URLS}")));
            }
        }
        for (i, identifier) in self.identifiers.iter().enumerate() {
            let field = format!("saml.identifiers[{i}]");
            if identifier.len() > MAX_URL {
                errors.push(FieldError::new(
                    field,
                    format!("at most {MAX_URL} characters"),
                ));
            } else if identifier
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
            {
                errors.push(FieldError::new(field, "an identifier has no spaces"));
            } else if self.identifiers[..i].contains(identifier) {
                errors.push(FieldError::new(
                    field,
                    "this identifier is already in the list",
                ));
            }
        }
        for (i, url) in self.reply_urls.iter().enumerate() {
            let field = format!("saml.replyUrls[{i}]");
            if let Err(message) = check_settings_url(url) {
                errors.push(FieldError::new(field, message));
            } else if self.reply_urls[..i].contains(url) {
                errors.push(FieldError::new(field, "this URL is already in the list"));
            }
        }
        for (field, url) in [
            ("saml.signOnUrl", &self.sign_on_url),
            ("saml.logoutUrl", &self.logout_url),
        ] {
            if !url.is_empty()
                && let Err(message) = check_settings_url(url)
            {
                errors.push(FieldError::new(field, message));
            }
        }
        if self.relay_state.len() > MAX_RELAY_STATE {
            errors.push(FieldError::new(
                "saml.relayState",
                format!("SAML allows at most {MAX_RELAY_STATE} bytes of relay state"),
            ));
        } else if self.relay_state.chars().any(char::is_control) {
            errors.push(FieldError::new("saml.relayState", "no control characters"));
        }
        errors.extend(claims::problems(&self.name_id, &self.claims));
        errors
    }

    /// The settings without blank list entries and surrounding spaces.
    fn trimmed(mut self) -> SamlSettings {
        for list in [&mut self.identifiers, &mut self.reply_urls] {
            *list = list
                .iter()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
        }
        for value in [
            &mut self.sign_on_url,
            &mut self.relay_state,
            &mut self.logout_url,
        ] {
            *value = value.trim().to_owned();
        }
        self
    }
}

/// A URL the service provider gives: as [`check_url`] (https, or http on loopback), bounded.
fn check_settings_url(url: &str) -> std::result::Result<(), String> {
    if url.len() > MAX_URL {
        return Err(format!("at most {MAX_URL} characters"));
    }
    check_url(url)
}

#[derive(sqlx::FromRow)]
struct Row {
    settings: sqlx::types::Json<Settings>,
    version: i64,
    updated_at: OffsetDateTime,
}

/// The stored configuration of `application` (the defaults, version 0, if never saved).
pub async fn load(db: impl Into<crate::db::Exec<'_>>, application: Uuid) -> Result<Configuration> {
    let row: Option<Row> = crate::db::query_as(
        "SELECT settings, version, updated_at FROM single_sign_on WHERE application_id = ?",
    )
    .bind(application)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some(row) => Configuration {
            application_id: application,
            settings: row.settings.0,
            version: row.version,
            updated_at: Some(row.updated_at),
        },
        None => Configuration {
            application_id: application,
            settings: Settings::default(),
            version: 0,
            updated_at: None,
        },
    })
}

impl Engine {
    /// The Single sign-on blade of `application`.
    pub async fn single_sign_on(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<Configuration> {
        self.application_for(account, application, Access::Read)
            .await?;
        load(&self.db, application).await
    }

    /// Saves the Single sign-on blade. `expected_version` is the version the form was loaded at
    /// (0 for never saved); if someone saved since, nothing is written. Choosing SAML or OpenID
    /// Connect for the first time makes the application's first signing key.
    pub async fn save_single_sign_on(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        expected_version: i64,
        settings: Settings,
    ) -> Result<Configuration> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let settings = Settings {
            saml: settings.saml.trimmed(),
            oidc: settings.oidc.trimmed(),
            ..settings
        };
        let mut errors = settings.saml.problems(settings.method == Method::Saml);
        errors.extend(
            settings
                .oidc
                .problems(settings.method == Method::OpenIdConnect),
        );
        if !errors.is_empty() {
            return Err(Error::InvalidFields(errors));
        }
        // Outside the transaction: making a key takes a moment.
        let new_key = match settings.method {
            Method::Saml | Method::OpenIdConnect
                if !keys::has_keys(&self.db, application).await? =>
            {
                Some(keys::generate(application).await?)
            }
            _ => None,
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        let stored = load(&mut tx, application).await?;
        if stored.version != expected_version {
            return Err(Error::VersionMismatch {
                kind: "single sign-on configuration",
                expected: expected_version,
                current: stored.version,
            });
        }
        let now = OffsetDateTime::now_utc();
        crate::db::query(
            "INSERT INTO single_sign_on (application_id, settings, version, updated_at) VALUES (?, ?, 1, ?) \
             ON CONFLICT (application_id) DO UPDATE SET settings = excluded.settings, \
             version = single_sign_on.version + 1, updated_at = excluded.updated_at",
        )
        .bind(application)
        .bind(sqlx::types::Json(&settings))
        .bind(now)
        .execute(&mut tx)
        .await?;
        if let Some(key) = new_key
            && !keys::has_keys(&mut tx, application).await?
        {
            keys::insert(&mut tx, &self.keyring, &key, true).await?;
        }
        audit::record(
            &mut tx,
            caller,
            "Update single sign-on configuration",
            target(&app),
            (stored.version > 0)
                .then(|| serde_json::to_value(&stored.settings).ok())
                .flatten(),
            serde_json::to_value(&settings).ok(),
        )
        .await?;
        tx.commit().await?;
        load(&self.db, application).await
    }
}
