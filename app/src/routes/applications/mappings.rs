//! A Mappings page ("Provision Scimitar Users", as the portal's "Provision Microsoft Entra ID
//! Users"): the mapping's switches and target object
//! actions, the Attribute Mappings table (add, edit, delete, restore defaults; every mapping
//! type and option), an expression editor that checks as you type and previews the value for a
//! user you name, and the Scoping filters. The page has its own Save, as in the portal; the
//! table is edited in the browser and saved as a whole.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::ApplicationHeader;
use crate::{
    api::{
        AppError,
        provisioning::{check_expression, get_mappings, preview_expression, save_mappings},
    },
    components::BladeHeader,
    model::{Blade, ClauseRow, FilterRow, MappingRow, MappingsForm},
    routes::BladePage,
};

#[component]
pub fn MappingsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let object = move || params.read().get("object").unwrap_or_default();
    let form = Resource::new(
        move || (id(), object()),
        |(id, object)| get_mappings(id, object),
    );
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Suspense fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => view! { <MappingsEditor form /> }.into_any(),
                        Err(e) => view! {
                            <BladeHeader title="Attribute Mappings".to_owned() parents=vec![Blade::EnterpriseApplications] />
                            <div class="banner error" role="alert">{e.to_string()}</div>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </BladePage>
    }
}

/// A row of the table with a key that survives deleting the rows above it.
pub(super) type Keyed<T> = Vec<(u64, RwSignal<T>)>;

pub(super) fn keyed<T: Send + Sync + 'static>(items: Vec<T>, next: &mut u64) -> Keyed<T> {
    items
        .into_iter()
        .map(|item| {
            *next += 1;
            (*next, RwSignal::new(item))
        })
        .collect()
}

/// The error the last Save reported for `field`.
pub(super) fn field_error(result: Option<Result<i64, AppError>>, field: &str) -> Option<String> {
    result
        .and_then(Result::err)
        .and_then(|e| e.for_field(field))
}

#[component]
fn MappingsEditor(form: MappingsForm) -> impl IntoView {
    let mut next = 0;
    let rows = RwSignal::new(keyed(form.rows.clone(), &mut next));
    let filters = RwSignal::new(keyed(form.filters.clone(), &mut next));
    let next = StoredValue::new(next);
    let fresh_key = move || {
        next.update_value(|n| *n += 1);
        next.get_value()
    };
    let enabled = RwSignal::new(form.enabled);
    let create = RwSignal::new(form.create);
    let update = RwSignal::new(form.update);
    let delete = RwSignal::new(form.delete);
    let version = RwSignal::new(form.version);
    let preview_user = RwSignal::new(String::new());
    let base = StoredValue::new(form.clone());
    let save = Action::new(move |form: &MappingsForm| save_mappings(form.clone()));
    let result = Signal::derive(move || save.value().get());
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            version.set(saved);
        }
    });
    let submit = move |_| {
        let mut form = base.get_value();
        form.version = version.get_untracked();
        form.enabled = enabled.get_untracked();
        form.create = create.get_untracked();
        form.update = update.get_untracked();
        form.delete = delete.get_untracked();
        form.rows = rows
            .get_untracked()
            .iter()
            .map(|(_, r)| r.get_untracked())
            .collect();
        form.filters = filters
            .get_untracked()
            .iter()
            .map(|(_, f)| f.get_untracked())
            .collect();
        save.dispatch(form);
    };
    let defaults = form.defaults.clone();
    let restore = move |_| {
        let restored = defaults
            .iter()
            .cloned()
            .map(|r| (fresh_key(), RwSignal::new(r)))
            .collect();
        rows.set(restored);
    };
    let title = mapping_name(&form.object);
    let sources = StoredValue::new(form.source_attributes.clone());
    let operators = StoredValue::new(form.operators.clone());
    let object = StoredValue::new(form.object.clone());
    let app_id = StoredValue::new(form.application_id.clone());
    let required = form.required.join(", ");
    // Each part is its own erased view, which keeps the page's type (and its build) small.
    let header = view! {
        <ApplicationHeader id=form.application_id.clone() name=form.application.clone() current="Provisioning" />
        <h2 class="sub-title">{title}</h2>
        {move || match result.get() {
            Some(Ok(_)) => Some(view! { <div class="banner success" role="status">"Your mappings have been saved. The next cycle is an initial cycle."</div> }.into_any()),
            Some(Err(e)) => Some(view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any()),
            None => None,
        }}
    }
    .into_any();
    let switches = view! {
        <section class="panel">
            <label class="switch"><input type="checkbox" prop:checked=enabled on:change=move |ev| enabled.set(event_target_checked(&ev)) />" Enabled"</label>
            <fieldset class="actions-list">
                <legend>"Target Object Actions"</legend>
                <label><input type="checkbox" prop:checked=create on:change=move |ev| create.set(event_target_checked(&ev)) />" Create"</label>
                <label><input type="checkbox" prop:checked=update on:change=move |ev| update.set(event_target_checked(&ev)) />" Update"</label>
                <label><input type="checkbox" prop:checked=delete on:change=move |ev| delete.set(event_target_checked(&ev)) />" Delete"</label>
            </fieldset>
        </section>
    }
    .into_any();
    let table = view! {
        <section class="panel">
            <h2>"Attribute Mappings"</h2>
            {(!required.is_empty()).then(|| view! { <p class="hint">{format!("The application requires: {required}.")}</p> })}
            <div class="form-field preview-user">
                <label for="field-preview-user">"Preview for user"</label>
                <input id="field-preview-user" placeholder="A user principal name" prop:value=preview_user on:input=move |ev| preview_user.set(event_target_value(&ev)) />
            </div>
            <table class="data-table mappings">
                <thead>
                    <tr>
                        <th scope="col">"Mapping type"</th>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Target attribute"</th>
                        <th scope="col">"Default value if null"</th>
                        <th scope="col">"Matching precedence"</th>
                        <th scope="col">"Apply this mapping"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|(key, _)| *key let:item>
                        {
                            let (key, row) = item;
                            let position = move || rows.read().iter().position(|(k, _)| *k == key).unwrap_or(0);
                            view! {
                                <MappingRowView
                                    row
                                    position=Signal::derive(position)
                                    result
                                    sources
                                    object
                                    app_id
                                    preview_user
                                    on_delete=Callback::new(move |_| rows.update(|rows| rows.retain(|(k, _)| *k != key)))
                                />
                            }
                        }
                    </For>
                </tbody>
            </table>
            <div class="toolbar">
                <button type="button" class="button" on:click=move |_| rows.update(|r| r.push((fresh_key(), RwSignal::new(MappingRow { mapping_type: "Direct".into(), ..MappingRow::default() }))))>
                    "Add New Mapping"
                </button>
                <button type="button" class="button" on:click=restore>"Restore default mappings"</button>
            </div>
        </section>
    }
    .into_any();
    let scoping = view! {
        <section class="panel">
            <h2>"Scoping filters"</h2>
            <p class="hint">"Clauses within a filter must all hold; an object is in scope when any filter holds. No filter: everyone in the Scope of Settings."</p>
            <For each=move || filters.get() key=|(key, _)| *key let:item>
                {
                    let (key, filter) = item;
                    let position = Signal::derive(move || filters.read().iter().position(|(k, _)| *k == key).unwrap_or(0));
                    view! {
                        <ScopingFilterView
                            filter
                            position
                            result
                            sources
                            operators
                            on_delete=Callback::new(move |_| filters.update(|f| f.retain(|(k, _)| *k != key)))
                        />
                    }
                }
            </For>
            <button type="button" class="button" on:click=move |_| filters.update(|f| f.push((fresh_key(), RwSignal::new(FilterRow {
                name: String::new(),
                clauses: vec![ClauseRow { attribute: String::new(), operator: "EQUALS".into(), value: String::new() }],
            }))))>
                "Add scoping filter"
            </button>
        </section>
    }
    .into_any();
    let attributes_of = form.application.clone();
    let advanced = view! {
        <datalist id="target-attributes">
            {form.target_attributes.iter().map(|name| view! { <option value=name.clone()></option> }).collect_view()}
        </datalist>
        <details class="panel advanced">
            <summary>"Show advanced options"</summary>
            <ul class="plain-list">
                <li>
                    <a href=move || format!("/applications/{}/provisioning/{}/attributes", app_id.get_value(), object.get_value())>
                        {format!("Edit attribute list for {attributes_of}")}
                    </a>
                    " : the target's attributes, their types and which ones it can filter on (only those may match)."
                </li>
                <li>
                    <a href=move || format!("/applications/{}/provisioning/schema", app_id.get_value())>"Review your schema here"</a>
                    " : the whole provisioning schema as JSON, to download, edit and upload (to copy a tested configuration to another instance)."
                </li>
            </ul>
        </details>
    }
    .into_any();
    view! {
        {header}
        {switches}
        {table}
        {scoping}
        {advanced}
        <div class="actions">
            <button type="button" class="primary" on:click=submit disabled=move || save.pending().get()>"Save"</button>
            <a class="button" href=move || format!("/applications/{}/provisioning", app_id.get_value())>"Back to Provisioning"</a>
        </div>
    }
}

#[component]
fn MappingRowView(
    row: RwSignal<MappingRow>,
    position: Signal<usize>,
    result: Signal<Option<Result<i64, AppError>>>,
    sources: StoredValue<Vec<String>>,
    object: StoredValue<String>,
    app_id: StoredValue<String>,
    preview_user: RwSignal<String>,
    on_delete: Callback<()>,
) -> impl IntoView {
    let error = move |field: &'static str| {
        move || {
            field_error(
                result.get(),
                &format!("mappings[{}].{field}", position.get()),
            )
        }
    };
    let kind = move || row.read().mapping_type.clone();
    let set = move |apply: fn(&mut MappingRow, String)| {
        move |ev: leptos::ev::Event| row.update(|r| apply(r, event_target_value(&ev)))
    };
    // The expression editor checks what is typed (the server parses it) and shows where it is wrong.
    let typed = Memo::new(move |_| {
        let r = row.read();
        (r.mapping_type == "Expression").then(|| r.source.clone())
    });
    // An action, not a resource: this row is built inside the page's Suspend, where a resource
    // would hydrate out of place (docs/architecture.md, Hydration). Effects run in the browser.
    let check = Action::new(move |text: &Option<String>| {
        let text = text.clone();
        async move {
            match text {
                Some(text) if !text.trim().is_empty() => check_expression(text, object.get_value())
                    .await
                    .ok()
                    .flatten(),
                _ => None,
            }
        }
    });
    Effect::new(move |_| {
        check.dispatch(typed.get());
    });
    let preview = Action::new(move |(user, text): &(String, String)| {
        preview_expression(app_id.get_value(), user.clone(), text.clone())
    });
    let label = move || row.read().target.clone();
    view! {
        <tr>
            <td>
                <select aria-label=move || format!("Mapping type of {}", label()) on:change=set(|r, v| r.mapping_type = v)>
                    {["Direct", "Constant", "Expression", "None"].map(|t| view! { <option value=t selected=move || kind() == t>{t}</option> }).collect_view()}
                </select>
            </td>
            <td class="source">
                {move || match kind().as_str() {
                    "Direct" => view! {
                        <select aria-label=move || format!("Source attribute of {}", label()) on:change=set(|r, v| r.source = v)>
                            <option value="" selected=move || row.read().source.is_empty()>"Choose an attribute"</option>
                            {sources.get_value().into_iter().map(|s| {
                                let (selected, text) = (s.clone(), s.clone());
                                view! { <option value=s selected=move || row.read().source.eq_ignore_ascii_case(&selected)>{text}</option> }
                            }).collect_view()}
                        </select>
                    }.into_any(),
                    "Expression" => view! {
                        <textarea
                            class="expression"
                            rows="2"
                            spellcheck="false"
                            aria-label=move || format!("Expression for {}", label())
                            prop:value=move || row.read().source.clone()
                            on:input=set(|r, v| r.source = v)
                        ></textarea>
                        {move || check.value().get().flatten().map(|message| view! {
                            <p class="field-error expression-error" role="alert">{message}</p>
                        })}
                        <button
                            type="button"
                            class="button small"
                            on:click=move |_| { preview.dispatch((preview_user.get_untracked(), row.read_untracked().source.clone())); }
                        >
                            "Preview"
                        </button>
                        {move || preview.value().get().map(|r| match r {
                            Ok(p) => view! { <p class=if p.ok { "preview" } else { "field-error" } role="status">{p.text}</p> }.into_any(),
                            Err(e) => view! { <p class="field-error" role="alert">{e.for_field("user").unwrap_or_else(|| e.to_string())}</p> }.into_any(),
                        })}
                    }.into_any(),
                    "None" => view! { <span class="muted">"(none)"</span> }.into_any(),
                    _ => view! {
                        <input aria-label=move || format!("Constant value of {}", label()) prop:value=move || row.read().source.clone() on:input=set(|r, v| r.source = v) />
                    }.into_any(),
                }}
                <p class="field-error" role="alert">{error("source")}</p>
            </td>
            <td>
                <input aria-label="Target attribute" list="target-attributes" prop:value=move || row.read().target.clone() on:input=set(|r, v| r.target = v) />
                <p class="field-error" role="alert">{error("target")}</p>
            </td>
            <td>
                <input aria-label=move || format!("Default value of {}", label()) prop:value=move || row.read().default_value.clone() on:input=set(|r, v| r.default_value = v) />
                <p class="field-error" role="alert">{error("defaultValue")}</p>
            </td>
            <td>
                <input
                    type="number"
                    min="0"
                    max="9"
                    class="narrow"
                    aria-label=move || format!("Matching precedence of {}", label())
                    prop:value=move || { let p = row.read().matching_precedence; if p == 0 { String::new() } else { p.to_string() } }
                    on:input=set(|r, v| r.matching_precedence = v.trim().parse().unwrap_or(0))
                />
                {move || (row.read().matching_precedence > 0).then(|| view! { <span class="badge">"Matching"</span> })}
                <p class="field-error" role="alert">{error("matchingPrecedence")}</p>
            </td>
            <td>
                <select aria-label=move || format!("Apply mapping of {}", label()) on:change=set(|r, v| r.only_during_creation = v == "create")>
                    <option value="always" selected=move || !row.read().only_during_creation>"Always"</option>
                    <option value="create" selected=move || row.read().only_during_creation>"Only during object creation"</option>
                </select>
                <p class="field-error" role="alert">{error("apply")}</p>
            </td>
            <td><button type="button" class="button danger small" aria-label=move || format!("Delete mapping of {}", label()) on:click=move |_| on_delete.run(())>"Delete"</button></td>
        </tr>
    }
    .into_any()
}

#[component]
fn ScopingFilterView(
    filter: RwSignal<FilterRow>,
    position: Signal<usize>,
    result: Signal<Option<Result<i64, AppError>>>,
    sources: StoredValue<Vec<String>>,
    operators: StoredValue<Vec<String>>,
    on_delete: Callback<()>,
) -> impl IntoView {
    let clause_error = move |c: usize, field: &'static str| {
        move || {
            field_error(
                result.get(),
                &format!("scoping.filters[{}].clauses[{c}].{field}", position.get()),
            )
        }
    };
    view! {
        <fieldset class="scoping-filter">
            <legend>{move || format!("Scoping filter {}", position.get() + 1)}</legend>
            <input
                aria-label="Scoping Filter Title"
                placeholder="Scoping Filter Title (optional)"
                prop:value=move || filter.read().name.clone()
                on:input=move |ev| filter.update(|f| f.name = event_target_value(&ev))
            />
            <p class="field-error" role="alert">{move || field_error(result.get(), &format!("scoping.filters[{}].clauses", position.get()))}</p>
            <table class="data-table clauses">
                <thead><tr><th scope="col">"Source attribute"</th><th scope="col">"Operator"</th><th scope="col">"Value"</th><th scope="col"></th></tr></thead>
                <tbody>
                    {move || (0..filter.read().clauses.len()).map(|c| {
                        let clause = move || filter.read().clauses.get(c).cloned().unwrap_or_default();
                        let edit = move |apply: fn(&mut ClauseRow, String)| move |ev: leptos::ev::Event| {
                            filter.update(|f| if let Some(clause) = f.clauses.get_mut(c) { apply(clause, event_target_value(&ev)) })
                        };
                        view! {
                            <tr>
                                <td>
                                    <select aria-label="Source attribute" on:change=edit(|cl, v| cl.attribute = v)>
                                        <option value="">"Choose an attribute"</option>
                                        {sources.get_value().into_iter().map(|s| {
                                            let (selected, text) = (s == clause().attribute, s.clone());
                                            view! { <option value=s selected=selected>{text}</option> }
                                        }).collect_view()}
                                    </select>
                                    <p class="field-error" role="alert">{clause_error(c, "attribute")}</p>
                                </td>
                                <td>
                                    <select aria-label="Operator" on:change=edit(|cl, v| cl.operator = v)>
                                        {operators.get_value().into_iter().map(|o| {
                                            let (selected, text) = (o == clause().operator, o.clone());
                                            view! { <option value=o selected=selected>{text}</option> }
                                        }).collect_view()}
                                    </select>
                                </td>
                                <td>
                                    <input aria-label="Clause value" prop:value=move || clause().value on:input=edit(|cl, v| cl.value = v) />
                                    <p class="field-error" role="alert">{clause_error(c, "value")}</p>
                                </td>
                                <td>
                                    <button type="button" class="button danger small" on:click=move |_| filter.update(|f| { if c < f.clauses.len() { f.clauses.remove(c); } })>"Remove"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <button type="button" class="button small" on:click=move |_| filter.update(|f| f.clauses.push(ClauseRow { operator: "EQUALS".into(), ..ClauseRow::default() }))>"Add new scoping clause"</button>
            <button type="button" class="button danger small" on:click=move |_| on_delete.run(())>"Delete filter"</button>
        </fieldset>
    }
    .into_any()
}

/// A mapping's name as the portal names its own ("Provision Microsoft Entra ID Users"): what
/// comes from Scimitar's directory, and what kind of object.
pub fn mapping_name(object: &str) -> &'static str {
    if object == "groups" {
        "Provision Scimitar Groups"
    } else {
        "Provision Scimitar Users"
    }
}
