//! OpenID Connect (docs/sso.md, OpenID Connect): each application is its own issuer,
//! `<public URL>/oidc/<application>`, whose one client is the application (client id: the
//! application's id). Authorization code flow only, with PKCE (S256; required of public clients),
//! ID tokens signed RS256 with the application's signing keys ([`super::keys`], the same ones SAML
//! uses, so one rotation serves both), refresh tokens that rotate, UserInfo and RP-initiated
//! logout.
//!
//! Codes, access tokens and refresh tokens are long random strings stored as their SHA-256 only
//! (`oidc_tokens`), each belonging to a grant (`oidc_grants`: one user's consent to one
//! application through one authorization). A code is taken once; a code or refresh token shown a
//! second time revokes its whole grant (RFC 6749, 4.1.2; OAuth 2.0 Security BCP, refresh token
//! rotation). Every exchange and refresh asks [`super::access`] again, so a user who is
//! unassigned or disabled gets no new tokens.

use std::net::IpAddr;

use base64::Engine as _;
use rand::{Rng, distributions::Alphanumeric};
use rsa::{pkcs8::DecodePublicKey, traits::PublicKeyParts};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    ClientType, Method, OidcSettings,
    access::{self, Refusal},
    claims,
    keys::{self, SigningCertificate},
    sign_in_log::{self, NewEntry, Outcome, Protocol},
};
use crate::{
    Engine, Error, Result,
    accounts::{Account, secret_digest as digest},
    applications::{Access, Application, target},
    audit::{self, Caller},
    directory::users::{self, User},
    mapping::UserSource,
};

/// How long a code may wait for its exchange.
const CODE_LIFETIME: Duration = Duration::minutes(5);
/// How long an access token (and the ID token issued with it) is good for.
const ACCESS_LIFETIME: Duration = Duration::hours(1);
/// How long a refresh token may go unused before it expires; each use gives a new one.
const REFRESH_LIFETIME: Duration = Duration::days(30);
/// How many client secrets an application may have at once (two let a secret be rotated).
const MAX_SECRETS: i64 = 5;
/// The longest parameter an authorization request may carry.
const MAX_PARAMETER: usize = 2048;

/// Claim names the provider sets itself; the blade refuses them as additional claims.
pub const RESERVED_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "sid",
    "jti",
];

/// Entra's defaults for an OpenID Connect application: the `profile` and `email` claims.
pub fn default_claims() -> Vec<claims::Claim> {
    [
        ("name", "[displayName]"),
        ("preferred_username", "[userPrincipalName]"),
        ("email", "[mail]"),
        ("given_name", "[givenName]"),
        ("family_name", "[surname]"),
    ]
    .into_iter()
    .map(|(name, source)| claims::Claim {
        name: name.into(),
        namespace: String::new(),
        source: source.into(),
    })
    .collect()
}

/// One application's issuer, as the console's address names it.
#[derive(Clone, Debug)]
pub struct Issuer {
    base: String,
    pub application: Uuid,
}

impl Issuer {
    pub fn new(base: &str, application: Uuid) -> Issuer {
        Issuer {
            base: base.trim_end_matches('/').to_owned(),
            application,
        }
    }

    /// The issuer identifier (`iss`), also the base of its endpoints.
    pub fn url(&self) -> String {
        format!("{}/oidc/{}", self.base, self.application)
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/{name}", self.url())
    }

    pub fn discovery_url(&self) -> String {
        self.endpoint(".well-known/openid-configuration")
    }

    /// The discovery document (OpenID Connect Discovery 1.0, section 3).
    pub fn discovery(&self, settings: &OidcSettings) -> Value {
        let mut claims_supported: Vec<String> = ["sub", "iss", "aud", "exp", "iat", "auth_time"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        claims_supported.extend(settings.claims.iter().map(|c| c.name.clone()));
        json!({
            "issuer": self.url(),
            "authorization_endpoint": self.endpoint("authorize"),
            "token_endpoint": self.endpoint("token"),
            "userinfo_endpoint": self.endpoint("userinfo"),
            "jwks_uri": self.endpoint("jwks"),
            "end_session_endpoint": self.endpoint("logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": claims_supported,
            "authorization_response_iss_parameter_supported": true,
        })
    }
}

/// An authorization request's parameters (OpenID Connect Core 1.0, 3.1.2.1), as sent.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub response_mode: Option<String>,
}

/// How an authorization request ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// Back to the client's redirect URI, with a code or an error (and the state and issuer).
    Redirect(String),
    /// A page of ours: the request cannot go back to the client (an unknown client or
    /// redirect URI), or the person may not sign in (not assigned, disabled).
    Refused {
        refusal: Refusal,
        correlation: Option<Uuid>,
    },
}

/// Whether the request asks that nobody be asked anything (`prompt=none`).
fn prompts_none(request: &AuthorizationRequest) -> bool {
    request
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .any(|p| p == "none")
}

/// A checked request, ready for a signed-in user.
struct Checked<'r> {
    app: Application,
    settings: OidcSettings,
    redirect_uri: &'r str,
    request: &'r AuthorizationRequest,
}

impl Checked<'_> {
    /// The redirect URI with `parameters`, the state and the issuer (RFC 9207) added.
    fn back(&self, issuer: &Issuer, parameters: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(self.redirect_uri).expect("a registered redirect URI parses");
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in parameters {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.request.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &issuer.url());
        }
        url.to_string()
    }

    fn error(&self, issuer: &Issuer, error: &str, description: &str) -> Authorization {
        Authorization::Redirect(self.back(
            issuer,
            &[("error", error), ("error_description", description)],
        ))
    }
}

/// A token endpoint request (RFC 6749, 4.1.3 and 6), with the client's credentials from the
/// form or the Authorization header (the server merges them).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// An error of the token or UserInfo endpoint (RFC 6749, 5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    pub error: &'static str,
    pub description: String,
}

impl TokenError {
    fn new(error: &'static str, description: impl Into<String>) -> TokenError {
        TokenError {
            error,
            description: description.into(),
        }
    }

    /// `invalid_client` answers 401, the others 400.
    pub fn status(&self) -> u16 {
        if self.error == "invalid_client" {
            401
        } else {
            400
        }
    }

    pub fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

/// A client secret as the blade lists it (the secret itself is shown once, at creation).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientSecret {
    pub id: Uuid,
    pub description: String,
    /// The secret's first three characters, so an administrator can tell secrets apart.
    pub hint: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A long random string: codes, tokens and client secrets.
fn random_secret() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(43)
        .map(char::from)
        .collect()
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The JSON Web Key of a signing certificate's public key (RFC 7517), with its certificate.
fn jwk(certificate: &SigningCertificate) -> Option<Value> {
    use x509_cert::der::{Decode, Encode};
    let parsed = x509_cert::Certificate::from_der(&certificate.certificate).ok()?;
    let spki = parsed
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()?;
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).ok()?;
    Some(json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": certificate.id.to_string(),
        "n": base64url(&public.n().to_bytes_be()),
        "e": base64url(&public.e().to_bytes_be()),
        "x5c": [certificate.base64()],
        "x5t#S256": base64url(&Sha256::digest(&certificate.certificate)),
    }))
}

/// `S256` (RFC 7636, 4.6): whether `verifier` is the one `challenge` was made from.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    base64url(&Sha256::digest(verifier.as_bytes())) == challenge
}

/// A PKCE code challenge or verifier: 43 to 128 unreserved characters (RFC 7636, 4.1).
fn pkce_shaped(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A grant as the token and UserInfo endpoints read it, through one of its tokens.
#[derive(sqlx::FromRow)]
struct Grant {
    id: Uuid,
    application_id: Uuid,
    user_id: Uuid,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
    /// When the token the grant was read through expires.
    expires_at: OffsetDateTime,
}

const GRANT_COLUMNS: &str = "g.id, g.application_id, g.user_id, g.redirect_uri, g.scope, g.nonce, \
                             g.code_challenge, g.auth_time, g.revoked_at, t.expires_at";

/// What a token lookup found: the token's grant, and whether it was already used.
struct Found {
    grant: Grant,
    used: bool,
    expired: bool,
}

impl Engine {
    /// The issuer's discovery document, if the application signs in with OpenID Connect.
    pub async fn oidc_discovery(&self, issuer: &Issuer) -> Result<Option<Value>> {
        Ok(
            match access::set_up(self, issuer.application, Method::OpenIdConnect).await? {
                Ok((_, settings)) => Some(issuer.discovery(&settings.oidc)),
                Err(_) => None,
            },
        )
    }

    /// The issuer's keys: every signing key not expired, the active one first (a relying party
    /// that fetched them knows the next key before it signs).
    pub async fn oidc_jwks(&self, issuer: &Issuer) -> Result<Option<Value>> {
        if access::set_up(self, issuer.application, Method::OpenIdConnect)
            .await?
            .is_err()
        {
            return Ok(None);
        }
        let keys: Vec<Value> = keys::published(&self.db, issuer.application)
            .await?
            .iter()
            .filter_map(jwk)
            .collect();
        Ok(Some(json!({ "keys": keys })))
    }

    /// Checks an authorization request before anyone signs in: a request that cannot succeed
    /// ends at once, on our page when its client or redirect URI is not the application's, else
    /// back at the client with the error. `signed_in`: a request with `prompt=none` from someone
    /// not signed in ends with `login_required`.
    pub async fn oidc_check(
        &self,
        issuer: &Issuer,
        request: &AuthorizationRequest,
        signed_in: bool,
    ) -> Result<std::result::Result<(), Authorization>> {
        Ok(match self.oidc_checked(issuer, request).await? {
            Err(refused) => Err(refused),
            Ok(checked) => {
                if !signed_in && prompts_none(request) {
                    Err(checked.error(
                        issuer,
                        "login_required",
                        "the user is not signed in to Scimitar",
                    ))
                } else {
                    Ok(())
                }
            }
        })
    }

    async fn oidc_checked<'r>(
        &self,
        issuer: &Issuer,
        request: &'r AuthorizationRequest,
    ) -> Result<std::result::Result<Checked<'r>, Authorization>> {
        let page = |refusal: Refusal| {
            Err(Authorization::Refused {
                refusal,
                correlation: None,
            })
        };
        let (app, settings) =
            match access::set_up(self, issuer.application, Method::OpenIdConnect).await? {
                Ok(found) => found,
                Err(refusal) => return Ok(page(refusal)),
            };
        let bad = |why: &str| page(Refusal::BadRequest(why.to_owned()));
        if request.client_id.as_deref() != Some(issuer.application.to_string().as_str()) {
            return Ok(bad(
                "the request's client_id is not this application's (its Application (client) ID)",
            ));
        }
        // Exactly a registered URI, character for character (OAuth 2.0 Security BCP, 4.1.3).
        let Some(redirect_uri) = request
            .redirect_uri
            .as_deref()
            .filter(|uri| settings.oidc.redirect_uris.iter().any(|r| r == uri))
        else {
            return Ok(bad(
                "the request's redirect_uri is not one of the application's Redirect URIs",
            ));
        };
        let checked = Checked {
            app,
            settings: settings.oidc,
            redirect_uri,
            request,
        };
        let too_long = [
            &request.scope,
            &request.state,
            &request.nonce,
            &request.code_challenge,
        ]
        .into_iter()
        .flatten()
        .any(|v| v.len() > MAX_PARAMETER);
        let invalid =
            |description: &str| Err(checked.error(issuer, "invalid_request", description));
        if too_long {
            return Ok(invalid("a parameter is longer than 2048 characters"));
        }
        if request.response_type.as_deref() != Some("code") {
            return Ok(Err(checked.error(
                issuer,
                "unsupported_response_type",
                "only the authorization code flow (response_type=code) is supported",
            )));
        }
        if request
            .response_mode
            .as_deref()
            .is_some_and(|m| m != "query")
        {
            return Ok(invalid("only response_mode=query is supported"));
        }
        let scope = request.scope.as_deref().unwrap_or_default();
        if !scope.split_whitespace().any(|s| s == "openid") {
            return Ok(Err(checked.error(
                issuer,
                "invalid_scope",
                "the scope must include openid",
            )));
        }
        match (
            request.code_challenge.as_deref(),
            request.code_challenge_method.as_deref(),
        ) {
            (None, _) if checked.settings.client == ClientType::Public => {
                return Ok(invalid(
                    "a public client must use PKCE (code_challenge with code_challenge_method=S256)",
                ));
            }
            (None, _) => {}
            (Some(challenge), Some("S256")) if pkce_shaped(challenge) => {}
            (Some(_), Some("S256")) => return Ok(invalid("the code_challenge is not S256-shaped")),
            (Some(_), _) => return Ok(invalid("code_challenge_method must be S256")),
        }
        Ok(Ok(checked))
    }

    /// Signs `user` in to the application of `issuer`: a code back to the client, or the reason
    /// why not. Either way the sign-in log has an entry. `auth_time`: when the user signed in to
    /// Scimitar.
    pub async fn oidc_authorize(
        &self,
        issuer: &Issuer,
        user: Uuid,
        auth_time: Option<OffsetDateTime>,
        request: &AuthorizationRequest,
        client: Option<IpAddr>,
    ) -> Result<Authorization> {
        let checked = match self.oidc_checked(issuer, request).await? {
            Ok(checked) => checked,
            Err(refused) => return Ok(refused),
        };
        let user = users::get(&self.db, user).await?;
        let admitted = match &user {
            None => Err(Refusal::Deleted),
            Some(user) => access::admit(self, user, &checked.app).await?,
        };
        let log = |outcome: Outcome, reason: String| {
            let user = user.as_ref();
            let application_name = checked.app.display_name.clone();
            async move {
                sign_in_log::record(
                    &self.db,
                    &NewEntry {
                        user_id: user.map(|u| u.id),
                        user_principal_name: user
                            .map_or("", |u| u.profile.user_principal_name.as_str()),
                        application_id: Some(issuer.application),
                        application_name: &application_name,
                        protocol: Protocol::OpenIdConnect,
                        outcome,
                        reason: &reason,
                        client,
                    },
                )
                .await
            }
        };
        let user = match (&user, admitted) {
            (Some(user), Ok(_)) => user,
            (_, admitted) => {
                let refusal = admitted.err().unwrap_or(Refusal::Deleted);
                let correlation = log(Outcome::Failure, refusal.to_string()).await?;
                // Without a page to show (prompt=none), the refusal goes back to the client.
                if prompts_none(request) {
                    return Ok(checked.error(issuer, "access_denied", &refusal.to_string()));
                }
                return Ok(Authorization::Refused {
                    refusal,
                    correlation: Some(correlation),
                });
            }
        };
        let code = random_secret();
        let now = OffsetDateTime::now_utc();
        let grant = Uuid::new_v4();
        let mut tx = crate::db::begin_write(&self.db).await?;
        crate::db::query(
            "INSERT INTO oidc_grants (id, application_id, user_id, redirect_uri, scope, nonce, \
             code_challenge, auth_time, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(grant)
        .bind(issuer.application)
        .bind(user.id)
        .bind(checked.redirect_uri)
        .bind(request.scope.as_deref().unwrap_or_default())
        .bind(request.nonce.as_deref())
        .bind(request.code_challenge.as_deref())
        .bind(auth_time)
        .bind(now)
        .execute(&mut tx)
        .await?;
        insert_token(&mut tx, &code, grant, "code", now + CODE_LIFETIME).await?;
        tx.commit().await?;
        log(
            Outcome::Success,
            format!("authorization code sent to {}", checked.redirect_uri),
        )
        .await?;
        Ok(Authorization::Redirect(
            checked.back(issuer, &[("code", &code)]),
        ))
    }

    /// The token endpoint: a code or a refresh token for tokens.
    pub async fn oidc_token(
        &self,
        issuer: &Issuer,
        request: &TokenRequest,
    ) -> Result<std::result::Result<Value, TokenError>> {
        let Ok((app, settings)) =
            access::set_up(self, issuer.application, Method::OpenIdConnect).await?
        else {
            return Ok(Err(TokenError::new(
                "invalid_client",
                "OpenID Connect is not set up for this application",
            )));
        };
        if let Err(refused) = self
            .authenticate_client(issuer, &settings.oidc, request)
            .await?
        {
            return Ok(Err(refused));
        }
        let grant_type = request.grant_type.as_deref().unwrap_or_default();
        let (secret, kind) = match grant_type {
            "authorization_code" => (request.code.as_deref(), "code"),
            "refresh_token" => (request.refresh_token.as_deref(), "refresh"),
            _ => {
                return Ok(Err(TokenError::new(
                    "unsupported_grant_type",
                    "use authorization_code or refresh_token",
                )));
            }
        };
        let invalid_grant = |why: &str| Ok(Err(TokenError::new("invalid_grant", why)));
        let Some(secret) = secret else {
            return Ok(Err(TokenError::new(
                "invalid_request",
                format!("the {kind} is missing"),
            )));
        };
        let now = OffsetDateTime::now_utc();
        let Some(found) = self.take_token(secret, kind, now).await? else {
            return invalid_grant("unknown, expired or revoked");
        };
        let grant = found.grant;
        if grant.application_id != issuer.application {
            return invalid_grant("it was not issued to this client");
        }
        if found.used {
            // Someone has a copy: nothing from this grant may be used any more.
            self.revoke_grant(grant.id, now).await?;
            tracing::warn!(grant = %grant.id, application = %app.display_name, "an OpenID Connect {kind} was used twice; its grant is revoked");
            return invalid_grant("it was already used; every token of its grant is revoked");
        }
        if found.expired || grant.revoked_at.is_some() {
            return invalid_grant("unknown, expired or revoked");
        }
        if kind == "code" {
            if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
                return invalid_grant(
                    "the redirect_uri is not the one of the authorization request",
                );
            }
            match (&grant.code_challenge, request.code_verifier.as_deref()) {
                (Some(challenge), Some(verifier))
                    if pkce_shaped(verifier) && pkce_matches(verifier, challenge) => {}
                (Some(_), _) => return invalid_grant("the code_verifier does not match"),
                (None, Some(_)) => {
                    return invalid_grant("the authorization request had no code_challenge");
                }
                (None, None) => {}
            }
        }
        // Still allowed to sign in? An unassigned or disabled user gets nothing more.
        let user = users::get(&self.db, grant.user_id).await?;
        let admitted = match &user {
            Some(user) => access::admit(self, user, &app).await?,
            None => Err(Refusal::Deleted),
        };
        let (Some(user), Ok(app_roles)) = (user, admitted.clone()) else {
            self.revoke_grant(grant.id, now).await?;
            let refusal = admitted.err().unwrap_or(Refusal::Deleted);
            return invalid_grant(&refusal.to_string());
        };
        let id_token = match self
            .id_token(
                issuer,
                &settings.oidc,
                &grant,
                &user,
                &app_roles,
                kind == "code",
                now,
            )
            .await?
        {
            Ok(token) => token,
            Err(why) => return invalid_grant(&why),
        };
        let access_token = random_secret();
        let mut tx = crate::db::begin_write(&self.db).await?;
        insert_token(
            &mut tx,
            &access_token,
            grant.id,
            "access",
            now + ACCESS_LIFETIME,
        )
        .await?;
        let refresh_token = if grant
            .scope
            .split_whitespace()
            .any(|s| s == "offline_access")
        {
            let token = random_secret();
            insert_token(&mut tx, &token, grant.id, "refresh", now + REFRESH_LIFETIME).await?;
            Some(token)
        } else {
            None
        };
        tx.commit().await?;
        let mut response = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_LIFETIME.whole_seconds(),
            "id_token": id_token,
            "scope": grant.scope,
        });
        if let Some(token) = refresh_token {
            response["refresh_token"] = Value::String(token);
        }
        Ok(Ok(response))
    }

    /// Client authentication (RFC 6749, 2.3): the client id is the application's; a
    /// confidential client proves itself with one of its secrets, a public client has none.
    async fn authenticate_client(
        &self,
        issuer: &Issuer,
        settings: &OidcSettings,
        request: &TokenRequest,
    ) -> Result<std::result::Result<(), TokenError>> {
        let refused = |why: &str| Ok(Err(TokenError::new("invalid_client", why)));
        if request.client_id.as_deref() != Some(issuer.application.to_string().as_str()) {
            return refused("the client_id is not this application's");
        }
        match (settings.client, request.client_secret.as_deref()) {
            (ClientType::Public, None) => Ok(Ok(())),
            (ClientType::Public, Some(_)) => {
                refused("this application is a public client: it has no secret to send")
            }
            (ClientType::Confidential, None) => refused("the client secret is missing"),
            (ClientType::Confidential, Some(secret)) => {
                let known: i64 = crate::db::query_scalar(
                    "SELECT COUNT(*) FROM oidc_client_secrets WHERE application_id = ? \
                     AND secret_hash = ? AND expires_at > ?",
                )
                .bind(issuer.application)
                .bind(digest(secret))
                .bind(OffsetDateTime::now_utc())
                .fetch_one(&self.db)
                .await?;
                if known > 0 {
                    Ok(Ok(()))
                } else {
                    refused("the client secret is wrong or has expired")
                }
            }
        }
    }

    /// Marks a code or refresh token used, once (atomically: of two concurrent uses, one is
    /// the replay); the grant it belongs to, and whether it had been used before or expired.
    async fn take_token(
        &self,
        secret: &str,
        kind: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Found>> {
        let hash = digest(secret);
        let mut tx = crate::db::begin_write(&self.db).await?;
        let taken = crate::db::query(
            "UPDATE oidc_tokens SET used_at = ? WHERE hash = ? AND kind = ? AND used_at IS NULL",
        )
        .bind(now)
        .bind(&hash)
        .bind(kind)
        .execute(&mut tx)
        .await?
        .rows_affected();
        let found: Option<Grant> = crate::db::query_as(format!(
            "SELECT {GRANT_COLUMNS} FROM oidc_grants g \
             JOIN oidc_tokens t ON t.grant_id = g.id WHERE t.hash = ? AND t.kind = ?"
        ))
        .bind(&hash)
        .bind(kind)
        .fetch_optional(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(found.map(|grant| Found {
            used: taken == 0,
            expired: grant.expires_at <= now,
            grant,
        }))
    }

    async fn revoke_grant(&self, grant: Uuid, now: OffsetDateTime) -> Result<()> {
        crate::db::query(
            "UPDATE oidc_grants SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
        )
        .bind(now)
        .bind(grant)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// The ID token for `user` (OpenID Connect Core 1.0, 2): the application's claims over the
    /// user as they are now, signed by the active key. `with_nonce`: the token answers a code
    /// (a refreshed one carries no nonce, 12.2).
    #[allow(clippy::too_many_arguments)]
    async fn id_token(
        &self,
        issuer: &Issuer,
        settings: &OidcSettings,
        grant: &Grant,
        user: &User,
        app_roles: &[crate::mapping::AppRoleAssignment],
        with_nonce: bool,
        now: OffsetDateTime,
    ) -> Result<std::result::Result<String, String>> {
        let Some(signer) = self.active_signer(issuer.application).await? else {
            return Ok(Err("the application has no active signing key".into()));
        };
        let mut body = match user_claims(settings, user, app_roles) {
            Ok(claims) => claims,
            Err(why) => return Ok(Err(why)),
        };
        body.insert("iss".into(), issuer.url().into());
        body.insert("aud".into(), issuer.application.to_string().into());
        body.insert("iat".into(), now.unix_timestamp().into());
        body.insert(
            "exp".into(),
            (now + ACCESS_LIFETIME).unix_timestamp().into(),
        );
        if let Some(auth_time) = grant.auth_time {
            body.insert("auth_time".into(), auth_time.unix_timestamp().into());
        }
        if with_nonce && let Some(nonce) = &grant.nonce {
            body.insert("nonce".into(), nonce.clone().into());
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(signer.certificate.id.to_string());
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(signer.private_pem.expose_secret().as_bytes())
                .map_err(|e| {
                    Error::invalid("certificate", format!("the signing key does not load: {e}"))
                })?;
        Ok(Ok(jsonwebtoken::encode(&header, &body, &key).map_err(
            |e| {
                Error::invalid(
                    "certificate",
                    format!("the ID token could not be signed: {e}"),
                )
            },
        )?))
    }

    /// The UserInfo endpoint (OpenID Connect Core 1.0, 5.3): the claims of the access token's
    /// user, if the token is good and the user may still sign in.
    pub async fn oidc_userinfo(
        &self,
        issuer: &Issuer,
        access_token: &str,
    ) -> Result<std::result::Result<Value, TokenError>> {
        let invalid = || {
            Ok(Err(TokenError::new(
                "invalid_token",
                "unknown, expired or revoked",
            )))
        };
        let Ok((app, settings)) =
            access::set_up(self, issuer.application, Method::OpenIdConnect).await?
        else {
            return invalid();
        };
        let grant: Option<Grant> = crate::db::query_as(format!(
            "SELECT {GRANT_COLUMNS} FROM oidc_grants g JOIN oidc_tokens t ON t.grant_id = g.id \
             WHERE t.hash = ? AND t.kind = 'access' AND t.expires_at > ? AND g.revoked_at IS NULL \
             AND g.application_id = ?"
        ))
        .bind(digest(access_token))
        .bind(OffsetDateTime::now_utc())
        .bind(issuer.application)
        .fetch_optional(&self.db)
        .await?;
        let Some(grant) = grant else {
            return invalid();
        };
        let Some(user) = users::get(&self.db, grant.user_id).await? else {
            return invalid();
        };
        let Ok(app_roles) = access::admit(self, &user, &app).await? else {
            return invalid();
        };
        Ok(user_claims(&settings.oidc, &user, &app_roles)
            .map(Value::Object)
            .map_err(|why| TokenError::new("invalid_token", why)))
    }

    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): where to send the browser
    /// once the Scimitar session has ended: the `post_logout_redirect_uri` (with the state) if
    /// it is exactly one the application registered and the `id_token_hint`, when sent, is an ID
    /// token this issuer signed for it. `None`: our own signed-out page.
    pub async fn oidc_logout(
        &self,
        issuer: &Issuer,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<Option<String>> {
        let Ok((_, settings)) =
            access::set_up(self, issuer.application, Method::OpenIdConnect).await?
        else {
            return Ok(None);
        };
        let Some(uri) = post_logout_redirect_uri.filter(|uri| {
            settings
                .oidc
                .post_logout_redirect_uris
                .iter()
                .any(|r| r == uri)
        }) else {
            return Ok(None);
        };
        if let Some(hint) = id_token_hint
            && !self.signed_by(issuer, hint).await?
        {
            return Ok(None);
        }
        let mut url = url::Url::parse(uri).expect("a registered URI parses");
        if let Some(state) = state.filter(|s| s.len() <= MAX_PARAMETER) {
            url.query_pairs_mut().append_pair("state", state);
        }
        Ok(Some(url.to_string()))
    }

    /// Whether `token` is an ID token this issuer signed for its application (expired or not:
    /// a logout hint may be old).
    async fn signed_by(&self, issuer: &Issuer, token: &str) -> Result<bool> {
        if token.len() > 16 * 1024 {
            return Ok(false);
        }
        let Some(kid) = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid) else {
            return Ok(false);
        };
        let keys = keys::published(&self.db, issuer.application).await?;
        let Some(key) = keys.iter().find(|k| k.id.to_string() == kid).and_then(jwk) else {
            return Ok(false);
        };
        let (Some(n), Some(e)) = (key["n"].as_str(), key["e"].as_str()) else {
            return Ok(false);
        };
        let Ok(decoding) = jsonwebtoken::DecodingKey::from_rsa_components(n, e) else {
            return Ok(false);
        };
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_audience(&[issuer.application.to_string()]);
        validation.set_issuer(&[issuer.url()]);
        Ok(jsonwebtoken::decode::<Value>(token, &decoding, &validation).is_ok())
    }

    /// The client secrets of `application` (Certificates & secrets).
    pub async fn oidc_client_secrets(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<Vec<ClientSecret>> {
        self.application_for(account, application, Access::Read)
            .await?;
        Ok(crate::db::query_as(
            "SELECT id, description, hint, created_at, expires_at FROM oidc_client_secrets \
             WHERE application_id = ? ORDER BY created_at DESC",
        )
        .bind(application)
        .fetch_all(&self.db)
        .await?)
    }

    /// "New client secret": valid `days` (at most two years); the secret is returned once and
    /// only its SHA-256 is kept.
    pub async fn new_oidc_client_secret(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        description: &str,
        days: i64,
    ) -> Result<(SecretString, ClientSecret)> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let description = description.trim();
        if description.chars().count() > 100 || description.chars().any(char::is_control) {
            return Err(Error::invalid(
                "description",
                "at most 100 characters, no control characters",
            ));
        }
        if !(1..=730).contains(&days) {
            return Err(Error::invalid(
                "expires",
                "a secret expires within 1 to 730 days",
            ));
        }
        let secret = random_secret();
        let now = OffsetDateTime::now_utc();
        let created = ClientSecret {
            id: Uuid::new_v4(),
            description: description.to_owned(),
            hint: secret.chars().take(3).collect(),
            created_at: now,
            expires_at: now + Duration::days(days),
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        let count: i64 = crate::db::query_scalar(
            "SELECT COUNT(*) FROM oidc_client_secrets WHERE application_id = ?",
        )
        .bind(application)
        .fetch_one(&mut tx)
        .await?;
        if count >= MAX_SECRETS {
            return Err(Error::invalid(
                "secret",
                format!(
                    "an application keeps at most {MAX_SECRETS} client secrets; delete one first"
                ),
            ));
        }
        crate::db::query(
            "INSERT INTO oidc_client_secrets (id, application_id, secret_hash, hint, description, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(created.id)
        .bind(application)
        .bind(digest(&secret))
        .bind(&created.hint)
        .bind(&created.description)
        .bind(created.created_at)
        .bind(created.expires_at)
        .execute(&mut tx)
        .await?;
        audit::record(
            &mut tx,
            caller,
            "Add client secret",
            target(&app),
            None,
            Some(json!({ "secret": created.id, "description": created.description, "expires": created.expires_at.to_string() })),
        )
        .await?;
        tx.commit().await?;
        Ok((SecretString::from(secret), created))
    }

    /// Deletes a client secret: a client that still sends it is refused from now on.
    pub async fn delete_oidc_client_secret(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        secret: Uuid,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let deleted =
            crate::db::query("DELETE FROM oidc_client_secrets WHERE id = ? AND application_id = ?")
                .bind(secret)
                .bind(application)
                .execute(&mut tx)
                .await?;
        if deleted.rows_affected() == 0 {
            return Err(Error::NotFound {
                kind: "client secret",
                id: secret.to_string(),
            });
        }
        audit::record(
            &mut tx,
            caller,
            "Delete client secret",
            target(&app),
            Some(json!({ "secret": secret })),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets codes and tokens that expired over a day ago, and the grants left without any.
    pub async fn purge_oidc_tokens(&self) -> Result<u64> {
        let before = OffsetDateTime::now_utc() - Duration::days(1);
        let mut tx = crate::db::begin_write(&self.db).await?;
        let tokens = crate::db::query("DELETE FROM oidc_tokens WHERE expires_at < ?")
            .bind(before)
            .execute(&mut tx)
            .await?
            .rows_affected();
        crate::db::query(
            "DELETE FROM oidc_grants WHERE created_at < ? \
             AND NOT EXISTS (SELECT 1 FROM oidc_tokens t WHERE t.grant_id = oidc_grants.id)",
        )
        .bind(before)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(tokens)
    }
}

async fn insert_token(
    tx: &mut crate::db::Tx,
    secret: &str,
    grant: Uuid,
    kind: &str,
    expires_at: OffsetDateTime,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO oidc_tokens (hash, grant_id, kind, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(digest(secret))
    .bind(grant)
    .bind(kind)
    .bind(expires_at)
    .execute(tx)
    .await?;
    Ok(())
}

/// `sub` and the application's claims over `user`: one value as a string, several as an array.
fn user_claims(
    settings: &OidcSettings,
    user: &User,
    app_roles: &[crate::mapping::AppRoleAssignment],
) -> std::result::Result<Map<String, Value>, String> {
    let source = UserSource {
        user,
        in_scope: true,
        app_roles,
    };
    let mut body = Map::new();
    body.insert("sub".into(), user.id.to_string().into());
    for (name, mut values) in claims::evaluate(&settings.claims, &source)? {
        let value = if values.len() == 1 {
            Value::String(values.remove(0))
        } else {
            Value::from(values)
        };
        body.insert(name, value);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::{pkce_matches, pkce_shaped};

    #[test]
    fn pkce_is_s256_of_a_well_shaped_verifier() {
        // RFC 7636, Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_shaped(verifier));
        assert!(pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!pkce_shaped("short"));
        assert!(!pkce_shaped(&"a".repeat(129)));
        assert!(!pkce_shaped(&format!("{}+", "a".repeat(50))));
    }
}
