//! `sqlx::migrate!` embeds `migrations/` at compile time; this rebuilds the engine when a
//! migration is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
