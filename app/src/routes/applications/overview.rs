//! An application's Overview: what it is and how it is provisioned, its Properties (name, logo,
//! notes), its Owners, and Delete with confirmation (the administrator types its name).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{AppLogo, ApplicationHeader};
use crate::{
    api::applications::{
        ChangeOwner, DeleteApplication, SaveApplicationProperties, get_application,
    },
    components::{BladeHeader, FormBanner, FormField},
    model::Blade,
    routes::BladePage,
};

#[component]
pub fn ApplicationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveApplicationProperties>::new();
    let owners = ServerAction::<ChangeOwner>::new();
    let delete = ServerAction::<DeleteApplication>::new();
    let application = Resource::new(
        move || (id(), save.version().get(), owners.version().get()),
        |(id, ..)| get_application(id),
    );
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let owners_error = Signal::derive(move || owners.value().get().and_then(Result::err));
    let delete_error = Signal::derive(move || delete.value().get().and_then(Result::err));
    let saved = move || save.value().get().is_some_and(|r| r.is_ok());
    view! {
        <BladePage blade=Blade::EnterpriseApplications own_header=true>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let app = match application.await {
                        Ok(app) => app,
                        Err(e) => {
                            return view! {
                                <BladeHeader title="Application".to_owned() parents=vec![Blade::EnterpriseApplications] />
                                <div class="banner error" role="alert">{e.to_string()}</div>
                            }
                            .into_any();
                        }
                    };
                    let id = app.id.clone();
                    let (properties_id, owners_id, delete_id) = (app.id.clone(), app.id.clone(), app.id.clone());
                    let (name, monogram, color, notes) = (app.display_name.clone(), app.logo_monogram.clone(), app.logo_color.clone(), app.notes.clone());
                    let version = app.version.to_string();
                    let owner_rows = app.owners.iter().map(|o| {
                        let app_id = app.id.clone();
                        let owner_id = o.id.clone();
                        let remove_label = format!("Remove owner {}", o.user_principal_name);
                        view! {
                            <tr>
                                <td><a href=format!("/users/{}", o.id)>{o.display_name.clone()}</a></td>
                                <td>{o.user_principal_name.clone()}</td>
                                <td>
                                    <ActionForm action=owners attr:class="inline">
                                        <input type="hidden" name="id" value=app_id />
                                        <input type="hidden" name="remove" value=owner_id />
                                        <button type="submit" class="button danger" aria-label=remove_label>"Remove"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view();
                    view! {
                        <ApplicationHeader id=app.id.clone() name=app.display_name.clone() current="Overview" />
                        <section class="panel overview">
                            <AppLogo monogram=app.logo_monogram.clone() color=app.logo_color.clone() />
                            <dl class="facts">
                                <dt>"Gallery entry"</dt><dd>{format!("{} (by {})", app.template_name, app.publisher)}</dd>
                                <dt>"About"</dt><dd>{app.description.clone()}</dd>
                                <dt>"Provisioning"</dt><dd><a href=format!("/applications/{id}/provisioning")>{app.provisioning.clone()}</a></dd>
                                <dt>"Assigned users and groups"</dt><dd><a href=format!("/applications/{id}/users")>{app.assignments}</a></dd>
                                <dt>"Created"</dt><dd>{app.created.clone()}</dd>
                                <dt>"Documentation"</dt>
                                <dd>
                                    <ul class="plain-list">
                                        {app.documentation.iter().map(|url| view! { <li><a href=url.clone() rel="noreferrer">{url.clone()}</a></li> }).collect_view()}
                                    </ul>
                                </dd>
                            </dl>
                        </section>
                        <section class="panel">
                            <h2>"Properties"</h2>
                            <ActionForm action=save attr:class="blade-form">
                                <input type="hidden" name="id" value=properties_id />
                                <input type="hidden" name="version" value=version />
                                <FormBanner error=save_error />
                                <Show when=saved>
                                    <div class="banner success" role="status">"Saved."</div>
                                </Show>
                                <FormField label="Name" name="display_name" error=save_error value=name />
                                <FormField label="Logo letters" name="logo_monogram" error=save_error value=monogram hint="One or two characters shown on the logo" />
                                <FormField label="Logo colour" name="logo_color" error=save_error value=color hint="A colour such as #0f6cbd" />
                                <div class="form-field">
                                    <label for="field-notes">"Notes"</label>
                                    <textarea id="field-notes" name="notes" rows="3">{notes}</textarea>
                                    <p class="field-error" role="alert">{move || save_error.get().and_then(|e| e.for_field("notes"))}</p>
                                </div>
                                <button type="submit" class="primary">"Save"</button>
                            </ActionForm>
                        </section>
                        <section class="panel">
                            <h2>{format!("Owners ({})", app.owners.len())}</h2>
                            <p class="muted">"Owners who are Application Owners manage this application and no other."</p>
                            <ActionForm action=owners attr:class="member-picker">
                                <input type="hidden" name="id" value=owners_id />
                                <FormBanner error=owners_error />
                                <FormField label="Add an owner" name="add" error=owners_error hint="A user principal name" />
                                <button type="submit" class="button">"Add"</button>
                            </ActionForm>
                            <table class="data-table">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"User principal name"</th><th scope="col"></th></tr></thead>
                                <tbody>
                                    {owner_rows}
                                </tbody>
                            </table>
                        </section>
                        <section class="panel danger-zone">
                            <h2>"Delete application"</h2>
                            <p>"Deleting removes the application, its assignments, roles and provisioning configuration. Accounts already in the application stay there."</p>
                            <ActionForm action=delete attr:class="blade-form">
                                <input type="hidden" name="id" value=delete_id />
                                <FormBanner error=delete_error />
                                <FormField
                                    label="Type the application's name to confirm"
                                    name="confirm"
                                    error=delete_error
                                    hint=""
                                />
                                <button type="submit" class="button danger">"Delete"</button>
                            </ActionForm>
                        </section>
                    }
                    .into_any()
                })}
            </Transition>
        </BladePage>
    }
}
