//! Single sign-on through the real binary (docs/sso.md): people with a password and no console
//! role have My Apps only; the SAML doors refuse the unassigned with the reason, answer the
//! assigned with a form that posts the signed response to the Reply URL, and survive requests
//! that try to take the parser over. The journey against a real service provider is
//! end2end/tests/05-single-sign-on.spec.ts.

use base64::Engine as _;
use engine::{
    audit::Caller,
    directory::UserProfile,
    sso::{Method, Settings, sign_in_log::Query},
};
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::harness::{Console, PASSWORD};

const REPLY_URL: &str = "https://expenses.contoso.com/saml/acs";

/// A console with a signed-in Global Administrator, and "Contoso Expenses" signing in with SAML
/// (one Identifier, [`REPLY_URL`]); the engine on its database, the administrator's account.
async fn saml_application() -> (
    Console,
    engine::Engine,
    engine::accounts::Account,
    engine::applications::Application,
) {
    let console = Console::start();
    console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let engine = console.engine().await;
    let caller = Caller::system();
    let id = engine::directory::users::find_by_upn(&engine.db, "admin@contoso.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let admin = engine.account(id).await.unwrap().unwrap();
    let app = engine
        .create_application(&caller, &admin, "custom-scim", "Contoso Expenses")
        .await
        .unwrap();
    let mut settings = Settings {
        method: Method::Saml,
        ..Settings::default()
    };
    settings.saml.identifiers = vec!["https://expenses.contoso.com".into()];
    settings.saml.reply_urls = vec![REPLY_URL.into()];
    engine
        .save_single_sign_on(&caller, &admin, app.id, 0, settings)
        .await
        .unwrap();
    (console, engine, admin, app)
}

#[tokio::test]
async fn people_without_a_console_role_have_my_apps_and_single_sign_on_only() {
    let (console, engine, admin, app) = saml_application().await;
    let caller = Caller::system();
    let adele = engine
        .create_user(
            &caller,
            UserProfile {
                user_principal_name: "adele@contoso.com".into(),
                display_name: "Adele Vance".into(),
                ..UserProfile::default()
            },
        )
        .await
        .unwrap();
    engine
        .set_console_access(&caller, adele.id, None, Some(PASSWORD.into()))
        .await
        .unwrap();

    // She signs in and is sent to My Apps; the console's pages send her back there, and its
    // server functions do not know her.
    let browser = console.browser();
    let signed_in = console
        .sign_in(&browser, "adele@contoso.com", PASSWORD)
        .await;
    assert_eq!(signed_in.headers()[header::LOCATION], "/myapps");
    let users = browser.get(console.url("/users")).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::SEE_OTHER);
    assert_eq!(users.headers()[header::LOCATION], "/myapps");
    let my_apps = browser.get(console.url("/myapps")).send().await.unwrap();
    assert_eq!(my_apps.status(), StatusCode::OK);
    assert!(
        my_apps
            .text()
            .await
            .unwrap()
            .contains("No applications yet")
    );
    assert_eq!(console.me(&browser).await, Value::Null);
    let home = browser.post(console.url("/api/home")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::UNAUTHORIZED);

    // The application: refused while she is not assigned, signed in once she is.
    let start = console.url(&format!("/saml/{}/start", app.id));
    let refused = browser.get(&start).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("You are not assigned to this application. Ask your administrator to assign you to Contoso Expenses.")
    );
    let role = engine.app_roles(&admin, app.id).await.unwrap()[0].id;
    engine
        .assign(
            &caller,
            &admin,
            app.id,
            engine::applications::roles::PrincipalType::User,
            adele.id,
            role,
        )
        .await
        .unwrap();
    let posted = browser.get(&start).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    assert_eq!(posted.headers()[header::CACHE_CONTROL], "no-store");
    let page = posted.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"<form method="post" action="{REPLY_URL}">"#)),
        "{page}"
    );
    assert!(page.contains(r#"name="SAMLResponse""#));
    let my_apps = browser.get(console.url("/myapps")).send().await.unwrap();
    assert!(my_apps.text().await.unwrap().contains("Contoso Expenses"));

    // Each attempt, and her password sign-in, are in the sign-in logs.
    let entries = engine
        .sign_in_logs(
            &admin,
            &Query {
                user: Some("adele".into()),
                limit: 10,
                ..Query::default()
            },
        )
        .await
        .unwrap()
        .entries;
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.application_name.as_str(),
                e.protocol.as_str(),
                e.result.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("Contoso Expenses", "SAML", "Success"),
            ("Contoso Expenses", "SAML", "Failure"),
            ("Scimitar", "Password", "Success"),
        ]
    );
}

#[tokio::test]
async fn hostile_saml_requests_are_refused_and_the_console_stays_up() {
    let (console, _engine, _admin, app) = saml_application().await;
    let sso = console.url(&format!("/saml/{}/sso", app.id));
    // Anyone's browser, from another site: no origin check stops the POST binding.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{}]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol9;</samlp:AuthnRequest>"#,
        (1..10)
            .map(|i| format!(
                r#"<!ENTITY lol{i} "{}">"#,
                format!("&lol{};", i - 1).repeat(10)
            ))
            .collect::<String>()
            .replace("&lol0;", "&lol;")
    );
    // As deep as 64 KiB allows: the parser recurses per level, and this once took the whole
    // console down with a stack overflow.
    let deep = format!("{}{}", "<a>".repeat(8_000), "</a>".repeat(8_000));
    for (xml, expected) in [
        (laughs, "The XML does not parse"),
        (deep, "The XML nests deeper than 64 levels"),
        (
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" AssertionConsumerServiceURL="https://evil.example/acs"><saml:Issuer>https://expenses.contoso.com</saml:Issuer></samlp:AuthnRequest>"#
                .to_owned(),
            "The reply URL &quot;https://evil.example/acs&quot; is not a Reply URL of this application",
        ),
    ] {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&xml);
        let redirected = stranger
            .post(&sso)
            .form(&[
                ("SAMLRequest", encoded.as_str()),
                ("RelayState", "<script>x()</script>"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(redirected.status(), StatusCode::SEE_OTHER);
        let location = redirected.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(location.starts_with(&format!("/saml/{}/sso?SAMLRequest=", app.id)));
        let answer = stranger.get(console.url(&location)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let body = answer.text().await.unwrap();
        assert!(body.contains(expected), "{expected}: {body}");
        assert!(!body.contains("<script>x()"), "nothing is echoed unescaped");
    }
    let health = stranger.get(console.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// The OpenID Connect doors through the real binary: discovery and keys for any origin, a code
/// only for a signed-in, assigned member and only to the registered redirect URI, a token
/// endpoint that takes HTTP Basic credentials and refuses what does not fit without echoing it,
/// and a console that stays up.
#[tokio::test]
async fn openid_connect_doors_answer_the_protocol_and_refuse_hostile_requests() {
    use sha2::Digest;

    let (console, engine, admin, app) = saml_application().await;
    let caller = Caller::system();
    let redirect = "https://travel.contoso.com/signin-oidc";
    let mut settings = Settings {
        method: Method::OpenIdConnect,
        ..Settings::default()
    };
    settings.oidc.redirect_uris = vec![redirect.into()];
    engine
        .save_single_sign_on(&caller, &admin, app.id, 1, settings)
        .await
        .unwrap();
    let (secret, _) = engine
        .new_oidc_client_secret(&caller, &admin, app.id, "tests", 30)
        .await
        .unwrap();
    let role = engine.app_roles(&admin, app.id).await.unwrap()[0].id;
    let admin_id = admin.id;
    engine
        .assign(
            &caller,
            &admin,
            app.id,
            engine::applications::roles::PrincipalType::User,
            admin_id,
            role,
        )
        .await
        .unwrap();
    let issuer = console.url(&format!("/oidc/{}", app.id));

    // Discovery and the keys: public, for any origin; SAML's metadata is gone with the method.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let discovery = stranger
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.headers()["access-control-allow-origin"], "*");
    let discovery: Value = discovery.json().await.unwrap();
    assert_eq!(discovery["issuer"], issuer);
    let jwks: Value = stranger
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    let metadata = stranger
        .get(console.url(&format!("/saml/{}/metadata", app.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), StatusCode::NOT_FOUND);

    // Not signed in: to the sign-in page first. A redirect URI that is not registered never
    // receives anything, whatever the session.
    let verifier = "x".repeat(43);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let authorize = |redirect_uri: &str| {
        let mut url = reqwest::Url::parse(&format!("{issuer}/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", &app.id.to_string())
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid")
            .append_pair("state", "<script>alert(1)</script>")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        url.to_string()
    };
    let to_sign_in = stranger.get(authorize(redirect)).send().await.unwrap();
    assert!(
        to_sign_in.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/signin?next=%2Foidc%2F")
    );
    let browser = console.browser();
    console
        .sign_in(&browser, "admin@contoso.com", PASSWORD)
        .await;
    let evil = browser
        .get(authorize("https://evil.example/steal"))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::BAD_REQUEST);
    assert!(evil.headers().get(header::LOCATION).is_none());

    // Signed in and assigned: the code goes back with the state (as sent) and the issuer.
    let back = browser.get(authorize(redirect)).send().await.unwrap();
    let location = reqwest::Url::parse(back.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let parameter = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        parameter("state").as_deref(),
        Some("<script>alert(1)</script>")
    );
    assert_eq!(parameter("iss").as_deref(), Some(issuer.as_str()));
    let code = parameter("code").unwrap();

    // The token endpoint: HTTP Basic, form-encoded; a wrong secret is 401 with a challenge;
    // a body that is not a form is a JSON error that does not echo it.
    use secrecy::ExposeSecret;
    let token = format!("{issuer}/token");
    let exchange = |secret: String| {
        stranger
            .post(&token)
            .basic_auth(app.id.to_string(), Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ])
            .send()
    };
    let refused = exchange("wrong".into()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let tokens = exchange(secret.expose_secret().to_owned()).await.unwrap();
    assert_eq!(tokens.status(), StatusCode::OK);
    assert_eq!(tokens.headers()[header::CACHE_CONTROL], "no-store");
    let tokens: Value = tokens.json().await.unwrap();
    let userinfo: Value = stranger
        .get(format!("{issuer}/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["preferred_username"], "admin@contoso.com");
    let hostile = "<img src=x onerror=alert(1)>".repeat(1000);
    let garbage = stranger
        .post(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(format!("{{\"grant_type\": \"{hostile}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert!(!garbage.text().await.unwrap().contains("onerror"));
    let unknown = stranger
        .post(&token)
        .basic_auth(app.id.to_string(), Some(secret.expose_secret()))
        .form(&[("grant_type", hostile.as_str()), ("code", hostile.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(!unknown.text().await.unwrap().contains("onerror"));
    let healthy = stranger.get(console.url("/healthz")).send().await.unwrap();
    assert_eq!(healthy.status(), StatusCode::OK);
}
