//! "Edit attribute list for Vonage": the target's attributes a mapping may write, with Type,
//! Required, Multi-valued, Reference and Supported for filtering; add, edit and delete (not one a
//! mapping writes), Refresh from the target's `/Schemas`, and Save. Only an attribute supported
//! for filtering may match objects (docs/engine.md, Attribute list).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{
    ApplicationHeader,
    mappings::{field_error, keyed, mapping_name},
};
use crate::{
    api::provisioning::{RefreshAttributeList, get_attribute_list, save_attribute_list},
    components::BladeHeader,
    model::{AttributeListForm, AttributeRow, Blade},
    routes::BladePage,
};

const TYPES: [&str; 7] = [
    "String",
    "Boolean",
    "Integer",
    "Decimal",
    "DateTime",
    "Binary",
    "Reference",
];

#[component]
pub fn AttributeListPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let object = move || params.read().get("object").unwrap_or_default();
    let refresh = ServerAction::<RefreshAttributeList>::new();
    let form = Resource::new(
        move || (id(), object(), refresh.version().get()),
        |(id, object, _)| get_attribute_list(id, object),
    );
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => view! { <AttributeListEditor form refresh /> }.into_any(),
                        Err(e) => view! {
                            <BladeHeader title="Edit attribute list".to_owned() parents=vec![Blade::EnterpriseApplications] />
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
fn AttributeListEditor(
    form: AttributeListForm,
    refresh: ServerAction<RefreshAttributeList>,
) -> impl IntoView {
    let mut next = 0;
    let rows = RwSignal::new(keyed(form.rows.clone(), &mut next));
    let next = StoredValue::new(next);
    let version = RwSignal::new(form.version);
    let base = StoredValue::new(form.clone());
    let save = Action::new(move |form: &AttributeListForm| save_attribute_list(form.clone()));
    let result = Signal::derive(move || save.value().get());
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            version.set(saved);
        }
    });
    let submit = move |_| {
        let mut form = base.get_value();
        form.version = version.get_untracked();
        form.rows = rows
            .get_untracked()
            .iter()
            .map(|(_, r)| r.get_untracked())
            .collect();
        save.dispatch(form);
    };
    let mapped = StoredValue::new(form.mapped.clone());
    let back = format!(
        "/applications/{}/provisioning/{}",
        form.application_id, form.object
    );
    let title = format!("Edit attribute list for {}", form.application);
    view! {
        <ApplicationHeader id=form.application_id.clone() name=form.application.clone() current="Provisioning" />
        <h2 class="sub-title">{title}</h2>
        <p class="muted">
            {format!("The attributes of {} that {} may write. ", form.application, mapping_name(&form.object))}
            "Only an attribute supported for filtering can match objects: matching asks the application for the account with that value."
        </p>
        {move || match result.get() {
            Some(Ok(_)) => Some(view! { <div class="banner success" role="status">"The attribute list has been saved."</div> }.into_any()),
            Some(Err(e)) => e.banner().map(|message| view! { <div class="banner error" role="alert">{message}</div> }.into_any()),
            None => None,
        }}
        {move || refresh.value().get().map(|r| match r {
            Ok(message) => view! { <div class="banner success" role="status">{message}</div> }.into_any(),
            Err(e) => view! { <div class="banner error" role="alert">{format!("Refresh failed. {e}")}</div> }.into_any(),
        })}
        <section class="panel">
            <table class="data-table attribute-list">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Required"</th>
                        <th scope="col">"Multi-valued"</th>
                        <th scope="col">"Reference"</th>
                        <th scope="col">"Supported for filtering"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|(key, _)| *key let:item>
                        {
                            let (key, row) = item;
                            let position = move || rows.read().iter().position(|(k, _)| *k == key).unwrap_or(0);
                            let error = move |field: &'static str| move || field_error(result.get(), &format!("attributes[{}].{field}", position()));
                            let name = move || row.read().name.clone();
                            let flag = move |label: &'static str, get: fn(&AttributeRow) -> bool, set: fn(&mut AttributeRow, bool)| view! {
                                <td>
                                    <input type="checkbox"
                                        aria-label=move || format!("{label}: {}", name())
                                        prop:checked=move || get(&row.read())
                                        on:change=move |ev| row.update(|r| set(r, event_target_checked(&ev))) />
                                </td>
                            };
                            let in_use = move || mapped.with_value(|m| m.iter().any(|t| t.eq_ignore_ascii_case(&row.read().name)));
                            view! {
                                <tr data-test="attribute-row">
                                    <td>
                                        <input aria-label="Attribute name" prop:value=name on:input=move |ev| row.update(|r| r.name = event_target_value(&ev)) />
                                        <p class="field-error" role="alert">{error("name")}</p>
                                    </td>
                                    <td>
                                        <select aria-label=move || format!("Type: {}", name()) on:change=move |ev| row.update(|r| r.kind = event_target_value(&ev))>
                                            {TYPES.map(|t| view! { <option value=t selected=move || row.read().kind == t>{t}</option> }).to_vec()}
                                        </select>
                                    </td>
                                    {flag("Required", |r| r.required, |r, v| r.required = v)}
                                    {flag("Multi-valued", |r| r.multi_valued, |r, v| r.multi_valued = v)}
                                    {flag("Reference", |r| r.reference, |r, v| r.reference = v)}
                                    {flag("Supported for filtering", |r| r.filterable, |r, v| r.filterable = v)}
                                    <td>
                                        <button type="button" class="button danger small"
                                            aria-label=move || format!("Delete {}", name())
                                            disabled=in_use
                                            title=move || if in_use() { "A mapping writes it" } else { "" }
                                            on:click=move |_| rows.update(|rows| rows.retain(|(k, _)| *k != key))>
                                            "Delete"
                                        </button>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <div class="toolbar">
                <button type="button" class="button" on:click=move |_| {
                    next.update_value(|n| *n += 1);
                    let key = next.get_value();
                    rows.update(|r| r.push((key, RwSignal::new(AttributeRow { kind: "String".into(), ..AttributeRow::default() }))));
                }>"Add attribute"</button>
                <ActionForm action=refresh attr:class="inline">
                    <input type="hidden" name="id" value=form.application_id.clone() />
                    <input type="hidden" name="object" value=form.object.clone() />
                    <input type="hidden" name="version" value=move || version.get().to_string() />
                    <button type="submit" class="button">"Refresh"</button>
                </ActionForm>
                <span class="hint">"Refresh reads the application's /Schemas with the saved Tenant URL and credentials."</span>
            </div>
        </section>
        <div class="actions">
            <button type="button" class="primary" on:click=submit disabled=move || save.pending().get()>"Save"</button>
            <a class="button" href=back>"Back to the mappings"</a>
        </div>
    }
}
