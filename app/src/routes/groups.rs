use leptos::prelude::*;

use super::BladePage;
use crate::{components::EmptyState, model::Blade};

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Groups>
            <EmptyState
                title="No groups to show yet"
                message="Groups and their members will be listed here."
            />
        </BladePage>
    }
}
