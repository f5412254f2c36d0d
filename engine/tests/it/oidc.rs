//! Single sign-on with OpenID Connect on a real SQLite file (or PostgreSQL), through the engine's
//! doors as the server calls them: a code for an assigned user only, exchanged once, with the
//! client's secret and the PKCE verifier; ID tokens that verify against the issuer's JWKS; refresh
//! tokens that rotate and revoke their grant when replayed or when the user is unassigned;
//! requests that do not fit the registration; RP-initiated logout.

use base64::Engine as _;
use engine::{
    Engine, Error,
    accounts::{Account, Role},
    applications::roles::PrincipalType,
    audit::Caller,
    directory::UserProfile,
    sso::{
        ClientType, Method, Settings,
        access::Refusal,
        oidc::{Authorization, AuthorizationRequest, Issuer, TokenRequest},
        sign_in_log::Query,
    },
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const BASE: &str = "https://scimitar.contoso.com";
const REDIRECT: &str = "https://travel.contoso.com/signin-oidc";
const SIGNED_OUT: &str = "https://travel.contoso.com/signed-out";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Setup {
    engine: Engine,
    admin: Account,
    issuer: Issuer,
    assigned: Uuid,
    secret: String,
    _data: tempfile::TempDir,
}

async fn user(engine: &Engine, upn: &str, given: &str) -> Uuid {
    engine
        .create_user(
            &Caller::system(),
            UserProfile {
                user_principal_name: upn.into(),
                display_name: format!("{given} Vance"),
                given_name: Some(given.into()),
                surname: Some("Vance".into()),
                mail: Some(upn.into()),
                ..UserProfile::default()
            },
        )
        .await
        .unwrap()
        .id
}

fn oidc_settings(client: ClientType) -> Settings {
    let mut settings = Settings {
        method: Method::OpenIdConnect,
        ..Settings::default()
    };
    settings.oidc.client = client;
    settings.oidc.redirect_uris = vec![REDIRECT.into()];
    settings.oidc.post_logout_redirect_uris = vec![SIGNED_OUT.into()];
    settings
}

/// An application signing in with OpenID Connect as a confidential client with one secret, one
/// user assigned to it.
async fn setup() -> Setup {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), engine::Options::default()).await;
    let caller = Caller::system();
    let admin_id = user(&engine, "admin@contoso.com", "Admin").await;
    let admin = Account {
        id: admin_id,
        user_principal_name: "admin@contoso.com".into(),
        display_name: "Admin".into(),
        role: Role::ApplicationAdministrator,
        session_stamp: String::new(),
    };
    let app = engine
        .create_application(&caller, &admin, "custom-scim", "Contoso Travel")
        .await
        .unwrap();
    engine
        .save_single_sign_on(
            &caller,
            &admin,
            app.id,
            0,
            oidc_settings(ClientType::Confidential),
        )
        .await
        .unwrap();
    let (secret, _) = engine
        .new_oidc_client_secret(&caller, &admin, app.id, "tests", 180)
        .await
        .unwrap();
    let assigned = user(&engine, "adele@contoso.com", "Adele").await;
    let role = engine.app_roles(&admin, app.id).await.unwrap()[0].id;
    engine
        .assign(&caller, &admin, app.id, PrincipalType::User, assigned, role)
        .await
        .unwrap();
    use secrecy::ExposeSecret;
    Setup {
        engine,
        admin,
        issuer: Issuer::new(BASE, app.id),
        assigned,
        secret: secret.expose_secret().to_owned(),
        _data: data,
    }
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn request(issuer: &Issuer) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: Some(issuer.application.to_string()),
        redirect_uri: Some(REDIRECT.into()),
        response_type: Some("code".into()),
        scope: Some("openid profile offline_access".into()),
        state: Some("state-1".into()),
        nonce: Some("nonce-1".into()),
        code_challenge: Some(challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        ..AuthorizationRequest::default()
    }
}

/// The parameters of a redirect back to the client.
fn parameters(authorization: &Authorization) -> Vec<(String, String)> {
    let Authorization::Redirect(url) = authorization else {
        panic!("not sent back: {authorization:?}");
    };
    assert!(url.starts_with(REDIRECT), "{url}");
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn parameter(authorization: &Authorization, name: &str) -> Option<String> {
    parameters(authorization)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn refusal(authorization: Authorization) -> Refusal {
    match authorization {
        Authorization::Refused { refusal, .. } => refusal,
        Authorization::Redirect(url) => panic!("sent back: {url}"),
    }
}

impl Setup {
    async fn code(&self, user: Uuid) -> String {
        let sent = self
            .engine
            .oidc_authorize(&self.issuer, user, None, &request(&self.issuer), None)
            .await
            .unwrap();
        assert_eq!(parameter(&sent, "state").as_deref(), Some("state-1"));
        assert_eq!(
            parameter(&sent, "iss").as_deref(),
            Some(self.issuer.url().as_str())
        );
        parameter(&sent, "code").expect("a code")
    }

    fn exchange(&self, code: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.into()),
            redirect_uri: Some(REDIRECT.into()),
            code_verifier: Some(VERIFIER.into()),
            client_id: Some(self.issuer.application.to_string()),
            client_secret: Some(self.secret.clone()),
            ..TokenRequest::default()
        }
    }

    fn refresh(&self, token: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: Some(token.into()),
            client_id: Some(self.issuer.application.to_string()),
            client_secret: Some(self.secret.clone()),
            ..TokenRequest::default()
        }
    }

    async fn token(&self, request: &TokenRequest) -> Result<Value, String> {
        self.engine
            .oidc_token(&self.issuer, request)
            .await
            .unwrap()
            .map_err(|e| format!("{}: {}", e.error, e.description))
    }

    /// The ID token's claims, if its signature verifies against the published JWKS (the key its
    /// `kid` names) and its issuer and audience are this application's.
    async fn checked(&self, id_token: &str) -> jsonwebtoken::errors::Result<Value> {
        let jwks = self.engine.oidc_jwks(&self.issuer).await.unwrap().unwrap();
        let kid = jsonwebtoken::decode_header(id_token)?.kid.unwrap();
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap_or_else(|| panic!("{kid} is not in {jwks}"));
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
            key["n"].as_str().unwrap(),
            key["e"].as_str().unwrap(),
        )?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[self.issuer.application.to_string()]);
        validation.set_issuer(&[self.issuer.url()]);
        Ok(jsonwebtoken::decode::<Value>(id_token, &decoding, &validation)?.claims)
    }

    async fn verified(&self, id_token: &str) -> Value {
        self.checked(id_token).await.unwrap()
    }

    async fn sign_ins(&self) -> Vec<engine::sso::sign_in_log::Entry> {
        self.engine
            .sign_in_logs(
                &self.admin,
                &Query {
                    limit: 10,
                    ..Query::default()
                },
            )
            .await
            .unwrap()
            .entries
    }
}

#[tokio::test]
async fn a_code_becomes_signed_tokens_once_for_the_client_that_proves_itself() {
    let s = setup().await;
    let discovery = s.engine.oidc_discovery(&s.issuer).await.unwrap().unwrap();
    assert_eq!(discovery["issuer"], s.issuer.url());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/token", s.issuer.url())
    );

    let code = s.code(s.assigned).await;
    // A wrong secret is refused before the code is looked at; a wrong verifier or redirect URI
    // spends the code (it is taken once).
    let mut wrong = s.exchange(&code);
    wrong.client_secret = Some("not-the-secret".into());
    assert!(
        s.token(&wrong)
            .await
            .unwrap_err()
            .starts_with("invalid_client")
    );
    let mut wrong = s.exchange(&code);
    wrong.code_verifier = Some(format!("{VERIFIER}x"));
    assert_eq!(
        s.token(&wrong).await.unwrap_err(),
        "invalid_grant: the code_verifier does not match"
    );
    // Spent by the try above: now a replay, which revokes the grant.
    assert!(
        s.token(&s.exchange(&code))
            .await
            .unwrap_err()
            .contains("already used")
    );

    let code = s.code(s.assigned).await;
    let mut wrong = s.exchange(&code);
    wrong.redirect_uri = Some("https://travel.contoso.com/other".into());
    assert!(s.token(&wrong).await.unwrap_err().contains("redirect_uri"));

    let code = s.code(s.assigned).await;
    let tokens = s.token(&s.exchange(&code)).await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let claims = s.verified(tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], s.assigned.to_string());
    assert_eq!(claims["nonce"], "nonce-1");
    assert_eq!(claims["preferred_username"], "adele@contoso.com");
    assert_eq!(claims["name"], "Adele Vance");
    assert_eq!(claims["given_name"], "Adele");
    // A tampered token does not verify.
    let id_token = tokens["id_token"].as_str().unwrap();
    let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
    let mut body: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&parts[1])
            .unwrap(),
    )
    .unwrap();
    body["preferred_username"] = "admin@contoso.com".into();
    parts[1] =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap());
    assert!(s.checked(&parts.join(".")).await.is_err());

    // UserInfo with the access token.
    let userinfo = s
        .engine
        .oidc_userinfo(&s.issuer, tokens["access_token"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(userinfo["sub"], s.assigned.to_string());
    assert_eq!(userinfo["email"], "adele@contoso.com");
    // A replayed code revokes what it gave.
    assert!(
        s.token(&s.exchange(&code))
            .await
            .unwrap_err()
            .contains("already used")
    );
    assert!(
        s.engine
            .oidc_userinfo(&s.issuer, tokens["access_token"].as_str().unwrap())
            .await
            .unwrap()
            .is_err(),
        "the access token of a replayed code is revoked"
    );

    // The sign-ins are in the log, protocol OpenID Connect.
    let entry = s
        .sign_ins()
        .await
        .into_iter()
        .find(|e| e.user_principal_name == "adele@contoso.com")
        .unwrap();
    assert_eq!(entry.protocol, "OpenID Connect");
    assert!(entry.reason.contains(REDIRECT), "{}", entry.reason);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_stop_when_the_user_may_no_longer_sign_in() {
    let s = setup().await;
    let code = s.code(s.assigned).await;
    let first = s.token(&s.exchange(&code)).await.unwrap();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let second = s.token(&s.refresh(&refresh)).await.unwrap();
    let claims = s.verified(second["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], s.assigned.to_string());
    assert!(
        claims.get("nonce").is_none(),
        "a refreshed ID token has no nonce"
    );
    let rotated = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    // The old one again: a copy is about; the whole grant is revoked, the new one with it.
    assert!(
        s.token(&s.refresh(&refresh))
            .await
            .unwrap_err()
            .contains("already used")
    );
    assert!(s.token(&s.refresh(&rotated)).await.is_err());

    // A new sign-in; then the user is unassigned: the refresh is refused, with the reason.
    let code = s.code(s.assigned).await;
    let tokens = s.token(&s.exchange(&code)).await.unwrap();
    let assignments = s
        .engine
        .app_assignments(&s.admin, s.issuer.application)
        .await
        .unwrap();
    for assignment in assignments {
        s.engine
            .remove_assignment(
                &Caller::system(),
                &s.admin,
                s.issuer.application,
                assignment.id,
            )
            .await
            .unwrap();
    }
    let refused = s
        .token(&s.refresh(tokens["refresh_token"].as_str().unwrap()))
        .await
        .unwrap_err();
    assert!(refused.contains("You are not assigned"), "{refused}");
    // And no code for them any more.
    let refused = refusal(
        s.engine
            .oidc_authorize(&s.issuer, s.assigned, None, &request(&s.issuer), None)
            .await
            .unwrap(),
    );
    assert!(
        matches!(refused, Refusal::NotAssigned { .. }),
        "{refused:?}"
    );
}

#[tokio::test]
async fn requests_that_do_not_fit_the_registration_are_refused_where_it_is_safe() {
    let s = setup().await;
    let check = |request: AuthorizationRequest, signed_in: bool| {
        let (engine, issuer) = (&s.engine, &s.issuer);
        async move {
            engine
                .oidc_check(issuer, &request, signed_in)
                .await
                .unwrap()
        }
    };
    // Never sent to a URI that is not registered, nor for another client.
    let mut other = request(&s.issuer);
    other.redirect_uri = Some(format!("{REDIRECT}/../evil"));
    let refused = refusal(check(other, true).await.unwrap_err());
    assert!(refused.to_string().contains("redirect_uri"), "{refused}");
    let mut other = request(&s.issuer);
    other.client_id = Some(Uuid::new_v4().to_string());
    assert!(matches!(
        refusal(check(other, true).await.unwrap_err()),
        Refusal::BadRequest(_)
    ));
    // Everything else goes back with the error, the state and the issuer.
    let mut other = request(&s.issuer);
    other.scope = Some("profile".into());
    let back = check(other, true).await.unwrap_err();
    assert_eq!(parameter(&back, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(parameter(&back, "state").as_deref(), Some("state-1"));
    let mut other = request(&s.issuer);
    other.code_challenge_method = Some("plain".into());
    let back = check(other, true).await.unwrap_err();
    assert_eq!(
        parameter(&back, "error").as_deref(),
        Some("invalid_request")
    );
    let mut other = request(&s.issuer);
    other.response_type = Some("token".into());
    let back = check(other, true).await.unwrap_err();
    assert_eq!(
        parameter(&back, "error").as_deref(),
        Some("unsupported_response_type")
    );
    let mut other = request(&s.issuer);
    other.prompt = Some("none".into());
    let back = check(other.clone(), false).await.unwrap_err();
    assert_eq!(parameter(&back, "error").as_deref(), Some("login_required"));
    assert!(check(other, true).await.is_ok());

    // A public client must use PKCE, and has no secret to send.
    s.engine
        .save_single_sign_on(
            &Caller::system(),
            &s.admin,
            s.issuer.application,
            1,
            oidc_settings(ClientType::Public),
        )
        .await
        .unwrap();
    let mut other = request(&s.issuer);
    other.code_challenge = None;
    other.code_challenge_method = None;
    let back = check(other, true).await.unwrap_err();
    assert_eq!(
        parameter(&back, "error").as_deref(),
        Some("invalid_request")
    );
    let code = s.code(s.assigned).await;
    let mut exchange = s.exchange(&code);
    assert!(
        s.token(&exchange)
            .await
            .unwrap_err()
            .starts_with("invalid_client")
    );
    let code = s.code(s.assigned).await;
    exchange = s.exchange(&code);
    exchange.client_secret = None;
    assert!(s.token(&exchange).await.is_ok());

    // An unassigned user gets our page, and the log says why.
    let alex = user(&s.engine, "alex@contoso.com", "Alex").await;
    let refused = s
        .engine
        .oidc_authorize(&s.issuer, alex, None, &request(&s.issuer), None)
        .await
        .unwrap();
    let Authorization::Refused {
        refusal,
        correlation,
    } = refused
    else {
        panic!("sent back: {refused:?}");
    };
    assert!(matches!(refusal, Refusal::NotAssigned { .. }));
    assert!(
        s.sign_ins()
            .await
            .iter()
            .any(|e| Some(e.correlation_id) == correlation
                && e.result == "Failure"
                && e.reason.starts_with("You are not assigned"))
    );
}

#[tokio::test]
async fn settings_name_each_wrong_field_and_logout_returns_only_where_registered() {
    let s = setup().await;
    let mut settings = oidc_settings(ClientType::Confidential);
    settings.oidc.redirect_uris = vec![
        REDIRECT.into(),
        "http://travel.contoso.com/callback".into(),
        "https://travel.contoso.com/callback#fragment".into(),
    ];
    settings.oidc.claims[0].name = "sub".into();
    settings.oidc.claims[1].namespace = "http://schemas.contoso.com".into();
    let Err(Error::InvalidFields(errors)) = s
        .engine
        .save_single_sign_on(
            &Caller::system(),
            &s.admin,
            s.issuer.application,
            1,
            settings,
        )
        .await
    else {
        panic!("saved");
    };
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "oidc.claims[0].name",
            "oidc.claims[1].namespace",
            "oidc.redirectUris[1]",
            "oidc.redirectUris[2]",
        ],
        "{errors:?}"
    );

    // Logout: back to a registered URI with the state, if the hint is ours.
    let code = s.code(s.assigned).await;
    let tokens = s.token(&s.exchange(&code)).await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap();
    let logout = |hint: Option<String>, uri: &'static str| {
        let (engine, issuer) = (&s.engine, &s.issuer);
        async move {
            engine
                .oidc_logout(issuer, hint.as_deref(), Some(uri), Some("bye"))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        logout(Some(hint.to_owned()), SIGNED_OUT).await.as_deref(),
        Some(format!("{SIGNED_OUT}?state=bye").as_str())
    );
    assert_eq!(logout(None, "https://evil.example/").await, None);
    let forged = format!("{}x", hint);
    assert_eq!(logout(Some(forged), SIGNED_OUT).await, None);
}
