//! Pages for requests that cannot be served: unknown address, missing permission, ended session.

use crate::components::PageTitle;
use leptos::prelude::*;

use crate::model::Blade;

/// Sets the HTTP status of the page being rendered on the server (the browser ignores it).
fn set_status(_status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(
            http::StatusCode::from_u16(_status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
}

#[component]
pub fn Forbidden(blade: Blade, role: String) -> impl IntoView {
    set_status(403);
    view! {
        <section class="forbidden">
            <h2>"You don't have access to this page"</h2>
            <p>
                "Your role, " <strong>{role}</strong> ", does not allow opening "
                <strong>{blade.title()}</strong>
                ". Ask a Global Administrator if you need access."
            </p>
            <p><a href="/">"Go to Home"</a></p>
        </section>
    }
}

#[component]
pub fn SessionEnded() -> impl IntoView {
    set_status(401);
    view! {
        <section class="forbidden">
            <h2>"Your session has ended"</h2>
            <p><a href="/signin" rel="external">"Sign in again"</a></p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <PageTitle text="Page not found - Scimitar" />
        <main class="standalone">
            <div class="card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p><a href="/">"Go to Home"</a></p>
            </div>
        </main>
    }
}
