//! Settings > Email: the SMTP server notification emails go through, and "Send test email".
//! Global Administrators only; the password goes in and never comes back out.

// The Email form is one server function with an argument per field.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::AppError;
use crate::model::EmailSettings;

#[server(endpoint = "settings/email")]
pub async fn get_email_settings() -> Result<EmailSettings, AppError> {
    use engine::{accounts::Permission, sync::notify::Security};
    let (engine, account, _) = super::context::require(Permission::ManageSettings).await?;
    Ok(match engine.smtp_settings(&account).await? {
        Some(s) => EmailSettings {
            host: s.host,
            port: s.port,
            security: match s.security {
                Security::None => "none",
                Security::StartTls => "starttls",
                Security::Tls => "tls",
            }
            .into(),
            username: s.username,
            from_address: s.from_address,
            has_password: s.has_password,
        },
        None => EmailSettings {
            port: 587,
            security: "starttls".into(),
            ..EmailSettings::default()
        },
    })
}

/// Saves the form (`intent` "save"), or sends a test email to `test_to` ("test").
#[server(endpoint = "settings/email/save")]
pub async fn save_email_settings(
    host: String,
    port: String,
    security: String,
    username: String,
    password: Option<String>,
    from_address: String,
    test_to: Option<String>,
    intent: Option<String>,
) -> Result<String, AppError> {
    use engine::sync::notify::{Security, SmtpSettings};
    let (engine, account, caller) = super::context::signed_in().await?;
    if intent.as_deref() == Some("test") {
        let to = test_to.unwrap_or_default();
        engine.send_test_email(&account, to.trim()).await?;
        return Ok(format!("A test email was sent to {}.", to.trim()));
    }
    let port = port.trim().parse().map_err(|_| AppError::Invalid {
        field: "port".into(),
        message: "Enter the SMTP port, such as 587.".into(),
    })?;
    let settings = SmtpSettings {
        host,
        port,
        security: match security.as_str() {
            "none" => Security::None,
            "tls" => Security::Tls,
            _ => Security::StartTls,
        },
        username,
        from_address,
        has_password: false,
    };
    let password = password
        .filter(|p| !p.is_empty())
        .map(secrecy::SecretString::from);
    engine
        .save_smtp_settings(&caller, &account, settings, password)
        .await?;
    Ok("Saved.".into())
}
