use leptos::prelude::*;

use super::BladePage;
use crate::{components::EmptyState, model::Blade};

#[component]
pub fn ProvisioningLogsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::ProvisioningLogs>
            <EmptyState
                title="No provisioning logs yet"
                message="Every decision a provisioning cycle makes for a user or group will be logged here."
            />
        </BladePage>
    }
}
