//! Measures the provisioning engine (issue 6's figures) against scim2-server served by waitress
//! with keep-alive (end2end/peers/scim-server.py), the "Create your own application" template and
//! generated users that are all complete. Run with `scripts/bench-sync`, which runs each part in
//! its own process so that peak memory belongs to that part:
//!
//! - `initial`: an initial cycle of 10,000 users and 200 groups (5 to 100 members), three runs of
//!   each of: a plain client sending the naive requests (one filter query and one POST per user,
//!   one POST and one members PATCH per group) at the same concurrency, Scimitar with the
//!   target's capabilities off, and with them on. Each run gets a fresh SCIM server.
//! - `incremental`: 100,000 users loaded once, then incremental cycles with no change, and after
//!   changing 1% of the users, with the requests the target received; peak RSS of the process.
//! - `latency`: the scheduler running as in the console; 100 directory changes one after the
//!   other, each timed until the target shows it.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use engine::{
    Engine,
    accounts::{Account, Role},
    applications::provisioning::{Mode, Scope, SecretChanges, Settings, Status},
    audit::Caller,
    directory::{UserProfile, generator::Spec},
    mapping::{Environment, Operation, UserSource, source::USER_ATTRIBUTES},
    sync::cycle::CycleReport,
};
use futures::{StreamExt, stream};
use serde_json::{Value, json};
use uuid::Uuid;

const CONCURRENCY: usize = 4;
const RUNS: usize = 3;

type Failure = Box<dyn std::error::Error>;

#[path = "support/target.rs"]
mod target;
use target::Target;

/// An engine over a generated directory, with an administrator.
async fn directory(data: &Path, users: u32, groups: u32) -> Result<(Engine, Account), Failure> {
    let engine = Engine::open_with(data, private_targets()).await?;
    let spec = Spec {
        users,
        groups,
        seed: 7,
        missing: 0.0,
    };
    let generated = engine
        .generate_directory(&Caller::system(), spec, "contoso.com")
        .await?;
    println!(
        "directory: {} users, {} groups, {} memberships (generated in {:.1} s)",
        generated.users, generated.groups, generated.memberships, generated.seconds
    );
    // Everyone enabled: the plain client and the cycle send the same users.
    engine::db::query("UPDATE users SET account_enabled = TRUE")
        .execute(&engine.db)
        .await?;
    let admin = engine::db::query_as::<(Uuid, String, String)>(
        "SELECT id, user_principal_name, display_name FROM users ORDER BY rowid LIMIT 1",
    )
    .fetch_one(&engine.db)
    .await?;
    let admin = Account {
        id: admin.0,
        user_principal_name: admin.1,
        display_name: admin.2,
        role: Role::GlobalAdministrator,
        session_stamp: String::new(),
    };
    Ok((engine, admin))
}

/// A "Create your own application" pointed at `target`, syncing everyone, provisioning On.
async fn application(
    engine: &Engine,
    admin: &Account,
    target: &Target,
    change: impl FnOnce(&mut Settings),
) -> Result<Uuid, Failure> {
    let system = Caller::system();
    let app = engine
        .create_application(&system, admin, "custom-scim", "Benchmark")
        .await?;
    let config = engine.provisioning(admin, app.id).await?;
    let mut settings = config.settings.clone();
    settings.mode = Mode::Automatic;
    settings.status = Status::On;
    settings.scope = Scope::All;
    settings.scim_base_url = target.url.clone();
    settings.target.concurrency = CONCURRENCY as u32;
    change(&mut settings);
    let secrets = SecretChanges {
        secret_token: Some("unused".to_owned().into()),
        client_secret: None,
    };
    engine
        .save_provisioning(&system, admin, app.id, config.version, settings, secrets)
        .await?;
    Ok(app.id)
}

async fn cycle(engine: &Engine, app: Uuid) -> Result<(CycleReport, Duration), Failure> {
    let started = Instant::now();
    let report = engine
        .run_cycle(app, time::OffsetDateTime::now_utc())
        .await?;
    Ok((report, started.elapsed()))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Peak resident memory of this process (Linux's VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A plain client sending what the same mappings produce. `bulk` false: the naive requests, one
/// object at a time per worker (`CONCURRENCY` workers): filter then POST per user. `bulk` true:
/// no matching, users in Bulk requests of 500 one at a time (the server's own floor for these
/// creates). Then, either way, POST and one members PATCH per group. A user's manager is sent
/// when the manager was created before (managers come first), as the engine does.
async fn plain(engine: &Engine, target: &Target, bulk: bool) -> Result<Duration, Failure> {
    let template = engine::applications::gallery::template(engine::applications::gallery::CUSTOM)
        .expect("the template");
    let mappings = template
        .users
        .mappings
        .compile(USER_ATTRIBUTES, &["userName"])
        .expect("valid mappings");
    let users: Vec<engine::directory::users::User> =
        engine::db::query_as("SELECT * FROM users ORDER BY rowid")
            .fetch_all(&engine.db)
            .await?;
    let mut random = rand::thread_rng();
    let mut environment = Environment {
        now: time::OffsetDateTime::now_utc(),
        random: &mut random,
    };
    let mut bodies = Vec::with_capacity(users.len());
    for user in &users {
        let source = UserSource {
            user,
            in_scope: true,
            app_roles: &[],
        };
        let mut body = mappings
            .evaluate(&source, &mut environment, Operation::Create)
            .expect("complete users map")
            .resource(engine::scim::USER);
        if let Some(extension) = body
            .get_mut("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .and_then(Value::as_object_mut)
        {
            extension.remove("manager");
        }
        let manager = user.profile.manager_id;
        bodies.push((
            user.id,
            user.profile.user_principal_name.clone(),
            body,
            manager,
        ));
    }
    let known = std::sync::Mutex::new(std::collections::HashMap::<Uuid, String>::new());
    // The body with the manager's target id, when it is known.
    let with_manager = |mut body: Value, manager: Option<Uuid>| {
        let known = known.lock().expect("not poisoned");
        if let Some(id) = manager.and_then(|m| known.get(&m)) {
            body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"] =
                json!({ "value": id });
        }
        body
    };
    let groups: Vec<(Uuid, String)> =
        engine::db::query_as("SELECT id, display_name FROM groups ORDER BY rowid")
            .fetch_all(&engine.db)
            .await?;
    let members: Vec<(Uuid, Uuid)> =
        engine::db::query_as("SELECT group_id, member_id FROM group_members")
            .fetch_all(&engine.db)
            .await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;
    let base = &target.url;

    let started = Instant::now();
    let created: Vec<(Uuid, String)> = if bulk {
        let mut created = Vec::new();
        for chunk in bodies.chunks(500) {
            let operations: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (_, _, body, manager))| {
                    let body = with_manager(body.clone(), *manager);
                    json!({ "method": "POST", "path": "/Users", "bulkId": i.to_string(), "data": body })
                })
                .collect();
            let request = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": operations,
            });
            let answer = post(&http, &format!("{base}/Bulk"), &request).await;
            for (operation, (id, _, _, _)) in answer["Operations"]
                .as_array()
                .expect("operations")
                .iter()
                .zip(chunk)
            {
                let location = operation["location"].as_str().expect("created");
                let target_id = location.rsplit('/').next().expect("an id");
                known
                    .lock()
                    .expect("not poisoned")
                    .insert(*id, target_id.to_owned());
                created.push((*id, target_id.to_owned()));
            }
        }
        created
    } else {
        stream::iter(bodies)
            .map(|(id, upn, body, manager)| {
                let (http, known, with_manager) = (&http, &known, &with_manager);
                async move {
                    let filter = format!("userName eq \"{upn}\"");
                    let found: Value = http
                        .get(format!("{base}/Users"))
                        .query(&[("filter", filter.as_str())])
                        .send()
                        .await
                        .expect("filter")
                        .json()
                        .await
                        .expect("list");
                    assert_eq!(found["totalResults"], 0);
                    let body = with_manager(body, manager);
                    let answer = post(http, &format!("{base}/Users"), &body).await;
                    let target_id = answer["id"].as_str().expect("an id").to_owned();
                    known
                        .lock()
                        .expect("not poisoned")
                        .insert(id, target_id.clone());
                    (id, target_id)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    };
    let target_of: std::collections::HashMap<Uuid, String> = created.into_iter().collect();
    stream::iter(groups)
        .map(|(id, name)| {
            let (http, target_of, members) = (&http, &target_of, &members);
            async move {
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name, "externalId": id.to_string(),
                });
                let answer = post(http, &format!("{base}/Groups"), &body).await;
                let group = answer["id"].as_str().expect("an id");
                let value: Vec<Value> = members
                    .iter()
                    .filter(|(g, _)| *g == id)
                    .map(|(_, m)| json!({ "value": target_of[m] }))
                    .collect();
                let patch = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{ "op": "add", "path": "members", "value": value }],
                });
                let status = http
                    .patch(format!("{base}/Groups/{group}"))
                    .header("Content-Type", "application/scim+json")
                    .body(patch.to_string())
                    .send()
                    .await
                    .expect("patch")
                    .status();
                assert!(status.is_success(), "members PATCH: {status}");
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    Ok(started.elapsed())
}

/// POSTs `body` as SCIM JSON and returns the answer.
async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    http.post(url)
        .header("Content-Type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("the SCIM server answers")
        .json()
        .await
        .expect("a JSON answer")
}

async fn initial() -> Result<(), Failure> {
    let data = tempfile::tempdir()?;
    let (engine, admin) = directory(data.path(), 10_000, 200).await?;
    let objects = 10_200.0;
    // Each variant's wall times and the server's CPU seconds over the same runs.
    let (mut naive, mut floor, mut off, mut on) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let [mut naive_cpu, mut floor_cpu, mut off_cpu, mut on_cpu] = [(); 4].map(|()| Vec::new());
    for run in 1..=RUNS {
        for (bulk, times, cpus) in [
            (false, &mut naive, &mut naive_cpu),
            (true, &mut floor, &mut floor_cpu),
        ] {
            let target = Target::start();
            let cpu = target.cpu_seconds();
            let took = plain(&engine, &target, bulk).await?.as_secs_f64();
            let cpu = target.cpu_seconds() - cpu;
            assert_eq!(target.total("Users").await, 10_000);
            println!(
                "run {run}: plain client, {} {took:.2} s, server CPU {cpu:.1} s",
                if bulk { "Bulk floor  " } else { "naive       " }
            );
            times.push(took);
            cpus.push(cpu);
        }
        for (capabilities, times, cpus) in [
            (false, &mut off, &mut off_cpu),
            (true, &mut on, &mut on_cpu),
        ] {
            let target = Target::start();
            let app = application(&engine, &admin, &target, |s| {
                s.target.use_capabilities = capabilities
            })
            .await?;
            let cpu = target.cpu_seconds();
            let (report, took) = cycle(&engine, app).await?;
            let cpu = target.cpu_seconds() - cpu;
            let requests = target.requests().await;
            assert_eq!(
                (report.counts.created, report.counts.failed),
                (10_200, 0),
                "{report:?}"
            );
            assert_eq!(target.total("Users").await, 10_000);
            assert_eq!(target.total("Groups").await, 200);
            let took = took.as_secs_f64();
            println!(
                "run {run}: Scimitar, capabilities {} {took:.2} s, server CPU {cpu:.1} s, requests {requests}",
                if capabilities { "on " } else { "off" }
            );
            times.push(took);
            cpus.push(cpu);
        }
    }
    // The machine is shared and its speed drifts: each ratio pairs a run with the baseline
    // measured just before it, and the figure is the median of those ratios.
    let ratio = |times: &[f64]| median(naive.iter().zip(times).map(|(b, t)| b / t).collect());
    println!(
        "initial cycle, 10,000 users + 200 groups, concurrency {CONCURRENCY}, medians of {RUNS} runs \
         (ratio: the plain client's time over this one's, in the same run; server CPU: the SCIM \
         server's own CPU seconds during the run, and the share of the wall time it was busy)"
    );
    let rows = [
        ("plain client, naive (baseline)", &naive, &naive_cpu, ""),
        (
            "plain client, Bulk floor",
            &floor,
            &floor_cpu,
            " (no matching, Bulk only: the server's own cost)",
        ),
        ("Scimitar, capabilities off", &off, &off_cpu, ""),
        ("Scimitar, capabilities on", &on, &on_cpu, ""),
    ];
    for (label, times, cpus, note) in rows {
        let took = median(times.clone());
        let busy = median(cpus.iter().zip(times.iter()).map(|(c, t)| c / t).collect());
        println!(
            "  {label:32} {took:7.2} s {:6.0} objects/s  ratio {:.2}  server CPU {:5.1} s, busy {:3.0}%{note}",
            objects / took,
            ratio(times),
            median(cpus.clone()),
            busy * 100.0
        );
    }
    Ok(())
}

async fn incremental() -> Result<(), Failure> {
    let data = tempfile::tempdir()?;
    let (engine, admin) = directory(data.path(), 100_000, 0).await?;
    let target = Target::start();
    let app = application(&engine, &admin, &target, |_| {}).await?;
    let (report, took) = cycle(&engine, app).await?;
    assert_eq!(report.counts.created, 100_000, "{report:?}");
    println!(
        "loaded 100,000 users: {:.1} s ({:.0} users/s), requests {}",
        took.as_secs_f64(),
        100_000.0 / took.as_secs_f64(),
        target.requests().await
    );
    let mut idle = Vec::new();
    for _ in 0..RUNS {
        let (report, took) = cycle(&engine, app).await?;
        assert!(report.steady_state, "{report:?}");
        idle.push(took.as_secs_f64() * 1000.0);
    }
    let requests = target.requests().await;
    println!(
        "incremental cycle, no change: median {:.1} ms ({RUNS} runs: {idle:.1?}), requests {requests}",
        median(idle.clone())
    );
    let ids: Vec<Uuid> = engine::db::query_scalar("SELECT id FROM users ORDER BY rowid")
        .fetch_all(&engine.db)
        .await?;
    let mut changed = Vec::new();
    for run in 0..RUNS {
        for id in ids.iter().skip(run).step_by(100) {
            let user = engine.user(*id).await?;
            let profile = UserProfile {
                job_title: Some(format!("Title {run}")),
                ..user.profile
            };
            engine
                .update_user(&Caller::system(), *id, profile, None)
                .await?;
        }
        let (report, took) = cycle(&engine, app).await?;
        let requests = target.requests().await;
        assert_eq!(report.counts.updated, 1_000, "{report:?}");
        assert_eq!(requests["PATCH /Users"], 1_000, "{requests}");
        changed.push(took.as_secs_f64() * 1000.0);
        println!(
            "1% changed (1,000 titles): {:.0} ms, requests {requests}",
            took.as_secs_f64() * 1000.0
        );
    }
    println!(
        "incremental cycle after 1% changed: median {:.0} ms",
        median(changed)
    );
    println!("peak RSS of the process: {:.0} MB", peak_rss_mb());
    Ok(())
}

async fn latency() -> Result<(), Failure> {
    let data = tempfile::tempdir()?;
    let (engine, admin) = directory(data.path(), 1_000, 0).await?;
    let target = Target::start();
    let app = application(&engine, &admin, &target, |_| {}).await?;
    cycle(&engine, app).await?;
    engine.spawn_scheduler();
    let ids: Vec<Uuid> = engine::db::query_scalar("SELECT id FROM users ORDER BY rowid LIMIT 100")
        .fetch_all(&engine.db)
        .await?;
    let links: Vec<(Uuid, String)> = engine::db::query_as(
        "SELECT source_id, target_id FROM provisioning_links WHERE application_id = ?",
    )
    .bind(app)
    .fetch_all(&engine.db)
    .await?;
    let target_of: std::collections::HashMap<Uuid, String> = links.into_iter().collect();
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let title = format!("Latency {n}");
        let user = engine.user(*id).await?;
        let profile = UserProfile {
            job_title: Some(title.clone()),
            ..user.profile
        };
        let started = Instant::now();
        engine
            .update_user(&Caller::system(), *id, profile, None)
            .await?;
        let url = format!("{}/Users/{}", target.url, target_of[id]);
        loop {
            let account: Value = http.get(&url).send().await?.json().await?;
            if account["title"] == title.as_str() {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "never arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "directory change to target, {} changes one after the other: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        latencies.last().copied().unwrap_or_default()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let part = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    match part.as_str() {
        "initial" => initial().await,
        "incremental" => incremental().await,
        "latency" => latency().await,
        _ => {
            eprintln!(
                "usage: sync initial|incremental|latency (scripts/bench-sync runs all three)"
            );
            Ok(())
        }
    }
}

/// The test peers run on loopback, which the engine refuses to reach unless allowed.
fn private_targets() -> engine::Options<'static> {
    engine::Options {
        outbound: engine::outbound::Outbound {
            allow_private_targets: true,
        },
        ..Default::default()
    }
}
