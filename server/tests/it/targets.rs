//! Targets that misbehave, made so by the fault proxy in front of a real `scim2-server`: one that
//! ignores filters, one that cannot filter, one that refuses an update, one that is down across
//! cycles (docs/engine.md: Matching, Failures, Quarantine).

use engine::{
    Engine,
    accounts::Account,
    applications::{connection::ConnectionInput, roles::PrincipalType},
    audit::Caller,
    sync::{
        cycle::Outcome,
        jobs::{self, JobState},
        log::{self, Status as LogStatus},
    },
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    peers,
    sync::{application, first_report, profile, role, run_now, target_users, turn_on, until},
};

/// Creates an account directly in the target, as someone else did.
async fn existing_account(scim: &str, user_name: &str, display_name: &str) -> String {
    let created: Value = reqwest::Client::new()
        .post(format!("{scim}/Users"))
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "displayName": display_name,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// New directory users assigned to the application with Default Access.
async fn assign_new(engine: &Engine, admin: &Account, app: Uuid, upns: &[&str]) -> Vec<Uuid> {
    let access = role(engine, admin, app, "Default Access").await;
    let mut ids = Vec::new();
    for upn in upns {
        let user = engine
            .create_user(&Caller::system(), profile(upn, "Someone", Some("New")))
            .await
            .unwrap();
        engine
            .assign(
                &Caller::system(),
                admin,
                app,
                PrincipalType::User,
                user.id,
                access,
            )
            .await
            .unwrap();
        ids.push(user.id);
    }
    ids
}

#[tokio::test]
async fn a_target_that_ignores_filters_never_gets_one_person_written_on_anothers_account() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let scim = format!("{origin}/v2");
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(&proxy, json!({ "ignoreFilter": true })).await;
    let someone = existing_account(&scim, "someone.else@contoso.com", "Someone Else").await;
    assign_new(
        &engine,
        &admin,
        app.id,
        &["grace@contoso.com", "alan@contoso.com"],
    )
    .await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        // Matching by filter query, one per user (not by listing).
        s.target.use_capabilities = false;
    })
    .await;
    let report = first_report(&engine, app.id).await;
    assert_eq!(report.counts.failed, 2, "{report:?}");
    assert_eq!(report.counts.created + report.counts.updated, 0);

    // Nothing was written: the one account is as it was, and nobody was created.
    let accounts = target_users(&scim).await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["id"], someone.as_str());
    assert_eq!(accounts[0]["userName"], "someone.else@contoso.com");
    let seen = peers::faults_seen(&proxy).await;
    let writes: Vec<&Value> = seen["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(writes.is_empty(), "no write reached the target: {writes:?}");
    for entry in log::latest(&engine.db, app.id, 10).await.unwrap() {
        assert_eq!(entry.status, LogStatus::Failure);
        assert_eq!(entry.error_code.as_deref(), Some("TargetIgnoresFilter"));
        let reason = entry.reason.unwrap();
        assert!(
            reason.contains("userName eq") && reason.contains(&someone),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn a_target_that_cannot_filter_is_matched_by_listing_in_every_cycle() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let scim = format!("{origin}/v2");
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(&proxy, json!({ "filterUnsupported": true })).await;
    let grace_there = existing_account(&scim, "grace@contoso.com", "Grace (old name)").await;
    assign_new(
        &engine,
        &admin,
        app.id,
        &["grace@contoso.com", "alan@contoso.com"],
    )
    .await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false
    })
    .await;

    // Test Connection says how matching will go.
    let verdict = engine
        .test_connection(
            &Caller::system(),
            &admin,
            app.id,
            ConnectionInput {
                scim_base_url: format!("{}/v2", proxy.url),
                secret_token: None,
            },
        )
        .await
        .unwrap();
    assert!(verdict.succeeded(), "{verdict:?}");
    assert!(
        verdict
            .message
            .contains("does not support SCIM filters (its ServiceProviderConfig says filter.supported is false)"),
        "{}",
        verdict.message
    );

    let report = first_report(&engine, app.id).await;
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.failed
        ),
        (1, 1, 0),
        "{report:?}"
    );
    let accounts = target_users(&scim).await;
    assert_eq!(accounts.len(), 2, "Grace's account matched, not duplicated");
    let grace = accounts
        .iter()
        .find(|a| a["userName"] == "grace@contoso.com")
        .unwrap();
    assert_eq!(grace["id"], grace_there.as_str());
    assert_eq!(grace["displayName"], "Someone New");

    // An incremental cycle matches by listing too: Lin's account exists already.
    let lin_there = existing_account(&scim, "lin@contoso.com", "Lin (old name)").await;
    assign_new(&engine, &admin, app.id, &["lin@contoso.com"]).await;
    until("Lin's account updated", || async {
        target_users(&scim)
            .await
            .iter()
            .any(|a| a["id"] == lin_there.as_str() && a["displayName"] == "Someone New")
    })
    .await;
    assert_eq!(target_users(&scim).await.len(), 3);
    let seen = peers::faults_seen(&proxy).await;
    let filtered: Vec<&Value> = seen["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("filter="))
        .collect();
    assert!(
        filtered.is_empty(),
        "no filter query was sent: {filtered:?}"
    );
}

#[tokio::test]
async fn a_refused_update_logs_what_it_attempted_and_the_targets_own_words() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    let ids = assign_new(&engine, &admin, app.id, &["grace@contoso.com"]).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false
    })
    .await;
    assert_eq!(first_report(&engine, app.id).await.counts.created, 1);

    // Every PATCH now fails with a 500 that explains itself in a SCIM error body.
    peers::set_faults(&proxy, json!({ "status500Share": 1, "only": "^PATCH " })).await;
    let mut changed = engine.user(ids[0]).await.unwrap().profile;
    changed.job_title = Some("Rear Admiral".into());
    engine
        .update_user(&Caller::system(), ids[0], changed, None)
        .await
        .unwrap();
    until("the failed update in the logs", || async {
        log::latest(&engine.db, app.id, 5)
            .await
            .unwrap()
            .first()
            .is_some_and(|e| e.status == LogStatus::Failure)
    })
    .await;
    let entry = log::latest(&engine.db, app.id, 1).await.unwrap().remove(0);
    assert_eq!(entry.error_code.as_deref(), Some("TargetUnavailable"));
    let reason = entry.reason.unwrap();
    assert!(
        reason.contains("HTTP 500 after 5 retries: injected fault: 500"),
        "the target's own detail: {reason}"
    );
    assert_eq!(
        entry.modified.0,
        json!([{ "attribute": "title", "old": null, "new": "Rear Admiral" }]),
        "what was attempted"
    );
}

#[tokio::test]
async fn a_target_down_across_cycles_is_quarantined_and_its_last_interruption_stays_visible() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(&proxy, json!({ "down": true })).await;
    assign_new(
        &engine,
        &admin,
        app.id,
        &["grace@contoso.com", "alan@contoso.com"],
    )
    .await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false
    })
    .await;

    // Each cycle that cannot reach the target stops at once, and the next comes sooner than
    // the interval: 15 s, 1 min, 5 min; the fourth in a row puts the job in quarantine.
    let mut seen = None;
    for (series, retry) in [(1, 15), (2, 60), (3, 300)] {
        until("an interrupted cycle", || async {
            let job = jobs::load(&engine.db, app.id).await.unwrap();
            job.unreachable_series == series && job.last_cycle.is_some()
        })
        .await;
        let job = jobs::load(&engine.db, app.id).await.unwrap();
        let report = job.last_cycle.unwrap().0;
        assert_ne!(Some(report.cycle_id), seen);
        seen = Some(report.cycle_id);
        assert!(
            matches!(report.outcome, Outcome::Interrupted { .. }),
            "{report:?}"
        );
        assert_eq!(job.state, JobState::Active);
        let wait = job.next_run_at.unwrap() - report.finished_at;
        assert!(
            (wait - time::Duration::seconds(retry)).abs() < time::Duration::seconds(2),
            "cycle {series}: next in {wait}"
        );
        let interruption = job.last_interruption.unwrap().0;
        assert!(
            interruption
                .reason
                .starts_with("the target cannot be reached: "),
            "{interruption:?}"
        );
        run_now(&engine, app.id).await;
    }
    until("quarantine", || async {
        jobs::load(&engine.db, app.id).await.unwrap().state == JobState::Quarantine
    })
    .await;
    let job = jobs::load(&engine.db, app.id).await.unwrap();
    let reason = job.quarantine_reason.unwrap();
    assert!(
        reason.starts_with("the target could not be reached in 4 cycles in a row: the target cannot be reached: could not connect")
            || reason.starts_with("the target could not be reached in 4 cycles in a row: the target cannot be reached: the connection failed"),
        "{reason}"
    );
    assert!(target_users(&format!("{origin}/v2")).await.is_empty());
    for entry in log::latest(&engine.db, app.id, 20).await.unwrap() {
        assert_eq!(entry.error_code.as_deref(), Some("TargetUnreachable"));
    }
    let escrows: i64 = engine::db::query_scalar("SELECT COUNT(*) FROM provisioning_escrows")
        .fetch_one(&engine.db)
        .await
        .unwrap();
    assert_eq!(escrows, 0, "nothing is wrong with the objects themselves");

    // Back up, then Restart: the users arrive and the interruption is gone.
    peers::set_faults(&proxy, json!({})).await;
    engine
        .restart_job(&Caller::system(), &admin, app.id, false)
        .await
        .unwrap();
    until("both users in the target", || async {
        target_users(&format!("{origin}/v2")).await.len() == 2
    })
    .await;
    until("the interruption cleared", || async {
        let job = jobs::load(&engine.db, app.id).await.unwrap();
        job.last_interruption.is_none() && job.state == JobState::Active
    })
    .await;
}
