//! Bulk import of users from CSV: upload (a plain multipart form, handled by the server), then a
//! preview with every bad row named by line and column, then the import with a progress bar.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::BladePage;
use crate::{
    api::users::{RunImport, get_import, import_progress},
    components::{FormBanner, plural},
    model::Blade,
};

#[component]
pub fn ImportUsersPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    view! {
        <BladePage blade=Blade::Users title="Bulk import">
            <section class="panel">
                <h2>"Upload a CSV file"</h2>
                <p>
                    "The first line names the columns: "
                    <code>"userPrincipalName"</code>
                    " (required), displayName (required), givenName, surname, mail, mailNickname, accountEnabled, "
                    "department, jobTitle, employeeId, manager (a user principal name), preferredLanguage, "
                    "telephoneNumber, mobile. Rows update the user with the same user principal name, or create one. "
                    "An export of the Users list is a valid file."
                </p>
                {move || error().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
                <form method="post" action="/users/import" enctype="multipart/form-data" class="blade-form">
                    <div class="form-field">
                        <label for="field-file">"CSV file"</label>
                        <input id="field-file" type="file" name="file" accept=".csv,text/csv" required />
                    </div>
                    <button type="submit" class="primary">"Upload and check"</button>
                </form>
            </section>
        </BladePage>
    }
}

#[component]
pub fn ImportPreviewPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let run = ServerAction::<RunImport>::new();
    let upload = Resource::new(
        move || (id(), run.version().get()),
        |(id, _)| get_import(id),
    );
    let error = Signal::derive(move || run.value().get().and_then(Result::err));
    // While the import runs, ask for its progress a few times a second.
    let (progress, set_progress) = signal((0u64, 0u64));
    Effect::new(move |_| {
        if !run.pending().get() {
            return;
        }
        let id = id();
        let pending = run.pending();
        // The loop outlives the page when the administrator leaves it mid-import: every read
        // and write is a `try_`, which ends the loop once the page's signals are gone.
        leptos::task::spawn_local(async move {
            while pending.try_get_untracked().unwrap_or(false) {
                if let Ok(done) = import_progress(id.clone()).await
                    && set_progress.try_set(done).is_some()
                {
                    break;
                }
                gloo_timers_sleep(250).await;
            }
        });
    });
    view! {
        <BladePage blade=Blade::Users title="Bulk import">
            <Suspense fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let upload = match upload.await {
                        Ok(upload) => upload,
                        Err(e) => return view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                    };
                    let valid = upload.create + upload.update + upload.unchanged;
                    view! {
                        <section class="panel">
                            <h2>{format!("Preview of {}", upload.file_name)}</h2>
                            <ul class="summary">
                                <li>{plural(upload.rows, "row")}</li>
                                <li>{format!("{} new", plural(upload.create, "user"))}</li>
                                <li>{format!("{} to update", plural(upload.update, "user"))}</li>
                                <li>{format!("{} unchanged", upload.unchanged)}</li>
                                <li>{format!("{} with errors, which will be left out", plural(upload.errors.len() as u64, "row"))}</li>
                            </ul>
                            {match upload.done {
                                Some((created, updated, unchanged)) => view! {
                                    <div class="banner success" role="status">
                                        {format!("Import complete: {created} created, {updated} updated, {unchanged} unchanged.")}
                                    </div>
                                    <a class="button" href="/users">"Go to Users"</a>
                                }.into_any(),
                                None => view! {
                                    <FormBanner error />
                                    <ActionForm action=run>
                                        <input type="hidden" name="id" value=upload.id.clone() />
                                        <button type="submit" class="primary" disabled=move || run.pending().get() || valid == 0>
                                            {format!("Import {valid} valid rows")}
                                        </button>
                                    </ActionForm>
                                    <Show when=move || run.pending().get()>
                                        <div class="progress" role="progressbar"
                                            aria-valuemin="0"
                                            aria-valuemax=move || progress.get().1.to_string()
                                            aria-valuenow=move || progress.get().0.to_string()>
                                            <div class="bar" style=move || {
                                                let (done, total) = progress.get();
                                                format!("width: {}%", (done * 100).checked_div(total).unwrap_or(0))
                                            }></div>
                                        </div>
                                        <p class="muted">{move || format!("{} of {} rows", progress.get().0, progress.get().1)}</p>
                                    </Show>
                                }.into_any(),
                            }}
                        </section>
                        {(!upload.errors.is_empty()).then(|| view! {
                            <section class="panel">
                                <h2>"Rows with errors"</h2>
                                <table class="data-table">
                                    <thead><tr><th scope="col">"Line"</th><th scope="col">"Column"</th><th scope="col">"Problem"</th></tr></thead>
                                    <tbody>
                                        {upload.errors.into_iter().map(|e| view! {
                                            <tr><td>{e.line}</td><td>{e.column}</td><td>{e.message}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        })}
                    }
                    .into_any()
                })}
            </Suspense>
        </BladePage>
    }
}

/// Waits `ms` milliseconds in the browser (a timer promise), or not at all on the server.
async fn gloo_timers_sleep(ms: i32) {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = web_sys::window()
                .map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms));
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}
