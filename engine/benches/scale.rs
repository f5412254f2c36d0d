//! Issue 16's scale figures, run by `scripts/bench-scale` (which builds the release `scimitar`):
//!
//! - On PostgreSQL: 1,000,000 generated users and 2,000 groups, 20 applications, each provisioning
//!   one generated group (5 to 100 members) to a scim2-server of its own, with 1, then 2, then 4
//!   `scimitar` processes sharing the database. For each: jobs per minute while every job is kept
//!   due (every 100 ms the bench makes due the jobs that are not, as a directory change would, so
//!   every cycle is a no-op incremental: the watermark is at the feed's head), the no-op cycle's
//!   time under its lease
//!   (taken to released, from `provisioning_leases`), and each process's peak RSS.
//! - On PostgreSQL and on SQLite, at 1,000,000 users, one process: the Users page (page 1) and a
//!   SCIM `userName eq` filter, median and p95 of 50 requests each, with `GET /healthz` (the HTTP
//!   stack alone) as the baseline measured in the same run.
//!
//! The PostgreSQL cluster is the tests' private one (engine/tests/support/postgres.rs: fsync off,
//! a throwaway cluster). `SCALE_USERS` and `SCALE_SECONDS` shrink a run for a quick look;
//! `SCALE_READS_ONLY=1` measures only the reads.

// Shared with the tests and the sync bench; this bench uses part of each.
#[allow(dead_code)]
#[path = "../tests/support/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "support/target.rs"]
mod target;

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use engine::{
    Engine,
    accounts::{Account, Role},
    applications::{
        provisioning::{Mode, SecretChanges, Status},
        roles::{self, PrincipalType},
    },
    audit::Caller,
    directory::generator::Spec,
    sync::{cycle::CycleKind, jobs},
};
use target::Target;
use time::OffsetDateTime;
use uuid::Uuid;

type Failure = Box<dyn std::error::Error>;

const APPLICATIONS: usize = 20;
const SAMPLES: usize = 50;
const ADMIN: &str = "bench@contoso.com";
const PASSWORD: &str = "benchmark password";

/// `SCALE_READS_ONLY=1`: only the Users page and SCIM filter figures, on both databases.
fn reads_only() -> bool {
    std::env::var("SCALE_READS_ONLY").is_ok_and(|v| v == "1")
}

fn users() -> u32 {
    std::env::var("SCALE_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

fn window() -> Duration {
    Duration::from_secs(
        std::env::var("SCALE_SECONDS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(60),
    )
}

fn binary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/scimitar")
}

/// `scimitar` with a storage: its data directory and, for PostgreSQL, the database URL.
fn scimitar(data: &Path, url: Option<&str>) -> Command {
    let mut command = Command::new(binary());
    command.arg("--data-dir").arg(data);
    if let Some(url) = url {
        command.env("SCIMITAR_DATABASE_URL", url);
    }
    command
}

/// A running console process, killed when dropped.
struct Console {
    child: Child,
    base: String,
}

impl Console {
    fn start(data: &Path, url: Option<&str>) -> Console {
        let mut child = scimitar(data, url)
            .args(["--listen", "127.0.0.1:0", "--allow-private-targets"])
            .env("RUST_LOG", "warn,server=info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("scripts/bench-scale builds target/release/scimitar");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the console starts")
                .expect("a log line");
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned();
            }
        };
        // Keep reading, or a full pipe would stall the console.
        std::thread::spawn(move || lines.for_each(drop));
        Console { child, base }
    }

    /// The process's peak resident memory (VmHWM), in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median_p95(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.5), at(0.95))
}

/// A generated directory with a Global Administrator who can sign in, and a SCIM token.
async fn directory(data: &Path, url: Option<&str>) -> Result<(Engine, String), Failure> {
    let options = engine::Options {
        database_url: url.map(str::to_owned),
        outbound: engine::outbound::Outbound {
            allow_private_targets: true,
        },
        ..Default::default()
    };
    let engine = Engine::open_with(data, options).await?;
    let spec = Spec {
        users: users(),
        groups: 2_000,
        seed: 7,
        missing: 0.0,
    };
    let generated = engine
        .generate_directory(&Caller::system(), spec, "contoso.com")
        .await?;
    println!(
        "  directory: {} users, {} groups, {} memberships, generated in {:.1} s",
        generated.users, generated.groups, generated.memberships, generated.seconds
    );
    let mut admin = scimitar(data, url)
        .args([
            "admin",
            "create",
            "--upn",
            ADMIN,
            "--role",
            "Global Administrator",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    writeln!(admin.stdin.take().expect("stdin"), "{PASSWORD}")?;
    assert!(admin.wait()?.success(), "admin create");
    let token = scimitar(data, url)
        .args(["token", "create", "--upn", ADMIN, "--scope", "scim"])
        .output()?;
    assert!(token.status.success(), "token create");
    Ok((engine, String::from_utf8(token.stdout)?.trim().to_owned()))
}

/// The Users page and a SCIM filter against `console`, with the HTTP stack alone as baseline.
async fn reads(engine: &Engine, console: &Console, token: &str) -> Result<(), Failure> {
    let base = &console.base;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let signed_in = browser
        .post(format!("{base}/api/sign_in"))
        .header("Origin", base.as_str())
        .form(&[
            ("user_principal_name", ADMIN),
            ("password", PASSWORD),
            ("next", ""),
        ])
        .send()
        .await?;
    assert!(
        signed_in.status().is_success(),
        "sign in: {}",
        signed_in.status()
    );
    let timed = |request: reqwest::RequestBuilder| async move {
        let start = Instant::now();
        let answer = request.send().await.expect("an answer");
        assert_eq!(answer.status(), reqwest::StatusCode::OK);
        answer.bytes().await.expect("a body");
        start.elapsed().as_secs_f64() * 1000.0
    };
    let mut healthz = Vec::new();
    let mut page = Vec::new();
    for _ in 0..SAMPLES {
        healthz.push(timed(browser.get(format!("{base}/healthz"))).await);
        page.push(timed(browser.get(format!("{base}/users"))).await);
    }
    let upns: Vec<String> = engine::db::query_scalar(
        "SELECT user_principal_name FROM users ORDER BY random() LIMIT 50",
    )
    .fetch_all(&engine.db)
    .await?;
    let mut filter = Vec::new();
    for upn in &upns {
        let request = browser
            .get(format!("{base}/scim/v2/Users"))
            .query(&[("filter", format!("userName eq \"{upn}\""))])
            .bearer_auth(token);
        filter.push(timed(request).await);
    }
    for (label, samples) in [
        ("GET /healthz (baseline)", healthz),
        ("Users page 1", page),
        ("SCIM userName eq", filter),
    ] {
        let (median, p95) = median_p95(samples);
        println!("  {label:24} median {median:7.2} ms   p95 {p95:7.2} ms");
    }
    Ok(())
}

/// 20 applications, each with one generated group assigned, provisioning to a target of its own.
async fn applications(engine: &Engine, targets: &[Target]) -> Result<Vec<Uuid>, Failure> {
    let system = Caller::system();
    let (id, upn, name): (Uuid, String, String) = engine::db::query_as(
        "SELECT id, user_principal_name, display_name FROM users WHERE user_principal_name = ?",
    )
    .bind(ADMIN)
    .fetch_one(&engine.db)
    .await?;
    let admin = Account {
        id,
        user_principal_name: upn,
        display_name: name,
        role: Role::GlobalAdministrator,
        session_stamp: String::new(),
    };
    let groups: Vec<Uuid> =
        engine::db::query_scalar("SELECT id FROM groups ORDER BY rowid LIMIT ?")
            .bind(targets.len() as i64)
            .fetch_all(&engine.db)
            .await?;
    let mut apps = Vec::new();
    for (n, (target, group)) in targets.iter().zip(groups).enumerate() {
        let app = engine
            .create_application(&system, &admin, "custom-scim", &format!("Scale {n}"))
            .await?;
        let role = roles::roles(&engine.db, app.id)
            .await?
            .into_iter()
            .find(|r| r.display_name == "Default Access")
            .expect("every application has Default Access");
        engine
            .assign(
                &system,
                &admin,
                app.id,
                PrincipalType::Group,
                group,
                role.id,
            )
            .await?;
        let config = engine.provisioning(&admin, app.id).await?;
        let mut settings = config.settings.clone();
        settings.mode = Mode::Automatic;
        settings.status = Status::On;
        settings.groups.enabled = false;
        settings.scim_base_url = target.url.clone();
        let secrets = SecretChanges {
            secret_token: Some("unused".to_owned().into()),
            client_secret: None,
        };
        engine
            .save_provisioning(&system, &admin, app.id, config.version, settings, secrets)
            .await?;
        apps.push(app.id);
    }
    Ok(apps)
}

/// Every job kept due for the window; then what the lease history says happened in it.
async fn scale_out(engine: &Engine, consoles: &[Console], apps: &[Uuid]) -> Result<(), Failure> {
    let began = OffsetDateTime::now_utc();
    let deadline = Instant::now() + window();
    while Instant::now() < deadline {
        // As a directory change wakes them: a job already due keeps its place in the queue.
        let now = OffsetDateTime::now_utc();
        engine::db::query(
            "UPDATE provisioning_jobs SET next_run_at = ? WHERE state = 'Active' AND next_run_at > ?",
        )
        .bind(now)
        .bind(now)
            .execute(&engine.db)
            .await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ended = OffsetDateTime::now_utc();
    let leases: Vec<(Uuid, String, OffsetDateTime, OffsetDateTime)> = engine::db::query_as(
        "SELECT application_id, owner, taken_at, released_at FROM provisioning_leases \
         WHERE taken_at >= ? AND released_at IS NOT NULL AND released_at <= ?",
    )
    .bind(began)
    .bind(ended)
    .fetch_all(&engine.db)
    .await?;
    let minutes = (ended - began).as_seconds_f64() / 60.0;
    let mut by_app: HashMap<Uuid, Vec<f64>> = HashMap::new();
    let mut owners: HashMap<String, usize> = HashMap::new();
    for (app, owner, taken, released) in &leases {
        by_app
            .entry(*app)
            .or_default()
            .push((*released - *taken).as_seconds_f64() * 1000.0);
        *owners.entry(owner.clone()).or_default() += 1;
    }
    let all: Vec<f64> = by_app.values().flatten().copied().collect();
    let (median, p95) = median_p95(all);
    let slowest = by_app
        .values()
        .map(|d| median_p95(d.clone()).0)
        .fold(0.0, f64::max);
    // Of the applications that ran in the window, those whose last cycle was a no-op incremental.
    let mut no_ops = 0;
    for app in apps.iter().filter(|app| by_app.contains_key(app)) {
        let job = jobs::load(&engine.db, *app).await?;
        if job
            .last_cycle
            .is_some_and(|r| r.0.kind == CycleKind::Incremental && r.0.counts.processed == 0)
        {
            no_ops += 1;
        }
    }
    let mut per_process: Vec<usize> = owners.values().copied().collect();
    per_process.sort_unstable();
    println!(
        "  {} process(es): {:.0} jobs per minute ({} cycles, per process {per_process:?}); \
         no-op cycle under its lease median {median:.1} ms, p95 {p95:.1} ms, slowest application's median {slowest:.1} ms; \
         {} of {} applications ran, the last cycle of {no_ops} of them a no-op incremental",
        consoles.len(),
        leases.len() as f64 / minutes,
        leases.len(),
        by_app.len(),
        apps.len()
    );
    let rss: Vec<String> = consoles
        .iter()
        .map(|c| format!("{:.0} MB", c.peak_rss_mb()))
        .collect();
    println!("    peak RSS per process: {}", rss.join(", "));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    println!("PostgreSQL (private cluster), {} users", users());
    let url = postgres::database_url();
    let data = tempfile::tempdir()?;
    let started = Instant::now();
    let (engine, token) = directory(data.path(), Some(&url)).await?;
    if reads_only() {
        let console = Console::start(data.path(), Some(&url));
        reads(&engine, &console, &token).await?;
        drop(console);
        engine.db.close().await;
        return sqlite().await;
    }
    let targets: Vec<Target> = (0..APPLICATIONS).map(|_| Target::start()).collect();
    let apps = applications(&engine, &targets).await?;
    let mut consoles = vec![Console::start(data.path(), Some(&url))];
    // The initial cycles first: 20 groups' members into 20 targets.
    loop {
        let mut done = 0;
        for app in &apps {
            done += usize::from(jobs::load(&engine.db, *app).await?.last_cycle.is_some());
        }
        if done == apps.len() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3600),
            "initial cycles never ended"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let provisioned: u64 = {
        let mut total = 0;
        for target in &targets {
            total += target.total("Users").await;
        }
        total
    };
    println!(
        "  initial cycles done: {provisioned} accounts in {} targets",
        targets.len()
    );
    reads(&engine, &consoles[0], &token).await?;
    for processes in [1, 2, 4] {
        while consoles.len() < processes {
            consoles.push(Console::start(data.path(), Some(&url)));
        }
        scale_out(&engine, &consoles, &apps).await?;
    }
    drop(consoles);
    drop(targets);
    engine.db.close().await;
    sqlite().await
}

/// The reads on SQLite, at the same size.
async fn sqlite() -> Result<(), Failure> {
    println!("SQLite, {} users", users());
    let data = tempfile::tempdir()?;
    let (engine, token) = directory(data.path(), None).await?;
    let console = Console::start(data.path(), None);
    reads(&engine, &console, &token).await?;
    println!("  peak RSS: {:.0} MB", console.peak_rss_mb());
    Ok(())
}
