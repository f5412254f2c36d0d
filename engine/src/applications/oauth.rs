//! OAuth 2.0 for Admin Credentials, with the `oauth2` crate. Authorization code: "Authorize"
//! sends the administrator to the provider with a random state and a PKCE challenge (kept in
//! the database until the callback, so any console process may take it), the callback exchanges
//! the code, and the tokens are sealed in the
//! provisioning row with who authorized and when the access token expires. Client credentials:
//! a token is fetched with the client secret. Either way [`Engine::access_token`] hands out a
//! token that is good for a while, refreshing (or fetching) it first when it expires within five
//! minutes.

use base64::Engine as _;
use oauth2::{
    AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    Access,
    gallery::AuthenticationMethod,
    provisioning::{self, secret_context},
    target,
};
use crate::{
    Engine, Error, Result,
    accounts::Account,
    audit::{self, Caller},
};

/// A token response, with the ID token an OpenID provider adds when `openid` is asked for.
type Tokens = StandardTokenResponse<IdToken, BasicTokenType>;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct IdToken {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdToken {}

/// `oauth2`'s basic client, reading [`Tokens`].
type OAuthClient<HasAuthUrl = EndpointNotSet, HasTokenUrl = EndpointNotSet> = Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// Whether the scopes ask for OpenID Connect, which binds the ID token to the request with a
/// nonce (OpenID Connect Core 1.0, section 3.1.2.1).
fn openid(settings: &provisioning::Settings) -> bool {
    settings
        .oauth
        .scopes
        .split_whitespace()
        .any(|s| s == "openid")
}

/// Checks that the ID token of `tokens` carries `nonce`. The token came straight from the token
/// endpoint over the connection Scimitar opened, so its claims are read without checking its
/// signature (OpenID Connect Core 1.0, section 3.1.3.7).
fn check_nonce(tokens: &Tokens, nonce: &str) -> Result<()> {
    let refused = |why: &str| {
        oauth_error(format!(
            "the provider's ID token {why}; the authorization was not stored. Authorize again."
        ))
    };
    let token = tokens
        .extra_fields()
        .id_token
        .as_deref()
        .ok_or_else(|| refused("is missing (the scopes include openid)"))?;
    let claims = token
        .split('.')
        .nth(1)
        .filter(|payload| payload.len() <= 64 * 1024)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .ok_or_else(|| refused("is not a JSON Web Token"))?;
    if claims["nonce"].as_str() != Some(nonce) {
        return Err(refused("does not carry the nonce Scimitar sent"));
    }
    Ok(())
}

/// Tokens that expire sooner than this are refreshed before use.
const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// Where "Authorize" sends the administrator, and what the callback needs to finish.
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub pkce_verifier: SecretString,
    /// Sent when the scopes include `openid`; the ID token must bring it back.
    pub nonce: Option<SecretString>,
}

fn oauth_error(message: impl std::fmt::Display) -> Error {
    Error::invalid("oauth", message.to_string())
}

/// The token endpoint, if requests may go there (outbound.rs).
fn token_url(
    settings: &provisioning::Settings,
    outbound: &crate::outbound::Outbound,
) -> Result<TokenUrl> {
    let url = settings.oauth.token_url.trim();
    outbound
        .check(url)
        .map_err(|message| Error::invalid("token_url", message))?;
    TokenUrl::new(url.to_owned())
        .map_err(|_| Error::invalid("token_url", "enter the token endpoint's URL"))
}

fn scopes(settings: &provisioning::Settings) -> impl Iterator<Item = Scope> + '_ {
    settings
        .oauth
        .scopes
        .split_whitespace()
        .map(|s| Scope::new(s.to_owned()))
}

/// What the provider said, in words: its `error_description` when it gave one.
fn describe<E: std::error::Error>(
    error: oauth2::RequestTokenError<E, oauth2::basic::BasicErrorResponse>,
) -> String {
    match error {
        oauth2::RequestTokenError::ServerResponse(response) => match response.error_description() {
            Some(description) => {
                format!("the provider refused: {} ({description})", response.error())
            }
            None => format!("the provider refused: {}", response.error()),
        },
        oauth2::RequestTokenError::Request(e) => format!("the provider could not be reached: {e}"),
        oauth2::RequestTokenError::Parse(e, _) => {
            format!("the provider's answer is not an OAuth token response: {e}")
        }
        oauth2::RequestTokenError::Other(e) => e,
    }
}

/// How long an authorization waits for its callback.
const AUTHORIZATION_LIFETIME: Duration = Duration::minutes(10);
/// How long a finished authorization's row (and its outcome) is kept.
const AUTHORIZATION_KEPT: Duration = Duration::days(1);

/// What the provider sent back to the callback (RFC 6749, section 4.1.2).
#[derive(Default)]
pub struct Callback<'a> {
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
}

/// How an authorization ended, in the words the Provisioning blade shows.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthorizationOutcome {
    pub succeeded: bool,
    pub message: String,
}

fn pending_context(state: &str, what: &str) -> String {
    format!("oauth/{state}/{what}")
}

impl Engine {
    /// "Authorize", from any door: starts an authorization for `account` and keeps it in the
    /// database for ten minutes, so the callback may reach any console process. Returns the
    /// provider's URL to send the administrator to.
    pub async fn authorize(
        &self,
        account: &Account,
        application: Uuid,
        redirect_uri: &str,
    ) -> Result<String> {
        let start = self
            .start_authorization(account, application, redirect_uri)
            .await?;
        let now = OffsetDateTime::now_utc();
        let mut tx = crate::db::begin_write(&self.db).await?;
        crate::db::query("DELETE FROM oauth_authorizations WHERE started_at < ?")
            .bind(now - AUTHORIZATION_KEPT)
            .execute(&mut tx)
            .await?;
        crate::db::query(
            "INSERT INTO oauth_authorizations (state, application_id, account_id, pkce_verifier, \
             nonce, started_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&start.state)
        .bind(application)
        .bind(account.id)
        .bind(self.keyring.seal(
            &pending_context(&start.state, "pkce_verifier"),
            &start.pkce_verifier,
        ))
        .bind(start.nonce.as_ref().map(|n| {
            self.keyring
                .seal(&pending_context(&start.state, "nonce"), n)
        }))
        .bind(now)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(start.url)
    }

    /// The callback of the authorization `state`: taken once, only by the account that started
    /// it, within ten minutes. Exchanges the code, stores the tokens and records the outcome for
    /// [`Engine::authorization_outcome`]. `None` when the state is not such an authorization.
    pub async fn finish_authorization(
        &self,
        caller: &Caller,
        account: &Account,
        state: &str,
        callback: Callback<'_>,
        redirect_uri: &str,
    ) -> Result<Option<Uuid>> {
        let now = OffsetDateTime::now_utc();
        let taken: Option<(Uuid, Vec<u8>, Option<Vec<u8>>)> = crate::db::query_as(
            "UPDATE oauth_authorizations SET finished_at = ? WHERE state = ? AND account_id = ? \
             AND finished_at IS NULL AND started_at > ? \
             RETURNING application_id, pkce_verifier, nonce",
        )
        .bind(now)
        .bind(state)
        .bind(account.id)
        .bind(now - AUTHORIZATION_LIFETIME)
        .fetch_optional(&self.db)
        .await?;
        let Some((application, pkce_verifier, nonce)) = taken else {
            return Ok(None);
        };
        let pkce_verifier = self
            .keyring
            .open(&pending_context(state, "pkce_verifier"), &pkce_verifier)?;
        let nonce = nonce
            .map(|n| self.keyring.open(&pending_context(state, "nonce"), &n))
            .transpose()?;
        let outcome =
            |succeeded: bool, message: String| AuthorizationOutcome { succeeded, message };
        let outcome = if let Some(error) = callback.error {
            let description = callback.error_description.unwrap_or(error);
            outcome(false, format!("The provider refused: {description}"))
        } else if let Some(code) = callback.code {
            match self
                .complete_authorization(
                    caller,
                    account,
                    application,
                    code,
                    &pkce_verifier,
                    nonce.as_ref(),
                    redirect_uri,
                )
                .await
            {
                Ok(()) => outcome(true, "Authorized. Test the connection, then Save.".into()),
                Err(Error::Invalid { message, .. }) => outcome(false, message),
                Err(e) => {
                    tracing::error!(error = %e, %application, "OAuth authorization could not be stored");
                    outcome(
                        false,
                        "The authorization could not be stored; the details are in the server's log."
                            .into(),
                    )
                }
            }
        } else {
            outcome(false, "The provider sent no authorization code.".into())
        };
        crate::db::query(
            "UPDATE oauth_authorizations SET succeeded = ?, outcome = ? WHERE state = ?",
        )
        .bind(outcome.succeeded)
        .bind(&outcome.message)
        .bind(state)
        .execute(&self.db)
        .await?;
        Ok(Some(application))
    }

    /// How `account`'s last authorization of `application` ended, if one came back in the last
    /// day.
    pub async fn authorization_outcome(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<Option<AuthorizationOutcome>> {
        let last: Option<(bool, String)> = crate::db::query_as(
            "SELECT succeeded, outcome FROM oauth_authorizations WHERE application_id = ? \
             AND account_id = ? AND outcome IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
        )
        .bind(application)
        .bind(account.id)
        .fetch_optional(&self.db)
        .await?;
        Ok(last.map(|(succeeded, message)| AuthorizationOutcome { succeeded, message }))
    }

    fn refresh_lock(&self, application: Uuid) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.refresh_locks
            .lock()
            .expect("the refresh locks' map is never poisoned")
            .entry(application)
            .or_default()
            .clone()
    }

    /// Starts "Authorize" with the saved client registration.
    pub async fn start_authorization(
        &self,
        account: &Account,
        application: Uuid,
        redirect_uri: &str,
    ) -> Result<AuthorizationStart> {
        self.application_for(account, application, Access::Configure)
            .await?;
        let settings = provisioning::load(&self.db, application).await?.settings;
        if settings.authentication != AuthenticationMethod::Oauth2AuthorizationCode {
            return Err(oauth_error(
                "this application does not use the authorization code flow",
            ));
        }
        let client = OAuthClient::new(ClientId::new(settings.oauth.client_id.trim().to_owned()))
            .set_auth_uri(
                AuthUrl::new(settings.oauth.authorization_url.trim().to_owned()).map_err(|_| {
                    Error::invalid(
                        "authorization_url",
                        "enter the authorization endpoint's URL",
                    )
                })?,
            )
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(oauth_error)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = openid(&settings).then(|| CsrfToken::new_random().secret().clone());
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes(&settings))
            .set_pkce_challenge(challenge);
        if let Some(nonce) = &nonce {
            request = request.add_extra_param("nonce", nonce.clone());
        }
        let (url, state) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: SecretString::from(verifier.secret().clone()),
            nonce: nonce.map(SecretString::from),
        })
    }

    /// The callback: exchanges `code` for tokens, checks the ID token's nonce when one was
    /// sent, and stores the tokens sealed.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_authorization(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        code: &str,
        pkce_verifier: &SecretString,
        nonce: Option<&SecretString>,
        redirect_uri: &str,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let settings = provisioning::load(&self.db, application).await?.settings;
        let client_secret = self
            .provisioning_secret(application, "client_secret")
            .await?;
        let mut client =
            OAuthClient::new(ClientId::new(settings.oauth.client_id.trim().to_owned()))
                .set_token_uri(token_url(&settings, &self.outbound)?)
                .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(oauth_error)?);
        if let Some(secret) = &client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(
                pkce_verifier.expose_secret().to_owned(),
            ))
            .request_async(&self.http)
            .await
            .map_err(|e| oauth_error(describe(e)))?;
        if let Some(nonce) = nonce {
            check_nonce(&response, nonce.expose_secret())?;
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = crate::db::begin_write(&self.db).await?;
        self.store_tokens(
            &mut tx,
            application,
            &response,
            now,
            Some(&account.user_principal_name),
        )
        .await?;
        audit::record(
            &mut tx,
            caller,
            "Authorize provisioning",
            target(&app),
            None,
            Some(json!({ "authorizedBy": account.user_principal_name, "tokenExpires": response.expires_in().map(|d| d.as_secs()) })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn store_tokens(
        &self,
        db: impl Into<crate::db::Exec<'_>>,
        application: Uuid,
        response: &Tokens,
        now: OffsetDateTime,
        authorized_by: Option<&str>,
    ) -> Result<()> {
        let access = self.keyring.seal(
            &secret_context(application, "access_token"),
            &SecretString::from(response.access_token().secret().clone()),
        );
        let refresh = response.refresh_token().map(|r| {
            self.keyring.seal(
                &secret_context(application, "refresh_token"),
                &SecretString::from(r.secret().clone()),
            )
        });
        let expires = response
            .expires_in()
            .map(|d| now + Duration::seconds(d.as_secs() as i64));
        // A provider that does not rotate refresh tokens keeps the one we have.
        crate::db::query(
            "UPDATE provisioning SET access_token = ?, refresh_token = COALESCE(?, refresh_token), \
             token_expires_at = ?, authorized_by = COALESCE(?, authorized_by), \
             authorized_at = CASE WHEN ? IS NULL THEN authorized_at ELSE ? END WHERE application_id = ?",
        )
        .bind(access)
        .bind(refresh)
        .bind(expires)
        .bind(authorized_by)
        .bind(authorized_by)
        .bind(now)
        .bind(application)
        .execute(db)
        .await?;
        Ok(())
    }

    /// An access token for the application's target that is good until at least `now` plus
    /// five minutes: the stored one, or a refreshed (authorization code) or newly fetched
    /// (client credentials) one, which is stored in its place.
    pub async fn access_token(
        &self,
        application: Uuid,
        now: OffsetDateTime,
    ) -> Result<SecretString> {
        // One refresh at a time per application: a provider that rotates refresh tokens
        // revokes the grant when the same one is used twice.
        let lock = self.refresh_lock(application);
        let _held = lock.lock().await;
        let configuration = provisioning::load(&self.db, application).await?;
        let settings = &configuration.settings;
        if settings.authentication == AuthenticationMethod::Oauth2AuthorizationCode
            && !configuration.has_access_token
            && !configuration.has_refresh_token
        {
            return Err(oauth_error(
                "not authorized yet: select Authorize and sign in at the application",
            ));
        }
        let fresh = configuration
            .token_expires_at
            .is_none_or(|expires| expires > now + REFRESH_MARGIN);
        if fresh
            && let Some(token) = self
                .provisioning_secret(application, "access_token")
                .await?
        {
            return Ok(token);
        }
        let client_secret = self
            .provisioning_secret(application, "client_secret")
            .await?;
        let mut client =
            OAuthClient::new(ClientId::new(settings.oauth.client_id.trim().to_owned()))
                .set_token_uri(token_url(settings, &self.outbound)?);
        if let Some(secret) = &client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        let response = match settings.authentication {
            AuthenticationMethod::Oauth2AuthorizationCode => {
                let refresh = self
                    .provisioning_secret(application, "refresh_token")
                    .await?
                    .ok_or_else(|| oauth_error("the access token expired and there is no refresh token: select Authorize again"))?;
                client
                    .exchange_refresh_token(&RefreshToken::new(refresh.expose_secret().to_owned()))
                    .request_async(&self.http)
                    .await
                    .map_err(|e| {
                        oauth_error(format!(
                            "refreshing the access token failed: {}; select Authorize again",
                            describe(e)
                        ))
                    })?
            }
            AuthenticationMethod::Oauth2ClientCredentials => client
                .exchange_client_credentials()
                .add_scopes(scopes(settings))
                .request_async(&self.http)
                .await
                .map_err(|e| {
                    oauth_error(format!("getting an access token failed: {}", describe(e)))
                })?,
            AuthenticationMethod::BearerToken => {
                return Err(oauth_error(
                    "this application uses a Secret Token, not OAuth",
                ));
            }
        };
        self.store_tokens(&self.db, application, &response, now, None)
            .await?;
        Ok(SecretString::from(response.access_token().secret().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(id_token: Option<String>) -> Tokens {
        serde_json::from_value(serde_json::json!({
            "access_token": "a", "token_type": "Bearer", "id_token": id_token,
        }))
        .unwrap()
    }

    fn jwt(claims: serde_json::Value) -> String {
        let encode = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.signature",
            encode(&serde_json::json!({ "alg": "RS256" })),
            encode(&claims)
        )
    }

    #[test]
    fn the_id_token_must_bring_back_the_nonce() {
        let good = tokens(Some(jwt(serde_json::json!({ "nonce": "n-1", "sub": "x" }))));
        assert!(check_nonce(&good, "n-1").is_ok());
        for (tokens, why) in [
            (good.clone(), "does not carry the nonce"),
            (tokens(None), "is missing"),
            (
                tokens(Some("not a token".into())),
                "is not a JSON Web Token",
            ),
            (
                tokens(Some(jwt(serde_json::json!({ "sub": "x" })))),
                "does not carry the nonce",
            ),
        ] {
            let error = check_nonce(&tokens, "n-2").unwrap_err().to_string();
            assert!(error.contains(why), "{error}");
        }
    }
}
