use super::PageTitle;
use leptos::prelude::*;

use crate::model::Blade;

/// A blade's breadcrumbs (Home > … > this blade) and its title, also used as the page title.
#[component]
pub fn BladeHeader(
    title: String,
    /// The blades above this one, outermost first. Home is always the first crumb.
    #[prop(optional)]
    parents: Vec<Blade>,
    /// Pages between the blades and this one (an application), as (link, title).
    #[prop(optional)]
    trail: Vec<(String, String)>,
) -> impl IntoView {
    let crumbs: Vec<Blade> = std::iter::once(Blade::Home)
        .chain(parents)
        .filter(|b| b.title() != title)
        .collect();
    view! {
        <PageTitle text=format!("{title} - Scimitar") />
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <ol>
                {crumbs
                    .into_iter()
                    .map(|blade| view! { <li><a href=blade.path()>{blade.title()}</a></li> })
                    .collect_view()}
                {trail
                    .into_iter()
                    .map(|(href, title)| view! { <li><a href=href>{title}</a></li> })
                    .collect_view()}
                <li aria-current="page">{title.clone()}</li>
            </ol>
        </nav>
        <h1 class="blade-title">{title}</h1>
    }
}
