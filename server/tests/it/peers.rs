//! The real third-party servers the tests talk to (docs/testing.md, Peers): `scim2-server`
//! (Python), the `oidc-provider` authorization server and the JWT-checking SCIM proxy (Node,
//! end2end/peers), and Python's own static file server for "answers, but not SCIM". Each starts
//! on a free loopback port, is waited for, and is stopped when dropped.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A running peer; killed when dropped.
pub struct Peer {
    child: Child,
    pub url: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Node peer from end2end/peers: it prints one JSON line once it listens.
fn node_peer(script: &str, config: Value) -> (Child, Value) {
    let mut child = Command::new("node")
        .arg(repo_root().join("end2end/peers").join(script))
        .arg(config.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is installed (scripts/setup)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("{script} did not start: {line:?}"));
    (child, ready)
}

/// `scim2-server` with its own in-memory store; `token` makes it demand that bearer token.
/// `url` is its SCIM base URL (`.../v2`); `origin` is without the path.
pub fn scim_server(token: Option<&str>) -> (Peer, String) {
    let port = free_port();
    let mut command = Command::new(repo_root().join("end2end/.venv/bin/scim2-server"));
    command
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(token) = token {
        command.args(["--bearer-token", token]);
    }
    let child = command
        .spawn()
        .expect("scim2-server is installed (scripts/setup)");
    wait_for_port(port, "scim2-server");
    let origin = format!("http://127.0.0.1:{port}");
    (
        Peer {
            child,
            url: format!("{origin}/v2"),
        },
        origin,
    )
}

/// The OAuth server, with `clients` and access tokens for `audience`.
pub fn oidc(clients: Value, audience: &str, ttl_seconds: u64) -> Peer {
    let (child, ready) = node_peer(
        "oidc.mjs",
        serde_json::json!({ "clients": clients, "resource": audience, "accessTokenTtl": ttl_seconds }),
    );
    Peer {
        child,
        url: ready["issuer"].as_str().unwrap().to_owned(),
    }
}

/// The proxy that lets a request through to `target` only with a JWT from `issuer` for `audience`.
pub fn jwt_proxy(target: &str, issuer: &str, audience: &str) -> Peer {
    let (child, ready) = node_peer(
        "jwt-proxy.mjs",
        serde_json::json!({ "target": target, "issuer": issuer, "audience": audience }),
    );
    Peer {
        child,
        url: ready["url"].as_str().unwrap().to_owned(),
    }
}

/// Python's static file server over `directory`.
pub fn static_files(directory: &std::path::Path) -> Peer {
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(directory)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, "python3 -m http.server");
    Peer {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Signs in at the OAuth server's development pages (any login is accepted) and consents,
/// as an administrator's browser would, starting from Scimitar's authorization URL. Returns
/// the URL the provider sends the browser back to (Scimitar's callback with code and state).
pub async fn sign_in_and_consent(authorize_url: &str, back_to: &str) -> String {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = authorize_url.to_owned();
    for _ in 0..12 {
        if url.starts_with(back_to) {
            return url;
        }
        let response = browser.get(&url).send().await.unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let next = match location {
            Some(location) => location,
            None => {
                // An interaction page: the login form, then the consent form.
                let page = response.text().await.unwrap();
                let form: &[(&str, &str)] = if page.contains("name=\"login\"") {
                    &[("prompt", "login"), ("login", "alice"), ("password", "x")]
                } else {
                    &[("prompt", "consent")]
                };
                let posted = browser.post(&url).form(form).send().await.unwrap();
                posted
                    .headers()
                    .get("location")
                    .expect("the interaction answers with a redirect")
                    .to_str()
                    .unwrap()
                    .to_owned()
            }
        };
        url = reqwest::Url::parse(&url)
            .unwrap()
            .join(&next)
            .unwrap()
            .to_string();
    }
    panic!("the provider never sent the browser back to {back_to}");
}

/// The fault-injecting proxy (end2end/peers/fault-proxy.mjs) in front of `target`; its faults
/// are set while it runs with [`set_faults`].
pub fn fault_proxy(target: &str) -> Peer {
    let (child, ready) = node_peer("fault-proxy.mjs", serde_json::json!({ "target": target }));
    Peer {
        child,
        url: ready["url"].as_str().unwrap().to_owned(),
    }
}

/// Replaces the proxy's faults (e.g. `{"status429Share": 0.5, "retryAfter": 2}`).
pub async fn set_faults(proxy: &Peer, faults: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/__faults", proxy.url))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

/// What the proxy saw: counters and the last 200 requests.
pub async fn faults_seen(proxy: &Peer) -> Value {
    reqwest::get(format!("{}/__faults", proxy.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `aiosmtpd` keeping every message it receives in a maildir.
pub struct SmtpSink {
    _peer: Peer,
    pub port: u16,
    _dir: tempfile::TempDir,
    maildir: PathBuf,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let child = Command::new(repo_root().join("end2end/.venv/bin/python"))
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd is installed (scripts/setup)");
        wait_for_port(port, "aiosmtpd");
        SmtpSink {
            _peer: Peer {
                child,
                url: format!("127.0.0.1:{port}"),
            },
            port,
            _dir: dir,
            maildir,
        }
    }

    /// Every message received so far, as raw text.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect()
    }
}

/// Every user in the SCIM service at `scim` (its base URL), page by page.
pub async fn all_target_users(scim: &str) -> Vec<Value> {
    let mut users = Vec::new();
    loop {
        let page: Value = reqwest::get(format!(
            "{scim}/Users?startIndex={}&count=200",
            users.len() + 1
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        if resources.is_empty() {
            return users;
        }
        users.extend(resources);
    }
}
