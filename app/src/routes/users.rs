use leptos::prelude::*;

use super::BladePage;
use crate::{components::EmptyState, model::Blade};

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Users>
            <EmptyState
                title="No users to show yet"
                message="Directory users and their attributes will be listed here, with search, CSV import and the inbound SCIM feed."
            />
        </BladePage>
    }
}
