//! Users and groups (who is assigned, with which app role) and App roles (the roles the
//! application knows: add, rename, disable; what Entra calls editing the manifest).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::ApplicationHeader;
use crate::{
    api::{
        applications::{ChangeAssignment, SaveAppRole, app_roles, assignments, get_application},
        groups::member_candidates,
    },
    components::{BladeHeader, FormBanner, FormField, Suggestions},
    model::Blade,
    routes::BladePage,
};

#[component]
pub fn UsersAndGroupsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let change = ServerAction::<ChangeAssignment>::new();
    let view_data = Resource::new(
        move || (id(), change.version().get()),
        |(id, _)| assignments(id),
    );
    let error = Signal::derive(move || change.value().get().and_then(Result::err));
    let (typed, set_typed) = signal(String::new());
    let suggestions = Resource::new(move || typed.get(), member_candidates);
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let data = match view_data.await {
                        Ok(data) => data,
                        Err(e) => {
                            return view! {
                                <BladeHeader title="Users and groups".to_owned() parents=vec![Blade::EnterpriseApplications] />
                                <div class="banner error" role="alert">{e.to_string()}</div>
                            }
                            .into_any();
                        }
                    };
                    let app_id = id();
                    let form_id = app_id.clone();
                    // The first role that is provisioned is chosen, not Default Access beside the
                    // warning that it is not.
                    let chosen = data.roles.iter().find(|r| r.enabled && !r.is_default).map(|r| r.id.clone());
                    let role_options = data.roles.iter().filter(|r| r.enabled).map(|r| {
                        let selected = Some(&r.id) == chosen.as_ref();
                        view! { <option value=r.id.clone() selected=selected>{r.display_name.clone()}</option> }
                    }).collect_view();
                    let excludes_default_access = data.excludes_default_access;
                    let count = data.assignments.len();
                    let rows = data.assignments.iter().map(|a| {
                        let href = if a.principal_type == "Group" { format!("/groups/{}", a.principal_id) } else { format!("/users/{}", a.principal_id) };
                        let app_id = app_id.clone();
                        let assignment_id = a.id.clone();
                        let remove_label = format!("Remove {} ({})", a.principal_name, a.role);
                        view! {
                            <tr>
                                <td><a href=href>{a.principal_name.clone()}</a></td>
                                <td>{a.principal_type.clone()}</td>
                                <td>{a.role.clone()}</td>
                                <td>{a.assigned.clone()}</td>
                                <td>
                                    <ActionForm action=change attr:class="inline">
                                        <input type="hidden" name="id" value=app_id />
                                        <input type="hidden" name="remove" value=assignment_id />
                                        <button type="submit" class="button danger" aria-label=remove_label>"Remove"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view();
                    view! {
                        <ApplicationHeader id=app_id.clone() name=data.application.clone() current="Users and groups" />
                        <section class="panel">
                            <h2>"Add user/group"</h2>
                            <ActionForm action=change attr:class="member-picker assign">
                                <input type="hidden" name="id" value=form_id />
                                <FormBanner error />
                                <div class="form-field">
                                    <label for="field-principal">"User or group"</label>
                                    <input
                                        id="field-principal"
                                        name="principal"
                                        list="principal-suggestions"
                                        autocomplete="off"
                                        placeholder="Name, user principal name or group name"
                                        on:input=move |ev| set_typed.set(event_target_value(&ev))
                                    />
                                    <Suggestions id="principal-suggestions" suggestions />
                                    <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("principal"))}</p>
                                </div>
                                <div class="form-field">
                                    <label for="field-role">"Select a role"</label>
                                    <select id="field-role" name="role">
                                        {role_options}
                                    </select>
                                    {excludes_default_access.then(|| view! {
                                        <p class="hint warning" role="note">
                                            "Users and groups assigned with Default Access are not provisioned to this application. Select another role, such as User; if Default Access is the only role, add one under App roles."
                                        </p>
                                    })}
                                    <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("role"))}</p>
                                </div>
                                <button type="submit" class="primary">"Assign"</button>
                            </ActionForm>
                        </section>
                        <section class="panel">
                            <h2>{format!("Assigned ({count})")}</h2>
                            {if count == 0 {
                                view! { <p class="muted">"No user or group is assigned to this application yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="data-table">
                                        <thead><tr>
                                            <th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Role"</th>
                                            <th scope="col">"Assigned"</th><th scope="col"></th>
                                        </tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }.into_any()
                            }}
                        </section>
                    }
                    .into_any()
                })}
            </Transition>
        </BladePage>
    }
}

#[component]
pub fn AppRolesPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveAppRole>::new();
    let roles = Resource::new(
        move || (id(), save.version().get()),
        |(id, _)| app_roles(id),
    );
    let application = Resource::new(id, get_application);
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let (app, roles) = match (application.await, roles.await) {
                        (Ok(app), Ok(roles)) => (app, roles),
                        (Err(e), _) | (_, Err(e)) => {
                            return view! {
                                <BladeHeader title="App roles".to_owned() parents=vec![Blade::EnterpriseApplications] />
                                <div class="banner error" role="alert">{e.to_string()}</div>
                            }
                            .into_any();
                        }
                    };
                    let add_id = app.id.clone();
                    let role_rows = roles.into_iter().map(|role| {
                        let form = format!("role-{}", role.id);
                        let app_id = app.id.clone();
                        // Each row saves on its own, and says on its own line what went wrong.
                        let row_save = ServerAction::<SaveAppRole>::new();
                        let row_error = Signal::derive(move || row_save.value().get().and_then(Result::err));
                        Effect::new(move |_| {
                            if row_save.value().get().is_some_and(|r| r.is_ok()) {
                                save.version().update(|v| *v += 1);
                            }
                        });
                        if role.is_default {
                            view! {
                                <tr>
                                    <td>{role.display_name.clone()}</td>
                                    <td class="muted">"(none)"</td>
                                    <td>{role.description.clone()}</td>
                                    <td>"Yes"</td>
                                    <td></td>
                                </tr>
                            }.into_any()
                        } else {
                            view! {
                                <tr>
                                    <td><input form=form.clone() name="display_name" value=role.display_name.clone() aria-label="Display name" /></td>
                                    <td><input form=form.clone() name="value" value=role.value.clone() aria-label="Value" /></td>
                                    <td><input form=form.clone() name="description" value=role.description.clone() aria-label="Description" /></td>
                                    <td><input form=form.clone() type="checkbox" name="enabled" checked=role.enabled aria-label=format!("{} enabled", role.display_name) /></td>
                                    <td>
                                        <ActionForm action=row_save attr:id=form attr:class="inline">
                                            <input type="hidden" name="id" value=app_id />
                                            <input type="hidden" name="role" value=role.id.clone() />
                                            <button type="submit" class="button" aria-label=format!("Save {}", role.display_name)>"Save"</button>
                                        </ActionForm>
                                        <FormBanner error=row_error fields=&[] />
                                    </td>
                                </tr>
                            }.into_any()
                        }
                    }).collect_view();
                    view! {
                        <ApplicationHeader id=app.id.clone() name=app.display_name.clone() current="App roles" />
                        <p class="muted">
                            "The roles users and groups are assigned with. Default Access always exists; a role's value is what the application knows it by. A role that is still assigned cannot be disabled."
                        </p>
                        <FormBanner error />
                        <table class="data-table roles">
                            <thead><tr>
                                <th scope="col">"Display name"</th><th scope="col">"Value"</th><th scope="col">"Description"</th>
                                <th scope="col">"Enabled"</th><th scope="col"></th>
                            </tr></thead>
                            <tbody>
                                {role_rows}
                            </tbody>
                        </table>
                        <section class="panel">
                            <h2>"Add app role"</h2>
                            <ActionForm action=save attr:class="blade-form">
                                <input type="hidden" name="id" value=add_id />
                                <input type="hidden" name="enabled" value="on" />
                                <FormField label="Display name" name="display_name" error />
                                <FormField label="Value" name="value" error hint="What the application knows the role by, such as User or Admin" />
                                <FormField label="Description" name="description" error required=false />
                                <button type="submit" class="primary">"Add role"</button>
                            </ActionForm>
                        </section>
                    }
                    .into_any()
                })}
            </Transition>
        </BladePage>
    }
}
