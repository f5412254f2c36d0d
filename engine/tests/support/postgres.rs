//! A private PostgreSQL cluster for the tests that run on PostgreSQL: the first
//! [`database_url`] of a test process runs `initdb` into a fresh temporary folder and starts
//! `postgres` on a free loopback port, tuned for throwaway data; every call hands out a new
//! empty database in it. Statics are never dropped, so a small shell watchdog stops the
//! cluster: its stdin is a pipe the test process holds open until it exits, however it exits;
//! then `read` returns, and the shell shuts postgres down (SIGINT, fast shutdown) and removes
//! the folder. `initdb` refuses to run as root: as root (containers), the cluster runs as the
//! `postgres` account that Debian's package creates.

use std::{
    fs::OpenOptions,
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{ChildStdin, Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

/// The running cluster. `_watchdog` is the write end of the watchdog's stdin: never closed by
/// the tests, closed by the kernel when the test process ends.
struct Cluster {
    bin: PathBuf,
    port: String,
    _watchdog: ChildStdin,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// Fast and unsafe: the data is thrown away. Many tests run at once, each with a pool.
const SETTINGS: &str = "
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 500
shared_buffers = 32MB
";

/// Arguments: the folder, then the postgres command. Postgres's stdin is /dev/null, not the
/// pipe; the shell ignores ^C, so that it outlives the test process and cleans up.
const WATCHDOG: &str = r#"dir=$1; shift
"$@" </dev/null >"$dir/log" 2>&1 & pid=$!
echo $pid
trap '' INT TERM HUP
read _
kill -INT $pid; wait $pid; rm -rf "$dir""#;

/// The database a test runs on: `None` for SQLite (the default), or a new PostgreSQL database
/// when `SCIMITAR_TEST_DATABASE=postgres` (how `scripts/test` runs the suites a second time).
pub fn selected() -> Option<String> {
    match std::env::var("SCIMITAR_TEST_DATABASE").as_deref() {
        Ok("postgres") => Some(database_url()),
        Ok("sqlite") | Err(_) => None,
        Ok(other) => panic!("SCIMITAR_TEST_DATABASE={other}: expected sqlite or postgres"),
    }
}

/// A new empty database on the cluster (started by the first call), as a connection URL.
pub fn database_url() -> String {
    let cluster = CLUSTER.get_or_init(start).as_ref();
    let Cluster { bin, port, .. } = cluster.unwrap_or_else(|e| panic!("{e}"));
    let count = DATABASES.fetch_add(1, Ordering::Relaxed);
    let name = format!("scimitar_test_{}_{count}", std::process::id());
    run(client(bin, "createdb", port).arg(&name)).unwrap_or_else(|e| panic!("{e}"));
    format!("postgres://scimitar@127.0.0.1:{port}/{name}")
}

fn start() -> Result<Cluster, String> {
    let bin = server_bin()?;
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    let unique = format!("scimitar-postgres-{}", now.unwrap().as_nanos());
    let dir = std::env::temp_dir().join(unique);
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("id: {e}"))?;
    let mut as_postgres = Vec::new();
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        let chown = run(Command::new("chown").arg("postgres:postgres").arg(&dir));
        chown.map_err(|e| format!("initdb refuses to run as root; no `postgres` account: {e}"))?;
        as_postgres = "setpriv --reuid=postgres --regid=postgres --clear-groups"
            .split(' ')
            .collect();
    }
    let data = dir.join("data");
    // `env`: runs the rest of its arguments.
    let initdb = run(Command::new("env")
        .args(&as_postgres)
        .arg(bin.join("initdb"))
        .arg(&data)
        .args(["--auth=trust", "--username=scimitar", "--encoding=UTF8"])
        .args(["--locale=C.UTF-8", "--no-sync"])
        .current_dir(&dir))
    .and_then(|()| {
        let conf = OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"));
        let written = conf.and_then(|mut conf| conf.write_all(SETTINGS.as_bytes()));
        written.map_err(|e| e.to_string())
    });
    initdb.inspect_err(|_| drop(std::fs::remove_dir_all(&dir)))?;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    drop(listener);
    let mut watchdog = Command::new("sh")
        .args(["-c", WATCHDOG, "sh"])
        .arg(&dir)
        .args(&as_postgres)
        .arg(bin.join("postgres"))
        .args(["-p", &port, "-D"])
        .arg(&data)
        .arg("-k")
        .arg(&dir)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sh: {e}"))?;
    let mut pid = String::new();
    let _ = BufReader::new(watchdog.stdout.take().unwrap()).read_line(&mut pid);

    // Ready once it accepts connections; given up on if postgres exits or after 30 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pg_isready = client(&bin, "pg_isready", &port);
    pg_isready.args(["-d", "postgres"]);
    while run(&mut pg_isready).is_err() {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        if !stat.is_ok_and(|s| !s.contains(") Z ")) || Instant::now() > deadline {
            let log = tail(&dir.join("log"));
            return Err(format!(
                "PostgreSQL did not start on port {port}; its log ends:\n{log}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _watchdog = watchdog.stdin.take().unwrap();
    Ok(Cluster {
        bin,
        port,
        _watchdog,
    })
}

/// One of PostgreSQL's client programs, for the cluster on `port`.
fn client(bin: &Path, program: &str, port: &str) -> Command {
    let mut command = Command::new(bin.join(program));
    command.args(["-h", "127.0.0.1", "-p", port, "-U", "scimitar"]);
    command
}

/// The folder of PostgreSQL's server programs: that of `initdb` on PATH, through links (Debian
/// keeps them in /usr/lib/postgresql/<version>/bin), or else the newest of those.
fn server_bin() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path())
        .collect();
    let version = |v: &PathBuf| v.file_name()?.to_str()?.parse::<u32>().ok();
    debian.sort_by_key(|v| std::cmp::Reverse(version(v)));
    std::env::split_paths(&path)
        .chain(debian.into_iter().map(|version| version.join("bin")))
        .map(|dir| dir.join("initdb"))
        .find(|initdb| initdb.is_file())
        .and_then(|initdb| Some(initdb.canonicalize().ok()?.parent()?.to_owned()))
        .ok_or_else(|| {
            "PostgreSQL's initdb is neither on PATH nor in /usr/lib/postgresql/*/bin \
             (`scripts/setup test` installs it)"
                .to_owned()
        })
}

/// Runs `command` to its end; what it printed is the error if it fails.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command.stdin(Stdio::null()).output();
    let output = output.map_err(|e| format!("{command:?}: {e}"))?;
    let printed = [output.stdout, output.stderr].concat();
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?}: {}",
        String::from_utf8_lossy(&printed)
    ))
}

/// The last 20 lines of a log file.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
