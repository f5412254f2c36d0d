//! An application's Provisioning logs: the Provisioning logs blade fixed to this application.

use leptos::prelude::*;

use super::ApplicationTab;
use crate::routes::provisioning_logs::ProvisioningLogs;

#[component]
pub fn ApplicationLogsPage() -> impl IntoView {
    view! {
        <ApplicationTab current="Provisioning logs" content=|id| view! {
            <ProvisioningLogs base=format!("/applications/{id}/provisioning-logs") application=Some(id) />
        } />
    }
}
