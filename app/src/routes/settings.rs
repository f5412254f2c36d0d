use leptos::prelude::*;

use super::BladePage;
use crate::{
    components::{BladeHeader, EmptyState},
    model::Blade,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Settings>
            <BladeHeader title=Blade::Settings.title().to_owned() />
            <EmptyState
                title="No settings yet"
                message="Email (SMTP), tokens and log retention will be configured here."
            />
        </BladePage>
    }
}
