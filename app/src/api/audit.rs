//! The Audit logs blade: entries filtered by actor, target, activity and date, newest first.

use leptos::prelude::*;

use super::AppError;
use crate::model::AuditPage;

#[cfg(feature = "ssr")]
pub(crate) fn day(
    value: Option<String>,
    field: &str,
    add_days: i64,
) -> Result<Option<time::OffsetDateTime>, AppError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let date = time::Date::parse(
        value.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| AppError::Invalid {
        field: field.into(),
        message: format!("{value:?} is not a date of the form 2026-01-31."),
    })?;
    Ok(Some(
        date.midnight().assume_utc() + time::Duration::days(add_days),
    ))
}

#[server(endpoint = "audit/list")]
pub async fn list_audit(
    actor: Option<String>,
    target: Option<String>,
    activity: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<AuditPage, AppError> {
    use crate::model::AuditRow;
    use engine::{
        accounts::{Permission, Role},
        audit,
    };
    let (engine, account, _) = super::context::require(Permission::ReadLogs).await?;
    let query = audit::Query {
        actor,
        target,
        activity,
        from: day(from, "from", 0)?,
        until: day(to, "to", 1)?,
        // Until applications have owners, an Application Owner sees the changes they made.
        only_actor_id: (account.role == Role::ApplicationOwner).then_some(account.id),
        before: before.and_then(|b| b.parse().ok()),
        limit: 100,
    };
    let page = audit::list(&engine.db, &query).await?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    Ok(AuditPage {
        rows: page
            .entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: e.at.format(format).unwrap_or_default(),
                actor: e.actor_name,
                activity: e.activity,
                target: match e.target_name {
                    Some(name) => format!("{} {name}", e.target_type),
                    None => e.target_type,
                },
                client_address: e.client_address.unwrap_or_default(),
                before: e.before,
                after: e.after,
            })
            .collect(),
        next: page.next.map(|id| id.to_string()),
        activities: audit::activities(&engine.db).await?,
    })
}
