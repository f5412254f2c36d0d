//! The Audit logs blade: who changed what, when and from where, with filters and older pages.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::BladePage;
use crate::{
    api::audit::list_audit,
    components::{EmptyState, query_link},
    model::Blade,
};

const FILTERS: [&str; 5] = ["actor", "target", "activity", "from", "to"];

#[component]
pub fn AuditLogsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let some = |v: String| Some(v).filter(|v| !v.is_empty());
    let entries = Resource::new(
        move || (FILTERS.map(param), param("before")),
        move |([actor, target, activity, from, to], before)| {
            list_audit(
                some(actor),
                some(target),
                some(activity),
                some(from),
                some(to),
                some(before),
            )
        },
    );
    let filters = move || FILTERS.iter().map(|f| (*f, param(f))).collect::<Vec<_>>();
    view! {
        <BladePage blade=Blade::AuditLogs>
            <form class="filters" method="get" action="/audit-logs" role="search">
                <div class="filter"><label for="filter-actor">"Actor"</label> <input id="filter-actor" type="search" name="actor" value=move || param("actor") /></div>
                <div class="filter"><label for="filter-target">"Target"</label> <input id="filter-target" type="search" name="target" value=move || param("target") /></div>
                <div class="filter">
                    <label for="filter-activity">"Activity"</label>
                    <select name="activity" id="filter-activity">
                        <option value="">"All"</option>
                        <Transition>
                            {move || Suspend::new(async move {
                                let activities = entries.await.map(|p| p.activities).unwrap_or_default();
                                activities.into_iter().map(|a| {
                                    let selected = param("activity") == a;
                                    view! { <option value=a.clone() selected=selected>{a.clone()}</option> }
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <div class="filter"><label for="filter-from">"From"</label> <input id="filter-from" type="date" name="from" value=move || param("from") /></div>
                <div class="filter"><label for="filter-to">"To"</label> <input id="filter-to" type="date" name="to" value=move || param("to") /></div>
                <button type="submit" class="button">"Apply"</button>
                <a class="button" href="/audit-logs">"Reset"</a>
            </form>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <EmptyState title="No audit log entries" message="No change matches these filters." />
                        }
                        .into_any(),
                        Ok(page) => {
                            let next = page.next.clone().map(|before| {
                                let mut params = filters();
                                params.push(("before", before));
                                query_link("/audit-logs", &params)
                            });
                            view! {
                                <table class="data-table audit">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Date (UTC)"</th>
                                            <th scope="col">"Actor"</th>
                                            <th scope="col">"Activity"</th>
                                            <th scope="col">"Target"</th>
                                            <th scope="col">"Client address"</th>
                                            <th scope="col">"Details"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|row| {
                                            let details = (row.before.is_some() || row.after.is_some()).then(|| view! {
                                                <details>
                                                    <summary>"Before and after"</summary>
                                                    {row.before.map(|b| view! { <p class="muted">"Before"</p><pre>{b}</pre> })}
                                                    {row.after.map(|a| view! { <p class="muted">"After"</p><pre>{a}</pre> })}
                                                </details>
                                            });
                                            view! {
                                                <tr>
                                                    <td>{row.at}</td>
                                                    <td>{row.actor}</td>
                                                    <td>{row.activity}</td>
                                                    <td>{row.target}</td>
                                                    <td>{row.client_address}</td>
                                                    <td>{details}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    <Show when=move || !param("before").is_empty()>
                                        <a class="button" href=move || query_link("/audit-logs", &filters())>"Newest"</a>
                                    </Show>
                                    {next.map(|href| view! { <a class="button" href=href>"Older entries"</a> })}
                                </nav>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </BladePage>
    }
}
