//! An application's Single sign-on blade: the settings, the signing certificates, the OpenID
//! Connect client secrets, and reading a service provider's metadata to fill the SAML settings.
//! The sign-in logs of every application.

use leptos::{prelude::*, server_fn::codec::Json};

use super::AppError;
use crate::model::{
    CertificateRow, ClientSecretRow, NewClientSecret, SignInFilters, SignInLogPage, SpMetadata,
    SsoForm, SsoSettings,
};

#[cfg(feature = "ssr")]
use super::applications::parse_id;

/// An engine enum from the name the form sends (its serde name).
#[cfg(feature = "ssr")]
fn named<T: serde::de::DeserializeOwned>(field: &str, name: &str) -> Result<T, AppError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|_| {
        AppError::InvalidFields(vec![(
            field.to_owned(),
            format!("{name:?} is not a choice here."),
        )])
    })
}

#[cfg(feature = "ssr")]
fn name_of<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[server(endpoint = "applications/sso")]
pub async fn get_single_sign_on(id: String) -> Result<SsoForm, AppError> {
    use crate::model::{IdentityProviderUrls, OpenIdProviderUrls, SsoHints};
    use engine::{
        accounts::Permission,
        applications::Access,
        sso::{oidc::Issuer, saml::IdentityProvider},
    };

    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let stored = engine.single_sign_on(&account, app.id).await?;
    let (saml, oidc) = (stored.settings.saml, stored.settings.oidc);
    let base = super::context::base_url().await;
    let idp = IdentityProvider::new(&base, app.id);
    let issuer = Issuer::new(&base, app.id);
    let discovery = issuer.discovery(&oidc);
    let endpoint = |name: &str| discovery[name].as_str().unwrap_or_default().to_owned();
    let hints = app.template().sso.clone().unwrap_or_default();
    Ok(SsoForm {
        application_id: app.id.to_string(),
        application: app.display_name.clone(),
        version: stored.version,
        settings: SsoSettings {
            method: name_of(stored.settings.method),
            identifiers: saml.identifiers,
            reply_urls: saml.reply_urls,
            sign_on_url: saml.sign_on_url,
            relay_state: saml.relay_state,
            logout_url: saml.logout_url,
            signing: name_of(saml.signing),
            name_id_format: name_of(saml.name_id.format),
            name_id_source: saml.name_id.source,
            claims: claim_rows(saml.claims),
            client_type: name_of(oidc.client),
            redirect_uris: oidc.redirect_uris,
            post_logout_redirect_uris: oidc.post_logout_redirect_uris,
            home_page_url: oidc.home_page_url,
            oidc_claims: claim_rows(oidc.claims),
        },
        identity_provider: IdentityProviderUrls {
            identifier: idp.entity_id(),
            login_url: idp.sso_url(),
            logout_url: idp.logout_url(),
            metadata_url: idp.metadata_url(),
            test_url: format!("/saml/{}/start", app.id),
        },
        client_secrets: client_secret_rows(&engine, &account, app.id).await?,
        openid_provider: OpenIdProviderUrls {
            client_id: app.id.to_string(),
            issuer: issuer.url(),
            discovery: issuer.discovery_url(),
            authorization: endpoint("authorization_endpoint"),
            token: endpoint("token_endpoint"),
            userinfo: endpoint("userinfo_endpoint"),
            jwks: endpoint("jwks_uri"),
            logout: endpoint("end_session_endpoint"),
        },
        hints: SsoHints {
            identifier: hints.identifier_pattern,
            reply_url: hints.reply_url_pattern,
            sign_on_url: hints.sign_on_url_pattern,
        },
    })
}

#[cfg(feature = "ssr")]
fn claim_rows(claims: Vec<engine::sso::Claim>) -> Vec<crate::model::ClaimRow> {
    claims
        .into_iter()
        .map(|c| crate::model::ClaimRow {
            name: c.name,
            namespace: c.namespace,
            source: c.source,
        })
        .collect()
}

#[cfg(feature = "ssr")]
fn claims(rows: Vec<crate::model::ClaimRow>) -> Vec<engine::sso::Claim> {
    rows.into_iter()
        .map(|c| engine::sso::Claim {
            name: c.name.trim().to_owned(),
            namespace: c.namespace.trim().to_owned(),
            source: c.source,
        })
        .collect()
}

/// Saves the blade; errors come back per field (`saml.replyUrls[1]`).
#[server(endpoint = "applications/sso/save", input = Json)]
pub async fn save_single_sign_on(
    id: String,
    version: i64,
    settings: SsoSettings,
) -> Result<i64, AppError> {
    use engine::sso::{NameId, OidcSettings, SamlSettings, Settings};

    let (engine, account, caller) = super::context::signed_in().await?;
    let lines = |list: Vec<String>| -> Vec<String> {
        list.iter()
            .flat_map(|v| v.lines())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let settings = Settings {
        method: named("method", &settings.method)?,
        saml: SamlSettings {
            identifiers: lines(settings.identifiers),
            reply_urls: lines(settings.reply_urls),
            sign_on_url: settings.sign_on_url,
            relay_state: settings.relay_state,
            logout_url: settings.logout_url,
            signing: named("saml.signing", &settings.signing)?,
            name_id: NameId {
                format: named("saml.nameId.format", &settings.name_id_format)?,
                source: settings.name_id_source,
            },
            claims: claims(settings.claims),
        },
        oidc: OidcSettings {
            client: named("oidc.client", &settings.client_type)?,
            redirect_uris: lines(settings.redirect_uris),
            post_logout_redirect_uris: lines(settings.post_logout_redirect_uris),
            home_page_url: settings.home_page_url,
            claims: claims(settings.oidc_claims),
        },
    };
    let saved = engine
        .save_single_sign_on(&caller, &account, parse_id(&id)?, version, settings)
        .await?;
    Ok(saved.version)
}

/// Reads a service provider's metadata (the uploaded file's text); nothing is saved.
#[server(endpoint = "applications/sso/sp-metadata", input = Json)]
pub async fn read_sp_metadata(xml: String) -> Result<SpMetadata, AppError> {
    use engine::accounts::Permission;

    super::context::require(Permission::ConfigureApplications).await?;
    let parsed =
        engine::sso::saml::parse_sp_metadata(&xml).map_err(|message| AppError::Invalid {
            field: "metadata".into(),
            message: format!("This file cannot be used: {message}."),
        })?;
    Ok(SpMetadata {
        identifier: parsed.entity_id,
        reply_urls: parsed.reply_urls,
        logout_url: parsed.logout_url.unwrap_or_default(),
        name_id_format: parsed.name_id_format.map(name_of).unwrap_or_default(),
    })
}

#[server(endpoint = "applications/sso/certificates")]
pub async fn list_certificates(id: String) -> Result<Vec<CertificateRow>, AppError> {
    use engine::accounts::Permission;

    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let now = time::OffsetDateTime::now_utc();
    let day = |at: time::OffsetDateTime| at.date().to_string();
    Ok(engine
        .signing_certificates(&account, parse_id(&id)?)
        .await?
        .into_iter()
        .map(|c| CertificateRow {
            id: c.id.to_string(),
            status: if c.is_expired(now) {
                "Expired"
            } else if c.active {
                "Active"
            } else {
                "Inactive"
            }
            .to_owned(),
            created: day(c.created_at),
            expires: day(c.expires_at),
            thumbprint: c.thumbprint(),
            pem: c.pem(),
            raw_base64: c.base64(),
        })
        .collect())
}

/// "New Certificate" (`certificate` empty), "Make certificate active" or "Delete".
#[server(endpoint = "applications/sso/certificate")]
pub async fn change_certificate(
    id: String,
    certificate: String,
    action: String,
) -> Result<(), AppError> {
    let (engine, account, caller) = super::context::signed_in().await?;
    let application = parse_id(&id)?;
    match action.as_str() {
        "new" => {
            engine
                .new_signing_certificate(&caller, &account, application)
                .await?;
        }
        "activate" => {
            engine
                .activate_signing_certificate(
                    &caller,
                    &account,
                    application,
                    parse_id(&certificate)?,
                )
                .await?
        }
        "delete" => {
            engine
                .delete_signing_certificate(&caller, &account, application, parse_id(&certificate)?)
                .await?
        }
        _ => return Err(AppError::Request(format!("unknown action {action:?}"))),
    }
    Ok(())
}

/// The OpenID Connect client secrets of an application, newest first.
#[server(endpoint = "applications/sso/secrets")]
pub async fn list_client_secrets(id: String) -> Result<Vec<ClientSecretRow>, AppError> {
    use engine::accounts::Permission;

    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    client_secret_rows(&engine, &account, parse_id(&id)?).await
}

#[cfg(feature = "ssr")]
async fn client_secret_rows(
    engine: &engine::Engine,
    account: &engine::accounts::Account,
    application: uuid::Uuid,
) -> Result<Vec<ClientSecretRow>, AppError> {
    let now = time::OffsetDateTime::now_utc();
    Ok(engine
        .oidc_client_secrets(account, application)
        .await?
        .into_iter()
        .map(|s| ClientSecretRow {
            id: s.id.to_string(),
            description: s.description,
            hint: format!("{}…", s.hint),
            created: s.created_at.date().to_string(),
            expires: s.expires_at.date().to_string(),
            expired: s.expires_at <= now,
        })
        .collect())
}

/// "New client secret" (`secret` empty; valid `days`) or "Delete" (`secret`).
#[server(endpoint = "applications/sso/secret")]
pub async fn change_client_secret(
    id: String,
    secret: String,
    description: String,
    days: String,
) -> Result<Option<NewClientSecret>, AppError> {
    use secrecy::ExposeSecret;

    let (engine, account, caller) = super::context::signed_in().await?;
    let application = parse_id(&id)?;
    if !secret.is_empty() {
        engine
            .delete_oidc_client_secret(&caller, &account, application, parse_id(&secret)?)
            .await?;
        return Ok(None);
    }
    let days = days.parse().map_err(|_| AppError::Invalid {
        field: "expires".into(),
        message: "Choose when the secret expires.".into(),
    })?;
    let (value, created) = engine
        .new_oidc_client_secret(&caller, &account, application, &description, days)
        .await?;
    Ok(Some(NewClientSecret {
        value: value.expose_secret().to_owned(),
        description: created.description,
        expires: created.expires_at.date().to_string(),
    }))
}

/// The engine's query for `filters` (newest first, `limit` at a time).
#[cfg(feature = "ssr")]
pub fn sign_in_query(
    filters: &SignInFilters,
    limit: u32,
) -> Result<engine::sso::sign_in_log::Query, AppError> {
    use super::audit::day;
    let some = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    Ok(engine::sso::sign_in_log::Query {
        user: some(&filters.user),
        application: some(&filters.application)
            .map(|a| parse_id(&a))
            .transpose()?,
        result: some(&filters.result),
        from: day(some(&filters.from), "from", 0)?,
        until: day(some(&filters.to), "to", 1)?,
        before: filters.before.parse().ok(),
        limit,
    })
}

/// The Sign-in logs blade: newest first, filtered by user, application, result and dates.
#[server(endpoint = "sign-in-logs")]
pub async fn list_sign_ins(filters: SignInFilters) -> Result<SignInLogPage, AppError> {
    use crate::model::SignInRow;
    use engine::accounts::Permission;

    let (engine, account, _) = super::context::require(Permission::ReadLogs).await?;
    let page = engine
        .sign_in_logs(&account, &sign_in_query(&filters, 50)?)
        .await?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    Ok(SignInLogPage {
        rows: page
            .entries
            .into_iter()
            .map(|e| SignInRow {
                at: e.at.format(format).unwrap_or_default(),
                user: e.user_principal_name,
                application: e.application_name,
                protocol: e.protocol,
                result: e.result,
                reason: e.reason,
                client_address: e.client_address.unwrap_or_default(),
                correlation_id: e.correlation_id.to_string(),
            })
            .collect(),
        next: page.next.map(|n| n.to_string()),
    })
}
