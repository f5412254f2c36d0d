//! An application's Provisioning logs: the Provisioning logs blade fixed to this application.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::ApplicationHeader;
use crate::{
    api::applications::get_application,
    components::BladeHeader,
    model::Blade,
    routes::{BladePage, provisioning_logs::ProvisioningLogs},
};

#[component]
pub fn ApplicationLogsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let application = Resource::new(id, get_application);
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match application.await {
                        Ok(app) => view! {
                            <ApplicationHeader id=app.id.clone() name=app.display_name.clone() current="Provisioning logs" />
                            <ProvisioningLogs base=format!("/applications/{}/provisioning-logs", app.id) application=Some(app.id.clone()) />
                        }
                        .into_any(),
                        Err(e) => view! {
                            <BladeHeader title="Provisioning logs".to_owned() parents=vec![Blade::EnterpriseApplications] />
                            <div class="banner error" role="alert">{e.to_string()}</div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </BladePage>
    }
}
