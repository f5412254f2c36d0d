//! The Provisioning blade's Settings, each doing what it says, against a real `scim2-server`:
//! Sync all users and groups, scoping filters on groups, Skip out of scope deletions, Stop
//! provisioning, and the OAuth client credentials grant.

use engine::{
    applications::{
        provisioning::{Scope, SecretChanges, Status},
        roles::PrincipalType,
    },
    audit::Caller,
    directory::groups::GroupProfile,
    mapping::scoping::{Clause, Operator, ScopingFilter, ScopingFilters},
    sync::log::{self, Status as LogStatus},
};

use super::{
    peers,
    sync::{
        application, first_report, grace_and_alan, role, target_groups, target_users, turn_on,
        until,
    },
};

fn user_names(users: &[serde_json::Value]) -> Vec<String> {
    let mut names: Vec<String> = users
        .iter()
        .map(|u| u["userName"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn sync_all_users_and_groups_provisions_people_nobody_assigned() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    grace_and_alan(&engine).await;
    turn_on(&engine, &admin, app.id, &scim.url, |s| s.scope = Scope::All).await;

    first_report(&engine, app.id).await;
    // Everyone in the directory (the administrator too), with no assignment at all.
    assert_eq!(
        user_names(&target_users(&scim.url).await),
        ["admin@contoso.com", "alan@contoso.com", "grace@contoso.com"]
    );
}

#[tokio::test]
async fn scoping_filters_on_groups_choose_the_groups_sent() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let system = Caller::system();
    let (grace, alan) = grace_and_alan(&engine).await;
    let group = |name: &str| GroupProfile {
        display_name: name.into(),
        ..GroupProfile::default()
    };
    let engineers = engine
        .create_group(&system, group("Engineers"), &[grace.id])
        .await
        .unwrap();
    let sales = engine
        .create_group(&system, group("Sales"), &[alan.id])
        .await
        .unwrap();
    let access = role(&engine, &admin, app.id, "Default Access").await;
    for group in [engineers.id, sales.id] {
        engine
            .assign(&system, &admin, app.id, PrincipalType::Group, group, access)
            .await
            .unwrap();
    }
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.groups.scoping = ScopingFilters(vec![ScopingFilter {
            name: "Engineering groups".into(),
            clauses: vec![Clause {
                attribute: "displayName".into(),
                operator: Operator::Equals,
                value: "Engineers".into(),
            }],
        }]);
    })
    .await;

    first_report(&engine, app.id).await;
    let groups = target_groups(&scim.url).await;
    let names: Vec<&str> = groups
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Engineers"], "Sales is out of the groups' scope");
    let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
    let skipped = entries
        .iter()
        .find(|e| e.source_id == sales.id)
        .expect("an entry for Sales");
    assert_eq!(
        (skipped.status, skipped.error_code.as_deref()),
        (LogStatus::Skipped, Some("NotInScope"))
    );
    // The users scope is its own: both members are assigned through their groups.
    assert_eq!(
        user_names(&target_users(&scim.url).await),
        ["alan@contoso.com", "grace@contoso.com"]
    );
}

#[tokio::test]
async fn skip_out_of_scope_deletions_leaves_an_unassigned_users_account_active() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let system = Caller::system();
    let (grace, alan) = grace_and_alan(&engine).await;
    let access = role(&engine, &admin, app.id, "Default Access").await;
    for user in [grace.id, alan.id] {
        engine
            .assign(&system, &admin, app.id, PrincipalType::User, user, access)
            .await
            .unwrap();
    }
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.skip_out_of_scope_deletions = true;
    })
    .await;
    first_report(&engine, app.id).await;
    assert_eq!(target_users(&scim.url).await.len(), 2);

    let alans = engine
        .app_assignments(&admin, app.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.principal_id == alan.id)
        .unwrap();
    engine
        .remove_assignment(&system, &admin, app.id, alans.id)
        .await
        .unwrap();
    // The cycle decides about Alan and logs why it left his account alone.
    until("alan's skipped entry", || async {
        log::latest(&engine.db, app.id, 50)
            .await
            .unwrap()
            .iter()
            .any(|e| e.source_id == alan.id && e.status == LogStatus::Skipped)
    })
    .await;
    let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
    let skipped = entries
        .iter()
        .find(|e| e.source_id == alan.id && e.status == LogStatus::Skipped)
        .unwrap();
    assert!(
        skipped
            .reason
            .as_deref()
            .unwrap_or_default()
            .ends_with("Skip out of scope deletions is on."),
        "{:?}",
        skipped.reason
    );
    let users = target_users(&scim.url).await;
    let alan_account = users
        .iter()
        .find(|u| u["userName"] == "alan@contoso.com")
        .expect("Alan's account is still there");
    assert_eq!(alan_account["active"], true, "and still active");
}

#[tokio::test]
async fn a_stopped_application_gets_nothing_until_provisioning_starts_again() {
    // Two applications on one directory: the one left on shows when the change's cycles have
    // run, and the stopped one must have received nothing by then.
    let (_console, engine, admin, stopped) = application("custom-scim").await;
    let system = Caller::system();
    let running = engine
        .create_application(&system, &admin, "custom-scim", "Running")
        .await
        .unwrap();
    let (stopped_scim, stopped_origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&stopped_origin);
    let (running_scim, _) = peers::scim_server(None);
    let (grace, _) = grace_and_alan(&engine).await;
    for app in [stopped.id, running.id] {
        let access = role(&engine, &admin, app, "Default Access").await;
        engine
            .assign(&system, &admin, app, PrincipalType::User, grace.id, access)
            .await
            .unwrap();
    }
    turn_on(
        &engine,
        &admin,
        stopped.id,
        &format!("{}/v2", proxy.url),
        |_| {},
    )
    .await;
    turn_on(&engine, &admin, running.id, &running_scim.url, |_| {}).await;
    first_report(&engine, stopped.id).await;
    first_report(&engine, running.id).await;

    // Stop provisioning (the overview's button), then change Grace.
    engine
        .set_provisioning_status(&system, &admin, stopped.id, false)
        .await
        .unwrap();
    let after_stop = peers::faults_seen(&proxy).await["requests"]
        .as_u64()
        .unwrap();
    let mut promoted = grace.profile.clone();
    promoted.job_title = Some("Rear Admiral".into());
    engine
        .update_user(&system, grace.id, promoted, None)
        .await
        .unwrap();
    until("the running application's update", || async {
        target_users(&running_scim.url)
            .await
            .iter()
            .any(|u| u["title"] == "Rear Admiral")
    })
    .await;
    // The same wake-up reached both jobs; the running one's cycle has ended.
    until("the running application's cycle to end", || async {
        engine
            .job(&admin, running.id)
            .await
            .unwrap()
            .current_cycle
            .is_none()
    })
    .await;
    assert_eq!(
        peers::faults_seen(&proxy).await["requests"].as_u64(),
        Some(after_stop),
        "no request reached the stopped application"
    );
    assert_eq!(
        target_users(&stopped_scim.url).await[0]["title"],
        serde_json::Value::Null
    );

    // Start provisioning: the change arrives.
    engine
        .set_provisioning_status(&system, &admin, stopped.id, true)
        .await
        .unwrap();
    until("the stopped application's update after Start", || async {
        target_users(&stopped_scim.url).await[0]["title"] == "Rear Admiral"
    })
    .await;
}

#[tokio::test]
async fn the_client_credentials_grant_gets_a_token_the_target_accepts() {
    const AUDIENCE: &str = "urn:scimitar:client-credentials";
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, origin) = peers::scim_server(None);
    let oidc = peers::oidc(
        serde_json::json!([{
            "client_id": "scimitar", "client_secret": "scimitar-secret",
            "redirect_uris": [], "grant_types": ["client_credentials"],
        }]),
        AUDIENCE,
        600,
    );
    // Requests pass only with a JWT from that provider, for that audience.
    let proxy = peers::jwt_proxy(&origin, &oidc.url, AUDIENCE);
    let system = Caller::system();
    let (grace, _) = grace_and_alan(&engine).await;
    let access = role(&engine, &admin, app.id, "Default Access").await;
    engine
        .assign(
            &system,
            &admin,
            app.id,
            PrincipalType::User,
            grace.id,
            access,
        )
        .await
        .unwrap();

    let config = engine.provisioning(&admin, app.id).await.unwrap();
    let mut settings = config.settings.clone();
    settings.mode = engine::applications::provisioning::Mode::Automatic;
    settings.status = Status::On;
    settings.authentication =
        engine::applications::gallery::AuthenticationMethod::Oauth2ClientCredentials;
    settings.scim_base_url = format!("{}/v2", proxy.url);
    settings.oauth.client_id = "scimitar".into();
    settings.oauth.token_url = format!("{}/token", oidc.url);
    settings.oauth.scopes = "scim".into();
    let secrets = SecretChanges {
        secret_token: None,
        client_secret: Some("scimitar-secret".to_owned().into()),
    };
    engine
        .save_provisioning(&system, &admin, app.id, config.version, settings, secrets)
        .await
        .unwrap();

    let report = first_report(&engine, app.id).await;
    assert_eq!(report.counts.created, 1, "{report:?}");
    assert_eq!(
        user_names(&target_users(&scim.url).await),
        ["grace@contoso.com"]
    );
}
