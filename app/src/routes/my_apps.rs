//! My Apps (`/myapps`): the applications the signed-in person may open, as tiles; each opens
//! the application signed in (docs/sso.md, My Apps).

use leptos::prelude::*;

use super::applications::AppLogo;
use crate::{
    api::{my_apps::my_applications, session::SignOut},
    components::{EmptyState, PageTitle},
};

#[component]
pub fn MyAppsPage() -> impl IntoView {
    let apps = Resource::new(|| (), |()| my_applications());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <PageTitle text="My Apps - Scimitar" />
        <main class="my-apps">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match apps.await {
                        Ok(me) => view! {
                            <header class="my-apps-header">
                                <p class="brand">"Scimitar"</p>
                                <div class="who">
                                    <span class="name">{me.display_name}</span>
                                    <span class="upn">{me.user_principal_name}</span>
                                </div>
                                {me.console.then(|| view! { <a class="link" href="/">"Console"</a> })}
                                <ActionForm action=sign_out>
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            </header>
                            <h1>"My Apps"</h1>
                            {if me.apps.is_empty() {
                                view! {
                                    <EmptyState
                                        title="No applications yet"
                                        message="When your administrator assigns you to an application with single sign-on, it appears here."
                                    />
                                }.into_any()
                            } else {
                                view! {
                                    <ul class="app-tiles">
                                        {me.apps.into_iter().map(|app| view! {
                                            <li>
                                                <a class="app-tile" href=app.launch_url rel="external">
                                                    <AppLogo monogram=app.logo_monogram color=app.logo_color />
                                                    <span>{app.name}</span>
                                                </a>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
