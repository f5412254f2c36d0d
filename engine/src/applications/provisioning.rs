//! An application's provisioning configuration, as the Provisioning blade edits it: mode,
//! admin credentials (Tenant URL + Secret Token, or OAuth 2.0 with its client registration),
//! notification email, the Users and Groups mappings with their scoping filters, the settings
//! (scope, accidental-deletion threshold, cycle interval) and the status. Save checks everything
//! and reports every wrong field; a save based on a stale copy is refused (optimistic version);
//! changing what is sent or to whom marks the next cycle as an initial one. Secrets are sealed
//! (see [`crate::secrets`]) and only their presence leaves the engine.

use std::net::IpAddr;

use crate::db::Tx;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    Access, Application,
    attribute_list::AttributeList,
    gallery::{AuthenticationMethod, Template},
    target,
};
use crate::{
    Engine, Error, FieldError, Result,
    accounts::Account,
    audit::{self, Caller},
    mapping::{
        AttributeMappings, ScopingFilters,
        source::{GROUP_ATTRIBUTES, USER_ATTRIBUTES},
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Mode {
    Manual,
    Automatic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    On,
    Off,
}

/// Settings > Scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scope {
    /// "Sync only assigned users and groups" (Entra's default).
    AssignedOnly,
    /// "Sync all users and groups".
    All,
}

/// The OAuth client registration (the blade's "Advanced" section).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OAuthClient {
    pub client_id: String,
    pub authorization_url: String,
    pub token_url: String,
    /// Space-separated, as OAuth writes them.
    pub scopes: String,
}

/// The mapping of one object type: "Provision Azure Active Directory Users" and its Groups twin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectSettings {
    pub enabled: bool,
    /// Target object actions.
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub mappings: AttributeMappings,
    pub scoping: ScopingFilters,
    /// The target's attributes a mapping may write ("Edit attribute list").
    #[serde(default)]
    pub attributes: AttributeList,
}

/// Everything on the Provisioning blade except secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub mode: Mode,
    pub authentication: AuthenticationMethod,
    /// The Tenant URL: the target's SCIM base URL.
    pub scim_base_url: String,
    pub oauth: OAuthClient,
    pub notification_email: String,
    pub notify_on_failure: bool,
    pub users: ObjectSettings,
    pub groups: ObjectSettings,
    pub scope: Scope,
    pub prevent_accidental_deletion: bool,
    pub deletion_threshold: u32,
    pub skip_out_of_scope_deletions: bool,
    pub cycle_interval_minutes: u32,
    pub status: Status,
    /// How hard cycles may drive the target (saved before this setting existed: the defaults).
    #[serde(default)]
    pub target: TargetUse,
}

/// How hard cycles may drive the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct TargetUse {
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Requests per second; 0 for no limit.
    pub requests_per_second: u32,
    /// Use what the target's ServiceProviderConfig advertises: one listing instead of a filter
    /// query per account on initial cycles, `/Bulk` for creates.
    pub use_capabilities: bool,
}

impl Default for TargetUse {
    fn default() -> TargetUse {
        TargetUse {
            concurrency: 4,
            requests_per_second: 0,
            use_capabilities: true,
        }
    }
}

/// The most requests in flight a job may send one target.
pub const MAX_CONCURRENCY: u32 = 32;

/// Entra's default accidental-deletion threshold.
pub const DEFAULT_DELETION_THRESHOLD: u32 = 500;
/// Entra's cycle interval.
pub const DEFAULT_CYCLE_MINUTES: u32 = 40;

impl Settings {
    pub fn defaults(template: &Template) -> Settings {
        let p = &template.provisioning;
        let oauth = p.oauth.clone().unwrap_or_default();
        Settings {
            mode: Mode::Manual,
            authentication: p.authentication,
            scim_base_url: p.scim_base_url.clone(),
            oauth: OAuthClient {
                client_id: String::new(),
                authorization_url: oauth.authorization_url,
                token_url: oauth.token_url,
                scopes: oauth.scopes.join(" "),
            },
            notification_email: String::new(),
            notify_on_failure: false,
            users: ObjectSettings {
                enabled: template.users.enabled,
                create: true,
                update: true,
                delete: true,
                mappings: template.users.mappings.clone(),
                scoping: ScopingFilters::default(),
                attributes: AttributeList::for_template(&template.users, false),
            },
            groups: ObjectSettings {
                enabled: template.groups.enabled,
                create: true,
                update: true,
                delete: true,
                mappings: template.groups.mappings.clone(),
                scoping: ScopingFilters::default(),
                attributes: AttributeList::for_template(&template.groups, true),
            },
            scope: Scope::AssignedOnly,
            prevent_accidental_deletion: true,
            deletion_threshold: DEFAULT_DELETION_THRESHOLD,
            skip_out_of_scope_deletions: false,
            cycle_interval_minutes: DEFAULT_CYCLE_MINUTES,
            status: Status::Off,
            target: TargetUse::default(),
        }
    }

    /// Which stored credentials a change from `self` to `other` sends elsewhere, so they must
    /// be forgotten: the Secret Token when the Tenant URL's host changes; the client secret and
    /// the OAuth grant when the token endpoint, the client or the method changes (and the grant
    /// also when the Tenant URL's host changes: its access token is for that target).
    fn forgets(&self, other: &Settings) -> Forget {
        let host = |url: &str| {
            reqwest::Url::parse(url.trim()).ok().and_then(|u| {
                Some(format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str()?,
                    u.port_or_known_default()?
                ))
            })
        };
        let new_target = host(&self.scim_base_url) != host(&other.scim_base_url);
        let new_client = self.oauth.token_url.trim() != other.oauth.token_url.trim()
            || self.oauth.client_id.trim() != other.oauth.client_id.trim()
            || self.authentication != other.authentication;
        Forget {
            secret_token: new_target,
            client_secret: new_client,
            grant: new_client || new_target,
        }
    }

    /// Whether a change from `self` to `other` changes what is sent or to whom, which calls
    /// for a new initial cycle.
    fn reshapes(&self, other: &Settings) -> bool {
        self.users != other.users
            || self.groups != other.groups
            || self.scope != other.scope
            || self.scim_base_url != other.scim_base_url
    }
}

struct Forget {
    secret_token: bool,
    client_secret: bool,
    grant: bool,
}

/// Secret fields as a Save submits them: `None` keeps what is stored.
#[derive(Default)]
pub struct SecretChanges {
    pub secret_token: Option<SecretString>,
    pub client_secret: Option<SecretString>,
}

/// The configuration as the blade shows it: settings, which secrets are set, the OAuth grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    pub application_id: Uuid,
    pub settings: Settings,
    pub has_secret_token: bool,
    pub has_client_secret: bool,
    pub has_access_token: bool,
    pub has_refresh_token: bool,
    pub token_expires_at: Option<OffsetDateTime>,
    pub authorized_by: Option<String>,
    pub authorized_at: Option<OffsetDateTime>,
    pub needs_initial_cycle: bool,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct Row {
    application_id: Uuid,
    settings: sqlx::types::Json<Settings>,
    has_secret_token: bool,
    has_client_secret: bool,
    has_access_token: bool,
    has_refresh_token: bool,
    token_expires_at: Option<OffsetDateTime>,
    authorized_by: Option<String>,
    authorized_at: Option<OffsetDateTime>,
    needs_initial_cycle: bool,
    version: i64,
    updated_at: OffsetDateTime,
    template: String,
}

impl From<Row> for Configuration {
    fn from(row: Row) -> Configuration {
        let mut settings = row.settings.0;
        // Saved before attribute lists existed: the template's, plus whatever the mappings
        // write.
        let template = super::gallery::template(&row.template)
            .or_else(|| super::gallery::template(super::gallery::CUSTOM))
            .expect("the gallery always has Create your own application");
        for (object, defaults, groups) in [
            (&mut settings.users, &template.users, false),
            (&mut settings.groups, &template.groups, true),
        ] {
            if object.attributes.0.is_empty() {
                object.attributes = AttributeList::for_template(defaults, groups);
                object
                    .attributes
                    .include(&object.mappings, &defaults.required, &[]);
            }
        }
        Configuration {
            application_id: row.application_id,
            settings,
            has_secret_token: row.has_secret_token,
            has_client_secret: row.has_client_secret,
            has_access_token: row.has_access_token,
            has_refresh_token: row.has_refresh_token,
            token_expires_at: row.token_expires_at,
            authorized_by: row.authorized_by,
            authorized_at: row.authorized_at,
            needs_initial_cycle: row.needs_initial_cycle,
            version: row.version,
            updated_at: row.updated_at,
        }
    }
}

const SELECT: &str = "SELECT application_id, settings, secret_token IS NOT NULL AS has_secret_token, \
     client_secret IS NOT NULL AS has_client_secret, access_token IS NOT NULL AS has_access_token, \
     refresh_token IS NOT NULL AS has_refresh_token, token_expires_at, authorized_by, authorized_at, \
     needs_initial_cycle, p.version, p.updated_at, a.template FROM provisioning p \
     JOIN applications a ON a.id = p.application_id WHERE p.application_id = ?";

pub(super) async fn insert_defaults(
    db: &mut Tx,
    application: Uuid,
    template: &Template,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO provisioning (application_id, settings, updated_at) VALUES (?, ?, ?)",
    )
    .bind(application)
    .bind(sqlx::types::Json(Settings::defaults(template)))
    .bind(OffsetDateTime::now_utc())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn load(db: impl Into<crate::db::Exec<'_>>, application: Uuid) -> Result<Configuration> {
    let row: Option<Row> = crate::db::query_as(SELECT)
        .bind(application)
        .fetch_optional(db)
        .await?;
    row.map(Configuration::from).ok_or(Error::NotFound {
        kind: "provisioning configuration",
        id: application.to_string(),
    })
}

/// The names under which secrets are sealed: bound to the application and the column.
pub(crate) fn secret_context(application: Uuid, column: &str) -> String {
    format!("provisioning/{application}/{column}")
}

/// Checks a URL the engine will call: http(s) with a host; plain http only on loopback (test
/// servers), so credentials never cross a network in clear text.
pub fn check_url(url: &str) -> std::result::Result<(), String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|_| "enter a full URL, starting with https://".to_owned())?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => return Err("the URL has no host".into()),
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("use https:// (plain http is only accepted for localhost)".into()),
        other => Err(format!("{other}:// is not http or https")),
    }
}

/// Every problem with `settings`, each with its field.
fn validate(
    settings: &Settings,
    stored: &Configuration,
    secrets: &SecretChanges,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: &str| errors.push(FieldError::new(field, message));
    let automatic = settings.mode == Mode::Automatic;
    if automatic || !settings.scim_base_url.trim().is_empty() {
        match settings.scim_base_url.trim() {
            "" => error(
                "scim_base_url",
                "enter the Tenant URL (the application's SCIM base URL)",
            ),
            url => {
                if let Err(message) = check_url(url) {
                    error("scim_base_url", &message);
                }
            }
        }
    }
    let has = |new: &Option<SecretString>, stored: bool| {
        new.as_ref().is_some_and(|s| !s.expose_secret().is_empty()) || stored
    };
    let oauth = &settings.oauth;
    if automatic {
        match settings.authentication {
            AuthenticationMethod::BearerToken => {
                if !has(&secrets.secret_token, stored.has_secret_token) {
                    error(
                        "secret_token",
                        "enter the Secret Token the application issued",
                    );
                }
            }
            AuthenticationMethod::Oauth2AuthorizationCode
            | AuthenticationMethod::Oauth2ClientCredentials => {
                if oauth.client_id.trim().is_empty() {
                    error(
                        "client_id",
                        "enter the client id registered with the application",
                    );
                }
                if oauth.token_url.trim().is_empty() {
                    error("token_url", "enter the token endpoint");
                }
                if settings.authentication == AuthenticationMethod::Oauth2ClientCredentials
                    && !has(&secrets.client_secret, stored.has_client_secret)
                {
                    error("client_secret", "enter the client secret");
                }
                if settings.authentication == AuthenticationMethod::Oauth2AuthorizationCode
                    && oauth.authorization_url.trim().is_empty()
                {
                    error("authorization_url", "enter the authorization endpoint");
                }
            }
        }
    }
    for (field, url) in [
        ("authorization_url", &oauth.authorization_url),
        ("token_url", &oauth.token_url),
    ] {
        if !url.trim().is_empty()
            && let Err(message) = check_url(url)
        {
            error(field, &message);
        }
    }
    let email = settings.notification_email.trim();
    if !email.is_empty() {
        if let Err(e) = crate::directory::users::check_mail(email, "notification_email") {
            error(
                "notification_email",
                &e.to_string().replace("notification_email: ", ""),
            );
        }
    } else if settings.notify_on_failure {
        error(
            "notification_email",
            "enter the address that receives failure notifications",
        );
    }
    if settings.deletion_threshold == 0 {
        error("deletion_threshold", "the threshold is at least 1");
    }
    if !(1..=10_080).contains(&settings.cycle_interval_minutes) {
        error(
            "cycle_interval_minutes",
            "between 1 minute and 10,080 (a week)",
        );
    }
    if !(1..=MAX_CONCURRENCY).contains(&settings.target.concurrency) {
        error(
            "concurrency",
            &format!("between 1 and {MAX_CONCURRENCY} requests at once"),
        );
    }
    if settings.target.requests_per_second > 10_000 {
        error(
            "requests_per_second",
            "at most 10,000 requests per second; 0 for no limit",
        );
    }
    if settings.status == Status::On {
        if !automatic {
            error(
                "status",
                "set Provisioning Mode to Automatic to turn provisioning on",
            );
        }
        if settings.authentication == AuthenticationMethod::Oauth2AuthorizationCode
            && !stored.has_access_token
        {
            error(
                "status",
                "select Authorize and sign in at the application before turning provisioning on",
            );
        }
        if !settings.users.enabled && !settings.groups.enabled {
            error("status", "enable the Users or the Groups mapping");
        }
    }
    for (kind, object, known) in [
        ("users", &settings.users, USER_ATTRIBUTES),
        ("groups", &settings.groups, GROUP_ATTRIBUTES),
    ] {
        if !object.enabled {
            continue;
        }
        if let Err(problems) = object.mappings.compile(known, &[]) {
            errors.extend(
                problems
                    .into_iter()
                    .map(|e| FieldError::new(format!("{kind}.{}", e.field), e.message)),
            );
        }
        if let Err(problems) = object.scoping.compile(known) {
            errors.extend(
                problems
                    .into_iter()
                    .map(|e| FieldError::new(format!("{kind}.scoping.{}", e.field), e.message)),
            );
        }
    }
    errors
}

impl Engine {
    pub async fn provisioning(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<Configuration> {
        self.application_for(account, application, Access::Read)
            .await?;
        load(&self.db, application).await
    }

    /// Saves the Provisioning blade. `expected_version` is the version the form was loaded at;
    /// if someone saved since, nothing is written and the caller gets `VersionMismatch`.
    pub async fn save_provisioning(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        expected_version: i64,
        settings: Settings,
        secrets: SecretChanges,
    ) -> Result<Configuration> {
        let app: Application = self
            .application_for(account, application, Access::Configure)
            .await?;
        let stored = load(&self.db, application).await?;
        if stored.version != expected_version {
            return Err(Error::VersionMismatch {
                kind: "provisioning configuration",
                expected: expected_version,
                current: stored.version,
            });
        }
        // What Save will forget counts as absent when deciding what is missing.
        let forget = stored.settings.forgets(&settings);
        let remaining = Configuration {
            has_secret_token: stored.has_secret_token && !forget.secret_token,
            has_client_secret: stored.has_client_secret && !forget.client_secret,
            has_access_token: stored.has_access_token && !forget.grant,
            has_refresh_token: stored.has_refresh_token && !forget.grant,
            ..stored.clone()
        };
        let mut errors = validate(&settings, &remaining, &secrets);
        // Mappings write only what the attribute list has, and match only on what the target
        // can filter on.
        for (kind, object) in [("users", &settings.users), ("groups", &settings.groups)] {
            let mut problems = object.attributes.problems();
            if object.enabled {
                problems.extend(object.attributes.check(&object.mappings, &app.display_name));
            }
            errors.extend(
                problems
                    .into_iter()
                    .map(|e| FieldError::new(format!("{kind}.{}", e.field), e.message)),
            );
        }
        // The application's own requirements apply to the mappings that are enabled.
        let template = app.template();
        if settings.groups.enabled && !template.provisioning.groups_supported {
            errors.push(FieldError::new(
                "groups.enabled",
                format!(
                    "{} does not take groups; leave the Groups mapping disabled",
                    template.name
                ),
            ));
        }
        for (kind, object, defaults, known) in [
            ("users", &settings.users, &template.users, USER_ATTRIBUTES),
            (
                "groups",
                &settings.groups,
                &template.groups,
                GROUP_ATTRIBUTES,
            ),
        ] {
            let required: Vec<&str> = defaults.required.iter().map(String::as_str).collect();
            if object.enabled
                && let Err(problems) = object.mappings.compile(known, &required)
            {
                errors.extend(
                    problems
                        .into_iter()
                        .filter(|e| e.message.starts_with("the application requires"))
                        .map(|e| FieldError::new(format!("{kind}.{}", e.field), e.message)),
                );
            }
        }
        if !errors.is_empty() {
            return Err(Error::InvalidFields(errors));
        }
        let reshaped = stored.settings.reshapes(&settings);
        let mut tx = crate::db::begin_write(&self.db).await?;
        let updated = crate::db::query(
            "UPDATE provisioning SET settings = ?, needs_initial_cycle = needs_initial_cycle OR ?, \
             version = version + 1, updated_at = ? WHERE application_id = ? AND version = ?",
        )
        .bind(sqlx::types::Json(&settings))
        .bind(reshaped)
        .bind(OffsetDateTime::now_utc())
        .bind(application)
        .bind(expected_version)
        .execute(&mut tx)
        .await?
        .rows_affected();
        if updated == 0 {
            let current = load(&mut tx, application).await?.version;
            return Err(Error::VersionMismatch {
                kind: "provisioning configuration",
                expected: expected_version,
                current,
            });
        }
        let mut changed_secrets = Vec::new();
        // Stored credentials only ever go where they were given for: a new destination needs
        // them given again (or a new Authorize).
        let provided = |value: &Option<SecretString>| {
            value
                .as_ref()
                .is_some_and(|s| !s.expose_secret().is_empty())
        };
        let mut cleared: Vec<&str> = Vec::new();
        if forget.secret_token && !provided(&secrets.secret_token) {
            cleared.push("secret_token");
        }
        if forget.client_secret && !provided(&secrets.client_secret) {
            cleared.push("client_secret");
        }
        if forget.grant {
            cleared.extend(["access_token", "refresh_token"]);
            crate::db::query(
                "UPDATE provisioning SET token_expires_at = NULL, authorized_by = NULL, authorized_at = NULL                  WHERE application_id = ?",
            )
            .bind(application)
            .execute(&mut tx)
            .await?;
        }
        for column in &cleared {
            crate::db::query(format!(
                "UPDATE provisioning SET {column} = NULL WHERE application_id = ?"
            ))
            .bind(application)
            .execute(&mut tx)
            .await?;
        }
        for (column, value) in [
            ("secret_token", &secrets.secret_token),
            ("client_secret", &secrets.client_secret),
        ] {
            if let Some(secret) = value.as_ref().filter(|s| !s.expose_secret().is_empty()) {
                let sealed = self
                    .keyring
                    .seal(&secret_context(application, column), secret);
                crate::db::query(format!(
                    "UPDATE provisioning SET {column} = ? WHERE application_id = ?"
                ))
                .bind(sealed)
                .bind(application)
                .execute(&mut tx)
                .await?;
                changed_secrets.push(column);
            }
        }
        let mut after = serde_json::to_value(&settings).unwrap_or_default();
        if !changed_secrets.is_empty() {
            after["secretsChanged"] = json!(changed_secrets);
        }
        if !cleared.is_empty() {
            after["secretsCleared"] = json!(cleared);
        }
        audit::record(
            &mut tx,
            caller,
            "Update provisioning configuration",
            target(&app),
            serde_json::to_value(&stored.settings).ok(),
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let saved = load(&self.db, application).await?;
        self.follow_settings(application, &saved.settings).await?;
        Ok(saved)
    }

    /// A stored secret, opened, for the engine's own use (never for a response).
    pub(crate) async fn provisioning_secret(
        &self,
        application: Uuid,
        column: &'static str,
    ) -> Result<Option<SecretString>> {
        let sealed: Option<Vec<u8>> = crate::db::query_scalar(format!(
            "SELECT {column} FROM provisioning WHERE application_id = ?"
        ))
        .bind(application)
        .fetch_optional(&self.db)
        .await?
        .flatten();
        sealed
            .map(|s| self.keyring.open(&secret_context(application, column), &s))
            .transpose()
    }
}
