//! The Provisioning logs blade: entries filtered on every column, by keyset pages, and one
//! entry in full with its troubleshooting advice. The downloads read the same filters.

use leptos::prelude::*;

use super::AppError;
use crate::model::{LogEntry, LogPage, LogQuery};

/// The engine's filter for `query`; a value that does not parse names its field.
#[cfg(feature = "ssr")]
pub fn filter(query: &LogQuery) -> Result<engine::sync::log::Filter, AppError> {
    use engine::sync::log::{Action, Filter, Status, parse_job_id};
    let invalid = |field: &str, message: String| AppError::Invalid {
        field: field.into(),
        message,
    };
    let id = |field: &str, value: &Option<String>, what: &str| {
        given(value)
            .map(|v| {
                uuid::Uuid::try_parse(v.trim())
                    .map_err(|_| invalid(field, format!("{v:?} is not {what} (a GUID).")))
            })
            .transpose()
    };
    let application = id("application", &query.application, "an application id")?;
    let job = given(&query.job)
        .map(|j| {
            parse_job_id(j)
                .ok_or_else(|| invalid("job", format!("{j:?} is not a job ID (scim. and a GUID).")))
        })
        .transpose()?;
    if let (Some(a), Some(j)) = (application, job)
        && a != j
    {
        return Err(invalid(
            "job",
            "This job belongs to another application than the one selected.".into(),
        ));
    }
    Ok(Filter {
        application: application.or(job),
        identity: given(&query.identity).map(str::to_owned),
        from: super::audit::day(query.from.clone(), "from", 0)?,
        until: super::audit::day(query.to.clone(), "to", 1)?,
        status: given(&query.status)
            .map(|s| {
                Status::parse(s).ok_or_else(|| {
                    invalid(
                        "status",
                        format!("{s:?} is not a status: Success, Failure, Skipped or Warning."),
                    )
                })
            })
            .transpose()?,
        action: given(&query.action)
            .map(|a| {
                Action::parse(a).ok_or_else(|| {
                    invalid(
                        "action",
                        format!(
                            "{a:?} is not an action: Create, Update, Disable, Delete, StagedDelete or Other."
                        ),
                    )
                })
            })
            .transpose()?,
        cycle_id: id("cycle", &query.cycle, "a cycle id")?,
        change_id: id("change", &query.change, "a change id")?,
        object_type: match given(&query.object_type) {
            None => None,
            Some(t) if t.eq_ignore_ascii_case("user") => Some("User".into()),
            Some(t) if t.eq_ignore_ascii_case("group") => Some("Group".into()),
            Some(t) => {
                return Err(invalid(
                    "object_type",
                    format!("{t:?} is not an object type: User or Group."),
                ));
            }
        },
    })
}

/// A filter's value, if one was given: blank inputs are no filter.
#[cfg(feature = "ssr")]
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(feature = "ssr")]
fn when(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    at.format(format).unwrap_or_default()
}

#[server(endpoint = "provisioning-logs/list")]
pub async fn list_provisioning_logs(
    // Every filter empty serializes to nothing at all.
    #[server(default)] query: LogQuery,
    before: Option<String>,
) -> Result<LogPage, AppError> {
    use engine::accounts::Permission;

    use crate::model::LogRow;
    let (engine, account, _) = super::context::require(Permission::ReadLogs).await?;
    let filter = filter(&query)?;
    let before = before
        .map(|b| {
            b.parse::<i64>().map_err(|_| AppError::Invalid {
                field: "before".into(),
                message: format!("{b:?} is not a page cursor."),
            })
        })
        .transpose()?;
    let page = engine
        .provisioning_logs(&account, &filter, before, 50)
        .await?;
    Ok(LogPage {
        rows: page
            .rows
            .into_iter()
            .map(|r| LogRow {
                id: r.id.to_string(),
                at: when(r.at),
                application: r.application,
                object_type: r.object_type,
                identity: r.source_name,
                target_id: r.target_id.unwrap_or_default(),
                action: r.action.as_str().to_owned(),
                status: r.status.as_str().to_owned(),
                error_code: r.error_code.unwrap_or_default(),
            })
            .collect(),
        next: page.next.map(|id| id.to_string()),
        applications: engine
            .log_applications(&account)
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
    })
}

#[server(endpoint = "provisioning-logs/get")]
pub async fn get_provisioning_log(id: String) -> Result<LogEntry, AppError> {
    use engine::{accounts::Permission, sync::log};

    use crate::model::ModifiedProperty;
    let (engine, account, _) = super::context::require(Permission::ReadLogs).await?;
    let id = id
        .parse::<i64>()
        .map_err(|_| AppError::NotFound("There is no such log entry.".into()))?;
    let row = engine.provisioning_log(&account, id).await?;
    let shown = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (cause, fix) = match row.error_code.as_deref() {
        Some(code) => {
            let (cause, fix) = log::advice(code);
            (cause.to_owned(), fix.to_owned())
        }
        None => (String::new(), String::new()),
    };
    Ok(LogEntry {
        id: row.id.to_string(),
        at: when(row.at),
        application_id: row.application_id.to_string(),
        application: row.application.clone(),
        job_id: row.job_id(),
        cycle_id: row.cycle_id.to_string(),
        change_id: row.change_id.to_string(),
        object_type: row.object_type.clone(),
        source_id: row.source_id.to_string(),
        source_name: row.source_name.clone(),
        target_id: row.target_id.clone().unwrap_or_default(),
        action: row.action.as_str().to_owned(),
        status: row.status.as_str().to_owned(),
        steps: row.steps.0.clone(),
        modified: row
            .modified
            .0
            .as_array()
            .map(|changes| {
                changes
                    .iter()
                    .map(|c| ModifiedProperty {
                        attribute: shown(&c["attribute"]),
                        old: shown(&c["old"]),
                        new: shown(&c["new"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        error_code: row.error_code.clone().unwrap_or_default(),
        reason: row.reason.clone().unwrap_or_default(),
        duration_ms: row.duration_ms,
        cause,
        fix,
    })
}
