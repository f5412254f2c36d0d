//! The Groups blade: the list (search, keyset pages, deleted groups), New group, and a group's
//! page (properties, members with a search picker, delete and restore).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{BladePage, users::writes_directory};
use crate::{
    api::groups::{
        ChangeGroupLifecycle, ChangeMembers, SaveGroup, get_group, list_groups, member_candidates,
    },
    components::{
        BladeHeader, EmptyState, FormBanner, FormError, FormField, Suggestions, plural, query_link,
    },
    model::{Blade, GroupDetails},
};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let deleted = move || param("deleted") == "true";
    let groups = Resource::new(
        move || (param("q"), param("after"), param("before"), deleted()),
        |(q, after, before, deleted)| {
            let cursor = |c: String| Some(c).filter(|c| !c.is_empty());
            list_groups(Some(q), cursor(after), cursor(before), Some(deleted))
        },
    );
    let writes = writes_directory();
    view! {
        <BladePage blade=Blade::Groups>
            <div class="toolbar">
                <Show when=move || writes.get()>
                    <a class="button primary" href="/groups/new">"New group"</a>
                </Show>
                <a class="button" href=move || if deleted() { "/groups".to_owned() } else { "/groups?deleted=true".to_owned() }>
                    {move || if deleted() { "All groups" } else { "Deleted groups" }}
                </a>
                <form class="search" method="get" action="/groups" role="search">
                    <input type="hidden" name="deleted" value=move || param("deleted") />
                    <input type="search" name="q" value=move || param("q") placeholder="Search by name" aria-label="Search groups" />
                    <button type="submit" class="button">"Search"</button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match groups.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <EmptyState title="No groups found" message="No group matches this view. Clear the search, or create a group." />
                        }
                        .into_any(),
                        Ok(page) => {
                            let next = page.next.clone().map(|after| {
                                query_link("/groups", &[("q", param("q")), ("deleted", param("deleted")), ("after", after)])
                            });
                            let previous = page.previous.clone().map(|before| {
                                query_link("/groups", &[("q", param("q")), ("deleted", param("deleted")), ("before", before)])
                            });
                            view! {
                                <p class="count">{plural(page.total, "group")}</p>
                                <table class="data-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Description"</th>
                                            <th scope="col">"Members"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|g| view! {
                                            <tr>
                                                <td><a href=format!("/groups/{}", g.id)>{g.display_name}</a></td>
                                                <td>{g.description.unwrap_or_default()}</td>
                                                <td>{g.members}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    {previous.map(|href| view! {
                                        <a class="button" href=query_link("/groups", &[("q", param("q")), ("deleted", param("deleted"))])>"First page"</a>
                                        <a class="button" href=href>"Previous page"</a>
                                    })}
                                    {next.map(|href| view! { <a class="button" href=href>"Next page"</a> })}
                                </nav>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </BladePage>
    }
}

#[component]
fn GroupPropertiesForm(
    group: GroupDetails,
    error: FormError,
    action: ServerAction<SaveGroup>,
    disabled: bool,
) -> impl IntoView {
    let is_new = group.id.is_empty();
    view! {
        <ActionForm action=action attr:class="blade-form">
            <input type="hidden" name="id" value=group.id.clone() />
            <input type="hidden" name="version" value=if is_new { String::new() } else { group.version.to_string() } />
            <FormBanner error />
            <fieldset disabled=disabled>
                <FormField label="Group name" name="display_name" error value=group.display_name.clone() />
                <FormField label="Description" name="description" error value=group.description.clone() required=false />
                <FormField label="Mail nickname" name="mail_nickname" error value=group.mail_nickname.clone() required=false />
            </fieldset>
            <Show when=move || !disabled>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {if is_new { "Create" } else { "Save" }}
                </button>
            </Show>
        </ActionForm>
    }
}

#[component]
pub fn NewGroupPage() -> impl IntoView {
    let save = ServerAction::<SaveGroup>::new();
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <BladePage blade=Blade::Groups title="New group">
            <GroupPropertiesForm group=GroupDetails::default() error action=save disabled=false />
        </BladePage>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveGroup>::new();
    let members = ServerAction::<ChangeMembers>::new();
    let lifecycle = ServerAction::<ChangeGroupLifecycle>::new();
    // Delete, restore and purge navigate away; only edits reload the page's data.
    let group = Resource::new(
        move || (id(), save.version().get(), members.version().get()),
        |(id, ..)| get_group(id),
    );
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let members_error = Signal::derive(move || members.value().get().and_then(Result::err));
    let lifecycle_error = Signal::derive(move || lifecycle.value().get().and_then(Result::err));
    let writes = writes_directory();
    // The member picker suggests users and groups as the administrator types.
    let (typed, set_typed) = signal(String::new());
    let suggestions = Resource::new(move || typed.get(), member_candidates);
    view! {
        <BladePage blade=Blade::Groups own_header=true>
            <Suspense fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let group = match group.await {
                        Ok(group) => group,
                        Err(e) => {
                            return view! {
                                <BladeHeader title="Group".to_owned() parents=vec![Blade::Groups] />
                                <div class="banner error" role="alert">{e.to_string()}</div>
                            }
                            .into_any();
                        }
                    };
                    let editable = writes.get_untracked() && !group.deleted;
                    let id = group.id.clone();
                    let lifecycle_form = move |what: &'static str, label: &'static str| {
                        let id = id.clone();
                        let class = if what == "restore" { "button" } else { "button danger" };
                        view! {
                            <ActionForm action=lifecycle attr:class="inline">
                                <input type="hidden" name="id" value=id.clone() />
                                <input type="hidden" name="action" value=what />
                                <button type="submit" class=class>{label}</button>
                            </ActionForm>
                        }
                    };
                    let picker_group_id = group.id.clone();
                    let group_id = group.id.clone();
                    let member_list = group.members.clone();
                    view! {
                        <BladeHeader title=group.display_name.clone() parents=vec![Blade::Groups] />
                        {group.deleted.then(|| view! {
                            <div class="banner warning" role="status">
                                "This group is deleted. Restore it within 30 days of deletion, or delete it permanently."
                            </div>
                        })}
                        <FormBanner error=lifecycle_error />
                        {writes.get().then(|| view! {
                            <div class="toolbar">
                                {if group.deleted {
                                    view! { {lifecycle_form("restore", "Restore")} {lifecycle_form("purge", "Delete permanently")} }.into_any()
                                } else {
                                    lifecycle_form("delete", "Delete").into_any()
                                }}
                            </div>
                        })}
                        <section class="panel">
                            <h2>"Properties"</h2>
                            <GroupPropertiesForm group=group.clone() error=save_error action=save disabled=!editable />
                        </section>
                        <section class="panel">
                            <h2>{format!("Members ({})", group.members.len())}</h2>
                            {editable.then(|| view! {
                                <ActionForm action=members attr:class="member-picker">
                                    <input type="hidden" name="id" value=picker_group_id />
                                    <FormBanner error=members_error />
                                    <div class="form-field">
                                        <label for="field-add">"Add a member"</label>
                                        <input
                                            id="field-add"
                                            name="add"
                                            list="member-suggestions"
                                            autocomplete="off"
                                            placeholder="Name, user principal name or group name"
                                            on:input=move |ev| set_typed.set(event_target_value(&ev))
                                        />
                                        <Suggestions id="member-suggestions" suggestions />
                                        <p class="field-error" role="alert">{move || members_error.get().and_then(|e| e.for_field("add"))}</p>
                                    </div>
                                    <button type="submit" class="button">"Add"</button>
                                </ActionForm>
                            })}
                            {if group.members.is_empty() {
                                view! { <p class="muted">"This group has no members."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="data-table">
                                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col"></th></tr></thead>
                                        <tbody>
                                            {member_list.into_iter().map(|m| {
                                                let group_id = group_id.clone();
                                                let href = if m.kind == "User" { format!("/users/{}", m.id) } else { format!("/groups/{}", m.id) };
                                                view! {
                                                    <tr>
                                                        <td><a href=href>{m.display_name.clone()}</a></td>
                                                        <td>{m.kind.clone()}</td>
                                                        <td>
                                                            {editable.then(|| view! {
                                                                <ActionForm action=members attr:class="inline">
                                                                    <input type="hidden" name="id" value=group_id />
                                                                    <input type="hidden" name="remove" value=m.id.clone() />
                                                                    <button type="submit" class="button danger">"Remove"</button>
                                                                </ActionForm>
                                                            })}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        </section>
                    }
                    .into_any()
                })}
            </Suspense>
        </BladePage>
    }
}
