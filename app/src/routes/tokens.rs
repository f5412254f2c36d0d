//! Machine tokens: "My tokens" for everyone, and every account's tokens in Settings for Global
//! Administrators. A new token's secret is shown once, right after it is created.

use leptos::prelude::*;

use super::BladePage;
use crate::{
    api::tokens::{CreateToken, RevokeToken, list_tokens},
    components::{EmptyState, FormBanner, FormField},
    model::Blade,
};

#[component]
pub fn MyTokensPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::MyTokens>
            <TokensPanel everyone=false />
        </BladePage>
    }
}

/// The token list with Revoke, and the New token form. `everyone`: all accounts' tokens, and
/// an Owner field to create one for another account.
#[component]
pub fn TokensPanel(everyone: bool) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| list_tokens(everyone),
    );
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <section class="panel">
            <h2>"New token"</h2>
            <p class="muted">
                "A token acts with its owner's role. scim opens the inbound SCIM API at /scim/v2; api opens the REST API."
            </p>
            {move || created().map(|secret| view! {
                <div class="banner success" role="status">
                    <p>"Copy this token now. It will not be shown again."</p>
                    <code class="secret">{secret}</code>
                </div>
            })}
            <ActionForm action=create attr:class="blade-form">
                <FormBanner error />
                <FormField label="Name" name="name" error hint="What the token is for, such as HR feed" />
                {everyone.then(|| view! {
                    <FormField label="Owner" name="owner" error required=false
                        hint="The owner's user principal name; empty for yourself" />
                })}
                <fieldset class="scopes">
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" name="scim" value="on" />" scim"</label>
                    <label><input type="checkbox" name="api" value="on" />" api"</label>
                    <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("scopes"))}</p>
                </fieldset>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h2>{if everyone { "All tokens" } else { "My tokens" }}</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! {
                            <EmptyState title="No tokens" message="Create a token for a script or a system that feeds the directory." />
                        }
                        .into_any(),
                        Ok(rows) => view! {
                            <table class="data-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Owner"</th>
                                        <th scope="col">"Scopes"</th>
                                        <th scope="col">"Created (UTC)"</th>
                                        <th scope="col">"Last used (UTC)"</th>
                                        <th scope="col">"Status"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|t| view! {
                                        <tr>
                                            <td>{t.name}</td>
                                            <td>{t.owner}</td>
                                            <td>{t.scopes}</td>
                                            <td>{t.created}</td>
                                            <td>{t.last_used}</td>
                                            <td>
                                                {if t.revoked {
                                                    view! { <span class="muted">"Revoked"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <ActionForm action=revoke attr:class="inline">
                                                            <input type="hidden" name="id" value=t.id />
                                                            <button type="submit" class="button danger">"Revoke"</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
