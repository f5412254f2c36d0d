//! Leases (docs/engine.md, Leases) with two real `scimitar` processes on one data directory and
//! one job: never two cycles at once, and when the process running a cycle is killed, the other
//! takes the job over within the lease time and finishes it without duplicates.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use engine::sync::jobs;

use super::{
    harness::{Console, Replica},
    peers,
    sync::{
        application, application_on, assigned_users, target_users, turn_on, until, until_within,
    },
};

const USERS: usize = 60;

#[tokio::test]
async fn a_killed_owners_job_resumes_in_the_other_process_within_the_lease_time() {
    let (mut console, engine, admin, app) = application("custom-scim").await;
    let mut second = console.another_process();
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    // A slow target and one request at a time: the cycle lasts long enough to be cut.
    peers::set_faults(&proxy, json!({ "delayMs": 150 })).await;
    assigned_users(&engine, &admin, app.id, USERS).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        s.target.use_capabilities = false;
        s.target.concurrency = 1;
    })
    .await;
    until("a cycle under way", || async {
        engine::sync::jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .current_cycle
            .is_some_and(|p| p.0.counts.processed >= 10)
    })
    .await;

    let owner = kill_lease_owner(&engine, app.id, &mut console, &mut second).await;
    let killed_owner = owner.clone();
    let killed_at = Instant::now();
    until_within(
        "the other process's lease",
        Duration::from_secs(45),
        || async {
            lease_owner(&engine, app.id)
                .await
                .is_some_and(|o| o != owner)
        },
    )
    .await;
    let taken_over = killed_at.elapsed();
    assert!(
        taken_over <= Duration::from_secs(32),
        "taken over {taken_over:?} after the kill: within the 30 s lease, the scheduler's second and a little"
    );
    until_within(
        "every user in the target",
        Duration::from_secs(120),
        || async { target_users(&format!("{origin}/v2")).await.len() >= USERS },
    )
    .await;
    until("the resumed cycle's report", || async {
        engine::sync::jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .last_cycle
            .is_some()
    })
    .await;
    let accounts = target_users(&format!("{origin}/v2")).await;
    let names: HashSet<&str> = accounts
        .iter()
        .map(|a| a["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        (accounts.len(), names.len()),
        (USERS, USERS),
        "no duplicates"
    );

    assert_one_cycle_at_a_time(&console.log.lock().unwrap(), &killed_owner);
}

/// Never two cycles at once: in both processes' logs, as they came, a cycle starts only once
/// the one before it finished or its process (`killed_owner`) was killed.
fn assert_one_cycle_at_a_time(lines: &[String], killed_owner: &str) {
    let mut running: Option<String> = None;
    let mut cycles = 0;
    for line in lines {
        let Some(owner) = line
            .split("owner=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|owner| owner.trim_matches('"'))
        else {
            continue;
        };
        if line.contains("provisioning cycle started") {
            if let Some(other) = &running {
                assert_eq!(
                    other,
                    killed_owner,
                    "two cycles at once:\n{}",
                    lines.join("\n")
                );
            }
            running = Some(owner.to_owned());
            cycles += 1;
        } else if line.contains("provisioning cycle finished") {
            assert_eq!(running.as_deref(), Some(owner), "{}", lines.join("\n"));
            running = None;
        }
    }
    assert!(cycles >= 2, "the killed cycle and the resumed one");
}

/// Kills (SIGKILL) whichever of the two processes holds the job's lease, which its owner names;
/// returns that owner.
async fn kill_lease_owner(
    engine: &engine::Engine,
    app: Uuid,
    console: &mut Console,
    second: &mut Replica,
) -> String {
    let owner = lease_owner(engine, app).await.expect("a lease is held");
    let pid: u32 = owner.split('-').nth(1).unwrap().parse().unwrap();
    let killed = if console.child.id() == pid {
        &mut console.child
    } else {
        assert_eq!(second.0.id(), pid, "{owner} is one of the two processes");
        &mut second.0
    };
    killed.kill().unwrap();
    killed.wait().unwrap();
    owner
}

/// Who holds the job's lease now (an expired lease is nobody's).
async fn lease_owner(engine: &engine::Engine, app: Uuid) -> Option<String> {
    engine::db::query_scalar::<Option<String>>(
        "SELECT lease_owner FROM provisioning_jobs WHERE application_id = ? AND lease_expires_at > ?",
    )
    .bind(app)
    .bind(OffsetDateTime::now_utc())
    .fetch_optional(&engine.db)
    .await
    .unwrap()
    .flatten()
}

#[tokio::test]
async fn a_cycle_whose_lease_is_taken_stops_and_the_job_resumes_when_it_expires() {
    let (console, engine, admin, app) = application("custom-scim").await;
    let (_scim, origin) = peers::scim_server(None);
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(&proxy, json!({ "delayMs": 150 })).await;
    assigned_users(&engine, &admin, app.id, USERS).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        s.target.use_capabilities = false;
        s.target.concurrency = 1;
    })
    .await;
    until("a cycle under way", || async {
        engine::sync::jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .current_cycle
            .is_some_and(|p| p.0.counts.processed >= 5)
    })
    .await;
    // Someone else holds the lease now, for 20 seconds: at its next renewal the cycle stops.
    engine::db::query(
        "UPDATE provisioning_jobs SET lease_owner = 'scimitar-0-thief', lease_expires_at = ? WHERE application_id = ?",
    )
    .bind(OffsetDateTime::now_utc() + time::Duration::seconds(20))
    .bind(app.id)
    .execute(&engine.db)
    .await
    .unwrap();
    until_within("the cycle stopping", Duration::from_secs(15), || async {
        console
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("lease was lost: its cycle stopped"))
    })
    .await;
    let stopped_at = target_users(&format!("{origin}/v2")).await.len();
    assert!(stopped_at < USERS, "stopped before the end: {stopped_at}");
    // Once the taken lease expires, the job runs again and finishes, without duplicates.
    until_within(
        "every user in the target",
        Duration::from_secs(120),
        || async { target_users(&format!("{origin}/v2")).await.len() >= USERS },
    )
    .await;
    let accounts = target_users(&format!("{origin}/v2")).await;
    let names: HashSet<&str> = accounts
        .iter()
        .map(|a| a["userName"].as_str().unwrap())
        .collect();
    assert_eq!((accounts.len(), names.len()), (USERS, USERS));
    let finished = console
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("provisioning cycle finished"))
        .count();
    assert!(finished >= 1);
}

/// The failover: two processes on one PostgreSQL database, 1,000 users going to
/// scim2-server. The process running the cycle is killed (SIGKILL) between 20% and 80%; the
/// other finishes the cycle within the lease time plus 10 seconds, the target ends exactly
/// right, and neither the provisioning logs' cycles nor the lease history ever overlap.
#[tokio::test]
async fn on_postgresql_the_other_replica_finishes_a_killed_replicas_cycle_within_the_lease_time() {
    const USERS: usize = 1000;
    let console = Console::start_on(
        Some(crate::postgres::database_url()),
        &["--allow-private-targets"],
    );
    let (mut console, engine, admin, app) = application_on(console, "custom-scim").await;
    let mut second = console.another_process();
    let (_scim, origin) = peers::scim_server(None);
    // Bulk requests take two seconds, one at a time: the process dies with a request under way.
    let proxy = peers::fault_proxy(&origin);
    peers::set_faults(&proxy, json!({ "delayMs": 2000, "only": "^POST /v2/Bulk" })).await;
    assigned_users(&engine, &admin, app.id, USERS).await;
    turn_on(&engine, &admin, app.id, &format!("{}/v2", proxy.url), |s| {
        s.groups.enabled = false;
        s.target.concurrency = 1;
    })
    .await;
    until_within("20% of the cycle", Duration::from_secs(120), || async {
        engine::sync::jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .current_cycle
            .is_some_and(|p| p.0.counts.processed >= USERS as u64 / 5)
    })
    .await;
    let owner = kill_lease_owner(&engine, app.id, &mut console, &mut second).await;
    let killed_at = Instant::now();
    let processed = engine::sync::jobs::load(&engine.db, app.id)
        .await
        .unwrap()
        .current_cycle
        .map_or(0, |p| p.0.counts.processed);
    assert!(
        processed <= USERS as u64 * 4 / 5,
        "killed at {processed} of {USERS}, not between 20% and 80%"
    );

    let in_target_at_kill = peers::all_target_users(&format!("{origin}/v2")).await.len();
    let limit = Duration::from_secs(jobs::LEASE.whole_seconds() as u64 + 10);
    until_within("the other process's lease", limit, || async {
        lease_owner(&engine, app.id)
            .await
            .is_some_and(|o| o != owner)
    })
    .await;
    let taken_over = killed_at.elapsed();
    until_within("the other process finishing the cycle", limit, || async {
        engine::sync::jobs::load(&engine.db, app.id)
            .await
            .unwrap()
            .last_cycle
            .is_some()
    })
    .await;
    let finished = killed_at.elapsed();

    let accounts = peers::all_target_users(&format!("{origin}/v2")).await;
    let names: HashSet<&str> = accounts
        .iter()
        .map(|a| a["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        (accounts.len(), names.len()),
        (USERS, USERS),
        "every user exactly once"
    );

    // The provisioning logs: a cycle's entries all come before the next cycle's (the killed
    // cycle's may be missing: it may die before it writes its batch).
    let cycles: Vec<(Uuid, OffsetDateTime, OffsetDateTime)> = engine::db::query_as(
        "SELECT cycle_id, MIN(at), MAX(at) FROM provisioning_logs WHERE application_id = ? \
         GROUP BY cycle_id ORDER BY MIN(at)",
    )
    .bind(app.id)
    .fetch_all(&engine.db)
    .await
    .unwrap();
    assert!(!cycles.is_empty(), "the finishing cycle's entries");
    for pair in cycles.windows(2) {
        assert!(
            pair[0].2 <= pair[1].1,
            "two cycles logged at once: {cycles:?}"
        );
    }
    // The lease history: each lease begins after the one before it was given back or expired.
    let leases: Vec<(
        String,
        OffsetDateTime,
        OffsetDateTime,
        Option<OffsetDateTime>,
    )> = engine::db::query_as(
        "SELECT owner, taken_at, held_until, released_at FROM provisioning_leases \
             WHERE application_id = ? ORDER BY id",
    )
    .bind(app.id)
    .fetch_all(&engine.db)
    .await
    .unwrap();
    for pair in leases.windows(2) {
        let ended = pair[0].3.unwrap_or(pair[0].2);
        assert!(ended <= pair[1].1, "overlapping leases: {leases:?}");
    }
    let killed_lease = leases
        .iter()
        .find(|l| l.0 == owner)
        .expect("the killed owner's lease");
    assert_eq!(killed_lease.3, None, "a killed process gives nothing back");
    assert!(
        leases.iter().any(|l| l.0 != owner),
        "the other process took over: {leases:?}"
    );
    assert_one_cycle_at_a_time(&console.log.lock().unwrap(), &owner);
    println!(
        "failover: killed at {processed} of {USERS} processed ({in_target_at_kill} accounts in the target); \
         the other process took the lease {taken_over:?} and finished the cycle {finished:?} after the kill"
    );
}
