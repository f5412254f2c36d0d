use leptos::prelude::*;

use super::{BladePage, tokens::TokensPanel};
use crate::model::Blade;

/// Settings: every account's tokens (SMTP and retention come with later features).
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Settings>
            <TokensPanel everyone=true />
        </BladePage>
    }
}
