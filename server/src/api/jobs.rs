//! An application's provisioning job: its status (state, the cycle running with its progress,
//! the last cycle, quarantine), Start, Pause, Restart, Allow deletes, Test Connection and
//! Provision on demand.

use axum::{
    Json,
    extract::{Path, State},
};
use engine::{
    Engine,
    applications::connection::ConnectionInput,
    sync::{
        cycle::{CycleReport, Progress},
        jobs::{Interruption, JobState},
    },
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{ApiCaller, ApiError, ApiResult, id, rfc3339};

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(start))
        .routes(routes!(pause))
        .routes(routes!(restart))
        .routes(routes!(allow_deletes))
        .routes(routes!(test_connection))
        .routes(routes!(on_demand))
}

/// The job: its state (NotRun, Active, Paused, Quarantine, Disabled), when it runs next, its
/// quarantine, the cycle running (null when none), the last cycle's report, and the last cycle
/// that could not finish (kept until a cycle completes). Times are RFC 3339.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobOut {
    state: String,
    next_run_at: Option<String>,
    quarantine: Option<QuarantineOut>,
    current_cycle: Option<Progress>,
    last_cycle: Option<CycleReport>,
    last_interruption: Option<Interruption>,
}

/// Why the job is in quarantine, since when, and how many quarantined cycles it has had.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuarantineOut {
    reason: String,
    since: Option<String>,
    series: i64,
}

async fn job(engine: &Engine, who: &ApiCaller, app: uuid::Uuid) -> ApiResult<Json<JobOut>> {
    let job = engine.job(&who.account, app).await?;
    let quarantine =
        matches!(job.state, JobState::Quarantine | JobState::Disabled).then(|| QuarantineOut {
            reason: job.quarantine_reason.clone().unwrap_or_default(),
            since: job.quarantine_began_at.map(rfc3339),
            series: job.quarantine_series,
        });
    Ok(Json(JobOut {
        state: format!("{:?}", job.state),
        next_run_at: job.next_run_at.map(rfc3339),
        quarantine,
        current_cycle: job.current_cycle.map(|c| c.0),
        last_cycle: job.last_cycle.map(|r| r.0),
        last_interruption: job.last_interruption.map(|i| i.0),
    }))
}

#[utoipa::path(get, path = "/applications/{id}/job", tag = "Jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn status(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<JobOut>> {
    job(&engine, &who, id(&app, "application")?).await
}

/// Start: Provisioning Status On (the blade's Start provisioning). Answers the job.
#[utoipa::path(post, path = "/applications/{id}/job/start", tag = "Jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn start(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<JobOut>> {
    let app = id(&app, "application")?;
    engine
        .set_provisioning_status(&who.caller, &who.account, app, true)
        .await?;
    job(&engine, &who, app).await
}

/// Pause: Provisioning Status Off. Answers the job.
#[utoipa::path(post, path = "/applications/{id}/job/pause", tag = "Jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn pause(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<JobOut>> {
    let app = id(&app, "application")?;
    engine
        .set_provisioning_status(&who.caller, &who.account, app, false)
        .await?;
    job(&engine, &who, app).await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RestartOptions {
    /// Also forget which accounts are linked: every account is matched again.
    forget_links: bool,
}

/// Restart: the next cycle is an initial one; escrows and quarantine are cleared.
#[utoipa::path(post, path = "/applications/{id}/job/restart", tag = "Jobs", params(("id" = String, Path)), request_body(content = RestartOptions, description = "Optional"),
    responses((status = 200, body = JobOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn restart(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
    options: Option<Json<RestartOptions>>,
) -> ApiResult<Json<JobOut>> {
    let app = id(&app, "application")?;
    let options = options.map(|o| o.0).unwrap_or_default();
    engine
        .restart_job(&who.caller, &who.account, app, options.forget_links)
        .await?;
    job(&engine, &who, app).await
}

/// Allow deletes: the next cycle may disable and delete beyond the deletion threshold, once.
#[utoipa::path(post, path = "/applications/{id}/job/allow-deletes", tag = "Jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn allow_deletes(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<JobOut>> {
    let app = id(&app, "application")?;
    engine.allow_deletes(&who.caller, &who.account, app).await?;
    job(&engine, &who, app).await
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionOut {
    success: bool,
    message: String,
}

/// Test Connection with the saved Tenant URL and credentials.
#[utoipa::path(post, path = "/applications/{id}/job/test-connection", tag = "Jobs", params(("id" = String, Path)),
    responses((status = 200, body = ConnectionOut), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn test_connection(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
) -> ApiResult<Json<ConnectionOut>> {
    let app = id(&app, "application")?;
    let saved = engine.provisioning(&who.account, app).await?;
    let result = engine
        .test_connection(
            &who.caller,
            &who.account,
            app,
            ConnectionInput {
                scim_base_url: saved.settings.scim_base_url,
                secret_token: None,
            },
        )
        .await?;
    Ok(Json(ConnectionOut {
        success: result.succeeded(),
        message: result.message,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnDemand {
    /// A user or a group.
    object_id: String,
    /// For a group of more than 5 members: the ids of at most 5 of them to provision with it.
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StepOut {
    /// Connection, Import, Member, Scope, Match, Action.
    name: String,
    /// Success, Skipped or Failure.
    result: String,
    detail: String,
}

/// Provision on demand: one user (or a group of up to 5 members) through the whole pipeline
/// now; answers each step with its result, in order.
#[utoipa::path(post, path = "/applications/{id}/job/provision-on-demand", tag = "Jobs", params(("id" = String, Path)), request_body = OnDemand,
    responses((status = 200, body = Vec<StepOut>), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn on_demand(
    State(engine): State<Engine>,
    who: ApiCaller,
    Path(app): Path<String>,
    Json(request): Json<OnDemand>,
) -> ApiResult<Json<Vec<StepOut>>> {
    let app = id(&app, "application")?;
    let object = uuid::Uuid::try_parse(&request.object_id).map_err(|_| {
        ApiError::invalid(
            "objectId",
            format!("{:?} is not an id (a GUID)", request.object_id),
        )
    })?;
    let members = request
        .members
        .iter()
        .map(|m| {
            uuid::Uuid::try_parse(m)
                .map_err(|_| ApiError::invalid("members", format!("{m:?} is not an id (a GUID)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (send, mut receive) = tokio::sync::mpsc::channel(16);
    let run = engine.provision_on_demand(&who.account, app, object, members, send);
    let collect = async {
        let mut steps = Vec::new();
        while let Some(step) = receive.recv().await {
            steps.push(StepOut {
                name: step.name.to_owned(),
                result: format!("{:?}", step.result),
                detail: step.detail,
            });
        }
        steps
    };
    let (ran, steps) = tokio::join!(run, collect);
    ran?;
    Ok(Json(steps))
}
