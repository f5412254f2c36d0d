//! The portal's frame: header with the signed-in user and Sign out, left navigation, and the
//! guard every blade sits in (signed in, and the role may open it, or the 403 page).

use leptos::prelude::*;
use leptos_router::components::Outlet;

use super::errors::{Forbidden, SessionEnded};
use crate::{
    api::{
        AppError,
        session::{SignOut, current_user},
    },
    components::BladeHeader,
    model::{Blade, Me},
};

/// The signed-in administrator, loaded once per page by the portal frame.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, AppError>>);

#[component]
pub fn Portal() -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| current_user());
    provide_context(CurrentUser(me));
    let signed_in = move || async move { me.await.ok().flatten() };
    view! {
        <div class="portal">
            <header class="topbar">
                <a class="brand" href="/">"Scimitar"</a>
                <Suspense>
                    {move || Suspend::new(async move {
                        signed_in().await.map(|me| view! { <AccountMenu me /> })
                    })}
                </Suspense>
            </header>
            <nav class="sidenav" aria-label="Portal">
                <Suspense>
                    {move || Suspend::new(async move {
                        signed_in().await.map(|me| view! { <Navigation me /> })
                    })}
                </Suspense>
            </nav>
            <main class="blade">
                <Outlet />
            </main>
        </div>
    }
}

#[component]
fn AccountMenu(me: Me) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div class="account">
            <div class="who">
                <span class="name">{me.display_name}</span>
                <span class="upn">{me.user_principal_name}</span>
                <span class="role">{me.role}</span>
            </div>
            <a class="link" href="/myapps">"My Apps"</a>
            <a class="link" href="/tokens">"My tokens"</a>
            <ActionForm action=sign_out>
                <button type="submit" class="link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

#[component]
fn Navigation(me: Me) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let current = move |blade: Blade| {
        let path = location.pathname.get();
        if blade == Blade::Home {
            path == "/"
        } else {
            path.starts_with(blade.path())
        }
    };
    view! {
        <ul>
            {me
                .blades
                .into_iter()
                .filter(|blade| blade.in_navigation())
                .map(|blade| {
                    view! {
                        <li>
                            <a
                                href=blade.path()
                                aria-current=move || current(blade).then_some("page")
                            >
                                {blade.title()}
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// A blade: its breadcrumbs and title, then its content, shown only to a signed-in user whose
/// role may open `blade` (others get the 403 page). Sub-blades (a user's page, New user) give
/// their own `title`, under `blade` in the breadcrumbs, or render their header themselves
/// (`own_header`) when the title is only known once their data has loaded.
#[component]
pub fn BladePage(
    blade: Blade,
    children: ChildrenFn,
    #[prop(optional, into)] title: Option<String>,
    #[prop(optional)] own_header: bool,
) -> impl IntoView {
    let CurrentUser(me) = expect_context();
    let header = (!own_header).then(|| match title {
        Some(title) => view! { <BladeHeader title parents=vec![blade] /> }.into_any(),
        None => view! { <BladeHeader title=blade.title().to_owned() /> }.into_any(),
    });
    view! {
        {header}
        <Suspense fallback=|| view! { <p class="loading">"Loading..."</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) if me.may_open(blade) => children().into_any(),
                        Ok(Some(me)) => view! { <Forbidden blade role=me.role /> }.into_any(),
                        Ok(None) | Err(AppError::Unauthenticated) => view! { <SessionEnded /> }.into_any(),
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
