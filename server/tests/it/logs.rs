//! The Provisioning logs blade over generated entries: the downloads hold exactly the entries
//! the paged list shows for the same filters, filters that do not parse name their field, and
//! each role sees what docs/roles.md allows.

use engine::sync::log::generator::Spec;
use serde_json::Value;

use super::harness::Console;

/// Every entry id the list shows for `filters`, page after page (50 per page), newest first.
async fn listed(
    console: &Console,
    browser: &reqwest::Client,
    filters: &[(&str, String)],
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut form: Vec<(String, String)> = filters
            .iter()
            .map(|(k, v)| (format!("query[{k}]"), v.clone()))
            .collect();
        if let Some(b) = &before {
            form.push(("before".into(), b.clone()));
        }
        let response = browser
            .post(console.url("/api/provisioning-logs/list"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let page: Value = response.json().await.unwrap();
        let rows = page["rows"].as_array().unwrap();
        assert!(rows.len() <= 50);
        ids.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => return ids,
        }
    }
}

/// The download of `format` for `filters`: (status, body).
async fn download(
    console: &Console,
    browser: &reqwest::Client,
    format: &str,
    filters: &[(&str, String)],
) -> (u16, String) {
    let response = browser
        .get(console.url(&format!("/provisioning-logs/download.{format}")))
        .query(filters)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn csv_ids(body: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "Entry ID");
    reader.records().map(|r| r.unwrap()[0].to_owned()).collect()
}

/// A page as a signed-in browser gets it.
async fn fetch_page(console: &Console, browser: &reqwest::Client, path: &str) -> String {
    browser
        .get(console.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn downloads_hold_exactly_the_entries_the_list_shows() {
    let console = Console::start();
    let admin = console
        .signed_in("ops@contoso.com", "Global Administrator")
        .await;
    let engine = console
        .application_with_logs(
            &admin,
            Spec {
                entries: 3_000,
                days: 6,
                seed: 11,
            },
        )
        .await;

    let ops = engine::directory::users::find_by_upn(&engine.db, "ops@contoso.com")
        .await
        .unwrap()
        .unwrap();
    // Values to filter on, read from the entries themselves.
    let all = engine
        .provisioning_logs(
            &engine.account(ops.id).await.unwrap().unwrap(),
            &Default::default(),
            None,
            3_000,
        )
        .await
        .unwrap()
        .rows;
    assert_eq!(all.len(), 3_000);
    let sample = &all[1_234];
    let identity = sample.source_name.split('.').next().unwrap().to_owned();
    let day = |back: i64| {
        (time::OffsetDateTime::now_utc() - time::Duration::days(back))
            .date()
            .to_string()
    };
    let filter_sets: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("status", "Failure".into())],
        vec![("identity", identity.clone())],
        vec![("identity", sample.source_id.to_string())],
        vec![
            ("status", "Skipped".into()),
            ("from", day(4)),
            ("to", day(2)),
        ],
        vec![("action", "Create".into()), ("object_type", "User".into())],
        vec![("cycle", sample.cycle_id.to_string())],
        vec![("change", sample.change_id.to_string())],
        vec![("job", sample.job_id())],
    ];
    for filters in &filter_sets {
        let shown = listed(&console, &admin, filters).await;
        let expected = all
            .iter()
            .filter(|r| {
                filters.iter().all(|(k, v)| match *k {
                    "status" => r.status.as_str() == v,
                    "action" => r.action.as_str() == v,
                    "object_type" => &r.object_type == v,
                    "identity" => {
                        r.source_name.to_lowercase().starts_with(&v.to_lowercase())
                            || r.source_id.to_string() == *v
                            || r.target_id.as_deref() == Some(v.as_str())
                    }
                    "cycle" => r.cycle_id.to_string() == *v,
                    "change" => r.change_id.to_string() == *v,
                    "job" => r.job_id() == *v,
                    "from" => r.at.date().to_string() >= *v,
                    "to" => r.at.date().to_string() <= *v,
                    _ => unreachable!(),
                })
            })
            .count();
        assert_eq!(shown.len(), expected, "{filters:?}");
        assert!(
            !shown.is_empty(),
            "a filter that shows nothing proves nothing: {filters:?}"
        );
        let (status, csv) = download(&console, &admin, "csv", filters).await;
        assert_eq!(status, 200);
        assert_eq!(csv_ids(&csv), shown, "CSV for {filters:?}");
        let (status, json) = download(&console, &admin, "json", filters).await;
        assert_eq!(status, 200);
        let json: Vec<Value> = serde_json::from_str(&json).unwrap();
        let json_ids: Vec<String> = json.iter().map(|e| e["id"].to_string()).collect();
        assert_eq!(json_ids, shown, "JSON for {filters:?}");
    }

    // A filter that does not parse says which field and why, on the page and the download.
    let (status, body) = download(&console, &admin, "csv", &[("status", "Bogus".into())]).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("status") && body.contains("Success, Failure, Skipped or Warning"),
        "{body}"
    );
    let page = fetch_page(&console, &admin, "/provisioning-logs?from=31/01/2026").await;
    assert!(
        page.contains("is not a date of the form 2026-01-31"),
        "{page}"
    );

    // The details panel: the Troubleshooting tab of a failure explains its error code.
    let failure = all
        .iter()
        .find(|r| r.error_code.as_deref() == Some("MissingRequiredAttribute"))
        .unwrap();
    let page = fetch_page(
        &console,
        &admin,
        &format!(
            "/provisioning-logs?entry={}&tab=troubleshooting",
            failure.id
        ),
    )
    .await;
    assert!(
        page.contains("lacks a value the application requires"),
        "{page}"
    );
    assert!(page.contains("name.familyName"), "{page}");

    // A Reports Reader reads and downloads everything; an Application Owner of no application
    // sees nothing, and a signed-out browser is sent to sign in.
    let reader = console
        .signed_in("auditor@contoso.com", "Reports Reader")
        .await;
    assert_eq!(listed(&console, &reader, &[]).await.len(), 3_000);
    let owner = console
        .signed_in("owner@contoso.com", "Application Owner")
        .await;
    assert!(listed(&console, &owner, &[]).await.is_empty());
    let (status, csv) = download(&console, &owner, "csv", &[]).await;
    assert_eq!((status, csv_ids(&csv).len()), (200, 0));
    let (status, _) = download(&console, &console.browser(), "csv", &[]).await;
    assert_eq!(status, 303, "signed out: to the sign-in page");
}
