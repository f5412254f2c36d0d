use leptos::prelude::*;

use super::{BladePage, CurrentUser};
use crate::model::Blade;

/// The landing blade: a greeting and a tile for each blade the administrator may open.
#[component]
pub fn HomePage() -> impl IntoView {
    let CurrentUser(me) = expect_context();
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
        </BladePage>
    }
}
