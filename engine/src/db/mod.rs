//! The one place that opens the database. SQLite is the embedded default: a file in the data
//! directory, in WAL mode with a busy timeout and foreign keys on. PostgreSQL (`--database-url`)
//! lets several processes share one database (docs/architecture.md, "Databases"). Either way the
//! migrations of `engine/migrations/<database>/` are applied before anything else touches it.
//!
//! The data directory is the owner's alone (0700) and so is the SQLite file (0600); SQLite gives
//! its `-wal` and `-shm` files the database file's mode.

mod query;

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    PgConnection, Postgres, Sqlite, SqliteConnection,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

pub use query::{
    Arg, Done, FromRow, Query, QueryAs, QueryBuilder, QueryScalar, Sql, Values, query, query_as,
    query_scalar,
};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "scimitar.db";

/// Connections to the database. Cloning is cheap.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either database; dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// What a query runs on: a pool (any free connection) or a transaction's connection. Everything
/// that runs queries takes `impl Into<Exec>`.
#[derive(Debug)]
pub enum Exec<'a> {
    SqlitePool(&'a SqlitePool),
    Sqlite(&'a mut SqliteConnection),
    PostgresPool(&'a PgPool),
    Postgres(&'a mut PgConnection),
}

impl<'a> From<&'a Pool> for Exec<'a> {
    fn from(pool: &'a Pool) -> Self {
        match pool {
            Pool::Sqlite(p) => Exec::SqlitePool(p),
            Pool::Postgres(p) => Exec::PostgresPool(p),
        }
    }
}

impl<'a> From<&'a mut Tx> for Exec<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        match tx {
            Tx::Sqlite(t) => Exec::Sqlite(t),
            Tx::Postgres(t) => Exec::Postgres(t),
        }
    }
}

impl<'a, 'b> From<&'a mut Exec<'b>> for Exec<'a> {
    fn from(exec: &'a mut Exec<'b>) -> Self {
        match exec {
            Exec::SqlitePool(p) => Exec::SqlitePool(p),
            Exec::Sqlite(c) => Exec::Sqlite(c),
            Exec::PostgresPool(p) => Exec::PostgresPool(p),
            Exec::Postgres(c) => Exec::Postgres(c),
        }
    }
}

impl Pool {
    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Where the database is: `None` for the SQLite file in the data directory, or a
/// `postgres://` URL.
pub async fn open(data_dir: &Path, url: Option<&str>) -> Result<Pool, sqlx::Error> {
    std::fs::create_dir_all(data_dir)?;
    owner_only(data_dir, url.is_none())?;
    match url {
        None => open_sqlite(data_dir).await,
        Some(url) => open_postgres(url).await,
    }
}

async fn open_sqlite(data_dir: &Path) -> Result<Pool, sqlx::Error> {
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
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(Pool::Sqlite(pool))
}

/// The migrator takes a PostgreSQL advisory lock while it runs, so when several processes start
/// at once on one database, one migrates and the others wait for it.
async fn open_postgres(url: &str) -> Result<Pool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name("scimitar");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(Pool::Postgres(pool))
}

/// Read-only connections for long reads: a download holds its connection for as long as the
/// browser takes to receive the file. Each reads one snapshot of its own (WAL readers never block
/// the writer) and, being in a pool of their own, downloads never take the connections that
/// pages, probes and cycles need.
pub async fn open_reader(
    data_dir: &Path,
    url: Option<&str>,
    connections: u32,
) -> Result<Pool, sqlx::Error> {
    Ok(match url {
        None => {
            let options = SqliteConnectOptions::from_str("sqlite:")?
                .filename(data_dir.join(DATABASE_FILE))
                .read_only(true)
                .busy_timeout(Duration::from_secs(5));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_lazy_with(options),
            )
        }
        Some(url) => {
            let options = PgConnectOptions::from_str(url)?
                .application_name("scimitar download")
                .options([("default_transaction_read_only", "on")]);
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_lazy_with(options),
            )
        }
    })
}

/// Makes the data directory and the SQLite files readable by their owner only, also when they
/// were made by an earlier version with looser modes. A new database file is created empty with
/// mode 0600 before SQLite opens it, so it is never readable by others, not even briefly.
fn owner_only(data_dir: &Path, sqlite: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        if !sqlite {
            return Ok(());
        }
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
pub async fn is_reachable(pool: &Pool) -> bool {
    query_scalar::<i32>("SELECT 1")
        .fetch_one(pool)
        .await
        .is_ok()
}

/// The advisory lock every writing transaction holds on PostgreSQL (an arbitrary constant).
const WRITE_LOCK: i64 = 0x5c1_a17a;

/// Starts a transaction that will write. Writers take turns, on both databases: SQLite's
/// `BEGIN IMMEDIATE` takes its write lock up front (so two writers queue on the busy timeout
/// instead of one failing when it upgrades from reading), and on PostgreSQL every writing
/// transaction first takes one transaction-scoped advisory lock. The engine's read-then-write
/// checks (the last Global Administrator, a group cycle) and the change feed's gap-free order
/// rely on it (docs/architecture.md, "Databases").
pub async fn begin_write(pool: &Pool) -> Result<Tx, sqlx::Error> {
    match pool {
        Pool::Sqlite(p) => Ok(Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)),
        Pool::Postgres(p) => {
            let mut tx = Tx::Postgres(p.begin().await?);
            query("SELECT pg_advisory_xact_lock(?)")
                .bind(WRITE_LOCK)
                .execute(&mut tx)
                .await?;
            Ok(tx)
        }
    }
}

/// Starts a transaction that writes only rows it locks one by one (a job's lease), so on
/// PostgreSQL it does not take turns with [`begin_write`]'s transactions; on SQLite, where there
/// is one writer at a time, it is [`begin_write`].
pub async fn begin_concurrent(pool: &Pool) -> Result<Tx, sqlx::Error> {
    match pool {
        Pool::Sqlite(_) => begin_write(pool).await,
        Pool::Postgres(p) => Ok(Tx::Postgres(p.begin().await?)),
    }
}

/// Copies the SQLite database of `data_dir` to the new file `to` while consoles keep using it,
/// with SQLite's online backup API: one consistent snapshot in a single step (in WAL mode the
/// writers are not held up), checked with `PRAGMA quick_check`. The copy is mode 0600, like the
/// database. Returns its size in bytes. Blocking: run it off the async runtime.
pub fn backup_sqlite(data_dir: &Path, to: &Path) -> Result<u64, String> {
    let database = data_dir.join(DATABASE_FILE);
    if !database.exists() {
        return Err(format!("there is no database in {}", data_dir.display()));
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(to)
        .map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let copy = || -> rusqlite::Result<String> {
        let source = rusqlite::Connection::open_with_flags(
            &database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        source.busy_timeout(Duration::from_secs(5))?;
        let mut copy = rusqlite::Connection::open(to)?;
        {
            // All pages in one step: one snapshot. Busy or locked (a checkpoint), try again.
            let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
            while backup.step(-1)? != rusqlite::backup::StepResult::Done {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        copy.query_row("PRAGMA quick_check", [], |row| row.get(0))
    };
    match copy() {
        Ok(check) if check == "ok" => Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0)),
        outcome => {
            let _ = std::fs::remove_file(to);
            Err(match outcome {
                Ok(check) => format!("the backup failed: {check}"),
                Err(e) => format!("the backup failed: {e}"),
            })
        }
    }
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

/// Runs `sql` (a query of a table with an `id` column, its filters included, `AND id < before`
/// for a later page) as a newest-first keyset page: at most `limit` rows (1 to 500), and the
/// `before` of the next page when there are more.
pub async fn newest_first<O: FromRow>(
    mut sql: QueryBuilder,
    limit: u32,
    db: impl Into<Exec<'_>>,
    id: impl Fn(&O) -> i64,
) -> sqlx::Result<(Vec<O>, Option<i64>)> {
    let limit = limit.clamp(1, 500) as usize;
    sql.push(" ORDER BY id DESC LIMIT ")
        .push_bind(limit as i64 + 1);
    let mut rows: Vec<O> = sql.build_query_as().fetch_all(db).await?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        rows.last().map(&id)
    });
    Ok((rows, next.flatten()))
}

/// `?, ?, ?` for an `IN (...)` list of `n` values; `NULL` for none, which keeps the SQL valid and
/// matches nothing.
pub fn placeholders(n: usize) -> String {
    if n == 0 {
        return "NULL".into();
    }
    vec!["?"; n].join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_prefix(" 50%_off\\ "), "50\\%\\_off\\\\%");
        assert_eq!(super::placeholders(3), "?, ?, ?");
        assert_eq!(super::placeholders(0), "NULL");
    }
}
