//! The console over HTTP, the way a browser drives it: first-run setup, sign-in, throttling,
//! origin checks, sign-out, the 403 page, the command line.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::harness::{Console, PASSWORD};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("scimitar_session="))
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The error a server function answered with, after checking its HTTP status.
async fn error_of(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

#[tokio::test]
async fn first_run_setup_needs_the_token_from_the_log() {
    let console = Console::start();
    let browser = console.browser();

    let home = browser.get(console.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[header::LOCATION], "/setup");

    let setup = |token: String| {
        let browser = browser.clone();
        let url = console.url("/api/setup");
        async move {
            browser
                .post(url)
                .form(&[
                    ("setup_token", token.as_str()),
                    ("user_principal_name", "admin@contoso.com"),
                    ("display_name", "Ada Admin"),
                    ("password", PASSWORD),
                    ("confirm_password", PASSWORD),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = error_of(
        setup("not-the-token".into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(wrong["Invalid"]["field"], "setup_token", "{wrong}");

    let right = setup(console.setup_token()).await;
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(console.me(&browser).await["role"], "Global Administrator");

    // Setup is closed once a Global Administrator exists, token or not.
    let again = browser.get(console.url("/setup")).send().await.unwrap();
    assert_eq!(again.headers()[header::LOCATION], "/signin");
    let replay = error_of(setup(console.setup_token()).await, StatusCode::CONFLICT).await;
    assert!(
        replay["Conflict"]
            .as_str()
            .unwrap()
            .contains("already complete"),
        "{replay}"
    );
}

#[tokio::test]
async fn administrator_created_on_the_command_line_signs_in_and_out() {
    let console = Console::start();
    let created = console.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        String::from_utf8_lossy(&created.stdout)
            .starts_with("Created Global Administrator admin@contoso.com")
    );

    let browser = console.browser();
    let anonymous = browser.get(console.url("/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[header::LOCATION], "/signin?next=/users");

    let head = browser.head(console.url("/settings")).send().await.unwrap();
    assert_eq!(
        head.status(),
        StatusCode::SEE_OTHER,
        "HEAD is guarded like GET"
    );

    let signed_in = console
        .sign_in(&browser, "ADMIN@contoso.com", PASSWORD)
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = session_cookie(&signed_in).expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let me = console.me(&browser).await;
    assert_eq!(me["user_principal_name"], "admin@contoso.com");
    assert_eq!(
        me["blades"].as_array().unwrap().len(),
        9,
        "the eight blades and My tokens"
    );

    let home = browser.get(console.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("admin@contoso.com"));

    // Signing in again renews the session id; the previous id is dead.
    let renewed = console
        .sign_in(&browser, "admin@contoso.com", PASSWORD)
        .await;
    let renewed_cookie = session_cookie(&renewed).expect("a renewed session cookie");
    assert_ne!(cookie_pair(&cookie), cookie_pair(&renewed_cookie));
    let stale = console.browser();
    let with_old = stale
        .post(console.url("/api/me"))
        .header(header::COOKIE, cookie_pair(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(with_old.json::<Value>().await.unwrap(), Value::Null);

    // After sign-out the cookie no longer opens anything.
    let sign_out = browser
        .post(console.url("/api/sign_out"))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_out.status(), StatusCode::OK);
    assert_eq!(sign_out.headers()[header::LOCATION], "/signin");
    let replayed = stale
        .get(console.url("/"))
        .header(header::COOKIE, cookie_pair(&renewed_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert_eq!(replayed.headers()[header::LOCATION], "/signin");
    let me = stale
        .post(console.url("/api/me"))
        .header(header::COOKIE, cookie_pair(&renewed_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(me.json::<Value>().await.unwrap(), Value::Null);
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_the_sixth_is_throttled_even_when_the_next_is_right() {
    let console = Console::start();
    assert!(
        console
            .admin_create("admin@contoso.com", "Global Administrator", PASSWORD)
            .status
            .success()
    );
    let browser = console.browser();

    for attempt in 1..=5 {
        let refused = error_of(
            console
                .sign_in(&browser, "admin@contoso.com", "wrong password!")
                .await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(
            refused["SignInRefused"], "The user name or password is incorrect.",
            "attempt {attempt}"
        );
    }
    let sixth = error_of(
        console
            .sign_in(&browser, "admin@contoso.com", "wrong password!")
            .await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(
        sixth["Throttled"]
            .as_str()
            .unwrap()
            .starts_with("Too many failed sign-in attempts"),
        "{sixth}"
    );
    let seventh = console
        .sign_in(&browser, "admin@contoso.com", PASSWORD)
        .await;
    assert!(session_cookie(&seventh).is_none());
    let seventh = error_of(seventh, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        seventh["Throttled"]
            .as_str()
            .unwrap()
            .contains("try again in"),
        "{seventh}"
    );
    assert_eq!(console.me(&browser).await, Value::Null);
}

#[tokio::test]
async fn cross_origin_posts_to_server_functions_are_refused() {
    let console = Console::start();
    assert!(
        console
            .admin_create("admin@contoso.com", "Global Administrator", PASSWORD)
            .status
            .success()
    );
    let browser = console.browser();
    assert!(
        console
            .sign_in(&browser, "admin@contoso.com", PASSWORD)
            .await
            .status()
            .is_success()
    );

    let foreign = browser
        .post(console.url("/api/sign_out"))
        .header(header::ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(
        foreign
            .text()
            .await
            .unwrap()
            .contains("Cross-origin request refused")
    );
    assert_eq!(
        console.me(&browser).await["user_principal_name"],
        "admin@contoso.com",
        "still signed in"
    );

    // Without Origin, only `Sec-Fetch-Site: same-origin` vouches for the request.
    let bare = reqwest::Client::new();
    let no_origin = bare
        .post(console.url("/api/sign_in"))
        .form(&[
            ("user_principal_name", "admin@contoso.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    let fetch_metadata = bare
        .post(console.url("/api/sign_in"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("user_principal_name", "admin@contoso.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reports_reader_gets_403_for_settings_but_reads_the_logs() {
    let console = Console::start();
    assert!(
        console
            .admin_create("admin@contoso.com", "Global Administrator", PASSWORD)
            .status
            .success()
    );
    let created = console.admin_create("reader@contoso.com", "Reports Reader", PASSWORD);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let browser = console.browser();
    assert!(
        console
            .sign_in(&browser, "reader@contoso.com", PASSWORD)
            .await
            .status()
            .is_success()
    );

    let settings = browser.get(console.url("/settings")).send().await.unwrap();
    assert_eq!(settings.status(), StatusCode::FORBIDDEN);
    let page = settings.text().await.unwrap();
    assert!(
        page.contains("You don&#x27;t have access to this page")
            || page.contains("You don't have access"),
        "{page}"
    );
    let logs = browser
        .get(console.url("/audit-logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(logs.status(), StatusCode::OK);
    let blades = console.me(&browser).await["blades"].clone();
    assert!(
        !blades
            .as_array()
            .unwrap()
            .contains(&Value::from("Settings")),
        "{blades}"
    );
}

#[tokio::test]
async fn admin_create_explains_bad_input() {
    let console = Console::start();
    let weak = console.admin_create("admin@contoso.com", "Global Administrator", "short");
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr)
            .contains("password: the password must have at least 12 characters")
    );
    let role = console.admin_create("admin@contoso.com", "Root", PASSWORD);
    assert!(
        String::from_utf8_lossy(&role.stderr).contains("expected one of: Global Administrator")
    );
    assert!(
        console
            .admin_create("admin@contoso.com", "Global Administrator", PASSWORD)
            .status
            .success()
    );
    let twice = console.admin_create("Admin@Contoso.com", "Reports Reader", PASSWORD);
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );
}

#[tokio::test]
async fn probes_are_open_and_sigterm_stops_the_server_cleanly() {
    let mut console = Console::start();
    let client = reqwest::Client::new();
    let health = client.get(console.url("/healthz")).send().await.unwrap();
    assert_eq!(
        (health.status(), health.text().await.unwrap().as_str()),
        (StatusCode::OK, "ok")
    );
    let ready = client.get(console.url("/readyz")).send().await.unwrap();
    assert_eq!(
        (ready.status(), ready.text().await.unwrap().as_str()),
        (StatusCode::OK, "ready")
    );

    let killed = Command::new("kill")
        .args(["-TERM", &console.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = console.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(
        console
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("shutting down"))
    );
}
