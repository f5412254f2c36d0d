//! The Provisioning blade's server functions: the configuration form (Save, Authorize and Test
//! Connection are three submit buttons of one form), the Mappings pages with their scoping
//! filters, and the expression editor's checks and previews. Secrets come in, never go out:
//! the form only learns whether each one is set.

// The Provisioning form is one server function with an argument per field.
#![allow(clippy::too_many_arguments)]

use leptos::{prelude::*, server_fn::codec::Json};

use super::AppError;
#[cfg(feature = "ssr")]
use crate::model::{ClauseRow, FilterRow, MappingRow};
use crate::model::{
    ConnectionVerdict, MappingsForm, PreviewResult, ProvisioningForm, ProvisioningStatus,
};

#[cfg(feature = "ssr")]
use super::applications::{parse_id, utc};

/// Where the provider sends the administrator back.
#[cfg(feature = "ssr")]
pub fn redirect_uri(base: &str) -> String {
    format!("{}/oauth/callback", base.trim_end_matches('/'))
}

#[server(endpoint = "provisioning/get")]
pub async fn get_provisioning(id: String) -> Result<ProvisioningForm, AppError> {
    use engine::{
        accounts::Permission,
        applications::{
            Access,
            provisioning::{Mode, Scope, Status},
        },
    };
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let c = engine.provisioning(&account, app.id).await?;
    let s = &c.settings;
    let template = app.template();
    // How this administrator's last Authorize of this application ended (kept by the engine, so
    // no link can put words on the blade). Reading it changes nothing; the blade shows it when
    // the callback's address says an authorization just came back.
    let outcome = engine.authorization_outcome(&account, app.id).await?;
    Ok(ProvisioningForm {
        authorization_outcome: outcome.map(|o| (o.succeeded, o.message)),
        application_id: app.id.to_string(),
        application: app.display_name.clone(),
        version: c.version,
        authentication: serde_json::to_value(s.authentication)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        automatic: s.mode == Mode::Automatic,
        scim_base_url: s.scim_base_url.clone(),
        scim_base_url_hint: template.provisioning.scim_base_url_hint.clone(),
        has_secret_token: c.has_secret_token,
        client_id: s.oauth.client_id.clone(),
        authorization_url: s.oauth.authorization_url.clone(),
        token_url: s.oauth.token_url.clone(),
        scopes: s.oauth.scopes.clone(),
        has_client_secret: c.has_client_secret,
        authorized: c.authorized_at.map(|at| {
            format!(
                "{} on {}",
                c.authorized_by.clone().unwrap_or_default(),
                utc(at)
            )
        }),
        token_expires: c.token_expires_at.map(utc),
        notification_email: s.notification_email.clone(),
        notify_on_failure: s.notify_on_failure,
        sync_all: s.scope == Scope::All,
        prevent_accidental_deletion: s.prevent_accidental_deletion,
        deletion_threshold: s.deletion_threshold,
        skip_out_of_scope_deletions: s.skip_out_of_scope_deletions,
        cycle_interval_minutes: s.cycle_interval_minutes,
        concurrency: s.target.concurrency,
        requests_per_second: s.target.requests_per_second,
        use_target_capabilities: s.target.use_capabilities,
        on: s.status == Status::On,
        users_enabled: s.users.enabled,
        groups_enabled: s.groups.enabled,
        groups_supported: template.provisioning.groups_supported,
        users_mapping_count: s.users.mappings.0.len() as u32,
        groups_mapping_count: s.groups.mappings.0.len() as u32,
    })
}

/// A whole number typed into a form field; a wrong one is added to `errors`.
#[cfg(feature = "ssr")]
fn number(field: &str, text: &str, errors: &mut Vec<(String, String)>) -> u32 {
    text.trim().parse().unwrap_or_else(|_| {
        errors.push((field.into(), "Enter a whole number.".into()));
        0
    })
}

/// The Provisioning form. `intent` is the button pressed: "save", "authorize" (save, then go
/// to the provider) or "test" (Test Connection with what the form holds, without saving).
#[server(endpoint = "provisioning/save")]
pub async fn save_provisioning(
    id: String,
    version: i64,
    intent: Option<String>,
    mode: String,
    scim_base_url: String,
    secret_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    authorization_url: Option<String>,
    token_url: Option<String>,
    scopes: Option<String>,
    notification_email: String,
    notify_on_failure: Option<String>,
    scope: String,
    prevent_accidental_deletion: Option<String>,
    deletion_threshold: String,
    skip_out_of_scope_deletions: Option<String>,
    cycle_interval_minutes: String,
    concurrency: String,
    requests_per_second: String,
    use_target_capabilities: Option<String>,
    status: String,
) -> Result<Option<ConnectionVerdict>, AppError> {
    use engine::applications::{
        connection::ConnectionInput,
        provisioning::{Mode, Scope, SecretChanges, Status},
    };
    use secrecy::SecretString;
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = parse_id(&id)?;
    let secret = |value: Option<String>| {
        value
            .filter(|v| !v.trim().is_empty())
            .map(|v| SecretString::from(v.trim().to_owned()))
    };
    if intent.as_deref() == Some("test") {
        let verdict = engine
            .test_connection(
                &caller,
                &account,
                app,
                ConnectionInput {
                    scim_base_url,
                    secret_token: secret(secret_token),
                },
            )
            .await?;
        return Ok(Some(ConnectionVerdict {
            success: verdict.succeeded(),
            message: verdict.message,
        }));
    }
    let stored = engine.provisioning(&account, app).await?;
    let mut settings = stored.settings.clone();
    settings.mode = if mode == "Automatic" {
        Mode::Automatic
    } else {
        Mode::Manual
    };
    settings.scim_base_url = scim_base_url.trim().to_owned();
    if let Some(client_id) = client_id {
        settings.oauth.client_id = client_id.trim().to_owned();
    }
    if let Some(url) = authorization_url {
        settings.oauth.authorization_url = url.trim().to_owned();
    }
    if let Some(url) = token_url {
        settings.oauth.token_url = url.trim().to_owned();
    }
    if let Some(scopes) = scopes {
        settings.oauth.scopes = scopes.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    settings.notification_email = notification_email.trim().to_owned();
    settings.notify_on_failure = notify_on_failure.is_some();
    settings.scope = if scope == "all" {
        Scope::All
    } else {
        Scope::AssignedOnly
    };
    settings.prevent_accidental_deletion = prevent_accidental_deletion.is_some();
    let mut wrong = Vec::new();
    settings.deletion_threshold = number("deletion_threshold", &deletion_threshold, &mut wrong);
    settings.skip_out_of_scope_deletions = skip_out_of_scope_deletions.is_some();
    settings.cycle_interval_minutes = number(
        "cycle_interval_minutes",
        &cycle_interval_minutes,
        &mut wrong,
    );
    settings.target.concurrency = number("concurrency", &concurrency, &mut wrong);
    settings.target.requests_per_second =
        number("requests_per_second", &requests_per_second, &mut wrong);
    settings.target.use_capabilities = use_target_capabilities.is_some();
    if !wrong.is_empty() {
        return Err(AppError::InvalidFields(wrong));
    }
    settings.status = if status == "On" {
        Status::On
    } else {
        Status::Off
    };
    let authorize = intent.as_deref() == Some("authorize");
    if authorize {
        // Authorize comes before On: the grant is what On needs.
        settings.status = stored.settings.status;
    }
    engine
        .save_provisioning(
            &caller,
            &account,
            app,
            version,
            settings,
            SecretChanges {
                secret_token: secret(secret_token),
                client_secret: secret(client_secret),
            },
        )
        .await?;
    if authorize {
        let url = engine
            .authorize(
                &account,
                app,
                &redirect_uri(&super::context::base_url().await),
            )
            .await?;
        leptos_axum::redirect(&url);
    }
    Ok(None)
}

#[cfg(feature = "ssr")]
fn mapping_rows(mappings: &engine::mapping::AttributeMappings) -> Vec<MappingRow> {
    use engine::mapping::attribute_mappings::{Apply, MappingType};
    mappings
        .0
        .iter()
        .map(|m| MappingRow {
            mapping_type: match m.mapping_type {
                MappingType::Direct => "Direct",
                MappingType::Constant => "Constant",
                MappingType::Expression => "Expression",
                MappingType::None => "None",
            }
            .into(),
            source: m.source.clone(),
            target: m.target.clone(),
            default_value: m.default_value.clone().unwrap_or_default(),
            matching_precedence: m.matching_precedence.unwrap_or(0),
            only_during_creation: m.apply == Apply::OnlyDuringCreation,
        })
        .collect()
}

#[server(endpoint = "provisioning/mappings")]
pub async fn get_mappings(id: String, object: String) -> Result<MappingsForm, AppError> {
    use engine::{
        accounts::Permission,
        applications::Access,
        mapping::{
            functions::FUNCTIONS,
            scoping::Operator,
            source::{GROUP_ATTRIBUTES, USER_ATTRIBUTES},
        },
    };
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let c = engine.provisioning(&account, app.id).await?;
    let template = app.template();
    let (settings, defaults, known) = match object.as_str() {
        "groups" => (&c.settings.groups, &template.groups, GROUP_ATTRIBUTES),
        _ => (&c.settings.users, &template.users, USER_ATTRIBUTES),
    };
    Ok(MappingsForm {
        application_id: app.id.to_string(),
        application: app.display_name.clone(),
        object: if object == "groups" {
            "groups"
        } else {
            "users"
        }
        .into(),
        version: c.version,
        enabled: settings.enabled,
        create: settings.create,
        update: settings.update,
        delete: settings.delete,
        rows: mapping_rows(&settings.mappings),
        filters: settings
            .scoping
            .0
            .iter()
            .map(|f| FilterRow {
                name: f.name.clone(),
                clauses: f
                    .clauses
                    .iter()
                    .map(|c| ClauseRow {
                        attribute: c.attribute.clone(),
                        operator: c.operator.name().into(),
                        value: c.value.clone(),
                    })
                    .collect(),
            })
            .collect(),
        defaults: mapping_rows(&defaults.mappings),
        required: defaults.required.clone(),
        source_attributes: known.iter().map(|s| (*s).to_owned()).collect(),
        target_attributes: settings
            .attributes
            .0
            .iter()
            .map(|a| a.name.clone())
            .collect(),
        operators: Operator::ALL.iter().map(|o| o.name().to_owned()).collect(),
        functions: FUNCTIONS.iter().map(|f| f.name.to_owned()).collect(),
    })
}

/// Saves one Mappings page (its own Save, as in the portal): the mapping's switches, its
/// attribute mappings and its scoping filters. Errors come back per row (`mappings[2].source`).
#[server(endpoint = "provisioning/mappings/save", input = Json)]
pub async fn save_mappings(form: MappingsForm) -> Result<i64, AppError> {
    use engine::mapping::{
        AttributeMapping, AttributeMappings, ScopingFilters,
        attribute_mappings::{Apply, MappingType},
        scoping::{Clause, Operator, ScopingFilter},
    };
    let (id, object_type, version) = (
        form.application_id.clone(),
        form.object.clone(),
        form.version,
    );
    save_object_settings(&id, &object_type, version, move |object| {
        object.enabled = form.enabled;
        object.create = form.create;
        object.update = form.update;
        object.delete = form.delete;
        object.mappings = AttributeMappings(
            form.rows
                .into_iter()
                .map(|row| AttributeMapping {
                    mapping_type: match row.mapping_type.as_str() {
                        "Constant" => MappingType::Constant,
                        "Expression" => MappingType::Expression,
                        "None" => MappingType::None,
                        _ => MappingType::Direct,
                    },
                    source: row.source,
                    target: row.target,
                    default_value: Some(row.default_value).filter(|d| !d.is_empty()),
                    matching_precedence: Some(row.matching_precedence).filter(|p| *p > 0),
                    apply: if row.only_during_creation {
                        Apply::OnlyDuringCreation
                    } else {
                        Apply::Always
                    },
                })
                .collect(),
        );
        let mut filters = Vec::new();
        for (f, filter) in form.filters.into_iter().enumerate() {
            let mut clauses = Vec::new();
            for (c, clause) in filter.clauses.into_iter().enumerate() {
                let operator = Operator::ALL
                    .into_iter()
                    .find(|o| o.name() == clause.operator)
                    .ok_or_else(|| {
                        AppError::InvalidFields(vec![(
                            format!("scoping.filters[{f}].clauses[{c}].operator"),
                            "Choose an operator.".into(),
                        )])
                    })?;
                clauses.push(Clause {
                    attribute: clause.attribute,
                    operator,
                    value: clause.value,
                });
            }
            filters.push(ScopingFilter {
                name: filter.name,
                clauses,
            });
        }
        object.scoping = ScopingFilters(filters);
        Ok(())
    })
    .await
}

/// Saves the mapping of one object type (`"users"` or `"groups"`) of an application as `change`
/// leaves it: what the Mappings page and the attribute list page save. Errors name fields as
/// those pages do, without the object.
#[cfg(feature = "ssr")]
async fn save_object_settings(
    application_id: &str,
    object: &str,
    version: i64,
    change: impl FnOnce(&mut engine::applications::provisioning::ObjectSettings) -> Result<(), AppError>,
) -> Result<i64, AppError> {
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = parse_id(application_id)?;
    let mut settings = engine.provisioning(&account, app).await?.settings;
    change(if object == "groups" {
        &mut settings.groups
    } else {
        &mut settings.users
    })?;
    let saved = engine
        .save_provisioning(
            &caller,
            &account,
            app,
            version,
            settings,
            Default::default(),
        )
        .await
        .map_err(|e| strip_object_prefix(e.into(), object))?;
    Ok(saved.version)
}

/// The Mappings page names its fields without the object (`mappings[2].source`).
#[cfg(feature = "ssr")]
fn strip_object_prefix(error: AppError, object: &str) -> AppError {
    match error {
        AppError::InvalidFields(errors) => AppError::InvalidFields(
            errors
                .into_iter()
                .map(|(field, message)| {
                    let field = field
                        .strip_prefix(&format!("{object}."))
                        .map(str::to_owned)
                        .unwrap_or(field);
                    (field, message)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Checks an expression as the administrator types: `None` when it is valid, else the error
/// with its line and column.
#[server(endpoint = "provisioning/expression/check")]
pub async fn check_expression(text: String, object: String) -> Result<Option<String>, AppError> {
    use engine::{
        accounts::Permission,
        mapping::{
            Expression,
            source::{GROUP_ATTRIBUTES, USER_ATTRIBUTES},
        },
    };
    super::context::require(Permission::ConfigureApplications).await?;
    let known = if object == "groups" {
        GROUP_ATTRIBUTES
    } else {
        USER_ATTRIBUTES
    };
    Ok(Expression::parse(&text)
        .and_then(|e| e.check_attributes(known))
        .err()
        .map(|e| e.to_string()))
}

/// What `text` gives for the user named `user` (a user principal name) in this application,
/// with the user's roles there.
#[server(endpoint = "provisioning/expression/preview")]
pub async fn preview_expression(
    id: String,
    user: String,
    text: String,
) -> Result<PreviewResult, AppError> {
    use engine::{
        accounts::Permission,
        applications::{Access, roles},
        directory::users,
        mapping::{Preview, preview::PreviewContext},
    };
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let found = users::find_by_upn(&engine.db, user.trim())
        .await?
        .ok_or_else(|| AppError::Invalid {
            field: "user".into(),
            message: format!("There is no user {}.", user.trim()),
        })?;
    let context = PreviewContext {
        app_roles: roles::roles_of(&engine.db, app.id, &[found.id])
            .await?
            .remove(&found.id)
            .unwrap_or_default(),
        out_of_scope: false,
    };
    Ok(
        match engine.preview_expression(found.id, &text, &context).await? {
            Preview::Value { value } => PreviewResult {
                ok: true,
                text: value.to_string(),
            },
            Preview::Ignored => PreviewResult {
                ok: true,
                text: "(not sent: IgnoreFlowIfNullOrEmpty)".into(),
            },
            Preview::UniqueCandidates { candidates } => PreviewResult {
                ok: true,
                text: format!(
                    "the first of these the application does not have yet: {}",
                    serde_json::Value::Array(candidates)
                ),
            },
            Preview::Invalid { errors } => PreviewResult {
                ok: false,
                text: errors
                    .into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            },
            Preview::Failed { message } => PreviewResult {
                ok: false,
                text: message,
            },
            Preview::Resource { resource } => PreviewResult {
                ok: true,
                text: resource.to_string(),
            },
        },
    )
}

/// The overview's job controls: `command` is the button pressed, "start", "pause", "restart"
/// (with `forget_links`, every account is matched again) or "allow-deletes". Answers what was done.
#[server(endpoint = "provisioning/control")]
pub async fn control_provisioning(
    id: String,
    command: String,
    forget_links: Option<String>,
) -> Result<String, AppError> {
    let (engine, account, caller) = super::context::signed_in().await?;
    let app = parse_id(&id)?;
    let done = match command.as_str() {
        "start" => {
            engine
                .set_provisioning_status(&caller, &account, app, true)
                .await?;
            "Provisioning started: Provisioning Status is On."
        }
        "pause" => {
            engine
                .set_provisioning_status(&caller, &account, app, false)
                .await?;
            "Provisioning paused: Provisioning Status is Off."
        }
        "restart" if forget_links.is_some() => {
            engine.restart_job(&caller, &account, app, true).await?;
            "Provisioning restarted: the next cycle is an initial one and matches every account again."
        }
        "restart" => {
            engine.restart_job(&caller, &account, app, false).await?;
            "Provisioning restarted: the next cycle is an initial one."
        }
        "allow-deletes" => {
            engine.allow_deletes(&caller, &account, app).await?;
            "Deletes allowed: the next cycle disables and deletes what was staged."
        }
        other => {
            return Err(AppError::Invalid {
                field: "command".into(),
                message: format!(
                    "{other:?} is not a job command: use start, pause, restart or allow-deletes."
                ),
            });
        }
    };
    Ok(done.to_owned())
}

/// A job's state as the console names it.
#[cfg(feature = "ssr")]
pub(crate) fn state_text(state: engine::sync::jobs::JobState) -> &'static str {
    use engine::sync::jobs::JobState;
    match state {
        JobState::NotRun => "Not run",
        JobState::Active => "Active",
        JobState::Paused => "Paused",
        JobState::Quarantine => "Quarantine",
        JobState::Disabled => "Disabled",
    }
}

#[cfg(feature = "ssr")]
fn counts(c: &engine::sync::cycle::Counts) -> crate::model::CycleCounts {
    crate::model::CycleCounts {
        total: c.total,
        processed: c.processed,
        created: c.created,
        updated: c.updated,
        disabled: c.disabled,
        deleted: c.deleted,
        skipped: c.skipped,
        failed: c.failed,
    }
}

/// A finished cycle in words and counts.
#[cfg(feature = "ssr")]
pub(crate) fn cycle_summary(
    report: &engine::sync::cycle::CycleReport,
) -> crate::model::CycleSummary {
    use engine::sync::cycle::Outcome;
    crate::model::CycleSummary {
        kind: format!("{:?}", report.kind),
        finished: utc(report.finished_at),
        seconds: (report.finished_at - report.started_at).as_seconds_f64(),
        outcome: match &report.outcome {
            Outcome::Completed => "Completed".to_owned(),
            Outcome::DeletesStaged { planned, threshold } => format!(
                "Stopped: {planned} disables and deletes are more than the threshold of {threshold}"
            ),
            Outcome::Stopped { reason, .. } => format!("Stopped: {reason}"),
            Outcome::Interrupted { reason } => format!("Interrupted: {reason}"),
            Outcome::TooManyFailures { escrowed, tried } => {
                format!("Completed with {escrowed} of {tried} objects failing at the target")
            }
        },
        steady_state: report.steady_state,
        pending_references: report.pending_references,
        counts: counts(&report.counts),
    }
}

/// The provisioning overview, read again every second by the blade while it is open.
#[server(endpoint = "provisioning/status")]
pub async fn get_provisioning_status(id: String) -> Result<ProvisioningStatus, AppError> {
    use engine::{
        accounts::Permission,
        sync::{cycle::Outcome, jobs::JobState, links},
    };

    use crate::model::{CycleProgress, Interruption, QuarantineNotice};
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = parse_id(&id)?;
    let job = engine.job(&account, app).await?;
    let configuration = engine.provisioning(&account, app).await?;
    let running = job.current_cycle.as_ref().map(|progress| {
        let progress = &progress.0;
        CycleProgress {
            kind: format!("{:?}", progress.kind),
            started: utc(progress.started_at),
            counts: counts(&progress.counts),
            changed_at_ms: (progress.changed_at.unix_timestamp_nanos() / 1_000_000) as i64,
        }
    });
    let last = job
        .last_cycle
        .as_ref()
        .map(|report| cycle_summary(&report.0));
    let quarantine = matches!(job.state, JobState::Quarantine | JobState::Disabled).then(|| {
        let fix = job
            .last_cycle
            .as_ref()
            .map(|r| {
                r.0.outcome
                    .what_to_do(configuration.settings.authentication)
            })
            .unwrap_or_default();
        QuarantineNotice {
            reason: engine::text::sentence(job.quarantine_reason.as_deref().unwrap_or_default()),
            since: job.quarantine_began_at.map(utc).unwrap_or_default(),
            next_attempt: (job.state == JobState::Quarantine)
                .then(|| job.next_run_at.map(utc))
                .flatten(),
            fix: fix.to_owned(),
            disabled: job.state == JobState::Disabled,
        }
    });
    Ok(ProvisioningStatus {
        state: state_text(job.state).to_owned(),
        automatic: configuration.settings.mode
            == engine::applications::provisioning::Mode::Automatic,
        needs_initial_cycle: configuration.needs_initial_cycle,
        technical: vec![
            ("Job ID".into(), engine::sync::log::job_id(app)),
            ("Application ID".into(), app.to_string()),
            (
                "Last cycle ID".into(),
                job.last_cycle
                    .as_ref()
                    .map(|r| r.0.cycle_id.to_string())
                    .unwrap_or_else(|| "(none)".into()),
            ),
            (
                "Directory changes seen up to".into(),
                format!("change {}", job.watermark),
            ),
            (
                "Next cycle".into(),
                job.next_run_at
                    .map(utc)
                    .unwrap_or_else(|| "(not scheduled)".into()),
            ),
            (
                "Cycles in a row that could not reach the target".into(),
                job.unreachable_series.to_string(),
            ),
        ],
        deletes_staged: matches!(
            job.last_cycle.as_ref().map(|r| &r.0.outcome),
            Some(Outcome::DeletesStaged { .. })
        ),
        running,
        last,
        quarantine,
        last_interruption: job.last_interruption.as_ref().map(|i| Interruption {
            at: utc(i.0.at),
            reason: i.0.reason.clone(),
        }),
        linked_users: links::count(&engine.db, app, "User").await? as u64,
        linked_groups: links::count(&engine.db, app, "Group").await? as u64,
    })
}

/// Provision on demand: `object` is a user principal name, a user's display name, a group's
/// name or an id; `members`, for a group of more than five, the ids of the five chosen. Answers a
/// stream with one JSON line per step ([`crate::model::OnDemandStep`]) as each completes.
#[server(endpoint = "provisioning/on-demand", output = leptos::server_fn::codec::StreamingText)]
pub async fn provision_on_demand(
    id: String,
    object: String,
    #[server(default)] members: Vec<String>,
) -> Result<leptos::server_fn::codec::TextStream<AppError>, AppError> {
    use engine::{accounts::Permission, applications::Access};

    use crate::model::OnDemandStep;
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = parse_id(&id)?;
    engine
        .application_for(&account, app, Access::Configure)
        .await?;
    let object = engine.on_demand_object(&object).await?;
    let members = members
        .iter()
        .map(|m| {
            uuid::Uuid::try_parse(m).map_err(|_| AppError::Invalid {
                field: "members".into(),
                message: "Choose the members from the list.".into(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (send, receive) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        if let Err(e) = engine
            .provision_on_demand(&account, app, object, members, send)
            .await
        {
            tracing::error!(error = %e, "provision on demand");
        }
    });
    let lines = futures::stream::unfold(receive, |mut receive| async move {
        let step = receive.recv().await?;
        let line = serde_json::to_string(&OnDemandStep {
            name: step.name.to_owned(),
            result: format!("{:?}", step.result),
            detail: step.detail,
        })
        .unwrap_or_default();
        Some((Ok(format!("{line}\n")), receive))
    });
    Ok(leptos::server_fn::codec::TextStream::new(lines))
}

/// The members provision on demand asks the administrator to choose from: those of the group
/// named `object` when it has more than five users; none otherwise.
#[server(endpoint = "provisioning/on-demand/members")]
pub async fn on_demand_members(
    object: String,
) -> Result<Vec<crate::model::PickerOption>, AppError> {
    use engine::{
        accounts::Permission,
        directory::{feed::ObjectType, groups},
        sync::on_demand::MAX_GROUP_MEMBERS,
    };
    let (engine, _, _) = super::context::require(Permission::ConfigureApplications).await?;
    let Ok(object) = engine.on_demand_object(&object).await else {
        return Ok(Vec::new());
    };
    let members: Vec<_> = groups::members(&engine.db, object)
        .await?
        .into_iter()
        .filter(|m| m.member_type == ObjectType::User)
        .collect();
    if members.len() <= MAX_GROUP_MEMBERS {
        return Ok(Vec::new());
    }
    Ok(members
        .into_iter()
        .map(|m| crate::model::PickerOption {
            value: m.id.to_string(),
            label: m.display_name,
        })
        .collect())
}

/// The target's attribute list of `object` ("users" or "groups").
#[server(endpoint = "provisioning/attributes")]
pub async fn get_attribute_list(
    id: String,
    object: String,
) -> Result<crate::model::AttributeListForm, AppError> {
    use engine::{accounts::Permission, applications::Access};

    use crate::model::{AttributeListForm, AttributeRow};
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let c = engine.provisioning(&account, app.id).await?;
    let groups = object == "groups";
    let settings = if groups {
        &c.settings.groups
    } else {
        &c.settings.users
    };
    Ok(AttributeListForm {
        application_id: app.id.to_string(),
        application: app.display_name.clone(),
        object: if groups { "groups" } else { "users" }.into(),
        version: c.version,
        rows: settings
            .attributes
            .0
            .iter()
            .map(|a| AttributeRow {
                name: a.name.clone(),
                kind: serde_json::to_value(a.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                required: a.required,
                multi_valued: a.multi_valued,
                reference: a.reference,
                filterable: a.filterable,
            })
            .collect(),
        mapped: settings
            .mappings
            .0
            .iter()
            .map(|m| m.target.clone())
            .collect(),
    })
}

/// Saves the attribute list of one object type. Errors name rows (`attributes[3].name`), and a
/// mapping the list no longer allows (`mappings[0].matchingPrecedence`).
#[server(endpoint = "provisioning/attributes/save", input = Json)]
pub async fn save_attribute_list(form: crate::model::AttributeListForm) -> Result<i64, AppError> {
    use engine::applications::attribute_list::{AttributeList, AttributeType, TargetAttribute};
    let (id, object_type, version) = (
        form.application_id.clone(),
        form.object.clone(),
        form.version,
    );
    save_object_settings(&id, &object_type, version, move |object| {
        let mut errors = Vec::new();
        let mut list = Vec::new();
        for (i, row) in form.rows.into_iter().enumerate() {
            // The page offers the type's own names, as `get_attribute_list` writes them.
            let kind = serde_json::from_value::<AttributeType>(row.kind.clone().into())
                .unwrap_or_else(|_| {
                    errors.push((format!("attributes[{i}].kind"), "Choose a type.".to_owned()));
                    AttributeType::String
                });
            list.push(TargetAttribute {
                name: row.name.trim().to_owned(),
                kind,
                required: row.required,
                multi_valued: row.multi_valued,
                reference: row.reference,
                filterable: row.filterable,
            });
        }
        if !errors.is_empty() {
            return Err(AppError::InvalidFields(errors));
        }
        object.attributes = AttributeList(list);
        Ok(())
    })
    .await
}

/// "Refresh": adds and updates the list of `object` from the target's `/Schemas`, and says
/// what changed.
#[server(endpoint = "provisioning/attributes/refresh")]
pub async fn refresh_attribute_list(
    id: String,
    object: String,
    version: i64,
) -> Result<String, AppError> {
    use crate::components::plural;
    let (engine, account, caller) = super::context::signed_in().await?;
    let (added, changed) = engine
        .refresh_attribute_list(&caller, &account, parse_id(&id)?, &object, version)
        .await?;
    Ok(format!(
        "Read the application's schema: {} added, {} changed.",
        plural(added as u64, "attribute"),
        plural(changed as u64, "attribute")
    ))
}

/// The application's whole provisioning schema as a JSON document.
#[server(endpoint = "provisioning/schema")]
pub async fn get_schema(id: String) -> Result<crate::model::SchemaForm, AppError> {
    use engine::{accounts::Permission, applications::Access};
    let (engine, account, _) = super::context::require(Permission::ConfigureApplications).await?;
    let app = engine
        .application_for(&account, parse_id(&id)?, Access::Read)
        .await?;
    let version = engine.provisioning(&account, app.id).await?.version;
    Ok(crate::model::SchemaForm {
        application_id: app.id.to_string(),
        application: app.display_name.clone(),
        version,
        text: engine.provisioning_schema(&account, app.id).await?,
    })
}

/// Replaces the provisioning schema with the document `text`; every problem comes back with the
/// path of its value (`users.mappings[2].target`).
#[server(endpoint = "provisioning/schema/save", input = Json)]
pub async fn save_schema(id: String, version: i64, text: String) -> Result<i64, AppError> {
    let (engine, account, caller) = super::context::signed_in().await?;
    let saved = engine
        .replace_provisioning_schema(&caller, &account, parse_id(&id)?, version, &text)
        .await?;
    Ok(saved.version)
}
