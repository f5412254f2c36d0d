//! The one place that opens the database: SQLite in WAL mode with a busy timeout and foreign keys
//! on, migrations from `engine/migrations/` applied before anything else touches it. The data
//! directory is the owner's alone (0700) and so is the database file (0600); SQLite gives its
//! `-wal` and `-shm` files the database file's mode.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "scimitar.db";

/// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
pub async fn open(data_dir: &Path) -> Result<SqlitePool, sqlx::Error> {
    std::fs::create_dir_all(data_dir)?;
    owner_only(data_dir)?;
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

/// Read-only connections for long reads: a download holds its connection for as long as the
/// browser takes to receive the file. Each reads one snapshot of its own (WAL readers never block
/// the writer) and, being in a pool of their own, downloads never take the connections that
/// pages, probes and cycles need.
pub async fn open_reader(data_dir: &Path, connections: u32) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(data_dir.join(DATABASE_FILE))
        .read_only(true)
        .busy_timeout(Duration::from_secs(5));
    Ok(SqlitePoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(60))
        .connect_lazy_with(options))
}

/// Makes the data directory and the database files readable by their owner only, also when
/// they were made by an earlier version with looser modes. A new database file is created empty
/// with mode 0600 before SQLite opens it, so it is never readable by others, not even briefly.
fn owner_only(data_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        let database = data_dir.join(DATABASE_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&database)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = data_dir.join(format!("{DATABASE_FILE}{suffix}"));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
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
