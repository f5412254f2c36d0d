//! Provisioning logs (filter, page, export) and audit logs, with the filters of their blades.

use axum::{
    Json,
    body::Body,
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use engine::{
    Engine,
    accounts::{Permission, Role},
    audit,
    sync::log,
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiCaller, ApiError, ApiResult, rfc3339};

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(provisioning_logs))
        .routes(routes!(export))
        .routes(routes!(audit_logs))
}

/// The filters of the Provisioning logs blade.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// An application id.
    application: Option<String>,
    /// A name starting with this, or exactly a source or target id.
    identity: Option<String>,
    /// A day (2026-01-31): entries from its start.
    from: Option<String>,
    /// A day: entries until its end.
    to: Option<String>,
    /// Success, Failure, Skipped or Warning.
    status: Option<String>,
    /// Create, Update, Disable, Delete, StagedDelete or Other.
    action: Option<String>,
    /// A cycle id.
    cycle: Option<String>,
    /// A change id.
    change: Option<String>,
    /// A job id (scim. and the application id).
    job: Option<String>,
    /// User or Group.
    object_type: Option<String>,
    /// The `next` of the previous page.
    before: Option<i64>,
    /// Entries per page, 1 to 1,000 (default 100).
    limit: Option<u32>,
    /// For exports: csv (default) or json.
    format: Option<String>,
}

impl LogParams {
    fn filter(&self) -> ApiResult<log::Filter> {
        let query = app::model::LogQuery {
            application: self.application.clone(),
            identity: self.identity.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            status: self.status.clone(),
            action: self.action.clone(),
            cycle: self.cycle.clone(),
            change: self.change.clone(),
            job: self.job.clone(),
            object_type: self.object_type.clone(),
        };
        app::api::provisioning_logs::filter(&query).map_err(|e| match e {
            app::api::AppError::Invalid { field, message } => ApiError::invalid(&field, message),
            other => ApiError::invalid("filter", other.to_string()),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct LogPageOut {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<Value>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next: Option<i64>,
}

/// A page of provisioning log entries matching the filters, newest first.
#[utoipa::path(get, path = "/provisioning-logs", tag = "Logs", params(LogParams),
    responses((status = 200, body = LogPageOut), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn provisioning_logs(
    State(engine): State<Engine>,
    who: ApiCaller,
    Query(params): Query<LogParams>,
) -> ApiResult<Json<LogPageOut>> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 1000"));
    }
    let page = engine
        .provisioning_logs(&who.account, &params.filter()?, params.before, limit)
        .await?;
    Ok(Json(LogPageOut {
        entries: page.rows.iter().map(log::json).collect(),
        next: page.next,
    }))
}

/// Every entry matching the filters as CSV or JSON, streamed as it is read.
#[utoipa::path(get, path = "/provisioning-logs/export", tag = "Logs", params(LogParams),
    responses((status = 200, description = "text/csv or application/json"), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn export(
    State(engine): State<Engine>,
    who: ApiCaller,
    Query(params): Query<LogParams>,
) -> ApiResult<Response> {
    let format = match params.format.as_deref().unwrap_or("csv") {
        "csv" => log::Format::Csv,
        "json" => log::Format::Json,
        other => {
            return Err(ApiError::invalid(
                "format",
                format!("{other:?} is not csv or json"),
            ));
        }
    };
    let rows = engine.stream_provisioning_logs(&who.account, params.filter()?)?;
    let body = log::encode(format, rows)
        .inspect_err(|e| tracing::error!(error = %e, "provisioning logs export broke off"));
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        Body::from_stream(body),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Start of the actor's name.
    actor: Option<String>,
    /// Start of the target's name.
    target: Option<String>,
    activity: Option<String>,
    /// The `next` of the previous page.
    before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPageOut {
    #[schema(value_type = Vec<Object>)]
    entries: Vec<Value>,
    next: Option<i64>,
}

/// Audit log entries, newest first, 100 a page (an Application Owner: their own changes).
#[utoipa::path(get, path = "/audit-logs", tag = "Logs", params(AuditParams),
    responses((status = 200, body = AuditPageOut), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn audit_logs(
    State(engine): State<Engine>,
    who: ApiCaller,
    Query(params): Query<AuditParams>,
) -> ApiResult<Json<AuditPageOut>> {
    if !who.account.may(Permission::ReadLogs) {
        return Err(engine::Error::Forbidden.into());
    }
    let query = audit::Query {
        actor: params.actor,
        target: params.target,
        activity: params.activity,
        from: None,
        until: None,
        only_actor_id: (who.account.role == Role::ApplicationOwner).then_some(who.account.id),
        before: params.before,
        limit: 100,
    };
    let page = audit::list(&engine.db, &query).await?;
    Ok(Json(AuditPageOut {
        entries: page
            .entries
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id, "at": rfc3339(e.at), "actorType": e.actor_type, "actor": e.actor_name,
                    "activity": e.activity, "targetType": e.target_type, "target": e.target_name,
                    "before": e.before, "after": e.after, "clientAddress": e.client_address,
                })
            })
            .collect(),
        next: page.next,
    }))
}
