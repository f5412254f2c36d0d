//! Downloads of the provisioning logs: the rows of a filter encoded as CSV or JSON while they
//! are read, a few dozen at a time, so a download of a million rows costs no more memory than
//! one of ten.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::db::Pool;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Row;
use crate::{Error, Result};

/// Downloads running now: they read from their own pool of read-only connections
/// ([`crate::db::open_reader`]), and one account runs at most [`Downloads::PER_ACCOUNT`] at once,
/// so nobody can queue enough of them to hold up everybody else's.
pub struct Downloads {
    pub(crate) db: Pool,
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// A place among the running downloads, given back when the download ends or is dropped.
pub struct DownloadSlot {
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
    account: Uuid,
}

impl Downloads {
    pub const PER_ACCOUNT: usize = 2;
    /// Connections of the download pool: downloads beyond this wait for one.
    pub const CONNECTIONS: u32 = 4;

    pub fn new(db: Pool) -> Downloads {
        Downloads {
            db,
            running: Arc::default(),
        }
    }

    pub fn start(&self, account: Uuid) -> Result<DownloadSlot> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(account).or_default();
        if *count >= Self::PER_ACCOUNT {
            return Err(Error::TooManyAtOnce {
                what: "downloads",
                limit: Self::PER_ACCOUNT,
            });
        }
        *count += 1;
        Ok(DownloadSlot {
            running: Arc::clone(&self.running),
            account,
        })
    }
}

impl Drop for DownloadSlot {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.account) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.account);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

const CSV_HEADER: [&str; 17] = [
    "Entry ID",
    "Date (UTC)",
    "Application",
    "Job ID",
    "Cycle ID",
    "Change ID",
    "Object type",
    "Source ID",
    "Identity",
    "Target ID",
    "Action",
    "Status",
    "Error code",
    "Reason",
    "Duration (ms)",
    "Steps",
    "Modified properties",
];

/// Rows read per chunk of output at most.
const CHUNK: usize = 64;

/// `rows` encoded in `format`, chunk by chunk. An error while reading ends the stream with it.
/// The stream is fused: a compressing body polls once more after the end, which a bare `unfold`
/// answers with a panic.
pub fn encode(
    format: Format,
    rows: mpsc::Receiver<Result<Row>>,
) -> impl Stream<Item = Result<Vec<u8>>> + Send + 'static {
    // (rows, rows written so far, finished)
    futures::stream::unfold(
        (rows, 0usize, false),
        move |(mut rows, written, done)| async move {
            if done {
                return None;
            }
            let mut out = Vec::new();
            if written == 0 {
                match format {
                    Format::Csv => out.extend(csv_line(&CSV_HEADER)),
                    Format::Json => out.push(b'['),
                }
            }
            let mut chunk = Vec::with_capacity(CHUNK);
            match rows.recv().await {
                Some(row) => chunk.push(row),
                None => {
                    if format == Format::Json {
                        out.extend(b"]\n");
                    }
                    return (!out.is_empty()).then_some((Ok(out), (rows, written, true)));
                }
            }
            while chunk.len() < CHUNK {
                match rows.try_recv() {
                    Ok(row) => chunk.push(row),
                    Err(_) => break,
                }
            }
            let mut written = written;
            for row in chunk {
                let row = match row {
                    Ok(row) => row,
                    Err(e) => return Some((Err(e), (rows, written, true))),
                };
                match format {
                    Format::Csv => out.extend(csv_line(&csv_fields(&row))),
                    Format::Json => {
                        if written > 0 {
                            out.push(b',');
                        }
                        out.push(b'\n');
                        out.extend(json(&row).to_string().into_bytes());
                    }
                }
                written += 1;
            }
            Some((Ok(out), (rows, written, false)))
        },
    )
    .fuse()
}

/// One CSV line, each cell quoted against spreadsheet formulas (a target's id or error text is
/// whatever the target sent).
fn csv_line<S: AsRef<str>>(fields: &[S]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = writer.write_record(
        fields
            .iter()
            .map(|f| crate::csv_cells::neutralise(f.as_ref()).into_owned()),
    );
    writer.into_inner().unwrap_or_default()
}

fn at(row: &Row) -> String {
    row.at.format(&Rfc3339).unwrap_or_default()
}

fn csv_fields(row: &Row) -> [String; 17] {
    [
        row.id.to_string(),
        at(row),
        row.application.clone(),
        row.job_id(),
        row.cycle_id.to_string(),
        row.change_id.to_string(),
        row.object_type.clone(),
        row.source_id.to_string(),
        row.source_name.clone(),
        row.target_id.clone().unwrap_or_default(),
        row.action.as_str().to_owned(),
        row.status.as_str().to_owned(),
        row.error_code.clone().unwrap_or_default(),
        row.reason.clone().unwrap_or_default(),
        row.duration_ms.to_string(),
        row.steps.0.join(" | "),
        modified_text(row),
    ]
}

/// "attribute: old -> new; ..." with JSON values, for one CSV cell.
fn modified_text(row: &Row) -> String {
    row.modified
        .0
        .as_array()
        .map(|changes| {
            changes
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} -> {}",
                        c["attribute"].as_str().unwrap_or_default(),
                        c["old"],
                        c["new"]
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// An entry as the JSON download and the REST API give it.
pub fn json(row: &Row) -> Value {
    json!({
        "id": row.id,
        "at": at(row),
        "applicationId": row.application_id,
        "application": row.application,
        "jobId": row.job_id(),
        "cycleId": row.cycle_id,
        "changeId": row.change_id,
        "objectType": row.object_type,
        "sourceId": row.source_id,
        "sourceName": row.source_name,
        "targetId": row.target_id,
        "action": row.action.as_str(),
        "status": row.status.as_str(),
        "steps": row.steps.0,
        "modifiedProperties": row.modified.0,
        "errorCode": row.error_code,
        "reason": row.reason,
        "durationMs": row.duration_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn row(target_id: &str, reason: &str) -> Row {
        Row {
            id: 7,
            at: time::OffsetDateTime::UNIX_EPOCH,
            application_id: Uuid::nil(),
            application: "Payroll".into(),
            cycle_id: Uuid::nil(),
            change_id: Uuid::nil(),
            object_type: "User".into(),
            source_id: Uuid::nil(),
            source_name: "@mallory".into(),
            target_id: Some(target_id.into()),
            action: super::super::Action::Create,
            status: super::super::Status::Failure,
            steps: sqlx::types::Json(vec![]),
            modified: sqlx::types::Json(Value::Null),
            error_code: None,
            reason: Some(reason.into()),
            duration_ms: 1,
        }
    }

    #[tokio::test]
    async fn what_a_target_returns_cannot_run_as_a_formula_and_the_stream_ends_once() {
        let (send, receive) = mpsc::channel(4);
        send.send(Ok(row("=HYPERLINK(\"http://evil.example\")", "-1+1")))
            .await
            .unwrap();
        drop(send);
        let mut chunks = Box::pin(encode(Format::Csv, receive));
        let mut text = String::new();
        while let Some(chunk) = chunks.next().await {
            text.push_str(&String::from_utf8(chunk.unwrap()).unwrap());
        }
        // Polled again after its end, as a compressing body does: still the end, no panic.
        assert!(chunks.next().await.is_none());
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[8], "'@mallory");
        assert_eq!(&record[9], "'=HYPERLINK(\"http://evil.example\")");
        assert_eq!(&record[13], "'-1+1");
    }
}
