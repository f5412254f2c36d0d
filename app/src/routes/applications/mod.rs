//! Enterprise applications: All applications (search, keyset pages), New application (the
//! gallery), and an application's blades: Overview (with Properties and Owners), Users and
//! groups, App roles, Single sign-on, Provisioning and its Mappings, Provision on demand,
//! Provisioning logs.

mod attribute_list;
mod logs;
mod mappings;
mod on_demand;
mod overview;
mod provisioning;
mod schema;
mod single_sign_on;
mod users_and_groups;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

pub use attribute_list::AttributeListPage;
pub use logs::ApplicationLogsPage;
pub use mappings::MappingsPage;
pub use on_demand::ProvisionOnDemandPage;
pub use overview::ApplicationPage;
pub use provisioning::ProvisioningPage;
pub use schema::SchemaPage;
pub use single_sign_on::SingleSignOnPage;
pub use users_and_groups::{AppRolesPage, UsersAndGroupsPage};

use super::{BladePage, CurrentUser};
use crate::{
    api::applications::{CreateApplication, gallery, get_application, list_applications},
    components::{BladeHeader, EmptyState, FormBanner, plural, query_link},
    model::Blade,
};

/// Whether the signed-in administrator may add applications.
fn creates_applications() -> Signal<bool> {
    let CurrentUser(me) = expect_context();
    Signal::derive(move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|me| me.creates_applications)
    })
}

/// An application's logo: its monogram on its colour.
#[component]
pub fn AppLogo(monogram: String, color: String) -> impl IntoView {
    view! { <span class="app-logo" style=format!("background:{color}") aria-hidden="true">{monogram}</span> }
}

/// The blades of one application, as tabs under its name.
#[component]
pub fn ApplicationHeader(id: String, name: String, current: &'static str) -> impl IntoView {
    let tabs = [
        ("Overview", String::new()),
        ("Users and groups", "/users".to_owned()),
        ("App roles", "/roles".to_owned()),
        ("Single sign-on", "/single-sign-on".to_owned()),
        ("Provisioning", "/provisioning".to_owned()),
        ("Provision on demand", "/provision-on-demand".to_owned()),
        ("Provisioning logs", "/provisioning-logs".to_owned()),
    ];
    let title = if current == "Overview" {
        name.clone()
    } else {
        format!("{name} | {current}")
    };
    view! {
        <BladeHeader
            title
            parents=vec![Blade::EnterpriseApplications]
            trail=if current == "Overview" { Vec::new() } else { vec![(format!("/applications/{id}"), name)] }
        />
        <nav class="tabs" aria-label="Application">
            {tabs
                .into_iter()
                .map(|(label, path)| {
                    view! {
                        <a href=format!("/applications/{id}{path}") aria-current=(label == current).then_some("page")>
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// A tab of the application in the address: its header and tabs, then `content` for the
/// application's id. The content is built beside the header's Suspend, never inside it: a
/// resource created inside a Suspend gets a different place on the server and in the browser,
/// and hydration then panics (docs/architecture.md, Hydration).
#[component]
fn ApplicationTab<F, V>(current: &'static str, content: F) -> impl IntoView
where
    F: Fn(String) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let application = Resource::new(move || id.get(), get_application);
    let content = StoredValue::new(content);
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match application.await {
                        Ok(app) => view! {
                            <ApplicationHeader id=app.id.clone() name=app.display_name.clone() current />
                        }
                        .into_any(),
                        Err(e) => view! {
                            <BladeHeader title=current.to_owned() parents=vec![Blade::EnterpriseApplications] />
                            <div class="banner error" role="alert">{e.to_string()}</div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            {move || content.with_value(|content| content(id.get()))}
        </BladePage>
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let applications = Resource::new(
        move || (param("q"), param("after"), param("before")),
        |(q, after, before)| {
            let cursor = |c: String| Some(c).filter(|c| !c.is_empty());
            list_applications(Some(q), cursor(after), cursor(before))
        },
    );
    let creates = creates_applications();
    view! {
        <BladePage blade=Blade::EnterpriseApplications>
            <h2 class="sub-title">"All applications"</h2>
            <div class="toolbar">
                <Show when=move || creates.get()>
                    <a class="button primary" href="/applications/new">"New application"</a>
                </Show>
                <form class="search" method="get" action="/applications" role="search">
                    <input type="search" name="q" value=move || param("q") placeholder="Search by name" aria-label="Search applications" />
                    <button type="submit" class="button">"Search"</button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match applications.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <EmptyState
                                title="No applications found"
                                message="Applications you add from the gallery, such as Vonage, or create yourself are listed here."
                            />
                        }
                        .into_any(),
                        Ok(page) => {
                            let link = |key: &str, cursor: String| query_link("/applications", &[("q", param("q")), (key, cursor)]);
                            let next = page.next.clone().map(|c| link("after", c));
                            let previous = page.previous.clone().map(|c| link("before", c));
                            view! {
                                <p class="count">{plural(page.total, "application")}</p>
                                <table class="data-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Gallery entry"</th>
                                            <th scope="col">"Provisioning"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|a| view! {
                                            <tr>
                                                <td>
                                                    <AppLogo monogram=a.logo_monogram color=a.logo_color />
                                                    <a href=format!("/applications/{}", a.id)>{a.display_name}</a>
                                                </td>
                                                <td>{a.template}</td>
                                                <td>{a.provisioning}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    {previous.map(|href| view! {
                                        <a class="button" href=query_link("/applications", &[("q", param("q"))])>"First page"</a>
                                        <a class="button" href=href>"Previous page"</a>
                                    })}
                                    {next.map(|href| view! { <a class="button" href=href>"Next page"</a> })}
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

const CATEGORIES: [&str; 7] = [
    "Collaboration",
    "Communication",
    "Developer tools",
    "File storage",
    "IT and security",
    "Productivity",
    "Custom",
];

/// New application: the gallery, searchable and by category, each entry with a Create form.
#[component]
pub fn NewApplicationPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let entries = Resource::new(
        move || (param("q"), param("category")),
        |(q, category)| gallery(q, category),
    );
    let create = ServerAction::<CreateApplication>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <BladePage blade=Blade::EnterpriseApplications title="New application">
            <p class="muted">
                "Add an application from the gallery, or create your own to connect any application that speaks SCIM 2.0."
            </p>
            <div class="toolbar">
                <form class="search" method="get" action="/applications/new" role="search">
                    <input type="search" name="q" value=move || param("q") placeholder="Search the gallery" aria-label="Search the gallery" />
                    <select name="category" aria-label="Category">
                        <option value="">"All categories"</option>
                        {CATEGORIES.map(|c| view! { <option value=c selected=move || param("category") == c>{c}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="button">"Search"</button>
                </form>
            </div>
            <FormBanner error fields=&[] />
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(entries) if entries.is_empty() => view! {
                            <EmptyState title="Nothing in the gallery matches" message="Try another name, or Create your own application." />
                        }
                        .into_any(),
                        Ok(entries) => view! {
                            <ul class="gallery">
                                {entries.into_iter().map(|entry| view! {
                                    <li class="gallery-entry">
                                        <AppLogo monogram=entry.logo_monogram.clone() color=entry.logo_color.clone() />
                                        <h2>{entry.name.clone()}</h2>
                                        <p class="muted">{format!("{} · {}", entry.publisher, entry.category)}</p>
                                        <p>{entry.description.clone()}</p>
                                        <p class="muted">
                                            {format!("Admin Credentials: {}. {}", entry.authentication, if entry.groups_supported { "Users and groups." } else { "Users only." })}
                                        </p>
                                        <ActionForm action=create attr:class="create-application">
                                            <input type="hidden" name="template" value=entry.id.clone() />
                                            <label>
                                                "Name"
                                                <input
                                                    name="display_name"
                                                    value=if entry.id == "custom-scim" { String::new() } else { entry.name.clone() }
                                                    placeholder="The application's name"
                                                    required=entry.id == "custom-scim"
                                                    aria-label=format!("Name of the new {} application", entry.name)
                                                />
                                            </label>
                                            <button type="submit" class="primary" aria-label=format!("Create {}", entry.name)>"Create"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </BladePage>
    }
}
