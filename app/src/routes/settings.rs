use leptos::prelude::*;

use super::{BladePage, tokens::TokensPanel};
use crate::{
    api::settings::{SaveEmailSettings, get_email_settings},
    components::{FormBanner, FormField},
    model::Blade,
};

/// Settings: the SMTP server for notification emails, and every account's tokens.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <BladePage blade=Blade::Settings>
            <EmailSettingsPanel />
            <TokensPanel everyone=true />
        </BladePage>
    }
}

#[component]
fn EmailSettingsPanel() -> impl IntoView {
    let save = ServerAction::<SaveEmailSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| get_email_settings());
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let done = move || save.value().get().and_then(Result::ok);
    view! {
        <section class="panel">
            <h2>"Email"</h2>
            <p class="muted">"The SMTP server that sends notification emails, such as an application entering quarantine."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading..."</p> }>
                {move || Suspend::new(async move {
                    let s = match settings.await {
                        Ok(s) => s,
                        Err(e) => return view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                    };
                    let placeholder = if s.has_password { "•••••••• (set; type to replace)" } else { "" };
                    view! {
                        <ActionForm action=save attr:class="blade-form">
                            <button type="submit" class="default-submit" name="intent" value="save" tabindex="-1" aria-hidden="true">"Save"</button>
                            <FormBanner error fields=&["host", "port", "from_address"] />
                            {move || done().map(|message| view! { <div class="banner success" role="status">{message}</div> })}
                            <FormField label="SMTP server" name="host" error value=s.host.clone() required=false />
                            <FormField label="Port" name="port" error value=s.port.to_string() kind="number" />
                            <div class="form-field">
                                <label for="field-security">"Security"</label>
                                <select id="field-security" name="security">
                                    <option value="starttls" selected=s.security == "starttls">"STARTTLS"</option>
                                    <option value="tls" selected=s.security == "tls">"TLS"</option>
                                    <option value="none" selected=s.security == "none">"None"</option>
                                </select>
                            </div>
                            <FormField label="User name" name="username" error value=s.username.clone() required=false />
                            <div class="form-field">
                                <label for="field-password">"Password"</label>
                                <input id="field-password" name="password" type="password" autocomplete="off" placeholder=placeholder />
                            </div>
                            <FormField label="From address" name="from_address" error value=s.from_address.clone() kind="email" />
                            <button type="submit" class="primary" name="intent" value="save">"Save"</button>
                            <FormField label="Send a test email to" name="test_to" error required=false kind="email" />
                            <button type="submit" class="button" name="intent" value="test">"Send test email"</button>
                        </ActionForm>
                    }
                    .into_any()
                })}
            </Transition>
        </section>
    }
}
