//! The one place that opens the database: SQLite in WAL mode with a busy timeout and foreign keys
//! on, migrations from `engine/migrations/` applied before anything else touches it.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "scimitar.db";

/// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
pub async fn open(data_dir: &Path) -> Result<SqlitePool, sqlx::Error> {
    std::fs::create_dir_all(data_dir)?;
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(data_dir.join(DATABASE_FILE))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL makes NORMAL durable against application crashes; only power loss can drop the
        // last transactions, which is the trade-off every WAL deployment makes.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// True when the database answers a trivial query (what `/readyz` reports).
pub async fn is_reachable(pool: &SqlitePool) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(pool)
        .await
        .is_ok()
}

/// Starts a transaction that will write. `BEGIN IMMEDIATE` takes the write lock up front, so two
/// writers queue on the busy timeout instead of one failing when it upgrades from reading.
pub async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// `value` with LIKE's wildcards escaped, for `LIKE ? ESCAPE '\'`.
pub fn like_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A LIKE pattern for "starts with `value`" (trimmed), with `ESCAPE '\'`.
pub fn like_prefix(value: &str) -> String {
    format!("{}%", like_escaped(value.trim()))
}

/// `?, ?, ?` for an `IN (...)` list of `n` values (at least one, so the SQL stays valid).
pub fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_prefix(" 50%_off\\ "), "50\\%\\_off\\\\%");
        assert_eq!(super::placeholders(3), "?, ?, ?");
        assert_eq!(super::placeholders(0), "?");
    }
}
