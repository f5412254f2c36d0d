//! The landing blade: a greeting, a tile for each blade the administrator may open, and the
//! provisioning at a glance: applications by state (quarantined first) with their failures of
//! the last 24 hours, and the last cycles, newest first.

use leptos::prelude::*;

use super::{BladePage, CurrentUser};
use crate::{
    api::home::home_applications,
    components::query_link,
    model::{Blade, HomeApplication},
};

#[component]
pub fn HomePage() -> impl IntoView {
    let CurrentUser(me) = expect_context();
    let applications = Resource::new(|| (), |_| home_applications());
    view! {
        <BladePage blade=Blade::Home>
            <Suspense>
                {move || Suspend::new(async move {
                    me.await.ok().flatten().map(|me| view! {
                        <p class="greeting">"Welcome, " {me.display_name.clone()} "."</p>
                        <ul class="tiles">
                            {me.blades
                                .into_iter()
                                .filter(|b| *b != Blade::Home && b.in_navigation())
                                .map(|b| view! { <li><a href=b.path()>{b.title()}</a></li> })
                                .collect_view()}
                        </ul>
                    })
                })}
            </Suspense>
            <Suspense>
                {move || Suspend::new(async move {
                    match applications.await {
                        Ok(apps) if apps.is_empty() => None,
                        Ok(apps) => Some(view! { <Provisioning apps /> }.into_any()),
                        Err(e) => Some(view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any()),
                    }
                })}
            </Suspense>
        </BladePage>
    }
}

#[component]
fn Provisioning(apps: Vec<HomeApplication>) -> impl IntoView {
    let mut cycles: Vec<(String, String, crate::model::CycleSummary)> = apps
        .iter()
        .filter_map(|a| Some((a.id.clone(), a.name.clone(), a.last.clone()?)))
        .collect();
    cycles.sort_by(|a, b| b.2.finished.cmp(&a.2.finished));
    view! {
        <section class="home-provisioning" aria-label="Provisioning">
            <h2>"Provisioning"</h2>
            <table class="data-table" data-test="home-applications">
                <thead>
                    <tr>
                        <th scope="col">"Application"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Now"</th>
                        <th scope="col">"Failures (24 h)"</th>
                    </tr>
                </thead>
                <tbody>
                    {apps.into_iter().map(|a| {
                        let failures = query_link(
                            "/provisioning-logs",
                            &[("application", a.id.clone()), ("status", "Failure".into()), ("from", a.failures_from.clone())],
                        );
                        let quarantined = matches!(a.state.as_str(), "Quarantine" | "Disabled");
                        view! {
                            <tr class:quarantined=quarantined>
                                <td><a href=format!("/applications/{}/provisioning", a.id)>{a.name}</a></td>
                                <td>
                                    {a.state}
                                    {a.quarantine_reason.map(|r| view! { <p class="muted">{r}</p> })}
                                </td>
                                <td>{a.running.unwrap_or_else(|| "Idle".into())}</td>
                                <td>
                                    {if a.failures_24h > 0 {
                                        view! { <a href=failures>{a.failures_24h}</a> }.into_any()
                                    } else {
                                        view! { "0" }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h2>"Last cycles"</h2>
            {if cycles.is_empty() {
                view! { <p class="muted">"No cycle has run yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="last-cycles" data-test="last-cycles">
                        {cycles.into_iter().map(|(id, name, c)| view! {
                            <li>
                                <a href=format!("/applications/{id}/provisioning-logs")>{name}</a>
                                {format!(
                                    ": {} cycle finished {} after {:.1} s, {}. Created {}, updated {}, disabled {}, deleted {}, skipped {}, failed {}.",
                                    c.kind, c.finished, c.seconds, c.outcome, c.counts.created, c.counts.updated,
                                    c.counts.disabled, c.counts.deleted, c.counts.skipped, c.counts.failed
                                )}
                            </li>
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}
