//! scim2-server under waitress with keep-alive (end2end/peers/scim-server.py), for the benches.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use serde_json::Value;

/// scim2-server under waitress, on a free port, stopped when dropped.
pub struct Target {
    pub child: Child,
    pub url: String,
}

impl Target {
    pub fn start() -> Target {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut child = Command::new(root.join("end2end/.venv/bin/python"))
            .arg(root.join("end2end/peers/scim-server.py"))
            .args(["--port", "0", "--count-requests"])
            .stdout(Stdio::piped())
            // waitress reports its queue depth whenever the client keeps it busy.
            .stderr(Stdio::null())
            .spawn()
            .expect("the test peers are installed (scripts/setup test)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the SCIM server starts");
        let port = line.trim().trim_start_matches("ready ").to_owned();
        Target {
            child,
            url: format!("http://127.0.0.1:{port}/v2"),
        }
    }

    pub async fn total(&self, resource: &str) -> u64 {
        let answer: Value = reqwest::get(format!("{}/{resource}?count=0", self.url))
            .await
            .expect("the SCIM server answers")
            .json()
            .await
            .expect("a list response");
        answer["totalResults"].as_u64().unwrap_or(0)
    }

    /// The CPU time the server has used so far, in seconds: what a run costs the server itself,
    /// whoever sends the requests.
    pub fn cpu_seconds(&self) -> f64 {
        // Linux's /proc/<pid>/stat: utime and stime, the 14th and 15th fields, in clock ticks
        // (USER_HZ, 100 on Linux). The command name in field 2 may hold spaces: skip past it.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the SCIM server runs");
        let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..]
            .split_whitespace()
            .collect();
        let ticks = |i: usize| fields[i].parse::<f64>().expect("clock ticks");
        (ticks(11) + ticks(12)) / 100.0
    }

    /// The requests received since the last call, by "METHOD /Resource".
    pub async fn requests(&self) -> Value {
        let origin = self.url.trim_end_matches("/v2");
        reqwest::Client::new()
            .delete(format!("{origin}/_requests"))
            .send()
            .await
            .expect("the SCIM server answers")
            .json()
            .await
            .expect("counts")
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
