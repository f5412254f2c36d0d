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
    // The mapping the Edit Attribute dialog shows: its row's key (none for a new one) and a
    // draft, written back on Ok.
    let editing = RwSignal::new(None::<(Option<u64>, RwSignal<MappingRow>)>);
    let owner = Owner::current().expect("a component runs under an owner");
    let targets = StoredValue::new(form.target_attributes.clone());
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
                                    on_edit=Callback::new(move |_| editing.set(Some((Some(key), RwSignal::new(row.get_untracked())))))
                                    on_delete=Callback::new(move |_| rows.update(|rows| rows.retain(|(k, _)| *k != key)))
                                />
                            }
                        }
                    </For>
                </tbody>
            </table>
            {move || editing.get().map(|(key, draft)| {
                let owner = owner.clone();
                let position = key.and_then(|key| rows.read_untracked().iter().position(|(k, _)| *k == key));
                let next_precedence = rows.read_untracked().iter().map(|(_, r)| r.read_untracked().matching_precedence).max().unwrap_or(0).saturating_add(1);
                view! {
                    <EditAttributeDialog
                        draft
                        position
                        result
                        sources
                        targets
                        object
                        app_id
                        preview_user
                        next_precedence
                        on_ok=Callback::new(move |_| {
                            let edited = draft.get_untracked();
                            match key.and_then(|key| rows.read_untracked().iter().find(|(k, _)| *k == key).map(|(_, row)| *row)) {
                                Some(row) => row.set(edited),
                                // The row outlives the dialog: it belongs to the editor.
                                None => {
                                    let row = owner.with(|| RwSignal::new(edited));
                                    rows.update(|r| r.push((fresh_key(), row)));
                                }
                            }
                            editing.set(None);
                        })
                        on_cancel=Callback::new(move |_| editing.set(None))
                    />
                }
            })}
            <div class="toolbar">
                <button type="button" class="button" on:click=move |_| editing.set(Some((None, RwSignal::new(MappingRow { mapping_type: "Direct".into(), ..MappingRow::default() }))))>
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

/// One mapping in the table, as text; Edit opens the Edit Attribute dialog. The last Save's
/// errors about it show in its cells.
#[component]
fn MappingRowView(
    row: RwSignal<MappingRow>,
    position: Signal<usize>,
    result: Signal<Option<Result<i64, AppError>>>,
    on_edit: Callback<()>,
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
    let cell = move |text: fn(&MappingRow) -> String, field: &'static str| {
        view! {
            <td>
                {move || text(&row.read())}
                <p class="field-error" role="alert">{error(field)}</p>
            </td>
        }
    };
    let label = move || row.read().target.clone();
    view! {
        <tr>
            {cell(|r| r.mapping_type.clone(), "mappingType")}
            <td class="source">
                {move || {
                    let r = row.read();
                    match r.mapping_type.as_str() {
                        "Expression" => view! { <code class="expression">{r.source.clone()}</code> }.into_any(),
                        "Constant" => format!("\"{}\"", r.source).into_any(),
                        "None" => view! { <span class="muted">"(none)"</span> }.into_any(),
                        _ => r.source.clone().into_any(),
                    }
                }}
                <p class="field-error" role="alert">{error("source")}</p>
            </td>
            {cell(|r| r.target.clone(), "target")}
            {cell(|r| r.default_value.clone(), "defaultValue")}
            <td>
                {move || {
                    let p = row.read().matching_precedence;
                    (p > 0).then(|| view! { {p}" "<span class="badge">"Matching"</span> })
                }}
                <p class="field-error" role="alert">{error("matchingPrecedence")}</p>
            </td>
            {cell(|r| if r.only_during_creation { "Only during object creation".into() } else { "Always".into() }, "apply")}
            <td class="row-actions">
                <button type="button" class="button small" aria-label=move || format!("Edit {}", label()) on:click=move |_| on_edit.run(())>"Edit"</button>
                <button type="button" class="button danger small" aria-label=move || format!("Delete mapping of {}", label()) on:click=move |_| on_delete.run(())>"Delete"</button>
            </td>
        </tr>
    }
}

/// The portal's Edit Attribute dialog over a draft of one mapping: Mapping type, Source
/// attribute (or Constant Value, or Expression, checked as it is typed, with Preview), Default
/// value if null, Target attribute (from the attribute list), Match objects using this
/// attribute, Matching precedence, Apply this mapping. Ok keeps the draft, Cancel drops it;
/// the page's Save sends the table.
#[component]
fn EditAttributeDialog(
    draft: RwSignal<MappingRow>,
    /// The row's place in the table, for the last Save's errors (none for a new mapping).
    position: Option<usize>,
    result: Signal<Option<Result<i64, AppError>>>,
    sources: StoredValue<Vec<String>>,
    targets: StoredValue<Vec<String>>,
    object: StoredValue<String>,
    app_id: StoredValue<String>,
    preview_user: RwSignal<String>,
    /// The next free matching precedence, for "Match objects using this attribute: Yes".
    next_precedence: u8,
    on_ok: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let error = move |field: &'static str| {
        move || position.and_then(|p| field_error(result.get(), &format!("mappings[{p}].{field}")))
    };
    let kind = move || draft.read().mapping_type.clone();
    let set = move |apply: fn(&mut MappingRow, String)| {
        move |ev: leptos::ev::Event| draft.update(|r| apply(r, event_target_value(&ev)))
    };
    // The expression is checked as it is typed (the server parses it) and says where it is
    // wrong. An action, not a resource: the dialog is built after the page's data is in, where
    // a resource would hydrate out of place (docs/architecture.md, Hydration).
    let typed = Memo::new(move |_| {
        let r = draft.read();
        (r.mapping_type == "Expression").then(|| r.source.clone())
    });
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
    let matching = move || draft.read().matching_precedence > 0;
    view! {
        <div class="dialog-backdrop">
            <section class="dialog" role="dialog" aria-modal="true" aria-labelledby="edit-attribute-title">
                <h2 id="edit-attribute-title">"Edit Attribute"</h2>
                <div class="form-field">
                    <label for="field-mapping-type">"Mapping type"</label>
                    <select id="field-mapping-type" on:change=set(|r, v| r.mapping_type = v)>
                        {["Direct", "Constant", "Expression", "None"].map(|t| view! { <option value=t selected=move || kind() == t>{t}</option> }).collect_view()}
                    </select>
                </div>
                {move || match kind().as_str() {
                    "Direct" => view! {
                        <div class="form-field">
                            <label for="field-source">"Source attribute"</label>
                            <select id="field-source" on:change=set(|r, v| r.source = v)>
                                <option value="" selected=move || draft.read().source.is_empty()>"Choose an attribute"</option>
                                {sources.get_value().into_iter().map(|s| {
                                    let (selected, text) = (s.clone(), s.clone());
                                    view! { <option value=s selected=move || draft.read().source.eq_ignore_ascii_case(&selected)>{text}</option> }
                                }).collect_view()}
                            </select>
                            <p class="field-error" role="alert">{error("source")}</p>
                        </div>
                    }.into_any(),
                    "Expression" => view! {
                        <div class="form-field">
                            <label for="field-expression">"Expression"</label>
                            <textarea id="field-expression" class="expression" rows="3" spellcheck="false"
                                prop:value=move || draft.read().source.clone()
                                on:input=set(|r, v| r.source = v)></textarea>
                            {move || check.value().get().flatten().map(|message| view! {
                                <p class="field-error expression-error" role="alert">{message}</p>
                            })}
                            <p class="field-error" role="alert">{error("source")}</p>
                            <button type="button" class="button small"
                                on:click=move |_| { preview.dispatch((preview_user.get_untracked(), draft.read_untracked().source.clone())); }>
                                "Preview"
                            </button>
                            {move || preview.value().get().map(|r| match r {
                                Ok(p) => view! { <p class=if p.ok { "preview" } else { "field-error" } role="status">{p.text}</p> }.into_any(),
                                Err(e) => view! { <p class="field-error" role="alert">{e.for_field("user").unwrap_or_else(|| e.to_string())}</p> }.into_any(),
                            })}
                        </div>
                    }.into_any(),
                    "None" => ().into_any(),
                    _ => view! {
                        <div class="form-field">
                            <label for="field-constant">"Constant Value"</label>
                            <input id="field-constant" prop:value=move || draft.read().source.clone() on:input=set(|r, v| r.source = v) />
                            <p class="field-error" role="alert">{error("source")}</p>
                        </div>
                    }.into_any(),
                }}
                <div class="form-field">
                    <label for="field-default">"Default value if null (optional)"</label>
                    <input id="field-default" prop:value=move || draft.read().default_value.clone() on:input=set(|r, v| r.default_value = v) />
                    <p class="field-error" role="alert">{error("defaultValue")}</p>
                </div>
                <div class="form-field">
                    <label for="field-target">"Target attribute"</label>
                    <select id="field-target" on:change=set(|r, v| r.target = v)>
                        <option value="" selected=move || draft.read().target.is_empty()>"Choose an attribute"</option>
                        {move || {
                            // The list, and the draft's own target if the list lacks it (Save then
                            // says so).
                            let current = draft.read().target.clone();
                            let mut names = targets.get_value();
                            if !current.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(&current)) {
                                names.push(current);
                            }
                            names.into_iter().map(|n| {
                                let selected = n.eq_ignore_ascii_case(&draft.read_untracked().target);
                                let text = n.clone();
                                view! { <option value=n selected=selected>{text}</option> }
                            }).collect_view()
                        }}
                    </select>
                    <p class="field-error" role="alert">{error("target")}</p>
                </div>
                <div class="form-field">
                    <label for="field-matching">"Match objects using this attribute"</label>
                    <select id="field-matching" on:change=move |ev| {
                        let yes = event_target_value(&ev) == "Yes";
                        draft.update(|r| r.matching_precedence = if yes { next_precedence } else { 0 });
                    }>
                        <option value="No" selected=move || !matching()>"No"</option>
                        <option value="Yes" selected=matching>"Yes"</option>
                    </select>
                </div>
                <Show when=matching>
                    <div class="form-field">
                        <label for="field-precedence">"Matching precedence"</label>
                        <input id="field-precedence" type="number" min="1" max="9"
                            prop:value=move || draft.read().matching_precedence.to_string()
                            on:input=set(|r, v| r.matching_precedence = v.trim().parse().unwrap_or(0)) />
                        <p class="field-error" role="alert">{error("matchingPrecedence")}</p>
                    </div>
                </Show>
                <div class="form-field">
                    <label for="field-apply">"Apply this mapping"</label>
                    <select id="field-apply" on:change=set(|r, v| r.only_during_creation = v == "create")>
                        <option value="always" selected=move || !draft.read().only_during_creation>"Always"</option>
                        <option value="create" selected=move || draft.read().only_during_creation>"Only during object creation"</option>
                    </select>
                    <p class="field-error" role="alert">{error("apply")}</p>
                </div>
                <div class="actions">
                    <button type="button" class="primary" on:click=move |_| on_ok.run(())>"Ok"</button>
                    <button type="button" class="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                </div>
            </section>
        </div>
    }
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
