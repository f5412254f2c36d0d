//! The Sign-in logs blade: every single sign-on to an application, who, where, whether it
//! worked and why not, with filters, older pages and a CSV download of what the filters show.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::BladePage;
use crate::{
    api::single_sign_on::list_sign_ins,
    components::{EmptyState, query_link},
    model::{Blade, SignInFilters},
};

const FILTERS: [&str; 5] = ["user", "application", "result", "from", "to"];

#[component]
pub fn SignInLogsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let entries = Resource::new(
        move || (FILTERS.map(param), param("before")),
        move |([user, application, result, from, to], before)| {
            list_sign_ins(SignInFilters {
                user,
                application,
                result,
                from,
                to,
                before,
            })
        },
    );
    let filters = move || FILTERS.iter().map(|f| (*f, param(f))).collect::<Vec<_>>();
    let result_option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=move || param("result") == value>{label}</option> }
    };
    view! {
        <BladePage blade=Blade::SignInLogs>
            <form class="filters" method="get" action="/sign-in-logs" role="search">
                <input type="hidden" name="application" value=move || param("application") />
                <div class="filter"><label for="filter-user">"User"</label> <input id="filter-user" type="search" name="user" value=move || param("user") /></div>
                <div class="filter">
                    <label for="filter-result">"Result"</label>
                    <select name="result" id="filter-result">
                        {result_option("", "All")}
                        {result_option("Success", "Success")}
                        {result_option("Failure", "Failure")}
                    </select>
                </div>
                <div class="filter"><label for="filter-from">"From"</label> <input id="filter-from" type="date" name="from" value=move || param("from") /></div>
                <div class="filter"><label for="filter-to">"To"</label> <input id="filter-to" type="date" name="to" value=move || param("to") /></div>
                <button type="submit" class="button">"Apply"</button>
                <a class="button" href="/sign-in-logs">"Reset"</a>
                <a class="button" href=move || query_link("/sign-in-logs/download.csv", &filters()) rel="external" download="sign-in-logs.csv">"Download CSV"</a>
            </form>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <EmptyState title="No sign-ins" message="No sign-in matches these filters." />
                        }
                        .into_any(),
                        Ok(page) => {
                            let next = page.next.clone().map(|before| {
                                let mut params = filters();
                                params.push(("before", before));
                                query_link("/sign-in-logs", &params)
                            });
                            view! {
                                <table class="data-table sign-ins">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Date (UTC)"</th>
                                            <th scope="col">"User"</th>
                                            <th scope="col">"Application"</th>
                                            <th scope="col">"Protocol"</th>
                                            <th scope="col">"Result"</th>
                                            <th scope="col">"Reason"</th>
                                            <th scope="col">"Client address"</th>
                                            <th scope="col">"Correlation ID"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|row| view! {
                                            <tr>
                                                <td>{row.at}</td>
                                                <td>{row.user}</td>
                                                <td>{row.application}</td>
                                                <td>{row.protocol}</td>
                                                <td>{row.result}</td>
                                                <td>{row.reason}</td>
                                                <td>{row.client_address}</td>
                                                <td><code>{row.correlation_id}</code></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    <Show when=move || !param("before").is_empty()>
                                        <a class="button" href=move || query_link("/sign-in-logs", &filters())>"Newest"</a>
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
