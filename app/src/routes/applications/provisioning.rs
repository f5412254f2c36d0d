//! The Provisioning blade: Provisioning Mode, Admin Credentials (Tenant URL and Secret Token,
//! or OAuth with Authorize and the "Advanced" client registration), Test Connection,
//! Notification Email, links to the Mappings, Settings, Provisioning Status, Save and Discard.
//! One form: Save, Authorize and Test Connection are its three submit buttons, so it works
//! before the WASM loads too. Above it, the overview: the job's state, the cycle running
//! counted in objects, the last cycle, and the quarantine banner, read again every second.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{ApplicationHeader, mappings::mapping_name};
use crate::{
    api::provisioning::{
        ControlProvisioning, SaveProvisioning, get_provisioning, get_provisioning_status,
    },
    components::{BladeHeader, FormBanner, FormError, FormField, plural},
    model::{Blade, CycleCounts, ProvisioningForm},
    routes::BladePage,
};

#[component]
pub fn ProvisioningPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = ServerAction::<SaveProvisioning>::new();
    let control = ServerAction::<ControlProvisioning>::new();
    // "Saved" shows after a real save (Test Connection returns a verdict and changes nothing)
    // until the form is edited again. Only a real save reloads the form: a refused one keeps
    // what the administrator typed, beside the errors.
    let saved = RwSignal::new(false);
    let saves = RwSignal::new(0u64);
    Effect::new(move |_| {
        let done = matches!(save.value().get(), Some(Ok(None)));
        saved.set(done);
        if done {
            saves.update(|n| *n += 1);
        }
    });
    let form = Resource::new(
        move || (id.get(), saves.get(), control.version().get()),
        |(id, _, _)| get_provisioning(id),
    );
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let verdict = move || save.value().get().and_then(Result::ok).flatten();
    // The outcome of an Authorize shows on the page its callback opens, however often read.
    let authorization_returned = move || query.read().get("authorization").is_some();
    // Every resource here is made above; the Suspends below only lay out what they read
    // (docs/architecture.md, Hydration).
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => view! {
                            <ApplicationHeader id=form.application_id.clone() name=form.application.clone() current="Provisioning" />
                            {form.authorization_outcome.clone().filter(|_| authorization_returned()).map(|(succeeded, message)| if succeeded {
                                view! { <div class="banner success" role="status">{message}</div> }.into_any()
                            } else {
                                view! { <div class="banner error" role="alert">{format!("Authorization failed. {message}")}</div> }.into_any()
                            })}
                        }
                        .into_any(),
                        Err(e) => view! {
                            <BladeHeader title="Provisioning".to_owned() parents=vec![Blade::EnterpriseApplications] />
                            <div class="banner error" role="alert">{e.to_string()}</div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            {move || (saved.get() && error.get().is_none()).then(|| view! {
                <div class="banner success" role="status">"Your changes have been saved."</div>
            })}
            {move || verdict().map(|v| view! {
                <div class=if v.success { "banner success" } else { "banner error" } role="alert" data-test="connection-result">
                    {if v.success { "Test Connection succeeded. " } else { "Test Connection failed. " }}
                    {v.message}
                </div>
            })}
            <ProvisioningOverview id control />
            <Transition>
                {move || Suspend::new(async move {
                    form.await.ok().map(|form| view! {
                        <ProvisioningFormView form error action=save on_edit=Callback::new(move |()| saved.set(false)) />
                    })
                })}
            </Transition>
        </BladePage>
    }
}

/// The job at a glance. Rendered on the server for the first paint, then read again every
/// second, so a cycle's progress moves without a reload.
#[component]
fn ProvisioningOverview(
    id: Memo<String>,
    control: ServerAction<ControlProvisioning>,
) -> impl IntoView {
    let tick = RwSignal::new(0u64);
    // Effects run in the browser only: the server renders the state once.
    Effect::new(move |_| {
        let every_second = std::time::Duration::from_secs(1);
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|n| *n += 1), every_second)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let status = Resource::new(
        move || (id.get(), tick.get(), control.version().get()),
        |(id, _, _)| get_provisioning_status(id),
    );
    let technical_open = RwSignal::new(false);
    let done = move || {
        control.value().get().map(|result| match result {
            Ok(message) => view! { <div class="banner success" role="status" data-test="job-control">{message}</div> }.into_any(),
            Err(e) => view! { <div class="banner error" role="alert" data-test="job-control">{e.to_string()}</div> }.into_any(),
        })
    };
    view! {
        <section class="provisioning-overview" aria-label="Provisioning overview">
            {done}
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    // The form above says why the blade cannot be read; once is enough.
                    let Ok(status) = status.await else { return ().into_any() };
                    view! {
                        {status.automatic.then(|| view! {
                            <ActionForm action=control attr:class="job-controls">
                                <input type="hidden" name="id" value=id.get_untracked() />
                                <button type="submit" class="button" name="command" value="start">"Start provisioning"</button>
                                <button type="submit" class="button" name="command" value="pause">"Stop provisioning"</button>
                                <button type="submit" class="button" name="command" value="restart">"Restart provisioning"</button>
                                <label class="checkbox">
                                    <input type="checkbox" name="forget_links" value="on" />
                                    "On restart, also forget which accounts are linked (every account is matched again)"
                                </label>
                            </ActionForm>
                        })}
                        {status.quarantine.map(|q| view! {
                            <div class="banner error quarantine" role="alert" data-test="quarantine">
                                <strong>{if q.disabled { "Provisioning is disabled." } else { "Provisioning is in quarantine." }}</strong>
                                <p>{format!("{}. Since {}.", q.reason, q.since)}</p>
                                {q.next_attempt.map(|at| view! { <p>{format!("Next attempt: {at}.")}</p> })}
                                <p>{q.fix}</p>
                            </div>
                        })}
                        {status.deletes_staged.then(|| view! {
                            <ActionForm action=control attr:class="job-controls">
                                <input type="hidden" name="id" value=id.get_untracked() />
                                <button type="submit" class="primary" name="command" value="allow-deletes">"Allow deletes"</button>
                            </ActionForm>
                        })}
                        <h3>"Current cycle status"</h3>
                        <dl class="facts">
                            <dt>"Status"</dt>
                            <dd data-test="job-state">{status.state}</dd>
                            <dt>"Statistics to date"</dt>
                            <dd>{format!("{} linked in the application, {} linked", plural(status.linked_users, "user"), plural(status.linked_groups, "group"))}</dd>
                        </dl>
                        {status.needs_initial_cycle.then(|| view! {
                            <p class="hint">"Mappings, scoping or scope changed since the last cycle: the next cycle is an initial cycle."</p>
                        })}
                        {match status.running {
                            Some(cycle) => view! {
                                <p data-test="cycle-progress-text">
                                    {format!("{} cycle started {}: {} of {} objects", cycle.kind, cycle.started, cycle.counts.processed, cycle.counts.total)}
                                </p>
                                <progress
                                    data-test="cycle-progress"
                                    data-changed-at=cycle.changed_at_ms
                                    aria-label="Objects processed"
                                    max=cycle.counts.total.max(1)
                                    value=cycle.counts.processed
                                ></progress>
                                {counts(&cycle.counts)}
                            }.into_any(),
                            None => view! { <p>"No cycle is running."</p> }.into_any(),
                        }}
                        <h3>"Last cycle"</h3>
                        {match status.last {
                            Some(last) => view! {
                                <p data-test="last-cycle">
                                    {format!(
                                        "{} cycle finished {} after {:.1} s: {}.{}{}",
                                        last.kind,
                                        last.finished,
                                        last.seconds,
                                        last.outcome,
                                        if last.steady_state { " Steady state: nothing was left to do." } else { "" },
                                        if last.pending_references > 0 {
                                            format!(" {} wait for an object that failed; they are sent once it has its account.", plural(last.pending_references, "reference"))
                                        } else {
                                            String::new()
                                        },
                                    )}
                                </p>
                                {counts(&last.counts)}
                            }.into_any(),
                            None => view! { <p>"No cycle has run yet."</p> }.into_any(),
                        }}
                        {status.last_interruption.map(|i| view! {
                            <p class="banner warning" data-test="last-interruption">
                                {format!("Last interruption, {}: {} It stays here until a cycle completes.", i.at, i.reason)}
                            </p>
                        })}
                        <p class="links">
                            <a href=format!("/applications/{}/provisioning-logs", id.get_untracked())>"View provisioning details"</a>
                        </p>
                        // Rebuilt every second with the status: whether it is open is kept above.
                        <details class="technical" data-test="technical" open=move || technical_open.get()>
                            <summary on:click=move |ev| {
                                ev.prevent_default();
                                technical_open.update(|open| *open = !*open);
                            }>"View technical information"</summary>
                            <dl class="facts">
                                {status.technical.into_iter().map(|(name, value)| view! { <dt>{name}</dt><dd>{value}</dd> }).collect_view()}
                            </dl>
                        </details>
                    }
                    .into_any()
                })}
            </Transition>
        </section>
    }
}

/// A cycle's objects by what became of them.
fn counts(c: &CycleCounts) -> impl IntoView + use<> {
    let rows = [
        ("Created", c.created),
        ("Updated", c.updated),
        ("Disabled", c.disabled),
        ("Deleted", c.deleted),
        ("Skipped", c.skipped),
        ("Failed", c.failed),
    ];
    view! {
        <ul class="counts">
            {rows.map(|(label, n)| view! { <li>{label}": "<span>{n}</span></li> }).to_vec()}
        </ul>
    }
}

/// The inputs of the form; errors about anything else go to the banner.
const FIELDS: &[&str] = &[
    "scim_base_url",
    "secret_token",
    "client_id",
    "client_secret",
    "authorization_url",
    "token_url",
    "scopes",
    "notification_email",
    "notify_on_failure",
    "prevent_accidental_deletion",
    "deletion_threshold",
    "skip_out_of_scope_deletions",
    "cycle_interval_minutes",
    "concurrency",
    "requests_per_second",
    "use_target_capabilities",
    "status",
];

#[component]
fn ProvisioningFormView(
    form: ProvisioningForm,
    error: FormError,
    action: ServerAction<SaveProvisioning>,
    /// Called on any edit: a "saved" notice no longer describes the form.
    on_edit: Callback<()>,
) -> impl IntoView {
    let (automatic, set_automatic) = signal(form.automatic);
    let oauth = form.authentication != "bearer-token";
    let authorization_code = form.authentication == "oauth2-authorization-code";
    let secret_placeholder = |set: bool| {
        if set {
            "•••••••• (set; type to replace)"
        } else {
            ""
        }
    };
    let app = form.application_id.clone();
    let checkbox = move |name: &'static str, label: &'static str, checked: bool| {
        view! {
            <div class="form-field checkbox">
                <label><input type="checkbox" name=name checked=checked />" "{label}</label>
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field(name))}</p>
            </div>
        }
    };
    let number = move |name: &'static str, label: &'static str, value: u32, hint: &'static str| {
        view! { <FormField label name error value=value.to_string() hint kind="number" /> }
    };
    view! {
        <ActionForm action attr:class="blade-form provisioning" on:input=move |_| on_edit.run(())>
            <input type="hidden" name="id" value=form.application_id.clone() />
            <input type="hidden" name="version" value=form.version.to_string() />
            // Enter in a field saves: the first submit button is the form's default.
            <button type="submit" class="default-submit" name="intent" value="save" tabindex="-1" aria-hidden="true">"Save"</button>
            <FormBanner error fields=FIELDS />
            <div class="form-field">
                <label for="field-mode">"Provisioning Mode"</label>
                <select id="field-mode" name="mode" on:change=move |ev| set_automatic.set(event_target_value(&ev) == "Automatic")>
                    <option value="Manual" selected=!form.automatic>"Manual"</option>
                    <option value="Automatic" selected=form.automatic>"Automatic"</option>
                </select>
                <p class="hint">"Automatic: Scimitar creates, updates and disables accounts in the application."</p>
            </div>
            <fieldset class="credentials" class:collapsed=move || !automatic.get()>
                <legend>"Admin Credentials"</legend>
                {if oauth {
                    view! {
                        {authorization_code.then(|| view! {
                            <p>
                                {match &form.authorized {
                                    Some(who) => format!("Authorized by {who}."),
                                    None => "Not authorized yet: select Authorize and sign in at the application as an administrator.".to_owned(),
                                }}
                                {form.token_expires.clone().map(|at| format!(" The access token expires {at}; Scimitar refreshes it before then."))}
                            </p>
                            <button type="submit" class="button" name="intent" value="authorize">"Authorize"</button>
                        })}
                        <details class="advanced" open=form.client_id.is_empty()>
                            <summary>"Advanced"</summary>
                            <p class="hint">
                                "The application's OAuth client registration. Values the vendor publishes are filled in from the gallery; the others come from your account with the application."
                            </p>
                            <FormField label="Client id" name="client_id" error value=form.client_id.clone() required=false />
                            <div class="form-field">
                                <label for="field-client_secret">"Client secret"</label>
                                <input id="field-client_secret" name="client_secret" type="password" autocomplete="off" placeholder=secret_placeholder(form.has_client_secret) />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("client_secret"))}</p>
                            </div>
                            {authorization_code.then(|| view! {
                                <FormField label="Authorization URL" name="authorization_url" error value=form.authorization_url.clone() required=false />
                            })}
                            <FormField label="Token URL" name="token_url" error value=form.token_url.clone() required=false />
                            <FormField label="Scopes" name="scopes" error value=form.scopes.clone() required=false hint="Separated by spaces" />
                            <FormField label="Tenant URL" name="scim_base_url" error value=form.scim_base_url.clone() required=false hint="The application's SCIM base URL" />
                        </details>
                    }
                    .into_any()
                } else {
                    view! {
                        <FormField label="Tenant URL" name="scim_base_url" error value=form.scim_base_url.clone() required=false hint="The application's SCIM base URL" />
                        {(!form.scim_base_url_hint.is_empty()).then(|| view! { <p class="hint">{format!("For example: {}", form.scim_base_url_hint)}</p> })}
                        <div class="form-field">
                            <label for="field-secret_token">"Secret Token"</label>
                            <input id="field-secret_token" name="secret_token" type="password" autocomplete="off" placeholder=secret_placeholder(form.has_secret_token) />
                            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("secret_token"))}</p>
                        </div>
                    }
                    .into_any()
                }}
                <button type="submit" class="button" name="intent" value="test">"Test Connection"</button>
            </fieldset>
            <fieldset class:collapsed=move || !automatic.get()>
                <legend>"Notification Email"</legend>
                <FormField label="Notification Email" name="notification_email" error value=form.notification_email.clone() required=false kind="email" />
                {checkbox("notify_on_failure", "Send an email notification when a failure occurs", form.notify_on_failure)}
                <p class="hint">
                    "Scimitar sends it through the SMTP server in "<a href="/settings">"Settings, Email"</a>"; until one is set there, no email leaves."
                </p>
            </fieldset>
            <fieldset class:collapsed=move || !automatic.get()>
                <legend>"Mappings"</legend>
                <ul class="plain-list">
                    <li>
                        <a href=format!("/applications/{app}/provisioning/users")>{mapping_name("users")}</a>
                        {format!(" ({}, {})", if form.users_enabled { "enabled" } else { "disabled" }, plural(form.users_mapping_count, "attribute"))}
                    </li>
                    <li>
                        <a href=format!("/applications/{app}/provisioning/groups")>{mapping_name("groups")}</a>
                        {if form.groups_supported {
                            format!(" ({}, {})", if form.groups_enabled { "enabled" } else { "disabled" }, plural(form.groups_mapping_count, "attribute"))
                        } else {
                            " (this application does not take groups)".to_owned()
                        }}
                    </li>
                </ul>
            </fieldset>
            <fieldset class:collapsed=move || !automatic.get()>
                <legend>"Settings"</legend>
                <div class="form-field">
                    <label for="field-scope">"Scope"</label>
                    <select id="field-scope" name="scope">
                        <option value="assigned" selected=!form.sync_all>"Sync only assigned users and groups"</option>
                        <option value="all" selected=form.sync_all>"Sync all users and groups"</option>
                    </select>
                </div>
                {checkbox("prevent_accidental_deletion", "Prevent accidental deletion", form.prevent_accidental_deletion)}
                {number("deletion_threshold", "Accidental deletion threshold", form.deletion_threshold, "A cycle that would delete or disable more accounts than this stops and waits for you")}
                {checkbox("skip_out_of_scope_deletions", "Skip out of scope deletions", form.skip_out_of_scope_deletions)}
                {number("cycle_interval_minutes", "Cycle interval (minutes)", form.cycle_interval_minutes, "Time between incremental cycles; changes also start one within seconds")}
                {number("concurrency", "Requests at once", form.concurrency, "How many requests a cycle may have in flight to the application (1 to 32)")}
                {number("requests_per_second", "Requests per second", form.requests_per_second, "The most requests a cycle sends each second; 0 for no limit")}
                {checkbox("use_target_capabilities", "Use the application's SCIM capabilities (list once to match, Bulk to create)", form.use_target_capabilities)}
            </fieldset>
            <fieldset class="status" class:collapsed=move || !automatic.get()>
                <legend>"Provisioning Status"</legend>
                <label><input type="radio" name="status" value="On" checked=form.on />" On"</label>
                <label><input type="radio" name="status" value="Off" checked=!form.on />" Off"</label>
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("status"))}</p>
            </fieldset>
            <div class="actions">
                <button type="submit" class="primary" name="intent" value="save" disabled=move || action.pending().get()>"Save"</button>
                // A full reload: the server's copy, not the form's edits.
                <a class="button" href=format!("/applications/{app}/provisioning") rel="external">"Discard"</a>
            </div>
        </ActionForm>
    }
}
