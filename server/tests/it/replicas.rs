//! Two `scimitar` processes on one database, as two replicas behind a load balancer: a session
//! made on one opens the other, and a lockout earned on one holds on the other, because both
//! live in the database (README, Operations). And `scimitar backup` on a running console.

use reqwest::{StatusCode, header};

use super::harness::{Console, PASSWORD};

/// A browser-like client whose requests come from `base`'s pages.
fn browser_at(base: &str) -> reqwest::Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(header::ORIGIN, base.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn sign_in_at(client: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{base}/api/sign_in"))
        .form(&[
            ("user_principal_name", "admin@contoso.com"),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_replica_sees_the_other_replicas_sessions_and_lockouts() {
    let console = Console::start();
    let replica = console.another_process();
    let other = &replica.1;

    // Signed in on the first, the cookie opens the second.
    let browser = console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let page = browser.get(format!("{other}/users")).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the session is the other replica's too"
    );
    let stranger = browser_at(other);
    let refused = stranger.get(format!("{other}/users")).send().await.unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::SEE_OTHER,
        "no session, no page"
    );

    // Five wrong passwords on the first lock the account on the second, right password or not.
    let attacker = console.browser();
    for _ in 0..5 {
        let wrong = sign_in_at(&attacker, &console.base, "wrong password!").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = sign_in_at(&stranger, other, PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = locked.json().await.unwrap();
    assert!(
        body["Throttled"]
            .as_str()
            .is_some_and(|t| t.starts_with("Too many failed sign-in attempts")),
        "{body}"
    );
}

#[tokio::test]
async fn backup_copies_a_running_consoles_sqlite_database_and_refuses_to_overwrite() {
    let console = Console::start_on(None, &["--allow-private-targets"]);
    console
        .signed_in("admin@contoso.com", "Global Administrator")
        .await;
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("scimitar-backup.db");
    let to_arg = to.to_str().unwrap();
    let made = console.cli(&["backup", "--to", to_arg]);
    assert!(made.status.success(), "{made:?}");
    assert!(String::from_utf8_lossy(&made.stdout).contains("Keep the secret key with it"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&to).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The copy, with the key beside it, is a whole console's data.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&to, restored.path().join("scimitar.db")).unwrap();
    std::fs::copy(
        console.data_dir.path().join("secret.key"),
        restored.path().join("secret.key"),
    )
    .unwrap();
    let engine = engine::Engine::open(restored.path()).await.unwrap();
    let admin = engine::directory::users::find_by_upn(&engine.db, "admin@contoso.com")
        .await
        .unwrap();
    assert!(admin.is_some_and(|a| a.directory_role.0.is_some()));

    let again = console.cli(&["backup", "--to", to_arg]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("cannot create"),
        "{again:?}"
    );
}

#[tokio::test]
async fn backup_of_a_postgresql_console_points_to_pg_dump() {
    let console = Console::start_on(
        Some(crate::postgres::database_url()),
        &["--allow-private-targets"],
    );
    let to = console.data_dir.path().join("backup.db");
    let refused = console.cli(&["backup", "--to", to.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("pg_dump"),
        "{refused:?}"
    );
    assert!(!to.exists());
}
