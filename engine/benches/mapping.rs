//! Measures the mapping language (issue 4's figures): the generic default user mapping of
//! "Create your own application" (engine/gallery/custom-scim.toml)
//! with its Join and Switch, evaluated over 100,000 users made by the directory generator, time
//! per user (median, p99) and heap allocations per user; and the parse time of a
//! 10,000-character expression. Baseline in the same run: cloning each user, the cheapest thing
//! a cycle does with it. Run with `scripts/bench-mapping` (or `cargo bench -p engine --bench mapping`).

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use engine::{
    Engine,
    applications::gallery,
    audit::Caller,
    directory::{generator::Spec, users::User},
    mapping::{Environment, Expression, Operation, UserSource, source::USER_ATTRIBUTES},
};
use rand::{SeedableRng, rngs::StdRng};

/// Counts heap allocations so the figure is exact, not estimated.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const USERS: u32 = 100_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let engine = Engine::open(data.path()).await?;
    let spec = Spec {
        users: USERS,
        groups: 0,
        seed: 7,
        missing: 0.05,
    };
    engine
        .generate_directory(&Caller::system(), spec, "contoso.com")
        .await?;
    let users: Vec<User> = engine::db::query_as("SELECT * FROM users ORDER BY rowid")
        .fetch_all(&engine.db)
        .await?;
    println!(
        "users: {} generated (5% without surname, 5% without mail)",
        users.len()
    );

    let template = gallery::template(gallery::CUSTOM).expect("Create your own application");
    let mappings = template
        .users
        .mappings
        .compile(USER_ATTRIBUTES, &["userName"])
        .expect("the default mapping is valid");
    let mut random = StdRng::seed_from_u64(1);
    let mut environment = Environment {
        now: time::OffsetDateTime::now_utc(),
        random: &mut random,
    };

    // Warm up caches and the allocator once over everyone, then measure a second pass.
    for user in &users {
        let source = UserSource {
            user,
            in_scope: true,
            app_roles: &[],
        };
        std::hint::black_box(
            mappings
                .evaluate(&source, &mut environment, Operation::Create)
                .ok(),
        );
    }
    let mut times = Vec::with_capacity(users.len());
    let mut baseline = Vec::with_capacity(users.len());
    let (mut allocations, mut attributes) = (0u64, 0usize);
    for user in &users {
        let started = Instant::now();
        std::hint::black_box(user.clone());
        baseline.push(started.elapsed());

        let source = UserSource {
            user,
            in_scope: true,
            app_roles: &[],
        };
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let started = Instant::now();
        let mapped = mappings.evaluate(&source, &mut environment, Operation::Create);
        times.push(started.elapsed());
        allocations += ALLOCATIONS.load(Ordering::Relaxed) - before;
        attributes += mapped.map(|m| m.attributes.len()).unwrap_or(0);
        // Building the SCIM JSON is the SCIM client's work; measured separately below.
    }
    times.sort();
    baseline.sort();
    let median = percentile(&times, 0.5);
    let base = percentile(&baseline, 0.5);
    println!(
        "generic user mapping: median {:.2} µs/user, p99 {:.2} µs/user, {:.1} allocations/user, {:.1} attributes/user",
        micros(median),
        micros(percentile(&times, 0.99)),
        allocations as f64 / users.len() as f64,
        attributes as f64 / users.len() as f64,
    );
    println!(
        "baseline (clone the user): median {:.2} µs/user; mapping/baseline = {:.1}x",
        micros(base),
        median.as_secs_f64() / base.as_secs_f64()
    );

    let mut json_times = Vec::with_capacity(users.len());
    for user in &users {
        let source = UserSource {
            user,
            in_scope: true,
            app_roles: &[],
        };
        let started = Instant::now();
        if let Ok(mapped) = mappings.evaluate(&source, &mut environment, Operation::Create) {
            std::hint::black_box(mapped.resource(engine::scim::USER));
        }
        json_times.push(started.elapsed());
    }
    json_times.sort();
    println!(
        "generic user mapping + SCIM JSON body: median {:.2} µs/user",
        micros(percentile(&json_times, 0.5))
    );

    // A 10,000-character expression (Entra's maximum): a chain of nested calls and joins.
    let mut text = String::from("Join(\" \"");
    let piece = ", ToLower(Replace(Mid([givenName], 1, 3), \"a\", , , \"b\", , ))";
    while text.len() + piece.len() < 10_000 {
        text.push_str(piece);
    }
    text.push_str(&" ".repeat(10_000 - 1 - text.len()));
    text.push(')');
    assert_eq!(text.chars().count(), 10_000);
    let mut parse_times = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        std::hint::black_box(Expression::parse(&text).expect("parses"));
        parse_times.push(started.elapsed());
    }
    parse_times.sort();
    println!(
        "parse a 10,000-character expression: median {:.1} µs, p99 {:.1} µs (200 runs)",
        micros(percentile(&parse_times, 0.5)),
        micros(percentile(&parse_times, 0.99)),
    );
    Ok(())
}
