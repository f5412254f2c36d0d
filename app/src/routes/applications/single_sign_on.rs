//! An application's Single sign-on blade, as the portal's "Set up single sign-on with SAML":
//! the method, Basic SAML Configuration (or an uploaded metadata file to fill it), Attributes &
//! Claims, the SAML Signing Certificate, and what the application is told about Scimitar; or,
//! for OpenID Connect, the client registration, the ID token's claims, the client secrets and
//! the provider's endpoints.

use leptos::prelude::*;

use super::ApplicationTab;
use crate::{
    api::{
        AppError,
        single_sign_on::{
            ChangeCertificate, ChangeClientSecret, get_single_sign_on, list_certificates,
            list_client_secrets, read_sp_metadata, save_single_sign_on,
        },
    },
    model::{ClaimRow, ClientSecretRow, SsoForm, SsoSettings},
};

/// The largest metadata file the console reads.
const LARGEST_METADATA: f64 = 512.0 * 1024.0;

#[component]
pub fn SingleSignOnPage() -> impl IntoView {
    view! {
        <ApplicationTab current="Single sign-on" content=|id| view! { <SingleSignOn id /> } />
    }
}

#[component]
fn SingleSignOn(id: String) -> impl IntoView {
    let form = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        get_single_sign_on,
    );
    let change = ServerAction::<ChangeCertificate>::new();
    let application = StoredValue::new(id.clone());
    // Saves so far: choosing SAML makes the first certificate, so the list is read again.
    let saves = RwSignal::new(0_u32);
    let certificates = Resource::new(
        {
            let id = id.clone();
            move || (id.clone(), change.version().get(), saves.get())
        },
        |(id, _, _)| list_certificates(id),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => view! { <SsoEditor form saves /> }.into_any(),
                    Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
        <section class="panel" aria-labelledby="certificates-title">
            <h3 id="certificates-title">"SAML Signing Certificate"</h3>
            <p class="muted">
                "Scimitar signs SAML responses and OpenID Connect ID tokens with the active certificate. A new certificate is published in the federation metadata and the JWKS at once, so an application that reloads them trusts it before you make it active."
            </p>
            {move || change.value().get().and_then(Result::err).map(|e| view! { <div class="banner error" role="alert">{e.to_string()}</div> })}
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    match certificates.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! {
                            <p>"No certificate yet: choosing SAML or OpenID Connect and saving makes the first one."</p>
                        }.into_any(),
                        Ok(rows) => view! {
                            <table class="data-table certificates">
                                <thead>
                                    <tr>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Thumbprint (SHA-256)"</th>
                                        <th scope="col">"Created"</th>
                                        <th scope="col">"Expires"</th>
                                        <th scope="col">"Download"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|row| {
                                        let pem = format!("data:application/x-pem-file;charset=utf-8,{}", crate::components::percent_encode(&row.pem));
                                        let raw = format!("data:application/pkix-cert;base64,{}", row.raw_base64);
                                        let active = row.status == "Active";
                                        view! {
                                            <tr>
                                                <td>{row.status.clone()}</td>
                                                <td><code class="thumbprint">{row.thumbprint.clone()}</code></td>
                                                <td>{row.created.clone()}</td>
                                                <td>{row.expires.clone()}</td>
                                                <td>
                                                    <a download="scimitar-certificate.pem" rel="external" href=pem>"Certificate (Base64)"</a>" "
                                                    <a download="scimitar-certificate.cer" rel="external" href=raw>"Certificate (Raw)"</a>
                                                </td>
                                                <td>
                                                    {(!active).then(|| {
                                                        let certificate = row.id.clone();
                                                        view! {
                                                            <ActionForm action=change>
                                                                <input type="hidden" name="id" value=application.get_value() />
                                                                <input type="hidden" name="certificate" value=certificate.clone() />
                                                                <button type="submit" class="link" name="action" value="activate">"Make certificate active"</button>
                                                                <button type="submit" class="link" name="action" value="delete">"Delete"</button>
                                                            </ActionForm>
                                                        }
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=change>
                <input type="hidden" name="id" value=id.clone() />
                <input type="hidden" name="certificate" value="" />
                <button type="submit" class="button" name="action" value="new" disabled=move || change.pending().get()>"New certificate"</button>
            </ActionForm>
        </section>
    }
}

/// What `error` says of `field`, or of its lines (`saml.replyUrls[1]` is line 2).
fn messages_for(error: &AppError, field: &str) -> Option<String> {
    let AppError::InvalidFields(errors) = error else {
        return error.for_field(field);
    };
    let found: Vec<String> = errors
        .iter()
        .filter_map(|(path, message)| {
            if path == field {
                return Some(message.clone());
            }
            let line: usize = path
                .strip_prefix(field)?
                .strip_prefix('[')?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            Some(format!("Line {}: {message}", line + 1))
        })
        .collect();
    (!found.is_empty()).then(|| found.join(" "))
}

/// A text input bound to `value`, with the error of `field` beside it.
#[component]
fn Input(
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    errors: Signal<Option<AppError>>,
    #[prop(optional)] hint: String,
    #[prop(optional)] placeholder: String,
    #[prop(optional)] multiline: bool,
) -> impl IntoView {
    let id = format!("sso-{}", field.replace(['.', '[', ']'], "-"));
    let message = move || errors.get().and_then(|e| messages_for(&e, field));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || format!("{hint_id} {error_id}")
    };
    let input = if multiline {
        view! {
            <textarea id=id.clone() rows="3" spellcheck="false" placeholder=placeholder aria-describedby=described
                aria-invalid=move || message().is_some().to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() type="text" spellcheck="false" placeholder=placeholder aria-describedby=described
                aria-invalid=move || message().is_some().to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
        }
        .into_any()
    };
    view! {
        <div class="form-field" class:invalid=move || message().is_some()>
            <label for=id>{label}</label>
            {input}
            <p class="hint" id=hint_id>{hint}</p>
            <p class="error" id=error_id role="alert">{message}</p>
        </div>
    }
}

#[derive(Clone, Copy)]
struct ClaimSignals {
    /// Stable across edits, so that removing a row keeps the others' inputs.
    key: u64,
    name: RwSignal<String>,
    namespace: RwSignal<String>,
    source: RwSignal<String>,
}

impl ClaimSignals {
    fn new(row: ClaimRow) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        ClaimSignals {
            key: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            name: RwSignal::new(row.name),
            namespace: RwSignal::new(row.namespace),
            source: RwSignal::new(row.source),
        }
    }
}

#[component]
fn SsoEditor(form: SsoForm, saves: RwSignal<u32>) -> impl IntoView {
    let settings = form.settings.clone();
    let method = RwSignal::new(settings.method.clone());
    let identifiers = RwSignal::new(settings.identifiers.join("\n"));
    let reply_urls = RwSignal::new(settings.reply_urls.join("\n"));
    let sign_on_url = RwSignal::new(settings.sign_on_url.clone());
    let relay_state = RwSignal::new(settings.relay_state.clone());
    let logout_url = RwSignal::new(settings.logout_url.clone());
    let signing = RwSignal::new(settings.signing.clone());
    let name_id_format = RwSignal::new(settings.name_id_format.clone());
    let name_id_source = RwSignal::new(settings.name_id_source.clone());
    let claims = RwSignal::new(
        settings
            .claims
            .into_iter()
            .map(ClaimSignals::new)
            .collect::<Vec<_>>(),
    );
    let client_type = RwSignal::new(settings.client_type.clone());
    let redirect_uris = RwSignal::new(settings.redirect_uris.join("\n"));
    let post_logout_redirect_uris = RwSignal::new(settings.post_logout_redirect_uris.join("\n"));
    let home_page_url = RwSignal::new(settings.home_page_url.clone());
    let oidc_claims = RwSignal::new(
        settings
            .oidc_claims
            .into_iter()
            .map(ClaimSignals::new)
            .collect::<Vec<_>>(),
    );
    let version = RwSignal::new(form.version);
    let id = StoredValue::new(form.application_id.clone());
    let save = Action::new(move |(version, settings): &(i64, SsoSettings)| {
        save_single_sign_on(id.get_value(), *version, settings.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            version.set(saved);
            saves.update(|n| *n += 1);
        }
    });
    let errors = Signal::derive(move || save.value().get().and_then(Result::err));
    let upload = Action::new(move |xml: &String| read_sp_metadata(xml.clone()));
    let upload_error = RwSignal::new(None::<String>);
    Effect::new(move |_| match upload.value().get() {
        Some(Ok(metadata)) => {
            upload_error.set(None);
            identifiers.set(metadata.identifier);
            reply_urls.set(metadata.reply_urls.join("\n"));
            logout_url.set(metadata.logout_url);
            if !metadata.name_id_format.is_empty() {
                name_id_format.set(metadata.name_id_format);
            }
        }
        Some(Err(e)) => upload_error.set(Some(e.to_string())),
        None => {}
    });
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
            if file.size() > LARGEST_METADATA {
                upload_error.set(Some(
                    "The file is larger than 512 KB: it cannot be SAML metadata.".into(),
                ));
                return;
            }
            leptos::task::spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                {
                    Some(xml) => {
                        upload.dispatch(xml);
                    }
                    None => {
                        let _ = upload_error
                            .try_set(Some("The file could not be read as text.".into()));
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, LARGEST_METADATA, upload);
    };
    let submit = move |_| {
        let lines = |text: String| text.lines().map(str::to_owned).collect::<Vec<_>>();
        let rows = |list: RwSignal<Vec<ClaimSignals>>| {
            list.get_untracked()
                .iter()
                .map(|c| ClaimRow {
                    name: c.name.get_untracked(),
                    namespace: c.namespace.get_untracked(),
                    source: c.source.get_untracked(),
                })
                .collect::<Vec<_>>()
        };
        let settings = SsoSettings {
            method: method.get_untracked(),
            identifiers: lines(identifiers.get_untracked()),
            reply_urls: lines(reply_urls.get_untracked()),
            sign_on_url: sign_on_url.get_untracked(),
            relay_state: relay_state.get_untracked(),
            logout_url: logout_url.get_untracked(),
            signing: signing.get_untracked(),
            name_id_format: name_id_format.get_untracked(),
            name_id_source: name_id_source.get_untracked(),
            claims: rows(claims),
            client_type: client_type.get_untracked(),
            redirect_uris: lines(redirect_uris.get_untracked()),
            post_logout_redirect_uris: lines(post_logout_redirect_uris.get_untracked()),
            home_page_url: home_page_url.get_untracked(),
            oidc_claims: rows(oidc_claims),
        };
        save.dispatch((version.get_untracked(), settings));
    };
    let saml = move || method.get() == "Saml";
    let oidc = move || method.get() == "OpenIdConnect";
    let hints = form.hints.clone();
    let idp = form.identity_provider.clone();
    let op = form.openid_provider.clone();
    let select = |value: RwSignal<String>,
                  id: &'static str,
                  options: &'static [(&'static str, &'static str)]| {
        view! {
            <select id=id on:change=move |ev| value.set(event_target_value(&ev)) prop:value=move || value.get()>
                {options.iter().map(|(v, label)| view! { <option value=*v selected=move || value.get() == *v>{*label}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <h2 class="sub-title">"Single sign-on"</h2>
        {move || match save.value().get() {
            Some(Ok(_)) => Some(view! { <div class="banner success" role="status">"Single sign-on has been saved."</div> }.into_any()),
            Some(Err(e)) => Some(view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any()),
            None => None,
        }}
        <section class="panel">
            <fieldset class="choices">
                <legend>"Select a single sign-on method"</legend>
                <label><input type="radio" name="sso-method" value="Disabled" prop:checked=move || method.get() == "Disabled" on:change=move |_| method.set("Disabled".into()) />" Disabled: people sign in to the application on their own"</label>
                <label><input type="radio" name="sso-method" value="Saml" prop:checked=saml on:change=move |_| method.set("Saml".into()) />" SAML: Scimitar signs people in, with a signed SAML 2.0 response"</label>
                <label><input type="radio" name="sso-method" value="OpenIdConnect" prop:checked=oidc on:change=move |_| method.set("OpenIdConnect".into()) />" OpenID Connect: Scimitar signs people in as an OpenID provider, with signed ID tokens"</label>
            </fieldset>
        </section>
        <div hidden=oidc>
            <section class="panel" aria-labelledby="basic-saml-title">
                <h3 id="basic-saml-title">"Basic SAML Configuration"</h3>
                <div class="toolbar">
                    <label class="button" for="sso-metadata-file">"Upload metadata file"</label>
                    <input id="sso-metadata-file" class="visually-hidden" type="file" accept=".xml,application/xml,application/samlmetadata+xml" on:change=read_upload />
                </div>
                {move || upload_error.get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
                <Input label="Identifier (Entity ID)" field="saml.identifiers" value=identifiers errors multiline=true
                    hint="The application's entity ID, one per line; the first is the default.".into()
                    placeholder=hints.identifier.clone() />
                <Input label="Reply URL (Assertion Consumer Service URL)" field="saml.replyUrls" value=reply_urls errors multiline=true
                    hint="Where Scimitar posts the SAML response, one per line; the first is the default.".into()
                    placeholder=hints.reply_url.clone() />
                <Input label="Sign on URL" field="saml.signOnUrl" value=sign_on_url errors
                    hint="Optional. Set it when the application starts sign-ins itself (SP-initiated): My Apps opens it.".into()
                    placeholder=hints.sign_on_url.clone() />
                <Input label="Relay State" field="saml.relayState" value=relay_state errors
                    hint="Optional. The page the application opens after an IdP-initiated sign-in.".into() />
                <Input label="Logout URL" field="saml.logoutUrl" value=logout_url errors
                    hint="Optional. Where people go when they sign out here from the application.".into() />
            </section>
            <section class="panel" aria-labelledby="claims-title">
                <h3 id="claims-title">"Attributes & Claims"</h3>
                <p class="muted">"Each value is an expression of the mapping language, such as [userPrincipalName] or Join(\" \", [givenName], [surname])."</p>
                <div class="form-field">
                    <label for="sso-name-id-format">"Unique User Identifier (Name ID) format"</label>
                    {select(name_id_format, "sso-name-id-format", &[
                        ("EmailAddress", "Email address"),
                        ("Unspecified", "Unspecified"),
                        ("Persistent", "Persistent"),
                        ("Transient", "Transient"),
                    ])}
                </div>
                <Input label="Unique User Identifier (Name ID)" field="saml.nameId.source" value=name_id_source errors />
                <table class="data-table claims">
                    <thead>
                        <tr>
                            <th scope="col">"Claim name"</th>
                            <th scope="col">"Namespace"</th>
                            <th scope="col">"Value"</th>
                            <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || claims.get().into_iter().enumerate() key=|(i, c)| (*i, c.key) let((i, claim))>
                            <tr>
                                <td>
                                    <input type="text" aria-label=format!("Claim {} name", i + 1) prop:value=move || claim.name.get() on:input=move |ev| claim.name.set(event_target_value(&ev)) />
                                    <p class="error" role="alert">{move || errors.get().and_then(|e| e.for_field(&format!("saml.claims[{i}].name")))}</p>
                                </td>
                                <td>
                                    <input type="text" aria-label=format!("Claim {} namespace", i + 1) prop:value=move || claim.namespace.get() on:input=move |ev| claim.namespace.set(event_target_value(&ev)) />
                                    <p class="error" role="alert">{move || errors.get().and_then(|e| e.for_field(&format!("saml.claims[{i}].namespace")))}</p>
                                </td>
                                <td>
                                    <input type="text" aria-label=format!("Claim {} value", i + 1) prop:value=move || claim.source.get() on:input=move |ev| claim.source.set(event_target_value(&ev)) />
                                    <p class="error" role="alert">{move || errors.get().and_then(|e| e.for_field(&format!("saml.claims[{i}].source")))}</p>
                                </td>
                                <td>
                                    <button type="button" class="link" aria-label=format!("Remove claim {}", i + 1)
                                        on:click=move |_| claims.update(|list| { list.remove(i); })>"Remove"</button>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                <button type="button" class="button" on:click=move |_| claims.update(|list| list.push(ClaimSignals::new(ClaimRow::default())))>"Add new claim"</button>
                <div class="form-field">
                    <label for="sso-signing">"Signing option"</label>
                    {select(signing, "sso-signing", &[
                        ("SignAssertion", "Sign SAML assertion"),
                        ("SignResponse", "Sign SAML response"),
                        ("SignResponseAndAssertion", "Sign SAML response and assertion"),
                    ])}
                </div>
            </section>
        </div>
        <div hidden=move || !oidc()>
            <section class="panel" aria-labelledby="client-title">
                <h3 id="client-title">"Client registration"</h3>
                <dl class="facts">
                    <dt>"Application (client) ID"</dt><dd><code id="sso-client-id">{op.client_id.clone()}</code></dd>
                </dl>
                <fieldset class="choices">
                    <legend>"Client type"</legend>
                    <label><input type="radio" name="oidc-client-type" value="Confidential" prop:checked=move || client_type.get() == "Confidential" on:change=move |_| client_type.set("Confidential".into()) />" Confidential: a server-side application, which sends a client secret"</label>
                    <label><input type="radio" name="oidc-client-type" value="Public" prop:checked=move || client_type.get() == "Public" on:change=move |_| client_type.set("Public".into()) />" Public: a browser or native application, without a secret; PKCE is required"</label>
                </fieldset>
                <Input label="Redirect URIs" field="oidc.redirectUris" value=redirect_uris errors multiline=true
                    hint="Where Scimitar sends the authorization code, one per line. A request must name one exactly.".into() />
                <Input label="Post-logout redirect URIs" field="oidc.postLogoutRedirectUris" value=post_logout_redirect_uris errors multiline=true
                    hint="Optional. Where people may return after signing out from the application, one per line.".into() />
                <Input label="Home page URL" field="oidc.homePageUrl" value=home_page_url errors
                    hint="Optional. What My Apps opens; without it, the first redirect URI's site.".into() />
            </section>
            <section class="panel" aria-labelledby="oidc-claims-title">
                <h3 id="oidc-claims-title">"ID token claims"</h3>
                <p class="muted">"Scimitar sets iss, sub (the user's object ID), aud, exp, iat, auth_time and nonce itself. Each value here is an expression of the mapping language."</p>
                <table class="data-table oidc-claims">
                    <thead>
                        <tr>
                            <th scope="col">"Claim name"</th>
                            <th scope="col">"Value"</th>
                            <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || oidc_claims.get().into_iter().enumerate() key=|(i, c)| (*i, c.key) let((i, claim))>
                            <tr>
                                <td>
                                    <input type="text" aria-label=format!("ID token claim {} name", i + 1) prop:value=move || claim.name.get() on:input=move |ev| claim.name.set(event_target_value(&ev)) />
                                    <p class="error" role="alert">{move || errors.get().and_then(|e| e.for_field(&format!("oidc.claims[{i}].name")).or_else(|| e.for_field(&format!("oidc.claims[{i}].namespace"))))}</p>
                                </td>
                                <td>
                                    <input type="text" aria-label=format!("ID token claim {} value", i + 1) prop:value=move || claim.source.get() on:input=move |ev| claim.source.set(event_target_value(&ev)) />
                                    <p class="error" role="alert">{move || errors.get().and_then(|e| e.for_field(&format!("oidc.claims[{i}].source")))}</p>
                                </td>
                                <td>
                                    <button type="button" class="link" aria-label=format!("Remove ID token claim {}", i + 1)
                                        on:click=move |_| oidc_claims.update(|list| { list.remove(i); })>"Remove"</button>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                <button type="button" class="button" on:click=move |_| oidc_claims.update(|list| list.push(ClaimSignals::new(ClaimRow::default())))>"Add ID token claim"</button>
            </section>
        </div>
        <div class="actions">
            <button type="button" class="primary" on:click=submit disabled=move || save.pending().get()>"Save"</button>
        </div>
        <div hidden=move || !oidc()>
            <ClientSecrets id=form.application_id.clone() rows=form.client_secrets.clone() />
            <section class="panel" aria-labelledby="provider-title">
                <h3 id="provider-title">{format!("Set up {}", form.application)}</h3>
                <p class="muted">"Give these to the application; most need only the issuer, the client ID and, for a confidential client, a secret: they read the rest from the metadata document."</p>
                <dl class="facts">
                    <dt>"Issuer"</dt><dd><code id="sso-issuer">{op.issuer.clone()}</code></dd>
                    <dt>"OpenID Connect metadata document"</dt><dd><a href=op.discovery.clone() rel="external">{op.discovery.clone()}</a></dd>
                    <dt>"Authorization endpoint"</dt><dd><code>{op.authorization.clone()}</code></dd>
                    <dt>"Token endpoint"</dt><dd><code>{op.token.clone()}</code></dd>
                    <dt>"UserInfo endpoint"</dt><dd><code>{op.userinfo.clone()}</code></dd>
                    <dt>"JWKS URI"</dt><dd><code>{op.jwks.clone()}</code></dd>
                    <dt>"End session endpoint"</dt><dd><code>{op.logout.clone()}</code></dd>
                </dl>
            </section>
        </div>
        <section class="panel" aria-labelledby="set-up-title" hidden=oidc>
            <h3 id="set-up-title">{format!("Set up {}", form.application)}</h3>
            <p class="muted">"Give these to the application, or the federation metadata URL, which holds them all with the certificates."</p>
            <dl class="facts">
                <dt>"Login URL"</dt><dd><code>{idp.login_url.clone()}</code></dd>
                <dt>"Scimitar Identifier"</dt><dd><code>{idp.identifier.clone()}</code></dd>
                <dt>"Logout URL"</dt><dd><code>{idp.logout_url.clone()}</code></dd>
                <dt>"App Federation Metadata Url"</dt><dd><a href=idp.metadata_url.clone() rel="external">{idp.metadata_url.clone()}</a></dd>
            </dl>
            <Show when=saml>
                <a class="button" href=idp.test_url.clone() rel="external">"Test this application"</a>
            </Show>
        </section>
    }
}

/// An OpenID Connect application's client secrets: New client secret shows the value once.
/// The rows come with the form (a resource of its own inside the form's would not hydrate) and
/// are read again after each change.
#[component]
fn ClientSecrets(id: String, rows: Vec<ClientSecretRow>) -> impl IntoView {
    let change = ServerAction::<ChangeClientSecret>::new();
    let rows = RwSignal::new(rows);
    let reload = Action::new(move |id: &String| list_client_secrets(id.clone()));
    let application = StoredValue::new(id.clone());
    Effect::new(move |_| {
        if let Some(Ok(_)) = change.value().get() {
            reload.dispatch(application.get_value());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(list)) = reload.value().get() {
            rows.set(list);
        }
    });
    let error = Signal::derive(move || {
        change
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| reload.value().get().and_then(Result::err))
    });
    view! {
        <section class="panel" aria-labelledby="secrets-title">
            <h3 id="secrets-title">"Client secrets"</h3>
            <p class="muted">"A confidential client sends one of these to the token endpoint. Scimitar keeps only a hash: the value is shown once, when it is made."</p>
            {move || change.value().get().and_then(Result::ok).flatten().map(|new| view! {
                <div class="banner success" role="status">
                    <p>{format!("Copy the value of \"{}\" now, valid until {}. It will not be shown again.", new.description, new.expires)}</p>
                    <code class="secret" id="sso-new-client-secret">{new.value}</code>
                </div>
            })}
            {move || error.get().map(|e| view! { <div class="banner error" role="alert">{e.to_string()}</div> })}
            <Show when=move || !rows.with(Vec::is_empty) fallback=|| view! { <p>"No client secret yet."</p> }>
                <table class="data-table client-secrets">
                    <thead>
                        <tr>
                            <th scope="col">"Description"</th>
                            <th scope="col">"Value"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=|row| row.id.clone() let(row)>
                            <tr>
                                <td>{row.description.clone()}</td>
                                <td><code>{row.hint.clone()}</code></td>
                                <td>{row.created.clone()}</td>
                                <td>{row.expires.clone()}{row.expired.then_some(" (expired)")}</td>
                                <td>
                                    <ActionForm action=change>
                                        <input type="hidden" name="id" value=application.get_value() />
                                        <input type="hidden" name="secret" value=row.id.clone() />
                                        <input type="hidden" name="description" value="" />
                                        <input type="hidden" name="days" value="" />
                                        <button type="submit" class="link" aria-label=format!("Delete client secret {}", row.description)>"Delete"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </Show>
            <ActionForm action=change attr:class="blade-form">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="secret" value="" />
                <div class="form-field">
                    <label for="sso-secret-description">"Description"</label>
                    <input id="sso-secret-description" type="text" name="description" maxlength="100" />
                </div>
                <div class="form-field">
                    <label for="sso-secret-expires">"Expires"</label>
                    <select id="sso-secret-expires" name="days">
                        <option value="180" selected>"180 days (recommended)"</option>
                        <option value="365">"12 months"</option>
                        <option value="730">"24 months"</option>
                    </select>
                </div>
                <button type="submit" class="button" disabled=move || change.pending().get()>"New client secret"</button>
            </ActionForm>
        </section>
    }
}
