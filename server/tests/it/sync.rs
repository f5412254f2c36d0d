//! Provisioning cycles against a real `scim2-server`: expected target states are written by
//! hand here, never computed by the engine's mapping code.

use std::time::{Duration, Instant};

use engine::{
    accounts::{Account, Role},
    applications::{
        provisioning::{Mode, SecretChanges, Status},
        roles::PrincipalType,
    },
    audit::Caller,
    directory::UserProfile,
    sync::log::{self, Action, Status as LogStatus},
};
use serde_json::Value;

use super::{harness::Console, peers};

/// Waits for `condition` on the target, up to 30 seconds.
async fn until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn target_users(scim: &str) -> Vec<Value> {
    let answer: Value = reqwest::get(format!("{scim}/Users?count=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["Resources"].as_array().cloned().unwrap_or_default()
}

fn profile(upn: &str, given: &str, surname: Option<&str>) -> UserProfile {
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
    };
    let grace = engine
        .create_user(
            &system,
            profile("grace@contoso.com", "Grace", Some("Hopper")),
        )
        .await
        .unwrap();
    let alan = engine
        .create_user(&system, profile("alan@contoso.com", "Alan", Some("Turing")))
        .await
        .unwrap();
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
    let entries = log::latest(&engine.db, app.id, 50).await.unwrap();
    let update = entries
        .iter()
        .find(|e| {
            e.source_id == grace.id && e.action == Action::Update && e.status == LogStatus::Success
        })
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
