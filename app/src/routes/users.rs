use leptos::prelude::*;

use super::BladePage;
use crate::{
    components::{BladeHeader, EmptyState},
    model::Blade,
};

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Users>
            <BladeHeader title=Blade::Users.title().to_owned() />
            <EmptyState
                title="No users to show yet"
                message="Directory users and their attributes will be listed here, with search, CSV import and the inbound SCIM feed."
            />
        </BladePage>
    }
}
