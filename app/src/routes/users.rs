//! The Users blade: the list (search, sort, keyset pages, deleted users), New user, and a user's
//! page (profile, console access, group memberships, delete and restore).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{BladePage, CurrentUser};
use crate::{
    api::users::{ChangeUserLifecycle, SaveUser, SetConsoleAccess, get_user, list_users},
    components::{BladeHeader, EmptyState, FormBanner, FormError, FormField, plural, query_link},
    model::{Blade, ROLES, UserDetails},
};

/// Whether the signed-in administrator may change the directory.
pub(super) fn writes_directory() -> Signal<bool> {
    let CurrentUser(me) = expect_context();
    Signal::derive(move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|me| me.writes_directory)
    })
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let deleted = move || param("deleted") == "true";
    let users = Resource::new(
        move || {
            (
                param("q"),
                param("sort"),
                param("dir") == "desc",
                param("after"),
                param("before"),
                deleted(),
            )
        },
        |(q, sort, descending, after, before, deleted)| {
            let cursor = |c: String| Some(c).filter(|c| !c.is_empty());
            list_users(
                Some(q),
                Some(sort),
                Some(descending),
                cursor(after),
                cursor(before),
                Some(deleted),
            )
        },
    );
    let link = move |extra: &[(&str, String)]| {
        let mut params = vec![("q", param("q")), ("deleted", param("deleted"))];
        params.extend(extra.iter().cloned());
        query_link("/users", &params)
    };
    let sort_link = move |key: &'static str| {
        let descending = param("sort") == key && param("dir") != "desc";
        link(&[
            ("sort", key.to_owned()),
            (
                "dir",
                if descending {
                    "desc".into()
                } else {
                    String::new()
                },
            ),
        ])
    };
    let header = move |key: &'static str, label: &'static str| {
        let arrow = move || match (
            param("sort") == key || (key == "name" && param("sort").is_empty()),
            param("dir") == "desc",
        ) {
            (true, false) => " ▲",
            (true, true) => " ▼",
            _ => "",
        };
        view! { <th scope="col"><a href=move || sort_link(key)>{label}{arrow}</a></th> }
    };
    let writes = writes_directory();
    view! {
        <BladePage blade=Blade::Users>
            <div class="toolbar">
                <Show when=move || writes.get()>
                    <a class="button primary" href="/users/new">"New user"</a>
                    <a class="button" href="/users/import">"Bulk import"</a>
                </Show>
                <a class="button" href=move || query_link("/users/export.csv", &[("q", param("q"))]) rel="external" download="users.csv">
                    "Download users"
                </a>
                <a class="button" href=move || if deleted() { "/users".to_owned() } else { "/users?deleted=true".to_owned() }>
                    {move || if deleted() { "All users" } else { "Deleted users" }}
                </a>
                <form class="search" method="get" action="/users" role="search">
                    <input type="hidden" name="deleted" value=move || param("deleted") />
                    <input
                        type="search"
                        name="q"
                        value=move || param("q")
                        placeholder="Search by name, user principal name, mail or department"
                        aria-label="Search users"
                    />
                    <button type="submit" class="button">"Search"</button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <EmptyState
                                title="No users found"
                                message="No user matches this view. Clear the search, or create a user."
                            />
                        }
                        .into_any(),
                        Ok(page) => {
                            let next = page.next.clone().map(|after| link(&[("sort", param("sort")), ("dir", param("dir")), ("after", after)]));
                            let previous = page.previous.clone().map(|before| link(&[("sort", param("sort")), ("dir", param("dir")), ("before", before)]));
                            view! {
                                <p class="count">{plural(page.total, "user")}</p>
                                <table class="data-table">
                                    <thead>
                                        <tr>
                                            {header("name", "Display name")}
                                            {header("upn", "User principal name")}
                                            {header("mail", "Mail")}
                                            {header("department", "Department")}
                                            <th scope="col">"Account enabled"</th>
                                            <th scope="col">"Directory role"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page
                                            .rows
                                            .into_iter()
                                            .map(|u| {
                                                view! {
                                                    <tr>
                                                        <td><a href=format!("/users/{}", u.id)>{if u.display_name.is_empty() { u.user_principal_name.clone() } else { u.display_name }}</a></td>
                                                        <td>{u.user_principal_name}</td>
                                                        <td>{u.mail.unwrap_or_default()}</td>
                                                        <td>{u.department.unwrap_or_default()}</td>
                                                        <td>{if u.enabled { "Yes" } else { "No" }}</td>
                                                        <td>{u.role.unwrap_or_default()}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    {previous.map(|href| view! {
                                        <a class="button" href=link(&[("sort", param("sort")), ("dir", param("dir"))])>"First page"</a>
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

/// The profile form, for New user (empty) and a user's page (current values).
#[component]
fn UserProfileForm(
    user: UserDetails,
    error: FormError,
    action: ServerAction<SaveUser>,
    disabled: bool,
) -> impl IntoView {
    let is_new = user.id.is_empty();
    view! {
        <ActionForm action=action attr:class="blade-form">
            <input type="hidden" name="id" value=user.id.clone() />
            <input type="hidden" name="version" value=if is_new { String::new() } else { user.version.to_string() } />
            <FormBanner error />
            <fieldset disabled=disabled>
                <legend>"Identity"</legend>
                <FormField label="User principal name" name="user_principal_name" error value=user.user_principal_name.clone()
                    hint="The name the user signs in with, such as ada@contoso.com" />
                <FormField label="Display name" name="display_name" error value=user.display_name.clone() />
                <FormField label="First name" name="given_name" error value=user.given_name.clone() required=false />
                <FormField label="Last name" name="surname" error value=user.surname.clone() required=false />
                <FormField label="Email" name="mail" kind="email" error value=user.mail.clone() required=false />
                <div class="form-field checkbox">
                    <label>
                        <input type="checkbox" name="account_enabled" value="on" checked=user.enabled || is_new />
                        " Account enabled"
                    </label>
                </div>
            </fieldset>
            <fieldset disabled=disabled>
                <legend>"Job information"</legend>
                <FormField label="Job title" name="job_title" error value=user.job_title.clone() required=false />
                <FormField label="Department" name="department" error value=user.department.clone() required=false />
                <FormField label="Employee ID" name="employee_id" error value=user.employee_id.clone() required=false />
                <FormField label="Manager" name="manager" error value=user.manager.clone() required=false
                    hint="The manager's user principal name" />
            </fieldset>
            <fieldset disabled=disabled>
                <legend>"Contact information"</legend>
                <FormField label="Business phone" name="telephone_number" error value=user.telephone_number.clone() required=false />
                <FormField label="Mobile phone" name="mobile" error value=user.mobile.clone() required=false />
                <FormField label="Preferred language" name="preferred_language" error value=user.preferred_language.clone()
                    required=false hint="A language tag such as en-US" />
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
pub fn NewUserPage() -> impl IntoView {
    let save = ServerAction::<SaveUser>::new();
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <BladePage blade=Blade::Users title="New user">
            <UserProfileForm user=UserDetails::default() error action=save disabled=false />
        </BladePage>
    }
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveUser>::new();
    let access = ServerAction::<SetConsoleAccess>::new();
    let lifecycle = ServerAction::<ChangeUserLifecycle>::new();
    // Delete, restore and purge navigate away; only edits reload the page's data.
    let user = Resource::new(
        move || (id(), save.version().get(), access.version().get()),
        |(id, ..)| get_user(id),
    );
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let access_error = Signal::derive(move || access.value().get().and_then(Result::err));
    let lifecycle_error = Signal::derive(move || lifecycle.value().get().and_then(Result::err));
    let writes = writes_directory();
    view! {
        <BladePage blade=Blade::Users own_header=true>
            <Suspense fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let user = match user.await {
                        Ok(user) => user,
                        Err(e) => {
                            return view! {
                                <BladeHeader title="User".to_owned() parents=vec![Blade::Users] />
                                <div class="banner error" role="alert">{e.to_string()}</div>
                            }
                            .into_any();
                        }
                    };
                    let title = if user.display_name.is_empty() { user.user_principal_name.clone() } else { user.display_name.clone() };
                    let editable = writes.get_untracked() && !user.deleted;
                    let id = user.id.clone();
                    view! {
                        <BladeHeader title parents=vec![Blade::Users] />
                        {user.deleted.then(|| view! {
                            <div class="banner warning" role="status">
                                "This user is deleted. Restore it within 30 days of deletion, or delete it permanently."
                            </div>
                        })}
                        <FormBanner error=lifecycle_error />
                        {writes.get().then(|| view! {
                            <div class="toolbar">
                                {lifecycle_button(lifecycle, id.clone(), if user.deleted { "restore" } else { "delete" },
                                    if user.deleted { "Restore" } else { "Delete" })}
                                {user.deleted.then(|| lifecycle_button(lifecycle, id.clone(), "purge", "Delete permanently"))}
                            </div>
                        })}
                        <section class="panel">
                            <h2>"Properties"</h2>
                            {move || matches!(save.value().get(), Some(Ok(()))).then(|| view! {
                                <div class="banner success" role="status">"Your changes have been saved."</div>
                            })}
                            <UserProfileForm user=user.clone() error=save_error action=save disabled=!editable />
                        </section>
                        <section class="panel">
                            <h2>"Groups"</h2>
                            {if user.groups.is_empty() {
                                view! { <p class="muted">"Not a member of any group."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="plain-list">
                                        {user.groups.iter().map(|(id, name)| view! { <li><a href=format!("/groups/{id}")>{name.clone()}</a></li> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        <section class="panel">
                            <h2>"Applications"</h2>
                            <p class="muted">"Not assigned to any application."</p>
                        </section>
                        {editable.then(|| view! {
                            <section class="panel">
                                <h2>"Console access"</h2>
                                <p class="muted">"A password lets this user sign in to My Apps and the applications they are assigned to; a directory role also lets them into the Scimitar console."</p>
                                {move || matches!(access.value().get(), Some(Ok(()))).then(|| view! {
                                    <div class="banner success" role="status">"Console access has been saved."</div>
                                })}
                                <ActionForm action=access attr:class="blade-form">
                                    <input type="hidden" name="id" value=user.id.clone() />
                                    <FormBanner error=access_error />
                                    <div class="form-field">
                                        <label for="field-directory_role">"Directory role"</label>
                                        <select id="field-directory_role" name="directory_role">
                                            <option value="" selected=user.role.is_empty()>"None (My Apps only)"</option>
                                            {ROLES.iter().map(|(value, label)| view! {
                                                <option value=*value selected=user.role == *value>{*label}</option>
                                            }).collect_view()}
                                        </select>
                                        <p class="field-error" role="alert">{move || access_error.get().and_then(|e| e.for_field("directory_role"))}</p>
                                    </div>
                                    <FormField label="New password" name="password" kind="password" error=access_error
                                        autocomplete="new-password" required=false hint="Leave empty to keep the current password" />
                                    <button type="submit" class="primary" disabled=move || access.pending().get()>"Save console access"</button>
                                </ActionForm>
                            </section>
                        })}
                    }
                    .into_any()
                })}
            </Suspense>
        </BladePage>
    }
}

fn lifecycle_button(
    action: ServerAction<ChangeUserLifecycle>,
    id: String,
    what: &'static str,
    label: &'static str,
) -> impl IntoView {
    let class = if what == "restore" {
        "button"
    } else {
        "button danger"
    };
    view! {
        <ActionForm action=action attr:class="inline">
            <input type="hidden" name="id" value=id />
            <input type="hidden" name="action" value=what />
            <button type="submit" class=class>{label}</button>
        </ActionForm>
    }
}
