use leptos::prelude::*;

use super::BladePage;
use crate::{
    components::{BladeHeader, EmptyState},
    model::Blade,
};

#[component]
pub fn AuditLogsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::AuditLogs>
            <BladeHeader title=Blade::AuditLogs.title().to_owned() />
            <EmptyState
                title="No audit logs yet"
                message="Every change made by an administrator, a token or an import will be recorded here."
            />
        </BladePage>
    }
}
