//! Provisioning logs, for all applications and (from an application's blade) for one: a filter
//! on every column, newest first by keyset pages, downloads of the filtered set, and a details
//! panel with the tabs of Entra's (Steps, Troubleshooting & Recommendations, Modified
//! Properties, Summary). Filters, page, entry and tab all live in the address, so every view
//! can be bookmarked and works before the WASM has loaded.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::BladePage;
use crate::{
    api::provisioning_logs::{get_provisioning_log, list_provisioning_logs},
    components::{EmptyState, query_link},
    model::{Blade, LogEntry, LogQuery},
};

#[component]
pub fn ProvisioningLogsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::ProvisioningLogs>
            <ProvisioningLogs base="/provisioning-logs".to_owned() application=None />
        </BladePage>
    }
}

const TABS: [(&str, &str); 4] = [
    ("steps", "Steps"),
    ("troubleshooting", "Troubleshooting & Recommendations"),
    ("modified", "Modified Properties"),
    ("summary", "Summary"),
];

/// The logs under `base`; with `application`, only that application's and no application filter.
#[component]
pub fn ProvisioningLogs(base: String, application: Option<String>) -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    // For views a resource's Suspend builds: they are rebuilt whenever the address changes.
    let param_now = move |name: &str| query.read_untracked().get(name).unwrap_or_default();
    let filters = {
        let application = application.clone();
        move || {
            let mut filters = LogQuery::from_params(param);
            if application.is_some() {
                filters.application = application.clone();
            }
            filters
        }
    };
    let entries = Resource::new(
        {
            let filters = filters.clone();
            move || (filters(), param("before"))
        },
        |(filters, before)| list_provisioning_logs(filters, Some(before).filter(|b| !b.is_empty())),
    );
    let selected = Resource::new(
        move || param("entry"),
        |entry| async move {
            if entry.is_empty() {
                None
            } else {
                Some(get_provisioning_log(entry).await)
            }
        },
    );
    // The address's parameters, for links that keep the view and change one thing.
    let shown = move || {
        let mut params: Vec<(&str, String)> = LogQuery::from_params(param_now).pairs();
        params.push(("before", param_now("before")));
        params
    };
    let all_applications = application.is_none();
    let download = {
        let filters = filters.clone();
        move |format: &str| {
            query_link(
                &format!("/provisioning-logs/download.{format}"),
                &filters().pairs(),
            )
        }
    };
    let (base_form, base_reset) = (base.clone(), base.clone());
    let link = move |changes: &[(&'static str, String)]| {
        let mut params = shown();
        for (name, value) in changes {
            params.retain(|(n, _)| n != name);
            params.push((name, value.clone()));
        }
        query_link(&base, &params)
    };
    let link = StoredValue::new(link);
    let selectable = |name: &'static str, options: &'static [&'static str]| {
        view! {
            <select name=name id=format!("filter-{name}")>
                <option value="">"All"</option>
                {options.iter().map(|o| view! {
                    <option value=*o selected=move || param(name) == *o>{*o}</option>
                }).collect_view()}
            </select>
        }
    };
    view! {
        <form class="filters" method="get" action=base_form role="search">
            <div class="filter"><label for="filter-identity">"Identity"</label> <input id="filter-identity" type="search" name="identity" placeholder="Name or ID" value=move || param("identity") /></div>
            <div class="filter"><label for="filter-from">"From"</label> <input id="filter-from" type="date" name="from" value=move || param("from") /></div>
            <div class="filter"><label for="filter-to">"To"</label> <input id="filter-to" type="date" name="to" value=move || param("to") /></div>
            <div class="filter"><label for="filter-status">"Status"</label> {selectable("status", &["Success", "Failure", "Skipped", "Warning"])}</div>
            <div class="filter"><label for="filter-action">"Action"</label> {selectable("action", &["Create", "Update", "Disable", "Delete", "StagedDelete", "Other"])}</div>
            <div class="filter"><label for="filter-object_type">"Type"</label> {selectable("object_type", &["User", "Group"])}</div>
            <Show when=move || all_applications>
                <div class="filter">
                    <label for="filter-application">"Application"</label>
                    <select name="application" id="filter-application">
                        <option value="">"All"</option>
                        <Transition>
                            {move || Suspend::new(async move {
                                let applications = entries.await.map(|p| p.applications).unwrap_or_default();
                                applications.into_iter().map(|(id, name)| {
                                    let selected = param_now("application") == id;
                                    view! { <option value=id selected=selected>{name}</option> }
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
            </Show>
            <div class="filter"><label for="filter-cycle">"Cycle ID"</label> <input id="filter-cycle" type="search" name="cycle" value=move || param("cycle") /></div>
            <div class="filter"><label for="filter-change">"Change ID"</label> <input id="filter-change" type="search" name="change" value=move || param("change") /></div>
            <div class="filter"><label for="filter-job">"Job ID"</label> <input id="filter-job" type="search" name="job" value=move || param("job") /></div>
            <button type="submit" class="button">"Apply"</button>
            <a class="button" href=base_reset>"Reset"</a>
        </form>
        <p class="downloads">
            "Download the filtered entries: "
            <a href={
                let download = download.clone();
                move || download("csv")
            } download data-test="download-csv">"CSV"</a>
            " | "
            <a href=move || download("json") download data-test="download-json">"JSON"</a>
        </p>
        <Transition>
            {move || {
                let tab = param("tab");
                Suspend::new(async move {
                    selected.await.map(|entry| match entry {
                        Ok(entry) => view! { <Details entry tab link /> }.into_any(),
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                    })
                })
            }}
        </Transition>
        <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                    Ok(page) if page.rows.is_empty() => view! {
                        <EmptyState
                            title="No provisioning log entries"
                            message="No decision of a provisioning cycle matches these filters."
                        />
                    }
                    .into_any(),
                    Ok(page) => {
                        let older = page.next.clone().map(|before| link.with_value(|l| l(&[("before", before), ("entry", String::new())])));
                        view! {
                            <table class="data-table provisioning-logs">
                                <thead>
                                    <tr>
                                        <th scope="col">"Date (UTC)"</th>
                                        <th scope="col">"Identity"</th>
                                        <th scope="col">"Type"</th>
                                        <th scope="col">"Action"</th>
                                        <th scope="col">"Status"</th>
                                        {all_applications.then(|| view! { <th scope="col">"Application"</th> })}
                                        <th scope="col">"Target ID"</th>
                                        <th scope="col">"Error code"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {page.rows.into_iter().map(|row| {
                                        let details = link.with_value(|l| l(&[("entry", row.id.clone()), ("tab", String::new())]));
                                        let current = param_now("entry") == row.id;
                                        let status_class = format!("status {}", row.status.to_lowercase());
                                        view! {
                                            <tr aria-current=current.then_some("true") data-test="log-row">
                                                <td>{row.at}</td>
                                                <td><a href=details>{row.identity}</a></td>
                                                <td>{row.object_type}</td>
                                                <td>{row.action}</td>
                                                <td class=status_class>{row.status}</td>
                                                {all_applications.then(|| view! { <td>{row.application}</td> })}
                                                <td>{row.target_id}</td>
                                                <td>{row.error_code}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                <Show when=move || !param("before").is_empty()>
                                    <a class="button" href=move || link.with_value(|l| l(&[("before", String::new()), ("entry", String::new())]))>"Newest"</a>
                                </Show>
                                {older.map(|href| view! { <a class="button" href=href>"Older entries"</a> })}
                            </nav>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The details panel of one entry, on the tab the address names (Steps by default).
#[component]
fn Details<L>(entry: LogEntry, tab: String, link: StoredValue<L>) -> impl IntoView
where
    L: Fn(&[(&'static str, String)]) -> String + Send + Sync + 'static,
{
    let tab = TABS
        .iter()
        .find(|(key, _)| *key == tab)
        .map_or("steps", |(key, _)| *key);
    let close = link.with_value(|l| l(&[("entry", String::new()), ("tab", String::new())]));
    let body = match tab {
        "troubleshooting" if entry.error_code.is_empty() => view! {
            <p>"This entry has no error: nothing to troubleshoot."</p>
        }
        .into_any(),
        "troubleshooting" => view! {
            <dl class="facts">
                <dt>"Error code"</dt><dd>{entry.error_code.clone()}</dd>
                <dt>"Reason"</dt><dd>{entry.reason.clone()}</dd>
                <dt>"What happened"</dt><dd>{entry.cause.clone()}</dd>
                <dt>"Recommendation"</dt><dd>{entry.fix.clone()}</dd>
            </dl>
        }
        .into_any(),
        "modified" if entry.modified.is_empty() => view! { <p>"No property was changed."</p> }.into_any(),
        "modified" => view! {
            <table class="data-table">
                <thead><tr><th scope="col">"Target attribute"</th><th scope="col">"Old value"</th><th scope="col">"New value"</th></tr></thead>
                <tbody>
                    {entry.modified.iter().map(|m| view! {
                        <tr><td>{m.attribute.clone()}</td><td>{m.old.clone()}</td><td>{m.new.clone()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
        "summary" => view! {
            <dl class="facts">
                <dt>"Date (UTC)"</dt><dd>{entry.at.clone()}</dd>
                <dt>"Application"</dt><dd>{entry.application.clone()}</dd>
                <dt>"Job ID"</dt><dd>{entry.job_id.clone()}</dd>
                <dt>"Cycle ID"</dt><dd>{entry.cycle_id.clone()}</dd>
                <dt>"Change ID"</dt><dd>{entry.change_id.clone()}</dd>
                <dt>"Type"</dt><dd>{entry.object_type.clone()}</dd>
                <dt>"Source ID"</dt><dd>{entry.source_id.clone()}</dd>
                <dt>"Identity"</dt><dd>{entry.source_name.clone()}</dd>
                <dt>"Target ID"</dt><dd>{entry.target_id.clone()}</dd>
                <dt>"Action"</dt><dd>{entry.action.clone()}</dd>
                <dt>"Status"</dt><dd>{entry.status.clone()}</dd>
                <dt>"Duration"</dt><dd>{format!("{} ms", entry.duration_ms)}</dd>
            </dl>
        }
        .into_any(),
        _ => view! {
            <ol class="steps">
                {entry.steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
            </ol>
            <p data-test="log-outcome">{format!("{} {}", entry.action, entry.status)}{(!entry.reason.is_empty()).then(|| format!(": {}", entry.reason))}</p>
        }
        .into_any(),
    };
    view! {
        <section class="log-details" aria-label="Log entry details" data-test="log-details">
            <header>
                <h3>{format!("{} {}: {}", entry.action, entry.object_type, entry.source_name)}</h3>
                <a class="button" href=close>"Close"</a>
            </header>
            <nav class="tabs" aria-label="Details">
                {TABS.iter().map(|(key, label)| {
                    let href = link.with_value(|l| l(&[("entry", entry.id.clone()), ("tab", (*key).to_owned())]));
                    view! { <a href=href aria-current=(*key == tab).then_some("page")>{*label}</a> }
                }).collect_view()}
            </nav>
            {body}
        </section>
    }
}
