//! Notification emails, through the SMTP server of Settings > Email (with `lettre`): when a job
//! enters quarantine, and again when the reason changes, the application's Notification Email
//! gets a message if "Send an email notification when a failure occurs" is on. "Send test
//! email" proves the settings.

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::Mailbox,
    transport::smtp::authentication::Credentials,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Engine, Error, Result,
    accounts::{Account, Permission},
    applications,
    audit::{self, Caller, Target},
    text::sentence,
    timestamp::minutes_utc,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "TEXT")]
pub enum Security {
    /// Plain SMTP (a relay on the local network).
    None,
    /// STARTTLS on the submission port (587).
    StartTls,
    /// TLS from the first byte (465).
    Tls,
}

/// Settings > Email, without the password (which is sealed and never leaves).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SmtpSettings {
    pub host: String,
    #[sqlx(try_from = "i64")]
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub from_address: String,
    pub has_password: bool,
}

const CONTEXT: &str = "settings/smtp/password";

impl Engine {
    pub async fn smtp_settings(&self, account: &Account) -> Result<Option<SmtpSettings>> {
        if !account.may(Permission::ManageSettings) {
            return Err(Error::Forbidden);
        }
        self.stored_smtp().await
    }

    async fn stored_smtp(&self) -> Result<Option<SmtpSettings>> {
        Ok(crate::db::query_as(
            "SELECT host, port, security, username, from_address, password IS NOT NULL AS has_password \
             FROM smtp_settings WHERE id = 1",
        )
        .fetch_optional(&self.db)
        .await?)
    }

    /// Saves Settings > Email; `password` `None` keeps the stored one, unless the host changed:
    /// a password is only ever sent to the server it was given for, so a new host forgets it.
    pub async fn save_smtp_settings(
        &self,
        caller: &Caller,
        account: &Account,
        settings: SmtpSettings,
        password: Option<SecretString>,
    ) -> Result<()> {
        if !account.may(Permission::ManageSettings) {
            return Err(Error::Forbidden);
        }
        let host = settings.host.trim();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(Error::invalid("host", "enter the SMTP server's host name"));
        }
        if settings.port == 0 {
            return Err(Error::invalid("port", "enter the SMTP port, such as 587"));
        }
        crate::directory::users::check_mail(settings.from_address.trim(), "from_address")?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let previous_host: Option<String> =
            crate::db::query_scalar("SELECT host FROM smtp_settings WHERE id = 1")
                .fetch_optional(&mut tx)
                .await?;
        let host_changed =
            previous_host.is_some_and(|previous| !previous.eq_ignore_ascii_case(host));
        crate::db::query(
            "INSERT INTO smtp_settings (id, host, port, security, username, from_address, updated_at) \
             VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET host = excluded.host, port = excluded.port, \
             security = excluded.security, username = excluded.username, from_address = excluded.from_address, \
             updated_at = excluded.updated_at",
        )
        .bind(host)
        .bind(i64::from(settings.port))
        .bind(settings.security)
        .bind(settings.username.trim())
        .bind(settings.from_address.trim())
        .bind(OffsetDateTime::now_utc())
        .execute(&mut tx)
        .await?;
        let changed = password.filter(|p| !p.expose_secret().is_empty());
        let forgotten = host_changed && changed.is_none();
        if changed.is_some() || forgotten {
            crate::db::query("UPDATE smtp_settings SET password = ? WHERE id = 1")
                .bind(changed.as_ref().map(|p| self.keyring.seal(CONTEXT, p)))
                .execute(&mut tx)
                .await?;
        }
        audit::record(
            &mut tx,
            caller,
            "Update email settings",
            Target {
                kind: "Settings",
                id: None,
                name: "Email",
            },
            None,
            Some(serde_json::json!({
                "host": host, "port": settings.port, "security": settings.security,
                "username": settings.username.trim(), "from": settings.from_address.trim(),
                "passwordChanged": changed.is_some(),
                "passwordForgotten": forgotten,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends one message through the configured server; the error says what went wrong.
    async fn send_email(&self, to: &str, subject: &str, body: String) -> Result<()> {
        let settings = self
            .stored_smtp()
            .await?
            .ok_or_else(|| Error::invalid("host", "Settings > Email has no SMTP server yet"))?;
        let parse = |address: &str, field: &'static str| {
            address.parse::<Mailbox>().map_err(|e| {
                Error::invalid(field, format!("{address:?} is not an email address: {e}"))
            })
        };
        let message = Message::builder()
            .from(parse(&settings.from_address, "from_address")?)
            .to(parse(to, "to")?)
            .subject(subject)
            .body(body)
            .map_err(|e| Error::invalid("to", e.to_string()))?;
        let builder = match settings.security {
            Security::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
            Security::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(|e| Error::invalid("host", e.to_string()))?
            }
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
                .map_err(|e| Error::invalid("host", e.to_string()))?,
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if settings.has_password {
            let sealed: Vec<u8> =
                crate::db::query_scalar("SELECT password FROM smtp_settings WHERE id = 1")
                    .fetch_one(&self.db)
                    .await?;
            let password = self.keyring.open(CONTEXT, &sealed)?;
            builder = builder.credentials(Credentials::new(
                settings.username.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        builder.build().send(message).await.map_err(|e| {
            Error::invalid(
                "host",
                format!("the SMTP server did not take the message: {e}"),
            )
        })?;
        Ok(())
    }

    /// "Send test email" to `to`.
    pub async fn send_test_email(&self, account: &Account, to: &str) -> Result<()> {
        if !account.may(Permission::ManageSettings) {
            return Err(Error::Forbidden);
        }
        self.send_email(
            to,
            "Scimitar test email",
            "This is a test email from Scimitar. Notification emails will arrive like this one.\n"
                .into(),
        )
        .await
    }

    /// After a cycle: announces a quarantine (or a new reason for it) to the application's
    /// Notification Email, once per reason.
    pub(super) async fn announce_quarantine(&self, application: Uuid) -> Result<()> {
        let job = super::jobs::load(&self.db, application).await?;
        let notified: Option<String> = crate::db::query_scalar(
            "SELECT notified_reason FROM provisioning_jobs WHERE application_id = ?",
        )
        .bind(application)
        .fetch_one(&self.db)
        .await?;
        let Some(reason) = job
            .quarantine_reason
            .filter(|r| Some(r) != notified.as_ref())
        else {
            return Ok(());
        };
        let settings = applications::provisioning::load(&self.db, application)
            .await?
            .settings;
        let app = applications::get(&self.db, application).await?;
        let name = app.map(|a| a.display_name).unwrap_or_default();
        if settings.notify_on_failure && !settings.notification_email.trim().is_empty() {
            let what_to_do = job
                .last_cycle
                .as_ref()
                .map(|r| r.0.outcome.what_to_do(settings.authentication))
                .unwrap_or_default();
            let when = |at: Option<OffsetDateTime>| at.map(minutes_utc).unwrap_or_default();
            let mut body = format!(
                "Provisioning to {name} is in quarantine.\n\nReason: {}\n\nSince: {}\nNext attempt: {}\n\n\
                 What to do: {what_to_do}\n",
                sentence(&reason),
                when(job.quarantine_began_at),
                when(job.next_run_at),
            );
            if let Some(console) = &self.public_url {
                let console = console.trim_end_matches('/');
                body.push_str(&format!(
                    "\nOpen its Provisioning blade: {console}/applications/{application}/provisioning\n"
                ));
            }
            self.send_email(
                settings.notification_email.trim(),
                &format!("Provisioning to {name} is in quarantine"),
                body,
            )
            .await?;
        }
        crate::db::query(
            "UPDATE provisioning_jobs SET notified_reason = ? WHERE application_id = ?",
        )
        .bind(&reason)
        .bind(application)
        .execute(&self.db)
        .await?;
        Ok(())
    }
}
