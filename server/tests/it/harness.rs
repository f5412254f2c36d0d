//! Starts the real `scimitar` binary on a free loopback port with a fresh SQLite file, and
//! drives it like its users do: a browser-like client, the command line, SCIM clients.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::header;
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";

/// A running console and everything it printed.
pub struct Console {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
    pub data_dir: tempfile::TempDir,
    /// The PostgreSQL database when this run tests PostgreSQL; `None`: SQLite in `data_dir`.
    pub database_url: Option<String>,
    flags: &'static [&'static str],
}

impl Console {
    /// A console that may provision to the test peers on loopback (`--allow-private-targets`).
    pub fn start() -> Console {
        Console::start_with(&["--allow-private-targets"])
    }

    /// A console started with exactly these extra flags.
    pub fn start_with(flags: &'static [&'static str]) -> Console {
        Console::start_on(crate::postgres::selected(), flags)
    }

    /// A console on this database (`None`: SQLite in its data directory), whatever the run tests.
    pub fn start_on(database_url: Option<String>, flags: &'static [&'static str]) -> Console {
        let data_dir = tempfile::tempdir().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (child, base) = Console::spawn(data_dir.path(), &database_url, flags, log.clone());
        Console {
            child,
            base,
            log,
            data_dir,
            database_url,
            flags,
        }
    }

    /// Kills the server as a crash would (SIGKILL, nothing flushed) and starts it again on the
    /// same data directory.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let (child, base) = Console::spawn(
            self.data_dir.path(),
            &self.database_url,
            self.flags,
            self.log.clone(),
        );
        self.child = child;
        self.base = base;
    }

    /// Another `scimitar` process on this console's data directory, as a second replica. Its
    /// log joins this console's; it is killed when dropped.
    pub fn another_process(&self) -> Replica {
        let (child, base) = Console::spawn(
            self.data_dir.path(),
            &self.database_url,
            self.flags,
            self.log.clone(),
        );
        Replica(child, base)
    }

    /// `scimitar` with this console's storage: its data directory and, when set, its database.
    fn command(data_dir: &std::path::Path, database_url: &Option<String>) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scimitar"));
        command.arg("--data-dir").arg(data_dir);
        if let Some(url) = database_url {
            command.env("SCIMITAR_DATABASE_URL", url);
        }
        command
    }

    fn spawn(
        data_dir: &std::path::Path,
        database_url: &Option<String>,
        flags: &[&str],
        log: Arc<Mutex<Vec<String>>>,
    ) -> (Child, String) {
        let mut child = Console::command(data_dir, database_url)
            .args(["--listen", "127.0.0.1:0"])
            .args(flags)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let address = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .to_owned();
                    let _ = address_tx.send(address);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let base = address_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server never said where it listens");
        (child, base)
    }

    /// `scimitar admin create`, on the same data directory, while the server runs.
    pub fn admin_create(&self, upn: &str, role: &str, password: &str) -> std::process::Output {
        let mut child = Console::command(self.data_dir.path(), &self.database_url)
            .args([
                "admin",
                "create",
                "--upn",
                upn,
                "--role",
                role,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    }

    /// `scimitar` with `args` on this console's storage, while the server runs.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Console::command(self.data_dir.path(), &self.database_url)
            .args(args)
            .output()
            .unwrap()
    }

    /// `scimitar token create`: a token for `upn` with the given scopes.
    pub fn token(&self, upn: &str, scopes: &[&str]) -> String {
        let mut command = Console::command(self.data_dir.path(), &self.database_url);
        command.args(["token", "create", "--upn", upn]);
        for scope in scopes {
            command.args(["--scope", scope]);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// An administrator and a SCIM token of theirs, in one go.
    pub fn admin_with_scim_token(&self) -> String {
        let created = self.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        self.token("admin@contoso.com", &["scim"])
    }

    /// The engine over this console's database, from the test process (SQLite in WAL mode
    /// lets both processes use it), to look at what HTTP does not show: the change feed.
    pub async fn engine(&self) -> engine::Engine {
        let options = engine::Options {
            outbound: engine::outbound::Outbound {
                allow_private_targets: true,
            },
            database_url: self.database_url.clone(),
            ..Default::default()
        };
        engine::Engine::open_with(self.data_dir.path(), options)
            .await
            .unwrap()
    }

    pub fn setup_token(&self) -> String {
        let log = self.log.lock().unwrap();
        let line = log
            .iter()
            .find(|l| l.contains("setup_token="))
            .expect("no setup token in the log");
        line.split("setup_token=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A SCIM client: the token as a bearer credential, JSON in and out.
    pub fn scim(&self, token: &str) -> reqwest::Client {
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        headers.insert(
            header::CONTENT_TYPE,
            "application/scim+json".parse().unwrap(),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// A browser-like client: keeps cookies, does not follow redirects, sends our Origin.
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = header::HeaderMap::new();
        headers.insert(header::ORIGIN, self.base.parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    }

    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        upn: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/sign_in"))
            .form(&[
                ("user_principal_name", upn),
                ("password", password),
                ("next", ""),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A console account made on the command line, signed in in a browser-like client.
    pub async fn signed_in(&self, upn: &str, role: &str) -> reqwest::Client {
        let out = self.admin_create(upn, role, PASSWORD);
        assert!(out.status.success(), "{out:?}");
        let browser = self.browser();
        let answer = self.sign_in(&browser, upn, PASSWORD).await;
        assert!(!answer.status().is_client_error(), "{}", answer.status());
        browser
    }

    /// A "Create your own application" made by `browser`, and `spec`'s generated provisioning
    /// log entries for it; the engine, to read them back.
    pub async fn application_with_logs(
        &self,
        browser: &reqwest::Client,
        spec: engine::sync::log::generator::Spec,
    ) -> engine::Engine {
        let created = browser
            .post(self.url("/api/applications/create"))
            .form(&[("template", "custom-scim"), ("display_name", "Payroll")])
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
        let engine = self.engine().await;
        engine.generate_provisioning_logs(spec).await.unwrap();
        engine
    }

    pub async fn me(&self, client: &reqwest::Client) -> Value {
        client
            .post(self.url("/api/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// A second process of a [`Console`].
/// A second `scimitar` process and its address.
pub struct Replica(pub Child, pub String);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
