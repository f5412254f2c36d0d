//! Sign-in logs: one entry for every sign-in, to Scimitar itself with a password or to an
//! application through single sign-on, whether it succeeded or why not (a wrong password, not
//! assigned, disabled, a request that does not check), with the user, the application, the
//! protocol, the time and the client's address.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Engine, Result,
    accounts::{Account, Permission, Role},
    db::Exec,
};

/// The application name of sign-ins to Scimitar itself (the console and My Apps).
pub const CONSOLE: &str = "Scimitar";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// A user name and password at Scimitar's sign-in page.
    Password,
    #[serde(rename = "SAML")]
    Saml,
    #[serde(rename = "OpenID Connect")]
    OpenIdConnect,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Password => "Password",
            Protocol::Saml => "SAML",
            Protocol::OpenIdConnect => "OpenID Connect",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Failure => "Failure",
        }
    }
}

/// A sign-in as it happened.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    pub user_id: Option<Uuid>,
    pub user_principal_name: &'a str,
    /// `None`: Scimitar itself ([`CONSOLE`]).
    pub application_id: Option<Uuid>,
    pub application_name: &'a str,
    pub protocol: Protocol,
    pub outcome: Outcome,
    /// Success: what was sent ("SAML response to https://…"); failure: why not.
    pub reason: &'a str,
    pub client: Option<IpAddr>,
}

/// Records `entry`; its correlation id is returned (the refusal page shows it, so an
/// administrator can find the entry).
pub async fn record(db: impl Into<Exec<'_>>, entry: &NewEntry<'_>) -> Result<Uuid> {
    let correlation = Uuid::new_v4();
    crate::db::query(
        "INSERT INTO sign_in_logs (at, user_id, user_principal_name, application_id, application_name, \
         protocol, result, reason, client_address, correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(OffsetDateTime::now_utc())
    .bind(entry.user_id)
    .bind(entry.user_principal_name)
    .bind(entry.application_id)
    .bind(entry.application_name)
    .bind(entry.protocol.as_str())
    .bind(entry.outcome.as_str())
    .bind(entry.reason)
    .bind(entry.client.map(|ip| ip.to_string()))
    .bind(correlation)
    .execute(db)
    .await?;
    match entry.outcome {
        _ if entry.protocol == Protocol::Password => {}
        Outcome::Success => tracing::info!(
            upn = entry.user_principal_name,
            application = entry.application_name,
            %correlation,
            "single sign-on: {}", entry.reason
        ),
        Outcome::Failure => tracing::warn!(
            upn = entry.user_principal_name,
            application = entry.application_name,
            %correlation,
            "single sign-on refused: {}", entry.reason
        ),
    }
    Ok(correlation)
}

/// One line of the Sign-in logs blade.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: OffsetDateTime,
    pub user_id: Option<Uuid>,
    pub user_principal_name: String,
    pub application_id: Option<Uuid>,
    pub application_name: String,
    pub protocol: String,
    pub result: String,
    pub reason: String,
    pub client_address: Option<String>,
    pub correlation_id: Uuid,
}

/// Filters of the Sign-in logs blade; entries come newest first, paged by id.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Start of the user principal name.
    pub user: Option<String>,
    pub application: Option<Uuid>,
    /// "Success" or "Failure".
    pub result: Option<String>,
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub until: Option<OffsetDateTime>,
    /// Keyset: entries older than this id.
    pub before: Option<i64>,
    pub limit: u32,
}

pub struct Page {
    pub entries: Vec<Entry>,
    /// The `before` of the next (older) page.
    pub next: Option<i64>,
}

impl Engine {
    /// The Sign-in logs, for any role that may read logs.
    pub async fn sign_in_logs(&self, account: &Account, query: &Query) -> Result<Page> {
        if !account.may(Permission::ReadLogs) {
            return Err(crate::Error::Forbidden);
        }
        let mut sql = crate::db::QueryBuilder::new(
            "SELECT id, at, user_id, user_principal_name, application_id, application_name, protocol, \
             result, reason, client_address, correlation_id FROM sign_in_logs WHERE TRUE",
        );
        if let Some(user) = query.user.as_deref().filter(|s| !s.trim().is_empty()) {
            sql.push(" AND user_principal_name LIKE ")
                .push_bind(crate::db::like_prefix(user.trim()))
                .push(" ESCAPE '\\'");
        }
        // Application Owners see the sign-ins of their own applications only (docs/roles.md).
        if account.role == Role::ApplicationOwner {
            sql.push(" AND application_id IN (SELECT application_id FROM application_owners WHERE user_id = ")
                .push_bind(account.id)
                .push(")");
        }
        if let Some(application) = query.application {
            sql.push(" AND application_id = ").push_bind(application);
        }
        if let Some(result) = query.result.as_deref().filter(|s| !s.is_empty()) {
            sql.push(" AND result = ").push_bind(result.to_owned());
        }
        if let Some(from) = query.from {
            sql.push(" AND at >= ").push_bind(from);
        }
        if let Some(until) = query.until {
            sql.push(" AND at < ").push_bind(until);
        }
        if let Some(before) = query.before {
            sql.push(" AND id < ").push_bind(before);
        }
        let (entries, next) =
            crate::db::newest_first(sql, query.limit, &self.db, |e: &Entry| e.id).await?;
        Ok(Page { entries, next })
    }
}

/// The most entries one CSV download holds (newest first); narrow the filters for older ones.
pub const MAX_DOWNLOAD: usize = 100_000;

impl Engine {
    /// The entries `query` selects (newest first, at most [`MAX_DOWNLOAD`]) as CSV, cells a
    /// spreadsheet would run neutralised ([`crate::csv_cells`]).
    pub async fn sign_in_logs_csv(&self, account: &Account, query: &Query) -> Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = [
            "Date (UTC)",
            "User",
            "Application",
            "Protocol",
            "Result",
            "Reason",
            "Client address",
            "Correlation ID",
        ];
        let csv_error = |e: csv::Error| crate::Error::Io(std::io::Error::other(e));
        writer.write_record(header).map_err(csv_error)?;
        let mut page_query = Query {
            limit: 500,
            ..query.clone()
        };
        let mut written = 0;
        while written < MAX_DOWNLOAD {
            let page = self.sign_in_logs(account, &page_query).await?;
            for entry in &page.entries {
                let at = entry
                    .at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let correlation = entry.correlation_id.to_string();
                let cells = [
                    at.as_str(),
                    &entry.user_principal_name,
                    &entry.application_name,
                    &entry.protocol,
                    &entry.result,
                    &entry.reason,
                    entry.client_address.as_deref().unwrap_or_default(),
                    &correlation,
                ];
                writer
                    .write_record(
                        cells
                            .map(crate::csv_cells::neutralise)
                            .iter()
                            .map(|c| c.as_ref()),
                    )
                    .map_err(csv_error)?;
            }
            written += page.entries.len();
            match page.next {
                Some(next) => page_query.before = Some(next),
                None => break,
            }
        }
        writer
            .into_inner()
            .map_err(|e| crate::Error::Io(std::io::Error::other(e.to_string())))
    }

    /// Sign-in log entries older than `retention` go (the daily purge).
    pub async fn purge_sign_in_logs(&self, retention: time::Duration) -> Result<u64> {
        Ok(crate::db::query("DELETE FROM sign_in_logs WHERE at < ?")
            .bind(OffsetDateTime::now_utc() - retention)
            .execute(&self.db)
            .await?
            .rows_affected())
    }
}
