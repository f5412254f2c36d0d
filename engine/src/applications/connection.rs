//! Test Connection: the real request docs/engine.md, Matching, describes (a filter query for a
//! random userName, which must come back as an empty SCIM list; a page, for a target that says it
//! cannot filter), and a result that names the cause when it does not: DNS, connect, TLS,
//! timeout, refused credentials, not a SCIM endpoint, a body that is not SCIM. The request
//! carries the credentials the configuration would use.

use std::error::Error as _;

use secrecy::ExposeSecret;
use serde::Serialize;
use uuid::Uuid;

use super::{
    Access,
    gallery::AuthenticationMethod,
    provisioning::{self, check_url},
};
use crate::{Engine, Result, accounts::Account};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cause {
    Success,
    InvalidUrl,
    MissingCredentials,
    Dns,
    Connect,
    Tls,
    Timeout,
    Unauthorized,
    NotFound,
    NotScim,
    ServerError,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionResult {
    pub cause: Cause,
    /// What happened, in words an administrator acts on.
    pub message: String,
}

impl ConnectionResult {
    fn new(cause: Cause, message: impl Into<String>) -> ConnectionResult {
        ConnectionResult {
            cause,
            message: message.into(),
        }
    }

    pub fn succeeded(&self) -> bool {
        self.cause == Cause::Success
    }
}

/// Names the cause of a failed request from the error chain reqwest gives.
fn describe(error: &reqwest::Error, url: &reqwest::Url) -> ConnectionResult {
    let host = url.host_str().unwrap_or_default();
    let place = match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut chain = String::new();
    let mut source = error.source();
    while let Some(e) = source {
        chain.push_str(&e.to_string().to_lowercase());
        chain.push(' ');
        source = e.source();
    }
    if chain.contains(crate::outbound::ALLOW_PRIVATE_FLAG) {
        // PublicOnly refused every address the name resolves to.
        ConnectionResult::new(
            Cause::InvalidUrl,
            format!(
                "Tenant URL: {}",
                private_reason(error).unwrap_or_else(|| "a private address".into())
            ),
        )
    } else if error.is_timeout() {
        ConnectionResult::new(
            Cause::Timeout,
            format!(
                "{place} did not answer in time. Check that the application is up and reachable from this server."
            ),
        )
    } else if chain.contains("dns error") || chain.contains("failed to lookup address") {
        ConnectionResult::new(
            Cause::Dns,
            format!("The host name {host} could not be resolved (DNS). Check the Tenant URL."),
        )
    } else if chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("handshake")
        // Any other failure to set up an https connection that reached the port is TLS's.
        || (url.scheme() == "https" && error.is_connect() && !chain.contains("refused"))
    {
        ConnectionResult::new(
            Cause::Tls,
            format!(
                "The TLS connection to {place} failed: {}. Check that the Tenant URL's scheme is right and that the application's certificate is trusted and valid for {host}.",
                chain.trim()
            ),
        )
    } else if error.is_connect() {
        ConnectionResult::new(
            Cause::Connect,
            format!(
                "Could not connect to {place}: {}. Check the Tenant URL's host and port, and that nothing blocks the way.",
                chain.trim()
            ),
        )
    } else {
        ConnectionResult::new(
            Cause::Other,
            format!("The request to {place} failed: {error}"),
        )
    }
}

/// The resolver's own words for a refused private address, as it wrote them.
fn private_reason(error: &reqwest::Error) -> Option<String> {
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if text.contains(crate::outbound::ALLOW_PRIVATE_FLAG) && e.source().is_none() {
            return Some(text);
        }
        source = e.source();
    }
    None
}

/// A SCIM error's `detail`. Other bodies are not repeated: Test Connection must not become a
/// way to read what any address answers.
fn detail(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| crate::scim::error::detail_of(&v))
        .unwrap_or_else(|| "the answer is not a SCIM error".to_owned())
}

/// The largest answer Test Connection reads: an empty list response is a few hundred bytes.
const MAX_ANSWER: usize = 1024 * 1024;

/// Sends the test request to `base` with `token` and judges the answer.
pub async fn probe(
    http: &reqwest::Client,
    outbound: &crate::outbound::Outbound,
    base: &str,
    token: &str,
) -> ConnectionResult {
    if let Err(message) = check_url(base).and_then(|()| outbound.check(base)) {
        return ConnectionResult::new(Cause::InvalidUrl, format!("Tenant URL: {message}"));
    }
    let Ok(mut url) = reqwest::Url::parse(&format!("{}/Users", base.trim().trim_end_matches('/')))
    else {
        return ConnectionResult::new(Cause::InvalidUrl, "The Tenant URL is not a valid URL.");
    };
    // A target that says it cannot filter is asked for a page instead (docs/engine.md,
    // Matching): cycles match its accounts by listing them.
    let client = crate::sync::client::ScimClient::new(
        outbound,
        base,
        token.to_owned().into(),
        crate::sync::client::Limits {
            retries: 0,
            ..Default::default()
        },
    );
    let filters = !client.capabilities().await.filter_unsupported;
    if filters {
        let probe_name = format!("scimitar-test-{}", Uuid::new_v4().simple());
        url.query_pairs_mut()
            .append_pair("filter", &format!("userName eq \"{probe_name}\""));
    } else {
        url.query_pairs_mut()
            .append_pair("startIndex", "1")
            .append_pair("count", "1");
    }
    let response = match http
        .get(url.clone())
        .bearer_auth(token)
        .header("Accept", "application/scim+json, application/json")
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) => return describe(&e, &url),
    };
    let status = response.status();
    let body = crate::scim::error::read_body(response, MAX_ANSWER)
        .await
        .unwrap_or_default();
    match status.as_u16() {
        200 => {
            let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            let list = json.as_ref().filter(|v| {
                v.get("totalResults").is_some()
                    || v["schemas"].as_array().is_some_and(|s| {
                        s.iter()
                            .any(|s| s == "urn:ietf:params:scim:api:messages:2.0:ListResponse")
                    })
            });
            match list {
                None => ConnectionResult::new(
                    Cause::NotScim,
                    format!(
                        "{} answered, but not with a SCIM list response. Check that the Tenant URL is the SCIM base URL (it usually ends in /scim/v2).",
                        base.trim()
                    ),
                ),
                Some(_) if !filters => ConnectionResult::new(
                    Cause::Success,
                    "The supplied credentials are authorized to enable provisioning. The application does not support SCIM filters (its ServiceProviderConfig says filter.supported is false): cycles match accounts by listing them, page by page, which takes longer on a large application.",
                ),
                Some(list) if list["totalResults"].as_u64().unwrap_or(0) > 0 => {
                    ConnectionResult::new(
                        Cause::NotScim,
                        "The application returned users for a filter that matches no one: it does not filter as SCIM requires, so matching would go wrong.",
                    )
                }
                Some(_) => ConnectionResult::new(
                    Cause::Success,
                    "The supplied credentials are authorized to enable provisioning.",
                ),
            }
        }
        401 | 403 => ConnectionResult::new(
            Cause::Unauthorized,
            format!(
                "The application refused the credentials (HTTP {}): {}. Check the Secret Token, or Authorize again.",
                status.as_u16(),
                detail(&body)
            ),
        ),
        404 => ConnectionResult::new(
            Cause::NotFound,
            format!(
                "{url} was not found (HTTP 404): this is not a SCIM endpoint. Check the Tenant URL (it usually ends in /scim/v2)."
            ),
        ),
        code if code >= 500 => ConnectionResult::new(
            Cause::ServerError,
            format!("The application failed (HTTP {code}): {}", detail(&body)),
        ),
        code => ConnectionResult::new(
            Cause::NotScim,
            format!("The application answered HTTP {code}: {}", detail(&body)),
        ),
    }
}

/// What the Provisioning blade sends to Test Connection: the form's Tenant URL and, when typed
/// but not saved yet, its Secret Token.
#[derive(Default)]
pub struct ConnectionInput {
    pub scim_base_url: String,
    pub secret_token: Option<secrecy::SecretString>,
}

impl Engine {
    /// Test Connection. Stored credentials are only sent to the saved Tenant URL: to test
    /// another one, type its Secret Token too (OAuth: save, then Authorize).
    pub async fn test_connection(
        &self,
        caller: &crate::audit::Caller,
        account: &Account,
        application: Uuid,
        input: ConnectionInput,
    ) -> Result<ConnectionResult> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let configuration = provisioning::load(&self.db, application).await?;
        let saved_target = same_url(&configuration.settings.scim_base_url, &input.scim_base_url);
        let typed = input.secret_token.filter(|s| !s.expose_secret().is_empty());
        let token = match configuration.settings.authentication {
            AuthenticationMethod::BearerToken => match typed {
                Some(typed) => Some(typed),
                None if saved_target => {
                    self.provisioning_secret(application, "secret_token")
                        .await?
                }
                None => {
                    return Ok(ConnectionResult::new(
                        Cause::MissingCredentials,
                        "The stored Secret Token is only sent to the saved Tenant URL: type the Secret Token to test this one.",
                    ));
                }
            },
            _ if !saved_target => {
                return Ok(ConnectionResult::new(
                    Cause::MissingCredentials,
                    "The OAuth token is only sent to the saved Tenant URL: Save, then Authorize, then test.",
                ));
            }
            _ => match self
                .access_token(application, time::OffsetDateTime::now_utc())
                .await
            {
                Ok(token) => Some(token),
                Err(crate::Error::Invalid { message, .. }) => {
                    return Ok(ConnectionResult::new(Cause::MissingCredentials, message));
                }
                Err(e) => return Err(e),
            },
        };
        let Some(token) = token else {
            return Ok(ConnectionResult::new(
                Cause::MissingCredentials,
                "Enter the Secret Token (or Authorize) before testing the connection.",
            ));
        };
        let result = probe(
            &self.http,
            &self.outbound,
            &input.scim_base_url,
            token.expose_secret(),
        )
        .await;
        let mut tx = crate::db::begin_write(&self.db).await?;
        crate::audit::record(
            &mut tx,
            caller,
            "Test connection",
            super::target(&app),
            None,
            Some(serde_json::json!({ "tenantUrl": input.scim_base_url.trim(), "result": result.cause })),
        )
        .await?;
        tx.commit().await?;
        Ok(result)
    }
}

/// Two Tenant URLs that name the same endpoint (a trailing slash aside).
fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}
