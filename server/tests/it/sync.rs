//! Provisioning cycles against a real `scim2-server`: expected target states are written by
//! hand here, never computed by the engine's mapping code.

use std::time::{Duration, Instant};

use engine::{
    Engine,
    accounts::{Account, Role},
    applications::{
        Application,
        provisioning::{Mode, SecretChanges, Status},
        roles::PrincipalType,
    },
    audit::Caller,
    directory::{UserProfile, groups::GroupProfile},
    mapping::scoping::{Clause, Operator, ScopingFilter, ScopingFilters},
    sync::{
        jobs::{self, JobState},
        log::{self, Action, Status as LogStatus},
        notify::{Security, SmtpSettings},
    },
};
use serde_json::Value;
use uuid::Uuid;

use super::{harness::Console, peers};

/// Waits for `condition`, up to 60 seconds (tests run side by side on two cores in CI).
pub(super) async fn until<F, Fut>(what: &str, condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    until_within(what, Duration::from_secs(60), condition).await;
}

pub(super) async fn until_within<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn target_users(scim: &str) -> Vec<Value> {
    let answer: Value = reqwest::get(format!("{scim}/Users?count=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["Resources"].as_array().cloned().unwrap_or_default()
}

pub(super) fn profile(upn: &str, given: &str, surname: Option<&str>) -> UserProfile {
    UserProfile {
        user_principal_name: upn.into(),
        display_name: format!("{given} {}", surname.unwrap_or_default())
            .trim()
            .to_owned(),
        given_name: Some(given.into()),
        surname: surname.map(str::to_owned),
        mail: Some(upn.into()),
        department: Some("Research".into()),
        ..UserProfile::default()
    }
}

#[tokio::test]
async fn assigned_users_land_change_and_leave_the_target() {
    let console = Console::start();
    let (scim, _) = peers::scim_server(None);
    let engine = console.engine().await;
    let system = Caller::system();
    let admin_user = engine
        .create_user(&system, profile("admin@contoso.com", "Ada", Some("Admin")))
        .await
        .unwrap();
    let admin = Account {
        id: admin_user.id,
        user_principal_name: "admin@contoso.com".into(),
        display_name: "Ada Admin".into(),
        role: Role::GlobalAdministrator,
        session_stamp: String::new(),
    };
    let (grace, alan) = grace_and_alan(&engine).await;
    let app = engine
        .create_application(&system, &admin, "custom-scim", "Contoso SCIM")
        .await
        .unwrap();
    let role = engine.app_roles(&admin, app.id).await.unwrap()[0].id;
    for user in [grace.id, alan.id] {
        engine
            .assign(&system, &admin, app.id, PrincipalType::User, user, role)
            .await
            .unwrap();
    }
    let config = engine.provisioning(&admin, app.id).await.unwrap();
    let mut settings = config.settings.clone();
    settings.mode = Mode::Automatic;
    settings.status = Status::On;
    settings.scim_base_url = scim.url.clone();
    engine
        .save_provisioning(
            &system,
            &admin,
            app.id,
            config.version,
            settings,
            SecretChanges {
                secret_token: Some("any".to_owned().into()),
                client_secret: None,
            },
        )
        .await
        .unwrap();

    // The server's scheduler runs the initial cycle: both users arrive, as written here.
    until("two users in the target", || async {
        target_users(&scim.url).await.len() == 2
    })
    .await;
    let users = target_users(&scim.url).await;
    let grace_there = users
        .iter()
        .find(|u| u["userName"] == "grace@contoso.com")
        .expect("grace");
    assert_eq!(grace_there["name"]["givenName"], "Grace");
    assert_eq!(grace_there["name"]["familyName"], "Hopper");
    assert_eq!(grace_there["name"]["formatted"], "Grace Hopper");
    assert_eq!(grace_there["active"], true);
    assert_eq!(grace_there["emails"][0]["value"], "grace@contoso.com");
    assert_eq!(grace_there["externalId"], Value::Null);
    assert_eq!(
        grace_there["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Research"
    );

    // A change reaches the target without waiting for the 40-minute interval.
    let mut changed = grace.profile.clone();
    changed.job_title = Some("Rear Admiral".into());
    engine
        .update_user(&system, grace.id, changed, None)
        .await
        .unwrap();
    until("the new title", || async {
        target_users(&scim.url)
            .await
            .iter()
            .any(|u| u["userName"] == "grace@contoso.com" && u["title"] == "Rear Admiral")
    })
    .await;
    // The entry is written once the cycle's batch ends, just after the PATCH.
    let is_update = |e: &log::Row| {
        e.source_id == grace.id && e.action == Action::Update && e.status == LogStatus::Success
    };
    until("the update's log entry", || async {
        let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
        entries.iter().any(is_update)
    })
    .await;
    let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
    let update = entries
        .iter()
        .find(|e| is_update(e))
        .expect("an update entry");
    assert_eq!(
        update.modified.0,
        serde_json::json!([{ "attribute": "title", "old": null, "new": "Rear Admiral" }]),
        "one PATCH with only the changed attribute"
    );

    // Unassigned: active=false in the target.
    let assignment = engine
        .app_assignments(&admin, app.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.principal_id == alan.id)
        .unwrap();
    engine
        .remove_assignment(&system, &admin, app.id, assignment.id)
        .await
        .unwrap();
    until("alan disabled", || async {
        target_users(&scim.url)
            .await
            .iter()
            .any(|u| u["userName"] == "alan@contoso.com" && u["active"] == false)
    })
    .await;

    // Deleted permanently: DELETE.
    engine.delete_user(&system, grace.id, None).await.unwrap();
    until("grace disabled", || async {
        target_users(&scim.url)
            .await
            .iter()
            .any(|u| u["userName"] == "grace@contoso.com" && u["active"] == false)
    })
    .await;
    engine.purge_user(&system, grace.id).await.unwrap();
    until("grace deleted", || async {
        !target_users(&scim.url)
            .await
            .iter()
            .any(|u| u["userName"] == "grace@contoso.com")
    })
    .await;
    assert_eq!(target_users(&scim.url).await.len(), 1, "nothing duplicated");
}

/// A console, its engine (from the test process: the server's scheduler runs the cycles), an
/// administrator and a new application from `template`.
pub(super) async fn application(template: &str) -> (Console, Engine, Account, Application) {
    application_on(Console::start(), template).await
}

/// As [`application`], on a console already started.
pub(super) async fn application_on(
    console: Console,
    template: &str,
) -> (Console, Engine, Account, Application) {
    let engine = console.engine().await;
    let system = Caller::system();
    let admin_user = engine
        .create_user(&system, profile("admin@contoso.com", "Ada", Some("Admin")))
        .await
        .unwrap();
    let admin = Account {
        id: admin_user.id,
        user_principal_name: "admin@contoso.com".into(),
        display_name: "Ada Admin".into(),
        role: Role::GlobalAdministrator,
        session_stamp: String::new(),
    };
    let app = engine
        .create_application(&system, &admin, template, "Target")
        .await
        .unwrap();
    (console, engine, admin, app)
}

/// Points the application at `scim_url` and turns provisioning on, with `change` applied.
pub(super) async fn turn_on(
    engine: &Engine,
    admin: &Account,
    app: Uuid,
    scim_url: &str,
    change: impl FnOnce(&mut engine::applications::provisioning::Settings),
) {
    let config = engine.provisioning(admin, app).await.unwrap();
    let mut settings = config.settings.clone();
    settings.mode = Mode::Automatic;
    settings.status = Status::On;
    settings.scim_base_url = scim_url.to_owned();
    change(&mut settings);
    let secrets = SecretChanges {
        secret_token: Some("any".to_owned().into()),
        client_secret: None,
    };
    engine
        .save_provisioning(
            &Caller::system(),
            admin,
            app,
            config.version,
            settings,
            secrets,
        )
        .await
        .unwrap();
}

pub(super) async fn role(engine: &Engine, admin: &Account, app: Uuid, name: &str) -> Uuid {
    engine
        .app_roles(admin, app)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.display_name == name)
        .unwrap()
        .id
}

pub(super) async fn target_groups(scim: &str) -> Vec<Value> {
    let answer: Value = reqwest::get(format!("{scim}/Groups?count=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["Resources"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn groups_carry_their_linked_members_and_follow_membership_changes() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let system = Caller::system();
    let (grace, alan) = grace_and_alan(&engine).await;
    let group = engine
        .create_group(
            &system,
            GroupProfile {
                display_name: "Engineers".into(),
                ..Default::default()
            },
            &[grace.id, alan.id],
        )
        .await
        .unwrap();
    let default_access = role(&engine, &admin, app.id, "Default Access").await;
    engine
        .assign(
            &system,
            &admin,
            app.id,
            PrincipalType::Group,
            group.id,
            default_access,
        )
        .await
        .unwrap();
    turn_on(&engine, &admin, app.id, &scim.url, |_| {}).await;

    until("the group with both members", || async {
        target_groups(&scim.url).await.iter().any(|g| {
            g["displayName"] == "Engineers" && g["members"].as_array().is_some_and(|m| m.len() == 2)
        })
    })
    .await;
    let users = target_users(&scim.url).await;
    assert_eq!(
        users.len(),
        2,
        "the group's members were provisioned with it"
    );
    let alan_id = users
        .iter()
        .find(|u| u["userName"] == "alan@contoso.com")
        .unwrap()["id"]
        .clone();
    let engineers = target_groups(&scim.url)
        .await
        .into_iter()
        .find(|g| g["displayName"] == "Engineers")
        .unwrap();
    assert_eq!(engineers["externalId"], group.id.to_string());

    // Alan leaves the group: he leaves scope (disabled) and the group's members.
    engine
        .change_group_members(&system, group.id, &[], &[alan.id], None)
        .await
        .unwrap();
    until("alan out of the group and disabled", || async {
        let groups = target_groups(&scim.url).await;
        let members = groups
            .iter()
            .find(|g| g["displayName"] == "Engineers")
            .and_then(|g| g["members"].as_array().cloned())
            .unwrap_or_default();
        let users = target_users(&scim.url).await;
        members.len() == 1
            && !members.iter().any(|m| m["value"] == alan_id)
            && users
                .iter()
                .any(|u| u["userName"] == "alan@contoso.com" && u["active"] == false)
    })
    .await;
}

#[tokio::test]
async fn scoping_filters_and_accounts_already_in_the_target() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let system = Caller::system();
    let grace = engine
        .create_user(
            &system,
            profile("grace@contoso.com", "Grace", Some("Hopper")),
        )
        .await
        .unwrap();
    let mut sales = profile("alan@contoso.com", "Alan", Some("Turing"));
    sales.department = Some("Sales".into());
    let alan = engine.create_user(&system, sales).await.unwrap();
    // Grace already has an account in the target, made by someone else.
    let existing: Value = reqwest::Client::new()
        .post(format!("{}/Users", scim.url))
        .header("Content-Type", "application/scim+json")
        .body(
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "grace@contoso.com",
                "title": "Programmer"
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = role(&engine, &admin, app.id, "Default Access").await;
    for user in [grace.id, alan.id] {
        engine
            .assign(&system, &admin, app.id, PrincipalType::User, user, access)
            .await
            .unwrap();
    }
    turn_on(&engine, &admin, app.id, &scim.url, |settings| {
        settings.users.scoping = ScopingFilters(vec![ScopingFilter {
            name: "Research only".into(),
            clauses: vec![Clause {
                attribute: "department".into(),
                operator: Operator::Equals,
                value: "Research".into(),
            }],
        }]);
    })
    .await;

    // Grace is matched by userName and updated, not created twice; Alan is out of scope.
    until("grace updated", || async {
        target_users(&scim.url)
            .await
            .iter()
            .any(|u| u["userName"] == "grace@contoso.com" && u["name"]["familyName"] == "Hopper")
    })
    .await;
    let users = target_users(&scim.url).await;
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0]["id"], existing["id"],
        "the existing account, not a new one"
    );
    // Entries are written when the cycle's batch ends, just after its requests.
    until("alan's log entry", || async {
        let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
        entries.iter().any(|e| e.source_id == alan.id)
    })
    .await;
    let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
    let skipped = entries
        .iter()
        .find(|e| e.source_id == alan.id)
        .expect("alan's entry");
    assert_eq!(
        (skipped.status, skipped.error_code.as_deref()),
        (LogStatus::Skipped, Some("NotInScope"))
    );
    assert_eq!(
        skipped.reason.as_deref(),
        Some("The user does not pass the application's scoping filters.")
    );

    // Alan moves to Research: he comes into scope and arrives.
    let mut moved = alan.profile.clone();
    moved.department = Some("Research".into());
    engine
        .update_user(&system, alan.id, moved, None)
        .await
        .unwrap();
    until("alan created", || async {
        target_users(&scim.url)
            .await
            .iter()
            .any(|u| u["userName"] == "alan@contoso.com")
    })
    .await;
}

#[tokio::test]
async fn more_disables_than_the_threshold_wait_for_allow_deletes() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    everyone_assigned(&engine, &admin, app.id, 600).await;
    let system = Caller::system();
    turn_on(&engine, &admin, app.id, &scim.url, |settings| {
        settings.groups.enabled = false
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while target_users(&scim.url).await.len() < 600 {
        assert!(Instant::now() < deadline, "600 users never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Unassigning the group plans 600 disables, over the threshold of 500: none is sent.
    let assignment = engine.app_assignments(&admin, app.id).await.unwrap()[0].id;
    engine
        .remove_assignment(&system, &admin, app.id, assignment)
        .await
        .unwrap();
    until_within(
        "the job in quarantine",
        Duration::from_secs(180),
        || async { jobs::load(&engine.db, app.id).await.unwrap().state == JobState::Quarantine },
    )
    .await;
    assert!(
        target_users(&scim.url)
            .await
            .iter()
            .all(|u| u["active"] == true),
        "nothing disabled"
    );
    let entries = log::latest(&engine.db, app.id, 10).await.unwrap();
    assert!(
        entries.iter().all(|e| e.action == Action::StagedDelete),
        "staged, not sent"
    );

    engine.allow_deletes(&system, &admin, app.id).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !target_users(&scim.url)
        .await
        .iter()
        .all(|u| u["active"] == false)
    {
        assert!(Instant::now() < deadline, "the disables never happened");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        jobs::load(&engine.db, app.id).await.unwrap().state,
        JobState::Active
    );
}

#[tokio::test]
async fn vonage_skips_default_access_and_names_the_missing_surname() {
    const AUDIENCE: &str = "urn:scimitar:sync-test";
    const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
    let (_console, engine, admin, app) = application("vonage").await;
    let (_scim, scim_origin) = peers::scim_server(None);
    let oidc = peers::oidc(
        serde_json::json!([{
            "client_id": "vonage", "client_secret": "vonage-secret",
            "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"],
        }]),
        AUDIENCE,
        600,
    );
    let proxy = peers::jwt_proxy(&scim_origin, &oidc.url, AUDIENCE);
    let scim_url = format!("{}/v2", proxy.url);
    let system = Caller::system();

    // Admin Credentials: the client registration, then Authorize at the provider.
    let config = engine.provisioning(&admin, app.id).await.unwrap();
    let mut settings = config.settings.clone();
    settings.mode = Mode::Automatic;
    settings.scim_base_url = scim_url.clone();
    settings.oauth.client_id = "vonage".into();
    settings.oauth.authorization_url = format!("{}/auth", oidc.url);
    settings.oauth.token_url = format!("{}/token", oidc.url);
    settings.oauth.scopes = "openid offline_access scim".into();
    let secrets = SecretChanges {
        secret_token: None,
        client_secret: Some("vonage-secret".to_owned().into()),
    };
    engine
        .save_provisioning(&system, &admin, app.id, config.version, settings, secrets)
        .await
        .unwrap();
    let authorize = || async {
        let start = engine
            .start_authorization(&admin, app.id, REDIRECT)
            .await
            .unwrap();
        let back = peers::sign_in_and_consent(&start.url, REDIRECT).await;
        let code = reqwest::Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        (start, code)
    };
    // The ID token must bring back the nonce of this authorization, not another.
    let (start, code) = authorize().await;
    let other: secrecy::SecretString = "another-authorizations-nonce".to_owned().into();
    let refused = engine
        .complete_authorization(
            &system,
            &admin,
            app.id,
            &code,
            &start.pkce_verifier,
            Some(&other),
            REDIRECT,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("does not carry the nonce"), "{refused}");
    let (start, code) = authorize().await;
    engine
        .complete_authorization(
            &system,
            &admin,
            app.id,
            &code,
            &start.pkce_verifier,
            start.nonce.as_ref(),
            REDIRECT,
        )
        .await
        .unwrap();

    let grace = engine
        .create_user(
            &system,
            profile("grace@contoso.com", "Grace", Some("Hopper")),
        )
        .await
        .unwrap();
    let cher = engine
        .create_user(&system, profile("cher@contoso.com", "Cher", None))
        .await
        .unwrap();
    let ada = engine
        .create_user(&system, profile("ada@contoso.com", "Ada", Some("Lovelace")))
        .await
        .unwrap();
    let user_role = role(&engine, &admin, app.id, "User").await;
    let default_access = role(&engine, &admin, app.id, "Default Access").await;
    for (user, role) in [
        (grace.id, user_role),
        (cher.id, user_role),
        (ada.id, default_access),
    ] {
        engine
            .assign(&system, &admin, app.id, PrincipalType::User, user, role)
            .await
            .unwrap();
    }
    let config = engine.provisioning(&admin, app.id).await.unwrap();
    let mut settings = config.settings.clone();
    settings.status = Status::On;
    engine
        .save_provisioning(
            &system,
            &admin,
            app.id,
            config.version,
            settings,
            SecretChanges::default(),
        )
        .await
        .unwrap();

    first_report(&engine, app.id).await;
    // Only Grace, through the JWT-checking proxy: the OAuth access token reached the target.
    let users = target_users(&scim_origin).await;
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["grace@contoso.com"]);
    assert_eq!(
        users[0]["name"],
        serde_json::json!({ "givenName": "Grace", "familyName": "Hopper" })
    );
    assert_eq!(
        users[0]["emails"],
        serde_json::json!([{ "type": "work", "value": "grace@contoso.com" }])
    );
    assert_eq!(users[0]["active"], true);

    let entries = log::latest(&engine.db, app.id, 20).await.unwrap();
    let of = |id: Uuid| entries.iter().find(|e| e.source_id == id).unwrap();
    let missing = of(cher.id);
    assert_eq!(
        (missing.status, missing.error_code.as_deref()),
        (LogStatus::Failure, Some("MissingRequiredAttribute"))
    );
    assert!(
        missing
            .reason
            .as_deref()
            .unwrap()
            .contains("name.familyName"),
        "{:?}",
        missing.reason
    );
    let skipped = of(ada.id);
    assert_eq!(skipped.status, LogStatus::Skipped);
    assert!(
        skipped
            .reason
            .as_deref()
            .unwrap()
            .starts_with("Not effectively entitled"),
        "{:?}",
        skipped.reason
    );
    assert_eq!(of(grace.id).action, Action::Create);
}

/// `count` users in a group "Everyone", which is assigned to `app` with Default Access.
async fn everyone_assigned(engine: &Engine, admin: &Account, app: Uuid, count: usize) {
    let system = Caller::system();
    let mut members = Vec::with_capacity(count);
    for n in 0..count {
        let upn = format!("user{n:04}@contoso.com");
        let user = profile(&upn, "User", Some(&format!("N{n:04}")));
        members.push(engine.create_user(&system, user).await.unwrap().id);
    }
    let everyone = GroupProfile {
        display_name: "Everyone".into(),
        ..Default::default()
    };
    let group = engine
        .create_group(&system, everyone, &members)
        .await
        .unwrap();
    let access = role(engine, admin, app, "Default Access").await;
    engine
        .assign(&system, admin, app, PrincipalType::Group, group.id, access)
        .await
        .unwrap();
}

/// `count` users assigned to `app` with Default Access.
pub(super) async fn assigned_users(
    engine: &Engine,
    admin: &Account,
    app: Uuid,
    count: usize,
) -> Vec<Uuid> {
    let system = Caller::system();
    let access = role(engine, admin, app, "Default Access").await;
    let mut ids = Vec::new();
    for n in 0..count {
        let upn = format!("user{n:02}@contoso.com");
        let user = engine
            .create_user(&system, profile(&upn, "User", Some(&format!("N{n:02}"))))
            .await
            .unwrap();
        engine
            .assign(&system, admin, app, PrincipalType::User, user.id, access)
            .await
            .unwrap();
        ids.push(user.id);
    }
    ids
}

#[tokio::test]
async fn retry_after_is_honoured_before_the_next_request() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(
        &proxy,
        serde_json::json!({ "status429Share": 0.4, "retryAfter": 2, "only": "^POST ", "seed": 3 }),
    )
    .await;
    assigned_users(&engine, &admin, app.id, 6).await;
    // One POST per user (no Bulk), so that several of them draw.
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        s.target.use_capabilities = false;
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while target_users(&origin).await.len() < 6 {
        assert!(Instant::now() < deadline, "the users never all arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = peers::faults_seen(&proxy).await;
    let log = seen["log"].as_array().unwrap();
    let throttled: Vec<usize> = (0..log.len())
        .filter(|i| log[*i]["outcome"] == "429")
        .collect();
    assert!(
        !throttled.is_empty(),
        "the proxy answered 429 at least once: {seen}"
    );
    // Requests run four at a time: one already on its way when the 429 left the proxy may
    // arrive just after it; nothing sent once the client read the 429 may arrive before 2 s.
    let at = |entry: &Value| entry["t"].as_i64().unwrap();
    for i in throttled {
        for later in &log[i + 1..] {
            let waited = at(later) - at(&log[i]);
            assert!(
                !(250..1990).contains(&waited),
                "a request {waited} ms after a 429 with Retry-After: 2: {later}"
            );
        }
    }
    assert_eq!(target_users(&origin).await.len(), 6, "no duplicate");
}

#[tokio::test]
async fn a_cycle_through_errors_and_resets_ends_with_the_target_exactly_right() {
    // One request per object, then all of them in one /Bulk request.
    for use_capabilities in [false, true] {
        through_errors_and_resets(use_capabilities).await;
    }
}

async fn through_errors_and_resets(use_capabilities: bool) {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    let faults = if use_capabilities {
        // Only the Bulk request draws: the same seed gives the same faults.
        serde_json::json!({ "status500Share": 0.2, "resetShare": 0.3, "only": "^POST /v2/Bulk", "seed": 7 })
    } else {
        serde_json::json!({ "status500Share": 0.1, "status503Share": 0.1, "resetShare": 0.1, "seed": 11 })
    };
    peers::set_faults(&proxy, faults).await;
    assigned_users(&engine, &admin, app.id, 20).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        s.target.use_capabilities = use_capabilities;
    })
    .await;
    let report = first_report(&engine, app.id).await;
    assert_eq!(
        (report.counts.created, report.counts.failed),
        (20, 0),
        "{report:?}"
    );
    let mut names: Vec<String> = target_users(&origin)
        .await
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = (0..20).map(|n| format!("user{n:02}@contoso.com")).collect();
    assert_eq!(names, expected, "every user exactly once");
    let seen = peers::faults_seen(&proxy).await;
    let injected = &seen["injected"];
    let faults = injected["500"].as_i64().unwrap()
        + injected["503"].as_i64().unwrap()
        + injected["reset"].as_i64().unwrap();
    // Without capabilities, about 60 requests; with them, one Bulk request and its retries.
    assert!(
        faults > if use_capabilities { 0 } else { 5 },
        "faults were injected: {seen}"
    );
    if use_capabilities {
        assert!(seen["forwarded"].as_i64().unwrap() > 0, "{seen}");
    }
}

#[tokio::test]
async fn a_target_whose_bulk_fails_gets_one_create_per_user() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    // scim2-server advertises /Bulk; every Bulk request gets 500, retries included.
    peers::set_faults(
        &proxy,
        serde_json::json!({ "status500Share": 1.0, "only": "^POST /v2/Bulk" }),
    )
    .await;
    assigned_users(&engine, &admin, app.id, 20).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
    })
    .await;
    let report = first_report(&engine, app.id).await;
    assert_eq!(
        (report.counts.created, report.counts.failed),
        (20, 0),
        "{report:?}"
    );
    assert_eq!(target_users(&origin).await.len(), 20);
    let seen = peers::faults_seen(&proxy).await;
    assert!(seen["injected"]["500"].as_i64().unwrap() > 0, "{seen}");
    let posts = seen["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/v2/Users" && r["status"] == 201)
        .count();
    assert_eq!(posts, 20, "one create per user after Bulk failed: {seen}");
}

#[tokio::test]
async fn a_refused_token_quarantines_the_job_and_restart_after_fixing_clears_it() {
    let (console, engine, admin, app) = application("custom-scim").await;
    // An administrator watching the Provisioning blade, as the server renders it.
    console.admin_create(
        "ops@contoso.com",
        "Global Administrator",
        "a long enough password",
    );
    let browser = console.browser();
    console
        .sign_in(&browser, "ops@contoso.com", "a long enough password")
        .await;
    let blade = || async {
        let page = browser
            .get(console.url(&format!("/applications/{}/provisioning", app.id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        visible_text(&page)
    };
    let (scim, _) = peers::scim_server(Some("the-right-token"));
    let smtp = peers::SmtpSink::start();
    assigned_users(&engine, &admin, app.id, 2).await;
    let system = Caller::system();
    engine
        .save_smtp_settings(
            &system,
            &admin,
            SmtpSettings {
                host: "127.0.0.1".into(),
                port: smtp.port,
                security: Security::None,
                username: String::new(),
                from_address: "scimitar@contoso.com".into(),
                has_password: false,
            },
            None,
        )
        .await
        .unwrap();
    engine
        .send_test_email(&admin, "ops@contoso.com")
        .await
        .unwrap();
    assert!(
        smtp.messages()
            .iter()
            .any(|m| m.contains("Subject: Scimitar test email")),
        "the test email arrived"
    );
    let config = engine.provisioning(&admin, app.id).await.unwrap();
    let mut settings = config.settings.clone();
    settings.notification_email = "provisioning-alerts@contoso.com".into();
    settings.notify_on_failure = true;
    settings.mode = Mode::Automatic;
    settings.status = Status::On;
    settings.scim_base_url = scim.url.clone();
    settings.groups.enabled = false;
    let wrong = SecretChanges {
        secret_token: Some("a-wrong-token".to_owned().into()),
        client_secret: None,
    };
    engine
        .save_provisioning(&system, &admin, app.id, config.version, settings, wrong)
        .await
        .unwrap();
    until("quarantine", || async {
        jobs::load(&engine.db, app.id).await.unwrap().state == JobState::Quarantine
    })
    .await;
    let job = jobs::load(&engine.db, app.id).await.unwrap();
    assert!(
        job.quarantine_reason
            .as_deref()
            .unwrap()
            .starts_with("the target refused the credentials (HTTP 401)"),
        "{:?}",
        job.quarantine_reason
    );
    let next = job.next_run_at.unwrap() - job.quarantine_began_at.unwrap();
    assert_eq!(
        next,
        time::Duration::hours(6),
        "the first retry of a quarantine is after 6 hours"
    );
    let entries = log::latest(&engine.db, app.id, 10).await.unwrap();
    assert_eq!(entries[0].error_code.as_deref(), Some("InvalidCredentials"));
    let page = blade().await;
    for shown in [
        "Provisioning is in quarantine.",
        "The target refused the credentials (HTTP 401)",
        "Next attempt:",
        // Advice in the words of this application's credentials: a Secret Token.
        "enter a valid Secret Token, select Test Connection, then Restart provisioning.",
        "Last interruption,",
        "Status Quarantine",
        "Stopped: the target refused the credentials",
    ] {
        assert!(page.contains(shown), "{shown:?} in {page}");
    }
    until("the quarantine email", || async {
        smtp.messages()
            .iter()
            .any(|m| m.contains("Subject: Provisioning to Target is in quarantine"))
    })
    .await;
    let email = smtp
        .messages()
        .into_iter()
        .find(|m| m.contains("is in quarantine"))
        .unwrap();
    assert!(
        email.contains("To: provisioning-alerts@contoso.com"),
        "{email}"
    );
    assert!(
        email.contains("Reason: The target refused the credentials (HTTP 401)"),
        "{email}"
    );
    // Times for people, to the minute in UTC; no link without --public-url.
    assert!(
        email.contains(" UTC") && !email.contains("+00:00:00"),
        "{email}"
    );
    assert!(!email.contains("Authorize"), "{email}");

    // The right token, then Restart: the job leaves quarantine and the users arrive.
    let config = engine.provisioning(&admin, app.id).await.unwrap();
    let right = SecretChanges {
        secret_token: Some("the-right-token".to_owned().into()),
        client_secret: None,
    };
    engine
        .save_provisioning(
            &system,
            &admin,
            app.id,
            config.version,
            config.settings,
            right,
        )
        .await
        .unwrap();
    assert_eq!(
        jobs::load(&engine.db, app.id).await.unwrap().state,
        JobState::Quarantine,
        "fixing alone does not restart"
    );
    // Restart from the blade's overview, as its button posts before the WASM has loaded.
    let restart = browser
        .post(console.url("/api/provisioning/control"))
        .form(&[("id", app.id.to_string().as_str()), ("command", "restart")])
        .send()
        .await
        .unwrap();
    assert!(
        restart.status().is_success() || restart.status().is_redirection(),
        "{}",
        restart.status()
    );
    let client = reqwest::Client::new();
    until("both users in the target", || async {
        let answer: Value = client
            .get(format!("{}/Users", scim.url))
            .bearer_auth("the-right-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["totalResults"] == 2
    })
    .await;
    let job = jobs::load(&engine.db, app.id).await.unwrap();
    assert_eq!((job.state, job.quarantine_reason), (JobState::Active, None));
    until("the blade showing the completed cycle", || async {
        let page = blade().await;
        page.contains("Status Active")
            && page.contains("2 users linked in the application, 0 groups linked")
            && page.contains("Completed.")
            && page.contains("Created: 2")
            && !page.contains("Provisioning is in quarantine")
    })
    .await;
}

/// A page's text as a reader sees it: no tags, no comments, spaces collapsed.
pub(super) fn visible_text(html: &str) -> String {
    let body = html.split("<body").nth(1).unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&#x27;", "'").replace("&quot;", "\"");
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").replace(" : ", ": ").replace(" .", ".")
}

#[tokio::test]
async fn a_target_that_is_down_gets_its_objects_when_it_is_back() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(&proxy, serde_json::json!({ "down": true })).await;
    assigned_users(&engine, &admin, app.id, 4).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false
    })
    .await;
    until("the cycle interrupted", || async {
        jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .last_cycle
            .is_some_and(|c| {
                matches!(
                    c.0.outcome,
                    engine::sync::cycle::Outcome::Interrupted { .. }
                )
            })
    })
    .await;
    let entries = log::latest(&engine.db, app.id, 10).await.unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e.error_code.as_deref() == Some("TargetUnreachable")),
        "failed as unreachable"
    );
    assert!(target_users(&origin).await.is_empty());
    assert_eq!(
        jobs::load(&engine.db, app.id).await.unwrap().state,
        JobState::Active,
        "not quarantined"
    );

    // Back up: the next cycle (soon, not at the 40-minute interval) brings everyone.
    peers::set_faults(&proxy, serde_json::json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while target_users(&origin).await.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "the users never arrived after recovery"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    until("the escrows cleared", || async {
        engine::db::query_scalar::<i64>("SELECT COUNT(*) FROM provisioning_escrows")
            .fetch_one(&engine.db)
            .await
            .unwrap()
            == 0
    })
    .await;
    assert_eq!(target_users(&origin).await.len(), 4, "no duplicate");
}

#[tokio::test]
async fn a_crash_mid_cycle_resumes_without_duplicates_or_losses() {
    const USERS: usize = 1000;
    let (mut console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    // Slow enough to catch the cycle in the middle.
    peers::set_faults(&proxy, serde_json::json!({ "delayMs": 5 })).await;
    everyone_assigned(&engine, &admin, app.id, USERS).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false
    })
    .await;

    // Kill -9 while the target holds between 20% and 80% of the users.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count: Value = reqwest::get(format!("{origin}/v2/Users?count=0"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let held = count["totalResults"].as_u64().unwrap() as usize;
        assert!(
            held < USERS * 8 / 10,
            "the cycle went past 80% before the crash ({held})"
        );
        if held >= USERS / 5 {
            break;
        }
        assert!(Instant::now() < deadline, "the cycle never reached 20%");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    console.crash_and_restart();

    // The restarted server takes the job over (its lease expired) and finishes the cycle.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let count: Value = reqwest::get(format!("{origin}/v2/Users?count=0"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if count["totalResults"].as_u64().unwrap() as usize >= USERS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cycle never finished after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    until("the initial cycle recorded", || async {
        jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .last_cycle
            .is_some()
    })
    .await;
    let mut names: Vec<String> = target_users(&origin)
        .await
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), USERS, "every user is there");
    let total: Value = reqwest::get(format!("{origin}/v2/Users?count=0"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        total["totalResults"], USERS,
        "and only once (the list is capped at 1,000; the total is not)"
    );
}

#[tokio::test]
async fn provision_on_demand_reports_each_step_as_it_completes() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let system = Caller::system();
    let (grace, alan) = grace_and_alan(&engine).await;
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
    // Configured but Off: nothing runs by itself.
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.status = Status::Off
    })
    .await;

    let steps = |user: Uuid| on_demand(&engine, &admin, app.id, user);
    let grace_steps = steps(grace.id).await;
    let names: Vec<&str> = grace_steps.iter().map(|s| s.0).collect();
    assert_eq!(names, ON_DEMAND_USER_STEPS);
    assert!(
        grace_steps.iter().all(|s| s.1 == "Success"),
        "{grace_steps:?}"
    );
    assert!(
        grace_steps[4]
            .2
            .starts_with("Create: userName = \"grace@contoso.com\""),
        "{:?}",
        grace_steps[4]
    );
    let users = target_users(&scim.url).await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["name"]["familyName"], "Hopper");

    let alan_steps = steps(alan.id).await;
    assert_eq!(
        alan_steps.last().unwrap(),
        &(
            "Determine if user is in scope",
            "Skipped".to_owned(),
            "The user is not assigned to the application.".to_owned()
        )
    );
    assert_eq!(
        target_users(&scim.url).await.len(),
        1,
        "nothing sent for Alan"
    );
    let entries = log::latest(&engine.db, app.id, 5).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.source_id == grace.id && e.action == Action::Create),
        "logged like a cycle"
    );
}

#[tokio::test]
async fn an_account_created_in_the_target_between_match_and_create_is_matched_after_the_409() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    // Creates wait two seconds in the proxy: time for the account to appear meanwhile.
    peers::set_faults(
        &proxy,
        serde_json::json!({ "delayMs": 2000, "only": "^POST /v2/Users" }),
    )
    .await;
    let ada = assigned_users(&engine, &admin, app.id, 1).await[0];
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false
    })
    .await;
    until("Scimitar's create reaching the proxy", || async {
        let seen = peers::faults_seen(&proxy).await;
        seen["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["method"] == "POST" && r["path"] == "/v2/Users")
    })
    .await;
    let created = reqwest::Client::new()
        .post(format!("{origin}/v2/Users"))
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "user00@contoso.com", "title": "Made by hand", "displayName": "Someone else",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let report = first_report(&engine, app.id).await;
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.failed
        ),
        (0, 1, 0),
        "{report:?}"
    );
    let users = target_users(&origin).await;
    assert_eq!(users.len(), 1, "never duplicated: {users:?}");
    assert_eq!(users[0]["displayName"], "User N00", "updated: {users:?}");
    let entry = log::latest(&engine.db, app.id, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.source_id == ada)
        .unwrap();
    assert!(
        entry.steps.0.iter().any(|s| s == "Match after conflict"),
        "{:?}",
        entry.steps
    );
}

#[tokio::test]
async fn provision_on_demand_takes_a_small_group_with_its_members() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let system = Caller::system();
    let (grace, alan) = grace_and_alan(&engine).await;
    let members = [grace.id, alan.id];
    let group_profile = |name: &str| GroupProfile {
        display_name: name.into(),
        ..GroupProfile::default()
    };
    let pioneers = engine
        .create_group(&system, group_profile("Pioneers"), &members)
        .await
        .unwrap();
    let mut many = Vec::new();
    for n in 0..6 {
        let user = engine
            .create_user(
                &system,
                profile(&format!("m{n}@contoso.com"), "M", Some("Many")),
            )
            .await
            .unwrap();
        many.push(user.id);
    }
    let crowd = engine
        .create_group(&system, group_profile("Crowd"), &many)
        .await
        .unwrap();
    let access = role(&engine, &admin, app.id, "Default Access").await;
    for group in [pioneers.id, crowd.id] {
        engine
            .assign(&system, &admin, app.id, PrincipalType::Group, group, access)
            .await
            .unwrap();
    }
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.status = Status::Off
    })
    .await;
    let steps = |object: Uuid| on_demand(&engine, &admin, app.id, object);

    let seen = steps(pioneers.id).await;
    let names: Vec<&str> = seen.iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "Test connection",
            "Import group",
            "Provision group member",
            "Provision group member",
            "Determine if group is in scope",
            "Match group between source and target system",
            "Perform action"
        ],
        "{seen:?}"
    );
    assert!(seen.iter().all(|s| s.1 == "Success"), "{seen:?}");
    assert_eq!(seen[1].2, "Pioneers with 2 members");
    let users = target_users(&scim.url).await;
    assert_eq!(users.len(), 2);
    let groups = target_groups(&scim.url).await;
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["displayName"], "Pioneers");
    let mut sent: Vec<&str> = groups[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    sent.sort();
    expected.sort();
    assert_eq!(sent, expected, "the group holds its two members");

    let seen = steps(crowd.id).await;
    assert_eq!(
        seen.last().unwrap(),
        &(
            "Import group",
            "Failure".to_owned(),
            "Crowd has 6 members; choose at most 5 of them to provision now. The others go in the next cycle."
                .to_owned()
        )
    );
    assert_eq!(target_users(&scim.url).await.len(), 2, "nothing sent");

    // As the portal: five of the six, chosen, go with the group; the sixth waits.
    let chosen = many[..5].to_vec();
    let seen = on_demand_of(&engine, &admin, app.id, crowd.id, chosen).await;
    assert_eq!(
        seen[1].2, "Crowd with 5 of its 6 members, as chosen",
        "{seen:?}"
    );
    assert!(seen.iter().all(|s| s.1 == "Success"), "{seen:?}");
    let users = target_users(&scim.url).await;
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(users.len(), 7, "{names:?}");
    assert!(
        !names.contains(&"m5@contoso.com"),
        "the member not chosen is not sent"
    );
    let crowd_in_target = target_groups(&scim.url)
        .await
        .into_iter()
        .find(|g| g["displayName"] == "Crowd")
        .expect("Crowd is created");
    assert_eq!(crowd_in_target["members"].as_array().map(Vec::len), Some(5));

    // A member of another group is not one to choose.
    let stranger = engine
        .create_user(
            &system,
            profile("stranger@contoso.com", "S", Some("Tranger")),
        )
        .await
        .unwrap();
    let seen = on_demand_of(&engine, &admin, app.id, crowd.id, vec![stranger.id]).await;
    assert_eq!(seen.last().unwrap().1, "Failure");
    assert_eq!(
        seen.last().unwrap().2,
        format!("{} is not a member of Crowd.", stranger.id)
    );
}

#[tokio::test]
async fn target_object_actions_left_out_are_not_sent() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    let ids = assigned_users(&engine, &admin, app.id, 2).await;
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.groups.enabled = false;
        s.users.update = false;
        s.users.delete = false;
    })
    .await;
    until("two users in the target", || async {
        target_users(&scim.url).await.len() == 2
    })
    .await;
    let system = Caller::system();
    let first = engine.user(ids[0]).await.unwrap();
    let profile = UserProfile {
        job_title: Some("Director".into()),
        ..first.profile
    };
    engine
        .update_user(&system, ids[0], profile, None)
        .await
        .unwrap();
    engine.delete_user(&system, ids[1], None).await.unwrap();
    let skipped = |reason: &'static str| {
        let engine = engine.clone();
        async move {
            log::latest(&engine.db, app.id, 20)
                .await
                .unwrap()
                .iter()
                .any(|e| {
                    e.status == LogStatus::Skipped
                        && e.reason.as_deref().is_some_and(|r| r.contains(reason))
                })
        }
    };
    until("the update skipped", || skipped("Update is not among")).await;
    until("the disable skipped", || skipped("Delete is not among")).await;
    let users = target_users(&scim.url).await;
    assert_eq!(users.len(), 2);
    assert!(
        users
            .iter()
            .all(|u| u["active"] == true && u.get("title").is_none()),
        "nothing changed in the target: {users:?}"
    );
}

#[tokio::test]
async fn creates_left_out_are_not_sent_in_bulk_either() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    assigned_users(&engine, &admin, app.id, 3).await;
    // Capabilities on (the default): scim2-server offers /Bulk, where creates are gathered.
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.groups.enabled = false;
        s.users.create = false;
    })
    .await;
    let report = first_report(&engine, app.id).await;
    assert_eq!(
        (report.counts.created, report.counts.skipped),
        (0, 3),
        "{report:?}"
    );
    assert!(target_users(&scim.url).await.is_empty());
    let entries = log::latest(&engine.db, app.id, 20).await.unwrap();
    let skipped = entries
        .iter()
        .filter(|e| {
            e.reason
                .as_deref()
                .is_some_and(|r| r.contains("Create is not among"))
        })
        .count();
    assert_eq!(skipped, 3, "{entries:?}");
}

/// The steps of a user's provision on demand, as the portal names them.
const ON_DEMAND_USER_STEPS: [&str; 5] = [
    "Test connection",
    "Import user",
    "Determine if user is in scope",
    "Match user between source and target system",
    "Perform action",
];

/// Provisions `object` on demand and collects its steps (name, result, detail) as they come.
async fn on_demand(
    engine: &Engine,
    admin: &Account,
    app: Uuid,
    object: Uuid,
) -> Vec<(&'static str, String, String)> {
    on_demand_of(engine, admin, app, object, Vec::new()).await
}

/// As [`on_demand`], for a group with the members `chosen` to go with it.
async fn on_demand_of(
    engine: &Engine,
    admin: &Account,
    app: Uuid,
    object: Uuid,
    chosen: Vec<Uuid>,
) -> Vec<(&'static str, String, String)> {
    let (engine, admin) = (engine.clone(), admin.clone());
    let (sender, mut receiver) = tokio::sync::mpsc::channel(8);
    let run = tokio::spawn(async move {
        engine
            .provision_on_demand(&admin, app, object, chosen, sender)
            .await
    });
    let mut seen = Vec::new();
    while let Some(step) = receiver.recv().await {
        seen.push((step.name, format!("{:?}", step.result), step.detail));
    }
    run.await.unwrap().unwrap();
    seen
}

/// The report of the application's first cycle, once there is one.
/// Makes the job due now, as if its next run time had come.
pub(super) async fn run_now(engine: &Engine, app: Uuid) {
    engine::db::query("UPDATE provisioning_jobs SET next_run_at = ? WHERE application_id = ?")
        .bind(time::OffsetDateTime::now_utc())
        .bind(app)
        .execute(&engine.db)
        .await
        .unwrap();
}

pub(super) async fn first_report(engine: &Engine, app: Uuid) -> engine::sync::cycle::CycleReport {
    until("the initial cycle", || async {
        jobs::load(&engine.db, app)
            .await
            .unwrap()
            .last_cycle
            .is_some()
    })
    .await;
    jobs::load(&engine.db, app)
        .await
        .unwrap()
        .last_cycle
        .unwrap()
        .0
}

/// Two complete users of the directory: Grace Hopper and Alan Turing.
pub(super) async fn grace_and_alan(
    engine: &Engine,
) -> (
    engine::directory::users::User,
    engine::directory::users::User,
) {
    let system = Caller::system();
    let mut made = Vec::new();
    for (upn, given, surname) in [
        ("grace@contoso.com", "Grace", "Hopper"),
        ("alan@contoso.com", "Alan", "Turing"),
    ] {
        let user = engine
            .create_user(&system, profile(upn, given, Some(surname)))
            .await
            .unwrap();
        made.push(user);
    }
    let alan = made.pop().unwrap();
    (made.pop().unwrap(), alan)
}

#[tokio::test]
async fn metrics_count_cycles_objects_and_requests_for_a_token_only() {
    let (console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    assigned_users(&engine, &admin, app.id, 3).await;
    turn_on(&engine, &admin, app.id, &scim.url, |s| {
        s.groups.enabled = false;
        s.target.use_capabilities = false;
    })
    .await;
    let report = first_report(&engine, app.id).await;
    assert_eq!(report.counts.created, 3);

    // Any role will do: a Reports Reader's token.
    console.admin_create(
        "monitoring@contoso.com",
        "Reports Reader",
        "a long enough password",
    );
    let token = console.token("monitoring@contoso.com", &["api"]);
    let metrics = || async {
        reqwest::Client::new()
            .get(console.url("/metrics"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
    };
    let unauthenticated = reqwest::get(console.url("/metrics")).await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let answer = metrics().await;
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    let app = app.id.to_string();
    for line in [
        format!(
            r#"scimitar_provisioning_cycles_total{{application="{app}",kind="Initial",outcome="Completed"}} 1"#
        ),
        format!(
            r#"scimitar_provisioning_objects_total{{application="{app}",action="Create",status="Success"}} 3"#
        ),
        // /ServiceProviderConfig once (can the target filter?), then one filter query and one
        // POST per user, nothing else.
        format!(r#"scimitar_scim_requests_total{{application="{app}",code="200"}} 4"#),
        format!(r#"scimitar_scim_requests_total{{application="{app}",code="201"}} 3"#),
        format!(r#"scimitar_scim_request_duration_seconds_count{{application="{app}"}} 7"#),
        r#"scimitar_provisioning_jobs{state="Active"} 1"#.to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn the_on_demand_blade_streams_each_step_as_it_completes() {
    let (console, engine, admin, app) = application("custom-scim").await;
    let (scim, _) = peers::scim_server(None);
    // Every request to the target takes 700 ms, so steps are seconds apart.
    let slow = peers::fault_proxy(&scim.url);
    let users = assigned_users(&engine, &admin, app.id, 1).await;
    turn_on(&engine, &admin, app.id, &slow.url, |s| {
        s.groups.enabled = false;
        s.status = Status::Off;
    })
    .await;
    peers::set_faults(&slow, serde_json::json!({ "delayMs": 700 })).await;
    console.admin_create(
        "ops@contoso.com",
        "Application Administrator",
        "a long enough password",
    );
    let browser = console.browser();
    console
        .sign_in(&browser, "ops@contoso.com", "a long enough password")
        .await;
    let user = engine.user(users[0]).await.unwrap();
    let started = Instant::now();
    // As a browser asks: compressed if the server likes (a compressed stream would wait for
    // the end, or arrive as bytes this test cannot read).
    let mut response = browser
        .post(console.url("/api/provisioning/on-demand"))
        .header("Accept-Encoding", "gzip, deflate, br")
        .form(&[
            ("id", app.id.to_string()),
            ("object", user.profile.user_principal_name.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let mut text = String::new();
    let mut arrivals = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        arrivals.push((started.elapsed(), text.lines().count()));
    }
    let steps: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ON_DEMAND_USER_STEPS);
    assert!(steps.iter().all(|s| s["result"] == "Success"), "{text}");
    // The first steps arrived well before the last: streamed, not sent at the end.
    let first = arrivals.iter().find(|(_, lines)| *lines >= 1).unwrap().0;
    let last = arrivals.last().unwrap().0;
    assert!(
        last - first >= Duration::from_millis(600),
        "steps arrived at {arrivals:?}"
    );
}
