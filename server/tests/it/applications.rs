//! Applications through the console's server functions, against real peers: the OAuth 2.0
//! authorization code flow at a real `oidc-provider` (Authorize, callback, tokens stored sealed,
//! refresh after expiry), Test Connection through the JWT-checking proxy in front of a real
//! `scim2-server`, Test Connection's named causes, and secrets that never leave the server.

use serde_json::Value;

use super::{
    harness::{Console, PASSWORD},
    peers,
};

const AUDIENCE: &str = "urn:scimitar:test-scim";

/// A signed-in Global Administrator's browser.
async fn admin(console: &Console) -> reqwest::Client {
    let created = console.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    assert!(created.status.success());
    let browser = console.browser();
    console
        .sign_in(&browser, "admin@contoso.com", PASSWORD)
        .await;
    browser
}

async fn call(
    console: &Console,
    browser: &reqwest::Client,
    function: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(console.url(&format!("/api/{function}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn json(
    console: &Console,
    browser: &reqwest::Client,
    function: &str,
    form: &[(&str, &str)],
) -> Value {
    let response = call(console, browser, function, form).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{function}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Adds `template` and returns the new application's id.
async fn add_application(
    console: &Console,
    browser: &reqwest::Client,
    template: &str,
    name: &str,
) -> String {
    call(
        console,
        browser,
        "applications/create",
        &[("template", template), ("display_name", name)],
    )
    .await;
    let list = json(console, browser, "applications/list", &[("search", name)]).await;
    list["rows"][0]["id"]
        .as_str()
        .expect("the new application is listed")
        .to_owned()
}

/// The Provisioning form's fields, as the blade posts them, with `changes` applied.
fn provisioning_form<'a>(
    id: &'a str,
    version: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("id", id),
        ("version", version),
        ("mode", "Automatic"),
        ("scim_base_url", ""),
        ("notification_email", ""),
        ("scope", "assigned"),
        ("prevent_accidental_deletion", "on"),
        ("deletion_threshold", "500"),
        ("cycle_interval_minutes", "40"),
        ("concurrency", "4"),
        ("requests_per_second", "0"),
        ("use_target_capabilities", "on"),
        ("status", "Off"),
        ("intent", "save"),
    ];
    for (key, value) in changes {
        form.retain(|(k, _)| k != key);
        form.push((key, value));
    }
    form
}

/// Where a server function sent the browser (a plain form post gets a 302).
fn redirected_to(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .or_else(|| response.headers().get("serverfnredirect"))
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn provisioning(console: &Console, browser: &reqwest::Client, id: &str) -> Value {
    json(console, browser, "provisioning/get", &[("id", id)]).await
}

#[tokio::test]
async fn authorize_stores_sealed_tokens_that_reach_the_target_and_refresh_after_expiry() {
    let console = Console::start();
    let browser = admin(&console).await;
    let (_scim, scim_origin) = peers::scim_server(None);
    let callback = console.url("/oauth/callback");
    let oidc = peers::oidc(
        serde_json::json!([{
            "client_id": "scimitar",
            "client_secret": "client-secret-for-tests",
            "redirect_uris": [callback],
            "grant_types": ["authorization_code", "refresh_token"],
        }]),
        AUDIENCE,
        600,
    );
    let proxy = peers::jwt_proxy(&scim_origin, &oidc.url, AUDIENCE);

    let id = add_application(&console, &browser, "vonage", "Vonage").await;
    let before = provisioning(&console, &browser, &id).await;
    assert_eq!(before["authentication"], "oauth2-authorization-code");
    assert!(before["authorized"].is_null());

    // Advanced points at the test provider and the proxy; Authorize saves and goes there.
    let version = before["version"].to_string();
    let scim_url = format!("{}/v2", proxy.url);
    let authorization_url = format!("{}/auth", oidc.url);
    let token_url = format!("{}/token", oidc.url);
    let form = provisioning_form(
        &id,
        &version,
        &[
            ("scim_base_url", &scim_url),
            ("client_id", "scimitar"),
            ("client_secret", "client-secret-for-tests"),
            ("authorization_url", &authorization_url),
            ("token_url", &token_url),
            ("scopes", "openid offline_access scim"),
            ("intent", "authorize"),
        ],
    );
    let response = call(&console, &browser, "provisioning/save", &form).await;
    let to_provider = redirected_to(&response);
    assert!(to_provider.starts_with(&authorization_url), "{to_provider}");
    assert!(
        to_provider.contains("code_challenge_method=S256"),
        "PKCE: {to_provider}"
    );
    // The scopes include openid: a nonce goes with the request (the provider refuses it
    // without one), and the ID token brings it back.
    assert!(to_provider.contains("&nonce="), "{to_provider}");

    let back = peers::sign_in_and_consent(&to_provider, &callback).await;
    let finished = browser.get(&back).send().await.unwrap();
    let landing = redirected_to(&finished);
    assert_eq!(
        landing,
        format!("/applications/{id}/provisioning?authorization=done")
    );
    // The state is single-use: replaying the callback is refused.
    assert_eq!(browser.get(&back).send().await.unwrap().status(), 400);

    // The blade says how it went, however often the page reads it (a page that renders twice
    // must not lose it); it shows it on the address the callback opens.
    let after = provisioning(&console, &browser, &id).await;
    assert_eq!(
        after["authorization_outcome"],
        serde_json::json!([true, "Authorized. Test the connection, then Save."]),
    );
    assert_eq!(
        provisioning(&console, &browser, &id).await["authorization_outcome"],
        after["authorization_outcome"],
    );
    // It is the engine's, not the session's: a request of the same session that saves an older
    // copy of it cannot lose it, and another browser of the same administrator sees it too.
    let elsewhere = console.browser();
    console
        .sign_in(&elsewhere, "admin@contoso.com", PASSWORD)
        .await;
    assert_eq!(
        provisioning(&console, &elsewhere, &id).await["authorization_outcome"],
        after["authorization_outcome"],
    );
    assert!(
        after["authorized"]
            .as_str()
            .unwrap()
            .starts_with("admin@contoso.com on "),
        "{after}"
    );
    assert!(after["token_expires"].is_string());

    // Test Connection sends the access token through the proxy, which checks its signature.
    let version = after["version"].to_string();
    let form = provisioning_form(
        &id,
        &version,
        &[("scim_base_url", &scim_url), ("intent", "test")],
    );
    let verdict = json(&console, &browser, "provisioning/save", &form).await;
    assert_eq!(verdict["success"], true, "{verdict}");
    let control: Value = reqwest::get(format!("{}/__control", proxy.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Two requests, each with the token: /ServiceProviderConfig (can the target filter?), then
    // the test query.
    assert_eq!(control["accepted"], 2, "{control}");

    // The tokens are sealed at rest; after expiry the engine refreshes them.
    let engine = console.engine().await;
    let app = uuid::Uuid::parse_str(&id).unwrap();
    let now = time::OffsetDateTime::now_utc();
    use secrecy::ExposeSecret;
    let first = engine
        .access_token(app, now)
        .await
        .unwrap()
        .expose_secret()
        .to_owned();
    let refreshed = engine
        .access_token(app, now + time::Duration::hours(2))
        .await
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_ne!(
        first, refreshed,
        "an expired token is refreshed, not reused"
    );
    assert_eq!(
        engine.access_token(app, now).await.unwrap().expose_secret(),
        refreshed,
        "the refreshed token is stored"
    );
    drop(engine);
    for file in std::fs::read_dir(console.data_dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        for token in [&first, &refreshed] {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "an access token is readable in the data directory"
            );
        }
    }

    // When the target refuses the token, Test Connection says so.
    reqwest::Client::new()
        .post(format!("{}/__control", proxy.url))
        .json(&serde_json::json!({ "refuse": true }))
        .send()
        .await
        .unwrap();
    let verdict = json(&console, &browser, "provisioning/save", &form).await;
    assert_eq!(verdict["success"], false);
    assert!(
        verdict["message"]
            .as_str()
            .unwrap()
            .starts_with("The application refused the credentials (HTTP 401)"),
        "{verdict}"
    );
}

#[tokio::test]
async fn test_connection_names_the_cause_of_each_failure() {
    let console = Console::start();
    let browser = admin(&console).await;
    let (scim, _) = peers::scim_server(Some("the-right-token"));
    let id = add_application(&console, &browser, "custom-scim", "Contoso SCIM").await;
    let version = provisioning(&console, &browser, &id).await["version"].to_string();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("Users"), "hello, this is not SCIM").unwrap();
    let web = peers::static_files(files.path());
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}/scim")
    };
    let tls_to_plain_http = scim.url.replace("http://", "https://");
    let cases = [
        (
            scim.url.as_str(),
            "the-right-token",
            "The supplied credentials are authorized",
        ),
        (
            scim.url.as_str(),
            "a-wrong-token",
            "The application refused the credentials (HTTP 401)",
        ),
        (closed.as_str(), "t", "Could not connect to 127.0.0.1:"),
        (
            "https://scim.nonexistent.invalid/v2",
            "t",
            "could not be resolved (DNS)",
        ),
        (
            tls_to_plain_http.as_str(),
            "t",
            "The TLS connection to 127.0.0.1:",
        ),
        (
            &format!("{}/missing", web.url),
            "t",
            "was not found (HTTP 404): this is not a SCIM endpoint",
        ),
        (
            web.url.as_str(),
            "t",
            "answered, but not with a SCIM list response",
        ),
        (
            "ftp://scim.example.com",
            "t",
            "Tenant URL: ftp:// is not http or https",
        ),
    ];
    for (url, token, expected) in cases {
        let form = provisioning_form(
            &id,
            &version,
            &[
                ("scim_base_url", url),
                ("secret_token", token),
                ("intent", "test"),
            ],
        );
        let verdict = json(&console, &browser, "provisioning/save", &form).await;
        let message = verdict["message"].as_str().unwrap();
        assert!(message.contains(expected), "{url} with {token}: {message}");
        assert_eq!(
            verdict["success"],
            expected.starts_with("The supplied"),
            "{message}"
        );
    }

    // A stored Secret Token goes only to the saved Tenant URL, and is forgotten when it changes.
    let form = provisioning_form(
        &id,
        &version,
        &[
            ("scim_base_url", &scim.url),
            ("secret_token", "the-right-token"),
            ("mode", "Manual"),
        ],
    );
    json(&console, &browser, "provisioning/save", &form).await;
    let saved = provisioning(&console, &browser, &id).await;
    assert_eq!(saved["has_secret_token"], true);
    let version = saved["version"].to_string();
    let elsewhere = "http://127.0.0.1:9/scim/v2";
    let form = provisioning_form(
        &id,
        &version,
        &[
            ("scim_base_url", elsewhere),
            ("intent", "test"),
            ("mode", "Manual"),
        ],
    );
    let verdict = json(&console, &browser, "provisioning/save", &form).await;
    assert!(
        verdict["message"]
            .as_str()
            .unwrap()
            .starts_with("The stored Secret Token is only sent to the saved Tenant URL"),
        "{verdict}"
    );
    let form = provisioning_form(
        &id,
        &version,
        &[
            ("scim_base_url", &scim.url),
            ("intent", "test"),
            ("mode", "Manual"),
        ],
    );
    assert_eq!(
        json(&console, &browser, "provisioning/save", &form).await["success"],
        true
    );
    let form = provisioning_form(
        &id,
        &version,
        &[("scim_base_url", elsewhere), ("mode", "Manual")],
    );
    json(&console, &browser, "provisioning/save", &form).await;
    let moved = provisioning(&console, &browser, &id).await;
    assert_eq!(
        moved["has_secret_token"], false,
        "a new Tenant URL needs its token typed again"
    );
    let version = moved["version"].to_string();

    // A custom application without a Tenant URL cannot be saved; the field says why.
    let form = provisioning_form(
        &id,
        &version,
        &[("secret_token", "x"), ("scim_base_url", "")],
    );
    let refused = call(&console, &browser, "provisioning/save", &form).await;
    assert_eq!(refused.status(), 422);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(
        error["InvalidFields"][0],
        serde_json::json!([
            "scim_base_url",
            "Enter the Tenant URL (the application's SCIM base URL)."
        ])
    );
}

#[tokio::test]
async fn secrets_never_leave_the_server() {
    const SENTINEL: &str = "sentinel-9f2c41e7";
    let console = Console::start();
    let browser = admin(&console).await;
    let bearer = add_application(&console, &browser, "custom-scim", "Bearer app").await;
    let version = provisioning(&console, &browser, &bearer).await["version"].to_string();
    let form = provisioning_form(
        &bearer,
        &version,
        &[
            ("scim_base_url", "http://127.0.0.1:9/v2"),
            ("secret_token", SENTINEL),
        ],
    );
    json(&console, &browser, "provisioning/save", &form).await;
    let oauth = add_application(&console, &browser, "vonage", "OAuth app").await;
    let version = provisioning(&console, &browser, &oauth).await["version"].to_string();
    let form = provisioning_form(
        &oauth,
        &version,
        &[
            ("mode", "Manual"),
            ("client_id", "scimitar"),
            ("client_secret", SENTINEL),
            ("token_url", "https://login.example.com/token"),
        ],
    );
    json(&console, &browser, "provisioning/save", &form).await;

    // Everything an administrator can read: pages and server functions.
    let mut seen = String::new();
    for id in [&bearer, &oauth] {
        for page in [
            "",
            "/users",
            "/roles",
            "/provisioning",
            "/provisioning/users",
            "/provisioning/groups",
        ] {
            let response = browser
                .get(console.url(&format!("/applications/{id}{page}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{page}");
            seen.push_str(&response.text().await.unwrap());
        }
        for (function, form) in [
            ("provisioning/get", vec![("id", id.as_str())]),
            (
                "provisioning/mappings",
                vec![("id", id.as_str()), ("object", "users")],
            ),
            ("applications/get", vec![("id", id.as_str())]),
            ("applications/assignments", vec![("id", id.as_str())]),
            ("applications/roles", vec![("id", id.as_str())]),
        ] {
            seen.push_str(&json(&console, &browser, function, &form).await.to_string());
        }
    }
    for page in ["/applications", "/audit-logs"] {
        seen.push_str(
            &browser
                .get(console.url(page))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    seen.push_str(
        &json(&console, &browser, "applications/list", &[])
            .await
            .to_string(),
    );
    let everything = [("search", ""), ("category", "")];
    seen.push_str(
        &json(&console, &browser, "applications/gallery", &everything)
            .await
            .to_string(),
    );
    let version = provisioning(&console, &browser, &bearer).await["version"].to_string();
    let test = provisioning_form(
        &bearer,
        &version,
        &[
            ("scim_base_url", "http://127.0.0.1:9/v2"),
            ("intent", "test"),
        ],
    );
    seen.push_str(
        &json(&console, &browser, "provisioning/save", &test)
            .await
            .to_string(),
    );
    let check = [("text", "Join(\" \", [givenName])"), ("object", "users")];
    seen.push_str(
        &json(&console, &browser, "provisioning/expression/check", &check)
            .await
            .to_string(),
    );
    seen.push_str(
        &json(&console, &browser, "audit/list", &[])
            .await
            .to_string(),
    );
    assert!(
        seen.contains("Bearer app") && seen.contains("OAuth app"),
        "the pages were read"
    );
    assert!(!seen.contains(SENTINEL), "a secret reached the browser");

    // The audit log says that secrets changed, not what they are.
    assert!(
        seen.contains("secretsChanged"),
        "the audit log says that a secret changed"
    );
    assert!(
        !console
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains(SENTINEL)),
        "a secret is in the log"
    );
    for file in std::fs::read_dir(console.data_dir.path()).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes
                .windows(SENTINEL.len())
                .any(|w| w == SENTINEL.as_bytes()),
            "the secret is readable in {}",
            path.display()
        );
    }
}
