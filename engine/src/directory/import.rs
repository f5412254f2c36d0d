//! CSV import and export of users. An upload is parsed and checked first (a preview: what would be
//! created, updated or left alone, and every bad row with its line number and the column at
//! fault); then the valid rows go in, in one transaction. Rows match existing users by user
//! principal name, so importing the same file twice changes nothing the second time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::{
    UserPrincipalName, UserProfile,
    users::{self, User, check_mail},
};
use crate::{
    Engine, Error, Result,
    audit::{self, Caller, Target},
};

/// The columns a file may have, in the order an export writes them.
pub const COLUMNS: [&str; 14] = [
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "accountEnabled",
    "department",
    "jobTitle",
    "employeeId",
    "manager",
    "preferredLanguage",
    "telephoneNumber",
    "mobile",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// The column at fault, by its header name (empty when the whole row is wrong).
    pub column: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowAction {
    Create,
    Update,
    Unchanged,
}

/// A checked row: its user, its manager's name, and what importing it would do.
#[derive(Clone, Debug)]
struct ValidRow {
    profile: UserProfile,
    manager_upn: Option<String>,
    existing: Option<Uuid>,
    action: RowAction,
}

/// What importing a file would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub rows: u64,
    pub create: u64,
    pub update: u64,
    pub unchanged: u64,
    pub errors: Vec<RowError>,
}

fn row_error(line: u64, column: &str, message: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.to_owned(),
        message: message.into(),
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Reads and checks a file against the directory as it is now.
async fn check(engine: &Engine, content: &str) -> Result<(Vec<ValidRow>, Preview)> {
    let mut preview = Preview::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            preview
                .errors
                .push(row_error(1, "", format!("the file is not CSV: {e}")));
            return Ok((Vec::new(), preview));
        }
    };
    // Column index -> canonical column name; unknown and missing columns are file errors.
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for header in headers.iter() {
        let known = COLUMNS
            .iter()
            .find(|c| c.eq_ignore_ascii_case(header.trim_start_matches('\u{feff}')));
        if known.is_none() {
            preview.errors.push(row_error(
                1,
                header,
                format!("unknown column; the columns are {}", COLUMNS.join(", ")),
            ));
        }
        columns.push(known.copied());
    }
    if !columns.contains(&Some("userPrincipalName")) {
        preview.errors.push(row_error(
            1,
            "userPrincipalName",
            "the file needs a userPrincipalName column",
        ));
    }
    if !preview.errors.is_empty() {
        return Ok((Vec::new(), preview));
    }

    let mut records = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) if r.iter().all(str::is_empty) => {}
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                // Cells an export quoted against spreadsheet formulas come back as they were.
                let cells: csv::StringRecord = r.iter().map(crate::csv_cells::restore).collect();
                records.push((line, cells));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                preview.errors.push(row_error(
                    line,
                    "",
                    format!("this line is not valid CSV: {e}"),
                ));
            }
        }
    }
    let column = |name: &str| columns.iter().position(|c| *c == Some(name));
    // Managers may be in the directory or anywhere in the same file.
    let upn_column = column("userPrincipalName");
    let in_file: std::collections::HashSet<String> = records
        .iter()
        .filter_map(|(_, r)| upn_column.and_then(|i| r.get(i)).map(str::to_lowercase))
        .collect();

    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut valid = Vec::with_capacity(records.len());
    for (line, record) in &records {
        let line = *line;
        preview.rows += 1;
        let value = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        let optional = |name: &str| Some(value(name)).filter(|v| !v.is_empty());
        let mut errors = Vec::new();
        let upn = value("userPrincipalName");
        if let Err(Error::Invalid { message, .. }) =
            UserPrincipalName::parse(&upn, "userPrincipalName")
        {
            errors.push(row_error(line, "userPrincipalName", message));
        }
        if value("displayName").is_empty() {
            errors.push(row_error(line, "displayName", "enter a display name"));
        }
        if let Some(mail) = optional("mail")
            && let Err(Error::Invalid { message, .. }) = check_mail(&mail, "mail")
        {
            errors.push(row_error(line, "mail", message));
        }
        let enabled = parse_bool(&value("accountEnabled"));
        if enabled.is_none() {
            errors.push(row_error(line, "accountEnabled", "use true or false"));
        }
        if let Some(first) = seen.insert(upn.to_lowercase(), line) {
            errors.push(row_error(
                line,
                "userPrincipalName",
                format!("{upn} is also on line {first}"),
            ));
        }
        let manager = optional("manager");
        if let Some(manager) = &manager {
            let known = in_file.contains(&manager.to_lowercase())
                || users::find_by_upn(&engine.db, manager)
                    .await?
                    .is_some_and(|m| m.deleted_at.is_none());
            if !known {
                errors.push(row_error(
                    line,
                    "manager",
                    format!("there is no user named {manager}"),
                ));
            }
        }
        if !errors.is_empty() {
            preview.errors.extend(errors);
            continue;
        }
        let profile = UserProfile {
            user_principal_name: upn.clone(),
            display_name: value("displayName"),
            given_name: optional("givenName"),
            surname: optional("surname"),
            mail: optional("mail"),
            mail_nickname: optional("mailNickname"),
            account_enabled: enabled,
            department: optional("department"),
            job_title: optional("jobTitle"),
            employee_id: optional("employeeId"),
            manager_id: None,
            preferred_language: optional("preferredLanguage"),
            telephone_number: optional("telephoneNumber"),
            mobile: optional("mobile"),
            external_id: None,
            extension_attributes: Json(Default::default()),
        };
        // Length limits and the rest of the directory's rules.
        let profile = match profile.validate() {
            Ok(p) => p,
            Err(Error::Invalid { field, message }) => {
                preview.errors.push(row_error(line, field, message));
                continue;
            }
            Err(e) => return Err(e),
        };
        let existing = users::find_by_upn(&engine.db, &profile.user_principal_name).await?;
        let mut row = ValidRow {
            profile,
            manager_upn: manager,
            existing: None,
            action: RowAction::Create,
        };
        if let Some(user) = &existing {
            row.existing = Some(user.id);
            let mut incoming = row.profile.clone();
            keep_unlisted(&mut incoming, user);
            incoming.manager_id = user.profile.manager_id;
            let same_manager = row.manager_upn.as_deref().map(str::to_lowercase)
                == manager_upn(engine, user).await?.map(|m| m.to_lowercase());
            row.action = if incoming == user.profile && same_manager && user.deleted_at.is_none() {
                RowAction::Unchanged
            } else {
                RowAction::Update
            };
        }
        match row.action {
            RowAction::Create => preview.create += 1,
            RowAction::Update => preview.update += 1,
            RowAction::Unchanged => preview.unchanged += 1,
        }
        valid.push(row);
    }
    preview.errors.sort_by_key(|e| e.line);
    Ok((valid, preview))
}

/// Attributes a CSV file does not carry keep their stored values.
fn keep_unlisted(profile: &mut UserProfile, user: &User) {
    profile.external_id = user.profile.external_id.clone();
    profile.extension_attributes = user.profile.extension_attributes.clone();
}

async fn manager_upn(engine: &Engine, user: &User) -> Result<Option<String>> {
    Ok(match user.profile.manager_id {
        Some(id) => users::get(&engine.db, id)
            .await?
            .map(|m| m.profile.user_principal_name),
        None => None,
    })
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows left out, with why.
    pub errors: Vec<RowError>,
}

impl Engine {
    pub async fn preview_import(&self, content: &str) -> Result<Preview> {
        Ok(check(self, content).await?.1)
    }

    /// Imports the file's valid rows in one transaction; bad rows are reported, not imported.
    /// `progress` hears the number of rows written so far.
    pub async fn import_users(
        &self,
        caller: &Caller,
        content: &str,
        progress: impl Fn(u64),
    ) -> Result<ImportReport> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let (rows, preview) = check(self, content).await?;
        let mut report = ImportReport {
            errors: preview.errors,
            ..ImportReport::default()
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        let mut last_sequence = None;
        // First the users themselves, then managers (which may point at rows of this file).
        let mut ids: HashMap<String, Uuid> = HashMap::new();
        for (done, row) in rows.iter().enumerate() {
            match (row.action, row.existing) {
                (RowAction::Create, _) => {
                    let (user, sequence) =
                        users::insert(&mut tx, caller, row.profile.clone(), None, None).await?;
                    ids.insert(row.profile.user_principal_name.to_lowercase(), user.id);
                    last_sequence = Some(sequence);
                    report.created += 1;
                }
                (RowAction::Update, Some(id)) => {
                    let before = users::get(&mut tx, id).await?.ok_or(Error::NotFound {
                        kind: "user",
                        id: id.to_string(),
                    })?;
                    let mut profile = row.profile.clone();
                    keep_unlisted(&mut profile, &before);
                    profile.manager_id = before.profile.manager_id;
                    if let Some(sequence) =
                        users::replace_profile(&mut tx, caller, &before, profile).await?
                    {
                        last_sequence = Some(sequence);
                    }
                    ids.insert(row.profile.user_principal_name.to_lowercase(), id);
                    report.updated += 1;
                }
                (_, existing) => {
                    if let Some(id) = existing {
                        ids.insert(row.profile.user_principal_name.to_lowercase(), id);
                    }
                    report.unchanged += u64::from(row.action == RowAction::Unchanged);
                }
            }
            if done % 250 == 0 {
                progress(done as u64);
            }
        }
        for row in &rows {
            let Some(id) = ids
                .get(&row.profile.user_principal_name.to_lowercase())
                .copied()
            else {
                continue;
            };
            let manager = match &row.manager_upn {
                Some(upn) => match ids.get(&upn.to_lowercase()) {
                    Some(m) => Some(*m),
                    None => users::find_by_upn(&mut tx, upn).await?.map(|m| m.id),
                },
                None => None,
            };
            let before = users::get(&mut tx, id).await?.ok_or(Error::NotFound {
                kind: "user",
                id: id.to_string(),
            })?;
            if before.profile.manager_id != manager {
                let profile = UserProfile {
                    manager_id: manager,
                    ..before.profile.clone()
                };
                if let Some(sequence) =
                    users::replace_profile(&mut tx, caller, &before, profile).await?
                {
                    last_sequence = Some(sequence);
                }
                if row.action == RowAction::Unchanged {
                    report.unchanged -= 1;
                    report.updated += 1;
                }
            }
        }
        let target = Target {
            kind: "Directory",
            id: None,
            name: "CSV import",
        };
        let summary = serde_json::json!({
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "rowsWithErrors": report.errors.len(),
        });
        audit::record(&mut tx, caller, "Import users", target, None, Some(summary)).await?;
        tx.commit().await?;
        progress(rows.len() as u64);
        if let Some(sequence) = last_sequence {
            self.feed.published(sequence);
        }
        Ok(report)
    }

    /// The users of `query` as CSV, in [`COLUMNS`] order (what an import reads back).
    pub async fn export_users(&self, search: Option<String>) -> Result<String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(COLUMNS)
            .map_err(|e| Error::invalid("export", e.to_string()))?;
        let mut query = super::listing::ListQuery {
            search,
            limit: 500,
            ..Default::default()
        };
        let mut managers: HashMap<Uuid, String> = HashMap::new();
        loop {
            let page = super::listing::users(
                &self.db,
                &query,
                super::listing::UserSort::UserPrincipalName,
            )
            .await?;
            for user in &page.items {
                let p = &user.profile;
                let manager = match p.manager_id {
                    Some(id) => match managers.get(&id) {
                        Some(upn) => upn.clone(),
                        None => {
                            let upn = users::get(&self.db, id)
                                .await?
                                .map(|m| m.profile.user_principal_name)
                                .unwrap_or_default();
                            managers.insert(id, upn.clone());
                            upn
                        }
                    },
                    None => String::new(),
                };
                let text = |v: &Option<String>| v.clone().unwrap_or_default();
                let cells = [
                    p.user_principal_name.clone(),
                    p.display_name.clone(),
                    text(&p.given_name),
                    text(&p.surname),
                    text(&p.mail),
                    text(&p.mail_nickname),
                    p.is_enabled().to_string(),
                    text(&p.department),
                    text(&p.job_title),
                    text(&p.employee_id),
                    manager,
                    text(&p.preferred_language),
                    text(&p.telephone_number),
                    text(&p.mobile),
                ];
                out.write_record(
                    cells
                        .iter()
                        .map(|c| crate::csv_cells::neutralise(c).into_owned()),
                )
                .map_err(|e| Error::invalid("export", e.to_string()))?;
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let bytes = out
            .into_inner()
            .map_err(|e| Error::invalid("export", e.to_string()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// An uploaded file waiting for the administrator to confirm its import, with the progress of
/// the import once it runs (for the page's progress bar).
pub struct StagedImport {
    pub owner: Uuid,
    pub file_name: String,
    content: String,
    pub preview: Preview,
    processed: std::sync::atomic::AtomicU64,
    pub report: std::sync::Mutex<Option<ImportReport>>,
}

impl StagedImport {
    /// Rows written so far, and rows to write in all.
    pub fn progress(&self) -> (u64, u64) {
        let total = self.preview.create + self.preview.update + self.preview.unchanged;
        (
            self.processed
                .load(std::sync::atomic::Ordering::Relaxed)
                .min(total),
            total,
        )
    }
}

/// Uploads staged in this process; an hour after upload they are forgotten.
#[derive(Default)]
pub struct StagedImports(
    std::sync::Mutex<HashMap<Uuid, (std::time::Instant, std::sync::Arc<StagedImport>)>>,
);

impl Engine {
    /// Checks an uploaded file and keeps it until its owner confirms (or an hour passes).
    pub async fn stage_import(
        &self,
        owner: Uuid,
        file_name: &str,
        content: String,
    ) -> Result<(Uuid, Preview)> {
        let preview = self.preview_import(&content).await?;
        let id = Uuid::new_v4();
        let staged = StagedImport {
            owner,
            file_name: file_name.to_owned(),
            content,
            preview: preview.clone(),
            processed: Default::default(),
            report: Default::default(),
        };
        let mut staged_imports = self.imports.0.lock().unwrap_or_else(|p| p.into_inner());
        staged_imports.retain(|_, (at, _)| at.elapsed() < std::time::Duration::from_secs(3600));
        staged_imports.insert(id, (std::time::Instant::now(), std::sync::Arc::new(staged)));
        Ok((id, preview))
    }

    /// A staged upload, if it exists and belongs to `owner`.
    pub fn staged_import(&self, id: Uuid, owner: Uuid) -> Option<std::sync::Arc<StagedImport>> {
        let staged_imports = self.imports.0.lock().unwrap_or_else(|p| p.into_inner());
        staged_imports
            .get(&id)
            .map(|(_, s)| s.clone())
            .filter(|s| s.owner == owner)
    }

    /// Imports a staged upload (once; a second call returns the first report).
    pub async fn run_staged_import(
        &self,
        caller: &Caller,
        id: Uuid,
        owner: Uuid,
    ) -> Result<ImportReport> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let staged = self.staged_import(id, owner).ok_or(Error::NotFound {
            kind: "upload",
            id: id.to_string(),
        })?;
        if let Some(report) = staged
            .report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(report);
        }
        let processed = &staged.processed;
        let report = self
            .import_users(caller, &staged.content, |n| {
                processed.store(n, std::sync::atomic::Ordering::Relaxed)
            })
            .await?;
        *staged.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
        Ok(report)
    }
}
