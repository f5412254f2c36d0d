use leptos::prelude::*;

/// What a list shows when it has nothing in it yet.
#[component]
pub fn EmptyState(title: &'static str, message: &'static str) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{title}</h2>
            <p>{message}</p>
        </section>
    }
}
