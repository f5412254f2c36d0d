//! Reads a database's whole change feed in pages, as an incremental provisioning cycle would
//! from watermark 0, and prints how long it took. Used by `scripts/bench-directory`.
//!
//! `cargo run --release -p engine --example read_feed -- DATA_DIR [PAGE]`

use std::{path::PathBuf, time::Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir = PathBuf::from(args.next().ok_or("usage: read_feed DATA_DIR [PAGE]")?);
    let page: u32 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(1000);
    let engine = engine::Engine::open(&data_dir).await?;
    let started = Instant::now();
    let (mut watermark, mut entries, mut pages) = (0, 0usize, 0usize);
    loop {
        let changes = engine::directory::feed::since(&engine.db, watermark, page).await?;
        let Some(last) = changes.last() else { break };
        watermark = last.sequence;
        entries += changes.len();
        pages += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("change feed: {entries} entries read in {pages} pages of {page} in {seconds:.3} s");
    Ok(())
}
