use leptos::prelude::*;

use super::BladePage;
use crate::{components::EmptyState, model::Blade};

#[component]
pub fn AuditLogsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::AuditLogs>
            <EmptyState
                title="No audit logs yet"
                message="Every change made by an administrator, a token or an import will be recorded here."
            />
        </BladePage>
    }
}
