//! Inbound SCIM 2.0 at /scim/v2: the third-party conformance checker, and the behaviours a
//! provisioning client relies on (auth, roles, filters, PATCH, concurrency, the change feed).

use std::{path::PathBuf, process::Command};

use engine::directory::feed::{self, ChangeKind};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::harness::{Console, PASSWORD};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[tokio::test]
async fn scim2_tester_passes_against_the_inbound_api() {
    let checker = repo_root().join("end2end/.venv/bin/scim2");
    assert!(
        checker.exists(),
        "{} is missing: run scripts/setup test",
        checker.display()
    );
    let console = Console::start();
    let token = console.admin_with_scim_token();
    let output = Command::new(&checker)
        .args([
            "--url",
            &console.url("/scim/v2"),
            "-h",
            &format!("Authorization: Bearer {token}"),
            "test",
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<&str> = report.lines().collect();
    let results: Vec<(usize, &str, &str)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let (status, check) = line.split_once(' ')?;
            let known = [
                "SUCCESS",
                "COMPLIANT",
                "ACCEPTABLE",
                "DEVIATION",
                "ERROR",
                "CRITICAL",
                "SKIPPED",
            ];
            (known.contains(&status) && check.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .then_some((i, status, check))
        })
        .collect();
    assert!(
        results.len() >= 120,
        "only {} checks ran:\n{report}",
        results.len()
    );
    for resource in ["User", "Group"] {
        let created = format!("Successfully created {resource}");
        assert!(
            report.contains(&created),
            "no {resource} checks ran:\n{report}"
        );
    }

    let allowlist =
        std::fs::read_to_string(repo_root().join("server/tests/it/scim-conformance-allowlist.txt"))
            .unwrap();
    let allowed: Vec<(String, String)> = allowlist
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            assert!(
                parts.len() == 3 && parts[2].contains("RFC"),
                "allow-list entries cite an RFC section: {l}"
            );
            (parts[0].to_owned(), parts[1].to_owned())
        })
        .collect();
    let failures: Vec<String> = results
        .iter()
        .filter(|(_, status, _)| *status != "SUCCESS")
        .filter(|(i, _, check)| {
            let reason = lines.get(i + 1).copied().unwrap_or_default();
            !allowed
                .iter()
                .any(|(name, text)| name == check && reason.contains(text.as_str()))
        })
        .map(|(i, status, check)| {
            format!(
                "{status} {check}: {}",
                lines.get(i + 1).copied().unwrap_or_default()
            )
        })
        .collect();
    let errors: Vec<String> = console
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("ERROR"))
        .cloned()
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n{}\nthe server's errors:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n"),
        errors.join("\n")
    );
    eprintln!(
        "scim2 test: {} checks, {} allow-listed",
        results.len(),
        allowed.len()
    );
}

async fn created(client: &reqwest::Client, url: String, body: Value) -> Value {
    let response = client.post(url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get(header::LOCATION).is_some());
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/scim+json"
    );
    response.json().await.unwrap()
}

fn ada() -> Value {
    json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "ada@contoso.com",
        "externalId": "E-1815",
        "name": { "givenName": "Ada", "familyName": "Lovelace" },
        "displayName": "Ada Lovelace",
        "emails": [{ "value": "ada@contoso.com", "type": "work", "primary": true }],
        "active": true,
        "title": "Analyst",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Engines", "employeeNumber": "1815" }
    })
}

#[tokio::test]
async fn a_user_created_over_scim_is_in_the_directory_the_feed_and_the_audit_log() {
    let console = Console::start();
    let scim = console.scim(&console.admin_with_scim_token());
    let user = created(&scim, console.url("/scim/v2/Users"), ada()).await;
    let id: uuid::Uuid = user["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(user["name"]["familyName"], "Lovelace");
    assert_eq!(
        user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Engines"
    );

    let engine = console.engine().await;
    let stored = engine.user(id).await.unwrap();
    assert_eq!(stored.profile.user_principal_name, "ada@contoso.com");
    assert_eq!(stored.profile.mail.as_deref(), Some("ada@contoso.com"));
    assert_eq!(stored.profile.department.as_deref(), Some("Engines"));
    let changes = feed::since(&engine.db, 0, 100).await.unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.object_id == id && c.change == ChangeKind::Created),
        "{changes:?}"
    );
    let (actor, activity): (String, String) = engine::db::query_as(
        "SELECT actor_name, activity FROM audit_log WHERE target_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&engine.db)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), activity.as_str()),
        ("token of admin@contoso.com", "Add user")
    );

    // The Users blade lists her.
    let browser = console.browser();
    assert!(
        console
            .sign_in(&browser, "admin@contoso.com", PASSWORD)
            .await
            .status()
            .is_success()
    );
    let blade = browser
        .get(console.url("/users?q=ada"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        blade.contains("ada@contoso.com") && blade.contains("Ada Lovelace"),
        "{blade}"
    );

    // A second user with the same userName, in another case, is a uniqueness conflict.
    let mut twin = ada();
    twin["userName"] = json!("ADA@contoso.com");
    let conflict = scim
        .post(console.url("/scim/v2/Users"))
        .json(&twin)
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(
        conflict.json::<Value>().await.unwrap()["scimType"],
        "uniqueness"
    );
}

#[tokio::test]
async fn requests_without_a_valid_scim_token_get_401() {
    let console = Console::start();
    let token = console.admin_with_scim_token();
    let api_only = console.token("admin@contoso.com", &["api"]);

    let anonymous = reqwest::Client::new()
        .get(console.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["schemas"],
        json!([ERROR])
    );
    let anonymous_post = reqwest::Client::new()
        .post(console.url("/scim/v2/Users"))
        .json(&ada())
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous_post.status(),
        StatusCode::UNAUTHORIZED,
        "no cookie, no origin check: plain 401"
    );
    for wrong in ["scm_not-a-token", api_only.as_str()] {
        let response = console
            .scim(wrong)
            .get(console.url("/scim/v2/Users"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{wrong}");
    }
    assert_eq!(
        console
            .scim(&token)
            .get(console.url("/scim/v2/Users"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let engine = console.engine().await;
    let scim_token = engine
        .tokens(None)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.scopes.0 == [engine::accounts::Scope::Scim]);
    engine
        .revoke_token(&engine::audit::Caller::system(), scim_token.unwrap().id)
        .await
        .unwrap();
    let revoked = console
        .scim(&token)
        .get(console.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reports_reader_token_reads_but_cannot_write() {
    let console = Console::start();
    let admin = console.scim(&console.admin_with_scim_token());
    created(&admin, console.url("/scim/v2/Users"), ada()).await;
    assert!(
        console
            .admin_create("reader@contoso.com", "Reports Reader", PASSWORD)
            .status
            .success()
    );
    let reader = console.scim(&console.token("reader@contoso.com", &["scim"]));

    let list: Value = reader
        .get(console.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["totalResults"], 3, "ada and the two console accounts");
    let mut grace = ada();
    grace["userName"] = json!("grace@contoso.com");
    let refused = reader
        .post(console.url("/scim/v2/Users"))
        .json(&grace)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["detail"],
        "the token's owner has a role that may not change the directory (Global Administrator only)",
        "{body}"
    );
    let after: Value = reader
        .get(console.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["totalResults"], 3, "nothing was written");
}

#[tokio::test]
async fn concurrent_puts_with_the_same_if_match_one_wins_the_other_gets_412() {
    let console = Console::start();
    let scim = console.scim(&console.admin_with_scim_token());
    let user = created(&scim, console.url("/scim/v2/Users"), ada()).await;
    let url = console.url(&format!("/scim/v2/Users/{}", user["id"].as_str().unwrap()));
    let version = user["meta"]["version"].as_str().unwrap().to_owned();
    let put = |title: &str| {
        let mut body = ada();
        body["title"] = json!(title);
        scim.put(&url)
            .header(header::IF_MATCH, &version)
            .json(&body)
            .send()
    };
    let (a, b) = tokio::join!(put("Countess"), put("Mathematician"));
    let mut statuses = vec![a.unwrap().status(), b.unwrap().status()];
    statuses.sort();
    assert_eq!(
        statuses,
        vec![StatusCode::OK, StatusCode::PRECONDITION_FAILED]
    );
    let now: Value = scim.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["meta"]["version"], "W/\"2\"");
}

#[tokio::test]
async fn filters_and_pages_come_from_the_directory_and_bad_filters_say_where() {
    let console = Console::start();
    let scim = console.scim(&console.admin_with_scim_token());
    for (name, mail) in [
        ("ada", "ada@contoso.com"),
        ("alan", "alan@fabrikam.com"),
        ("grace", "grace@contoso.com"),
    ] {
        let body = json!({ "schemas": [USER], "userName": format!("{name}@contoso.com"),
            "emails": [{ "value": mail, "type": "work" }] });
        created(&scim, console.url("/scim/v2/Users"), body).await;
    }
    let list = |query: &'static str| {
        let scim = scim.clone();
        let url = console.url("/scim/v2/Users");
        async move {
            let response = scim
                .get(url)
                .query(&[("filter", query)])
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let user_names = |body: &Value| -> Vec<String> {
        body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userName"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, exact) = list("userName eq \"ADA@contoso.com\"").await;
    assert_eq!(user_names(&exact), ["ada@contoso.com"]);
    let (_, starts) = list("userName sw \"a\" and not (userName eq \"admin@contoso.com\")").await;
    assert_eq!(user_names(&starts), ["ada@contoso.com", "alan@contoso.com"]);
    let (_, by_mail) = list("emails[type eq \"work\"].value ew \"@fabrikam.com\"").await;
    assert_eq!(user_names(&by_mail), ["alan@contoso.com"]);

    let page: Value = scim
        .get(console.url("/scim/v2/Users"))
        .query(&[
            ("startIndex", "2"),
            ("count", "2"),
            ("sortBy", "userName"),
            ("sortOrder", "descending"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (page["totalResults"].as_i64(), page["itemsPerPage"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(user_names(&page), ["alan@contoso.com", "admin@contoso.com"]);

    let (status, bad) = list("userName eq").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["scimType"], "invalidFilter");
    assert!(
        bad["detail"].as_str().unwrap().contains("at character 12"),
        "{bad}"
    );
    let (status, unknown) = list("nickName pr").await;
    assert_eq!(
        (status, unknown["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalidFilter"))
    );
}

#[tokio::test]
async fn entra_style_patches_update_users_and_group_members() {
    let console = Console::start();
    let scim = console.scim(&console.admin_with_scim_token());
    let user = created(&scim, console.url("/scim/v2/Users"), ada()).await;
    let user_url = console.url(&format!("/scim/v2/Users/{}", user["id"].as_str().unwrap()));
    let patch = |operations: Value| json!({ "schemas": [PATCH_OP], "Operations": operations });

    let disabled = scim
        .patch(&user_url)
        .json(&patch(json!([
            { "op": "Replace", "path": "active", "value": "False" },
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "countess@contoso.com" }
        ])))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    let disabled: Value = disabled.json().await.unwrap();
    assert_eq!(disabled["active"], false);
    assert_eq!(
        disabled["emails"],
        json!([{ "value": "countess@contoso.com", "type": "work" }])
    );

    let group = created(
        &scim,
        console.url("/scim/v2/Groups"),
        json!({ "schemas": [GROUP], "displayName": "Engines" }),
    )
    .await;
    let group_url = console.url(&format!(
        "/scim/v2/Groups/{}",
        group["id"].as_str().unwrap()
    ));
    let member = json!([{ "value": user["id"] }]);
    let added: Value = scim
        .patch(&group_url)
        .json(&patch(
            json!([{ "op": "Add", "path": "members", "value": member }]),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(added["members"][0]["value"], user["id"]);
    let with_group: Value = scim
        .get(&user_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(with_group["groups"][0]["display"], "Engines");
    // Entra removes members by listing them, which the RFC's path filter form also does.
    let removed = scim
        .patch(&group_url)
        .json(&patch(
            json!([{ "op": "Remove", "path": "members", "value": member }]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(
        removed
            .json::<Value>()
            .await
            .unwrap()
            .get("members")
            .is_none()
    );

    let bad_path = scim
        .patch(&user_url)
        .json(&patch(
            json!([{ "op": "remove", "path": "emails[type eq" }]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_path.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_path.json::<Value>().await.unwrap()["scimType"],
        "invalidPath"
    );

    let gone = scim.delete(&user_url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        scim.get(&user_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
