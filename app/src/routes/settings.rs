use leptos::prelude::*;

use super::BladePage;
use crate::{components::EmptyState, model::Blade};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Settings>
            <EmptyState
                title="No settings yet"
                message="Email (SMTP), tokens and log retention will be configured here."
            />
        </BladePage>
    }
}
