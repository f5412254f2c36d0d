//! References against a real `scim2-server` (docs/engine.md, References): a manager created in
//! the same cycle as the people who report to them is sent once it exists, and a manager whose
//! account failed stays pending, across cycles, until it exists.

use engine::{
    Engine,
    applications::roles::PrincipalType,
    audit::Caller,
    directory::UserProfile,
    sync::{jobs, log::Status as LogStatus},
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    peers,
    sync::{application, first_report, profile, role, run_now, target_users, turn_on, until},
};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The target account's manager id, if it has one.
fn manager_of(account: &Value) -> Option<&str> {
    account[ENTERPRISE]["manager"]["value"].as_str()
}

fn account<'a>(accounts: &'a [Value], user_name: &str) -> &'a Value {
    accounts
        .iter()
        .find(|a| a["userName"] == user_name)
        .unwrap_or_else(|| panic!("{user_name} in the target: {accounts:?}"))
}

/// Assigns `user` to the application with Default Access.
async fn assign(engine: &Engine, admin: &engine::accounts::Account, app: Uuid, user: Uuid) {
    let access = role(engine, admin, app, "Default Access").await;
    engine
        .assign(
            &Caller::system(),
            admin,
            app,
            PrincipalType::User,
            user,
            access,
        )
        .await
        .unwrap();
}

async fn person(engine: &Engine, upn: &str, manager: Option<Uuid>) -> Uuid {
    let mut profile: UserProfile = profile(upn, "Person", Some(upn));
    profile.manager_id = manager;
    engine
        .create_user(&Caller::system(), profile)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn managers_created_in_the_same_cycle_reach_every_report() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    // Two managers and four reports, all new to the target: managers are created first, so
    // their reports' creates carry them. And two people who manage each other (a loop, as a
    // directory may hold): one of them is sent first without a manager, and the reference pass
    // at the end of the cycle gives it one.
    let ceo = person(&engine, "ceo@contoso.com", None).await;
    let cto = person(&engine, "cto@contoso.com", Some(ceo)).await;
    let mut reports = Vec::new();
    for n in 0..4 {
        let manager = if n % 2 == 0 { ceo } else { cto };
        let upn = format!("report{n}@contoso.com");
        reports.push((upn.clone(), person(&engine, &upn, Some(manager)).await));
    }
    let left = person(&engine, "left@contoso.com", None).await;
    let right = person(&engine, "right@contoso.com", Some(left)).await;
    let mut profile = engine.user(left).await.unwrap().profile;
    profile.manager_id = Some(right);
    engine
        .update_user(&Caller::system(), left, profile, None)
        .await
        .unwrap();
    let everyone = [ceo, cto, left, right]
        .into_iter()
        .chain(reports.iter().map(|(_, id)| *id));
    for id in everyone {
        assign(&engine, &admin, app.id, id).await;
    }
    turn_on(&engine, &admin, app.id, &format!("{origin}/v2"), |s| {
        s.groups.enabled = false
    })
    .await;
    let report = first_report(&engine, app.id).await;
    assert_eq!(report.counts.created, 8, "{report:?}");
    assert_eq!(report.pending_references, 0);

    let accounts = target_users(&format!("{origin}/v2")).await;
    let id_of = |upn: &str| account(&accounts, upn)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        manager_of(account(&accounts, "cto@contoso.com")),
        Some(id_of("ceo@contoso.com").as_str())
    );
    for (n, (upn, _)) in reports.iter().enumerate() {
        let manager = if n % 2 == 0 {
            "ceo@contoso.com"
        } else {
            "cto@contoso.com"
        };
        assert_eq!(
            manager_of(account(&accounts, upn)),
            Some(id_of(manager).as_str()),
            "{upn}'s manager"
        );
    }
    assert!(manager_of(account(&accounts, "ceo@contoso.com")).is_none());
    assert_eq!(
        manager_of(account(&accounts, "left@contoso.com")),
        Some(id_of("right@contoso.com").as_str())
    );
    assert_eq!(
        manager_of(account(&accounts, "right@contoso.com")),
        Some(id_of("left@contoso.com").as_str())
    );
    let entries = engine::sync::log::latest(&engine.db, app.id, 50)
        .await
        .unwrap();
    let late: Vec<&str> = entries
        .iter()
        .filter(|e| e.steps.0.iter().any(|s| s == "Reference"))
        .map(|e| e.source_name.as_str())
        .collect();
    assert_eq!(late.len(), 1, "only the loop needs the pass: {late:?}");
    assert!(["left@contoso.com", "right@contoso.com"].contains(&late[0]));

    // Nothing changed since: the next cycle has nothing to send, references included.
    run_now(&engine, app.id).await;
    until("a steady-state cycle", || async {
        jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .last_cycle
            .is_some_and(|c| c.0.cycle_id != report.cycle_id && c.0.steady_state)
    })
    .await;
}

#[tokio::test]
async fn a_manager_whose_account_failed_stays_pending_until_it_exists() {
    let (_console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    let alan = person(&engine, "alan@contoso.com", None).await;
    assign(&engine, &admin, app.id, alan).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        s.target.use_capabilities = false;
    })
    .await;
    let first = first_report(&engine, app.id).await;
    assert_eq!(first.counts.created, 1);

    // Grace joins as Alan's manager while the target fails every create: her account does
    // not exist, so Alan's manager cannot be sent, and stays pending.
    peers::set_faults(
        &proxy,
        serde_json::json!({ "status500Share": 1, "only": "^POST /v2/Users" }),
    )
    .await;
    let grace = person(&engine, "grace@contoso.com", None).await;
    let mut changed = engine.user(alan).await.unwrap().profile;
    changed.manager_id = Some(grace);
    engine
        .update_user(&Caller::system(), alan, changed, None)
        .await
        .unwrap();
    assign(&engine, &admin, app.id, grace).await;
    until("a cycle with the reference pending", || async {
        jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .last_cycle
            .is_some_and(|c| c.0.pending_references == 1)
    })
    .await;
    let report = jobs::load(&engine.db, app.id)
        .await
        .unwrap()
        .last_cycle
        .unwrap()
        .0;
    assert!(
        !report.steady_state,
        "pending references are not steady state"
    );
    let accounts = target_users(&format!("{origin}/v2")).await;
    assert_eq!(accounts.len(), 1);
    assert!(manager_of(&accounts[0]).is_none());
    let failed = engine::sync::log::latest(&engine.db, app.id, 20)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.source_name == "grace@contoso.com")
        .unwrap();
    assert_eq!(failed.status, LogStatus::Failure);

    // The target recovers; at the next cycle Grace's account is created and Alan's manager
    // goes with the reference pass.
    peers::set_faults(&proxy, serde_json::json!({})).await;
    run_now(&engine, app.id).await;
    until("Alan's manager in the target", || async {
        let accounts = target_users(&format!("{origin}/v2")).await;
        accounts.len() == 2 && manager_of(account(&accounts, "alan@contoso.com")).is_some()
    })
    .await;
    let accounts = target_users(&format!("{origin}/v2")).await;
    assert_eq!(
        manager_of(account(&accounts, "alan@contoso.com")),
        account(&accounts, "grace@contoso.com")["id"].as_str()
    );
    assert_eq!(pending_references(&engine).await, 0);

    // A pending reference does not outlive a newer mapping of its object: Lin, Alan's next
    // manager, fails; then Alan goes back to Grace while Lin's account is created. The cycle
    // that maps Alan again drops the reference to Lin, and Grace stays his manager.
    peers::set_faults(
        &proxy,
        serde_json::json!({ "status500Share": 1, "only": "^POST /v2/Users" }),
    )
    .await;
    let lin = person(&engine, "lin@contoso.com", None).await;
    assign(&engine, &admin, app.id, lin).await;
    let mut changed = engine.user(alan).await.unwrap().profile;
    changed.manager_id = Some(lin);
    engine
        .update_user(&Caller::system(), alan, changed.clone(), None)
        .await
        .unwrap();
    until("the reference to Lin pending", || async {
        pending_references(&engine).await == 1
    })
    .await;
    peers::set_faults(&proxy, serde_json::json!({})).await;
    changed.manager_id = Some(grace);
    engine
        .update_user(&Caller::system(), alan, changed, None)
        .await
        .unwrap();
    until("Lin's account", || async {
        target_users(&format!("{origin}/v2")).await.len() == 3
    })
    .await;
    until("no pending reference", || async {
        pending_references(&engine).await == 0
    })
    .await;
    let accounts = target_users(&format!("{origin}/v2")).await;
    assert_eq!(
        manager_of(account(&accounts, "alan@contoso.com")),
        account(&accounts, "grace@contoso.com")["id"].as_str(),
        "the newer mapping wins"
    );
}

async fn pending_references(engine: &Engine) -> i64 {
    engine::db::query_scalar("SELECT COUNT(*) FROM provisioning_pending_references")
        .fetch_one(&engine.db)
        .await
        .unwrap()
}
