//! "Review your schema here": the application's whole provisioning schema as JSON, to read,
//! download, edit or replace with an uploaded file, then Save. A document that does not read,
//! or that a Save would refuse, is refused with the path of each error, and nothing changes.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::ApplicationHeader;
use crate::{
    api::provisioning::{get_schema, save_schema},
    components::{BladeHeader, percent_encode},
    model::{Blade, SchemaForm},
    routes::BladePage,
};

/// The largest document the console sends (the server's body limit is 1 MiB).
const LARGEST: f64 = 1_000_000.0;

#[component]
pub fn SchemaPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let form = Resource::new(id, get_schema);
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => view! { <SchemaEditor form /> }.into_any(),
                        Err(e) => view! {
                            <BladeHeader title="Provisioning schema".to_owned() parents=vec![Blade::EnterpriseApplications] />
                            <div class="banner error" role="alert">{e.to_string()}</div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </BladePage>
    }
}

#[component]
fn SchemaEditor(form: SchemaForm) -> impl IntoView {
    let text = RwSignal::new(form.text.clone());
    let version = RwSignal::new(form.version);
    let upload_error = RwSignal::new(None::<String>);
    let id = StoredValue::new(form.application_id.clone());
    let save = Action::new(move |(version, text): &(i64, String)| {
        save_schema(id.get_value(), *version, text.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            version.set(saved);
        }
    });
    let file_name = format!(
        "{}-provisioning-schema.json",
        form.application
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            })
            .collect::<String>()
    );
    let read_upload = move |ev: leptos::ev::Event| {
        upload_error.set(None);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(file) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|input| input.files())
                .and_then(|files| files.get(0))
            else {
                return;
            };
            if file.size() > LARGEST {
                upload_error.set(Some(
                    "The file is larger than 1 MB: it cannot be a provisioning schema.".into(),
                ));
                return;
            }
            leptos::task::spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                {
                    Some(uploaded) => {
                        let _ = text.try_set(uploaded);
                    }
                    None => {
                        let _ = upload_error
                            .try_set(Some("The file could not be read as text.".into()));
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, LARGEST);
    };
    view! {
        <ApplicationHeader id=form.application_id.clone() name=form.application.clone() current="Provisioning" />
        <h2 class="sub-title">"Provisioning schema"</h2>
        <p class="muted">
            "Both mappings of this application, with their target object actions, scoping filters and attribute lists, as one JSON document. "
            "Download it from a test instance and upload it here to copy a tested configuration; the Tenant URL, credentials and settings stay this instance's own."
        </p>
        {move || match save.value().get() {
            Some(Ok(_)) => Some(view! { <div class="banner success" role="status">"The schema has been saved."</div> }.into_any()),
            Some(Err(crate::api::AppError::InvalidFields(errors))) => Some(view! {
                <div class="banner error" role="alert" data-test="schema-errors">
                    <p>"The schema was not saved. Fix each of these, then Save:"</p>
                    <ul>
                        {errors.into_iter().map(|(path, message)| view! { <li><code>{path}</code>": "{message}</li> }).collect_view()}
                    </ul>
                </div>
            }.into_any()),
            Some(Err(e)) => Some(view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any()),
            None => None,
        }}
        {move || upload_error.get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
        <section class="panel">
            <div class="toolbar">
                <a class="button" download=file_name href=move || format!("data:application/json;charset=utf-8,{}", percent_encode(&text.get()))>"Download"</a>
                <label class="button" for="field-schema-file">"Upload"</label>
                <input id="field-schema-file" class="visually-hidden" type="file" accept=".json,application/json" on:change=read_upload />
            </div>
            <label for="field-schema">"Schema (JSON)"</label>
            <textarea id="field-schema" class="schema" rows="30" spellcheck="false"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        </section>
        <div class="actions">
            <button type="button" class="primary" on:click=move |_| { save.dispatch((version.get_untracked(), text.get_untracked())); } disabled=move || save.pending().get()>"Save"</button>
            <a class="button" href=format!("/applications/{}/provisioning", form.application_id)>"Back to Provisioning"</a>
        </div>
    }
}
