use leptos::prelude::*;

use super::BladePage;
use crate::{components::EmptyState, model::Blade};

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::EnterpriseApplications>
            <EmptyState
                title="No applications yet"
                message="Applications you add from the gallery, such as Vonage, or create yourself will be listed here."
            />
        </BladePage>
    }
}
